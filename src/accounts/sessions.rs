//! Registration, login sessions and the mailed links.

use std::sync::LazyLock;

use chrono::Utc;
use uuid::Uuid;

use super::{AccountError, AccountResult, Accounts, RESET_LINK_TTL, VERIFY_LINK_TTL};
use crate::{
    auth::{Secret, TokenError},
    config::VerificationMode,
    domain::{
        AccountId, AvatarPreset, Color, Email, FieldError, FieldErrors, LoginName, Password,
        Username,
    },
    store::{Account, NewAccount, NewSession, Rotation, TokenPurpose},
};

/// What registration asks for, as the client sent it.
#[derive(Debug, Clone)]
pub struct Registration {
    pub username: String,
    pub email: String,
    pub password: String,
    pub color: Option<String>,
    pub avatar: Option<String>,
}

/// A started login session.
#[derive(Debug)]
pub struct LoginOutcome {
    pub account: Account,
    pub access_token: String,
    pub expires_in: i64,
    pub refresh_token: Secret,
    pub session: Uuid,
}

/// The account behind a valid access token.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub account: Account,
    pub session: Uuid,
    /// When the access token that proved it expires.
    pub token_expires_at: chrono::DateTime<Utc>,
}

/// Stands in for a stored hash when the login names no account, so that "no such user" costs
/// the same time as "wrong password" and timing does not reveal which accounts exist.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    crate::auth::hash_password(&Password::parse("Dummy#Passw0rd", "password").expect("valid"))
});

impl Accounts {
    /// Creates an account and its channel. In `required` verification mode a link is mailed
    /// and the account cannot log in until it is followed.
    pub async fn register(&self, input: Registration) -> AccountResult<Account> {
        let mut errors = FieldErrors::default();
        let username = errors.check(Username::parse(&input.username));
        let email = errors.check(Email::parse(&input.email));
        if let Some(email) = &email {
            errors.check(self.check_domain(email));
        }
        let password = errors.check(Password::parse(&input.password, "password"));
        let seed = Uuid::new_v4().as_u128();
        let color = match input.color.as_deref() {
            Some(raw) => errors.check(Color::parse(raw)),
            None => Some(Color::for_seed(seed)),
        };
        let avatar = match input.avatar.as_deref() {
            Some(raw) => errors.check(AvatarPreset::parse(raw)),
            None => Some(AvatarPreset::for_seed(seed >> 8)),
        };
        errors.into_result()?;
        let (username, email, password, color, avatar) = (
            username.expect("checked"),
            email.expect("checked"),
            password.expect("checked"),
            color.expect("checked"),
            avatar.expect("checked"),
        );

        // Fail early on the common clash so no media channel is created for nothing; the store's
        // constraints still decide races.
        if self
            .store
            .account_by_username(&username.key())
            .await?
            .is_some()
        {
            return Err(AccountError::Taken(crate::store::UniqueField::Username));
        }
        if self.store.account_by_email(&email).await?.is_some() {
            return Err(AccountError::Taken(crate::store::UniqueField::Email));
        }

        let password_hash = self.hasher.hash(password).await;
        let id = AccountId::new();
        let channel = self.media.create_channel(id, username.as_str()).await?;
        let arn = channel.arn.clone();
        let verified = self.settings.verification == VerificationMode::Auto;
        let created = self
            .store
            .create_account(NewAccount {
                id,
                username,
                email,
                password_hash,
                email_verified: verified,
                color,
                avatar,
                created_at: Utc::now(),
                channel,
            })
            .await;
        let account = match created {
            Ok(account) => account,
            Err(e) => {
                if let Err(cleanup) = self.media.delete_channel(&arn).await {
                    tracing::warn!(%arn, error = %cleanup, "could not delete the channel of a failed registration");
                }
                return Err(e.into());
            }
        };
        // The chat room comes with the channel. Should it fail, the account stands: the room
        // is made on first use instead (`RoomDirectory::open`).
        if let Some(rooms) = &self.rooms
            && let Err(e) = rooms.open(account.id, account.username.as_str()).await
        {
            tracing::warn!(account = %account.id, error = %e, "chat room not created at registration");
        }
        if !verified {
            self.mail_link(&account, TokenPurpose::VerifyEmail, VERIFY_LINK_TTL)
                .await?;
        }
        tracing::info!(account = %account.id, username = %account.username, "account registered");
        Ok(account)
    }

    /// Checks credentials and starts a session. Failures per account and attempts per client
    /// address are rate limited.
    pub async fn login(
        &self,
        login: &str,
        password: &str,
        client: &str,
    ) -> AccountResult<LoginOutcome> {
        let throttle = self.settings.throttle.clone();
        self.throttle(&format!("login-ip:{client}"), throttle.logins_per_ip)
            .await?;
        let name = LoginName::parse(login)?;
        let account_key = format!("login-fail:{}", name.throttle_key());
        self.throttle_check(&account_key, throttle.login_failures_per_account)
            .await?;

        let account = match &name {
            LoginName::Username(key) => self.store.account_by_username(key).await?,
            LoginName::Email(email) => self.store.account_by_email(email).await?,
        };
        let stored = account
            .as_ref()
            .map(|a| a.password_hash.clone())
            .unwrap_or_else(|| DUMMY_HASH.clone());
        let password_ok = self.hasher.verify(password.to_owned(), stored).await;
        let account = match account {
            Some(account) if password_ok => account,
            _ => {
                self.throttle(&account_key, u32::MAX).await?;
                return Err(AccountError::BadCredentials);
            }
        };
        if !account.email_verified {
            return Err(AccountError::EmailNotVerified);
        }
        self.start_session(account).await
    }

    async fn start_session(&self, account: Account) -> AccountResult<LoginOutcome> {
        let now = Utc::now();
        let session = Self::session_id();
        let refresh_token = Secret::generate();
        self.store
            .create_session(NewSession {
                id: session,
                account: account.id,
                token_hash: refresh_token.digest(),
                created_at: now,
                expires_at: now + self.settings.refresh_ttl,
            })
            .await?;
        Ok(LoginOutcome {
            access_token: self.tokens.issue(account.id, session, now),
            expires_in: self.tokens.ttl_secs(),
            refresh_token,
            session,
            account,
        })
    }

    /// Trades a refresh token for a new access token and a new refresh token. A refresh token
    /// that was already used revokes its whole session: someone else has a copy. Except the
    /// one the latest rotation spent, within `refresh_grace` of it: its holder lost the answer.
    pub async fn refresh(&self, presented: &str) -> AccountResult<LoginOutcome> {
        let now = Utc::now();
        let next = Secret::generate();
        let rotation = self
            .store
            .rotate_refresh_token(
                &crate::auth::digest(presented),
                &next.digest(),
                now,
                now + self.settings.refresh_ttl,
                now - self.settings.refresh_grace,
            )
            .await?;
        match rotation {
            Rotation::Rotated { session, account } => {
                let account = self.account(account).await.map_err(|e| match e {
                    AccountError::NotFound => AccountError::Unauthenticated,
                    other => other,
                })?;
                Ok(LoginOutcome {
                    access_token: self.tokens.issue(account.id, session, now),
                    expires_in: self.tokens.ttl_secs(),
                    refresh_token: next,
                    session,
                    account,
                })
            }
            Rotation::Reused { session, account } => {
                tracing::warn!(%session, %account, "refresh token replayed; session revoked");
                Err(AccountError::Unauthenticated)
            }
            Rotation::Invalid => Err(AccountError::Unauthenticated),
        }
    }

    /// Ends the session named by the access token and/or the refresh token. Idempotent.
    pub async fn logout(
        &self,
        session: Option<Uuid>,
        refresh_token: Option<&str>,
    ) -> AccountResult<()> {
        if let Some(session) = session {
            self.store.revoke_session(session).await?;
        }
        if let Some(token) = refresh_token {
            // Spending the token is the cheapest way to find its session; spend and revoke.
            let now = Utc::now();
            let rotation = self
                .store
                .rotate_refresh_token(
                    &crate::auth::digest(token),
                    &Secret::generate().digest(),
                    now,
                    now,
                    now - self.settings.refresh_grace,
                )
                .await?;
            if let Rotation::Rotated { session, .. } = rotation {
                self.store.revoke_session(session).await?;
            }
        }
        Ok(())
    }

    /// The account behind an access token, if the token is valid and its session still open.
    pub async fn authenticate(&self, access_token: &str) -> AccountResult<CurrentUser> {
        let claims = self.tokens.verify(access_token).map_err(|e| match e {
            TokenError::Expired | TokenError::Invalid => AccountError::Unauthenticated,
        })?;
        if !self
            .store
            .session_alive(claims.sid, claims.sub, Utc::now())
            .await?
        {
            return Err(AccountError::Unauthenticated);
        }
        let account = self
            .store
            .account(claims.sub)
            .await?
            .ok_or(AccountError::Unauthenticated)?;
        Ok(CurrentUser {
            account,
            session: claims.sid,
            token_expires_at: chrono::DateTime::from_timestamp(claims.exp, 0)
                .unwrap_or_else(Utc::now),
        })
    }

    /// Follows a verification link.
    pub async fn verify_email(&self, token: &str) -> AccountResult<Account> {
        let account = self
            .store
            .take_token(
                TokenPurpose::VerifyEmail,
                &crate::auth::digest(token),
                Utc::now(),
            )
            .await?
            .ok_or_else(invalid_link)?;
        self.store.set_email_verified(account).await?;
        self.account(account).await
    }

    /// Mails a new verification link. Answers the same whether or not the address is known.
    pub async fn resend_verification(&self, email: &str, client: &str) -> AccountResult<()> {
        self.throttle(
            &format!("mail-ip:{client}"),
            self.settings.throttle.mail_requests_per_ip,
        )
        .await?;
        let email = Email::parse(email)?;
        let Some(account) = self.store.account_by_email(&email).await? else {
            return Ok(());
        };
        if account.email_verified || !self.mail_allowed(&account).await? {
            return Ok(());
        }
        self.mail_link(&account, TokenPurpose::VerifyEmail, VERIFY_LINK_TTL)
            .await
    }

    /// Mails a password-reset link. Answers the same whether or not the address is known.
    pub async fn request_password_reset(&self, email: &str, client: &str) -> AccountResult<()> {
        self.throttle(
            &format!("mail-ip:{client}"),
            self.settings.throttle.mail_requests_per_ip,
        )
        .await?;
        let email = Email::parse(email)?;
        let Some(account) = self.store.account_by_email(&email).await? else {
            return Ok(());
        };
        if !self.mail_allowed(&account).await? {
            return Ok(());
        }
        self.mail_link(&account, TokenPurpose::ResetPassword, RESET_LINK_TTL)
            .await
    }

    /// Per-account mail budget. Exceeding it is silent, so it reveals nothing about the address.
    async fn mail_allowed(&self, account: &Account) -> AccountResult<bool> {
        let key = format!("mail-account:{}", account.id);
        match self
            .throttle(&key, self.settings.throttle.mails_per_account)
            .await
        {
            Ok(()) => Ok(true),
            Err(AccountError::Throttled { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Follows a reset link: sets the new password and signs out every session. Following the
    /// link also proves the mailbox, so the email counts as verified.
    pub async fn reset_password(&self, token: &str, new_password: &str) -> AccountResult<()> {
        let password = Password::parse(new_password, "password")?;
        let account = self
            .store
            .take_token(
                TokenPurpose::ResetPassword,
                &crate::auth::digest(token),
                Utc::now(),
            )
            .await?
            .ok_or_else(invalid_link)?;
        let hash = self.hasher.hash(password).await;
        self.store.set_password_hash(account, &hash).await?;
        self.store.set_email_verified(account).await?;
        self.store
            .drop_tokens(TokenPurpose::ResetPassword, account)
            .await?;
        self.store.revoke_sessions(account, None).await?;
        tracing::info!(%account, "password reset; all sessions revoked");
        Ok(())
    }

    /// Changes the password of a signed-in user and signs out their other sessions.
    pub async fn change_password(
        &self,
        user: &CurrentUser,
        current: &str,
        new_password: &str,
    ) -> AccountResult<()> {
        let password = Password::parse(new_password, "new_password")?;
        self.confirm_password(&user.account, current, "current_password")
            .await?;
        let hash = self.hasher.hash(password).await;
        self.store.set_password_hash(user.account.id, &hash).await?;
        let revoked = self
            .store
            .revoke_sessions(user.account.id, Some(user.session))
            .await?;
        tracing::info!(account = %user.account.id, revoked, "password changed; other sessions revoked");
        Ok(())
    }

    /// Re-checks the password before a sensitive change. A wrong one is a field error, not a
    /// failed login: the user is already signed in.
    pub(super) async fn confirm_password(
        &self,
        account: &Account,
        candidate: &str,
        field: &'static str,
    ) -> AccountResult<()> {
        let key = format!("login-fail:user:{}", account.username.key());
        self.throttle_check(&key, self.settings.throttle.login_failures_per_account)
            .await?;
        if self
            .hasher
            .verify(candidate.to_owned(), account.password_hash.clone())
            .await
        {
            Ok(())
        } else {
            self.throttle(&key, u32::MAX).await?;
            Err(FieldError::new(field, "incorrect", "is not your current password").into())
        }
    }
}

fn invalid_link() -> AccountError {
    FieldError::new(
        "token",
        "invalid",
        "this link is invalid, expired or already used",
    )
    .into()
}
