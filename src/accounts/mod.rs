//! Account flows over the ports: registration, login sessions, mailed links, profile, channel,
//! follows and the directory.
//!
//! HTTP handlers parse requests and call these; nothing here knows about HTTP. Every rule that
//! protects data (uniqueness, who may change what, rate limits) is enforced here or in the store,
//! never only in a client.

mod channels;
mod profile;
mod sessions;

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use uuid::Uuid;

pub use channels::{ChannelView, LIST_LIMIT};
pub use profile::ProfileEdit;
pub use sessions::{CurrentUser, LoginOutcome, Registration};

use crate::{
    assets::{AssetStore, UploadError},
    auth::{AccessTokens, PasswordHasher, Secret},
    config::{Config, ThrottleConfig, VerificationMode},
    domain::{AccountId, Email, FieldError, FieldErrors},
    mail::{Mail, Mailer},
    media::{Media, MediaError},
    store::{Account, Store, StoreError, TokenPurpose, UniqueField},
};

/// Why an account operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    #[error("{0} already taken")]
    Taken(UniqueField),
    #[error("wrong login or password")]
    BadCredentials,
    #[error("email address not verified")]
    EmailNotVerified,
    #[error("not authenticated")]
    Unauthenticated,
    #[error("not found")]
    NotFound,
    #[error("too many attempts")]
    Throttled { retry_after_secs: u64 },
    #[error("upload refused: {0}")]
    Upload(#[from] UploadError),
    #[error("dependency unavailable: {0}")]
    Unavailable(String),
    #[error("internal failure: {0}")]
    Internal(String),
}

impl From<FieldErrors> for AccountError {
    fn from(e: FieldErrors) -> Self {
        AccountError::Invalid(e)
    }
}

impl From<FieldError> for AccountError {
    fn from(e: FieldError) -> Self {
        AccountError::Invalid(e.into())
    }
}

impl From<StoreError> for AccountError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AccountError::NotFound,
            StoreError::Conflict(field) => AccountError::Taken(field),
            StoreError::Unavailable(msg) => AccountError::Unavailable(msg),
            StoreError::Backend(source) => AccountError::Internal(source.to_string()),
        }
    }
}

impl From<MediaError> for AccountError {
    fn from(e: MediaError) -> Self {
        match e {
            MediaError::NotFound => AccountError::Internal("media resource missing".into()),
            MediaError::Throttled => AccountError::Unavailable("media service throttled".into()),
            MediaError::Unavailable(msg) => AccountError::Unavailable(msg),
            MediaError::NotBroadcasting => {
                AccountError::Internal("channel not broadcasting".into())
            }
            MediaError::Rejected(msg) => AccountError::Internal(format!("media service: {msg}")),
        }
    }
}

pub type AccountResult<T> = Result<T, AccountError>;

/// The account rules taken from configuration.
#[derive(Debug, Clone)]
pub struct AccountSettings {
    pub verification: VerificationMode,
    pub allowed_domains: Vec<String>,
    pub refresh_ttl: Duration,
    /// How long the token a rotation spent may be presented again (see
    /// [`crate::store::SessionStore::rotate_refresh_token`]).
    pub refresh_grace: Duration,
    pub throttle: ThrottleConfig,
    pub public_url: String,
}

impl AccountSettings {
    pub fn from_config(config: &Config) -> Self {
        Self {
            verification: config.accounts.email_verification,
            allowed_domains: config
                .accounts
                .signup_email_domains
                .iter()
                .map(|d| d.to_ascii_lowercase())
                .collect(),
            refresh_ttl: Duration::seconds(config.accounts.refresh_token_ttl_secs as i64),
            refresh_grace: Duration::seconds(config.accounts.refresh_grace_secs as i64),
            throttle: config.throttle.clone(),
            public_url: config.public_url(),
        }
    }
}

/// How long a mailed link stays valid.
const VERIFY_LINK_TTL: Duration = Duration::hours(48);
const RESET_LINK_TTL: Duration = Duration::hours(1);

/// The account service: cheap to clone, shared by every handler.
#[derive(Clone)]
pub struct Accounts {
    store: Arc<dyn Store>,
    media: Arc<dyn Media>,
    mailer: Arc<dyn Mailer>,
    assets: Arc<dyn AssetStore>,
    tokens: AccessTokens,
    hasher: PasswordHasher,
    settings: Arc<AccountSettings>,
    /// Decoding an upload may take up to 256 MiB and a core; at most this many run at once.
    uploads: Arc<tokio::sync::Semaphore>,
    /// Each channel's chat room, when chat is carried by IVS Chat; `None`: built-in chat.
    rooms: Option<crate::chat_rooms::RoomDirectory>,
}

impl Accounts {
    pub fn new(
        store: Arc<dyn Store>,
        media: Arc<dyn Media>,
        mailer: Arc<dyn Mailer>,
        assets: Arc<dyn AssetStore>,
        tokens: AccessTokens,
        settings: AccountSettings,
    ) -> Self {
        Self {
            store,
            media,
            mailer,
            assets,
            tokens,
            hasher: PasswordHasher,
            settings: Arc::new(settings),
            uploads: Arc::new(tokio::sync::Semaphore::new(2)),
            rooms: None,
        }
    }

    /// Gives every channel a chat room (created at registration, deleted with the account).
    pub fn with_chat_rooms(mut self, rooms: Option<crate::chat_rooms::RoomDirectory>) -> Self {
        self.rooms = rooms;
        self
    }

    /// The chat rooms, when chat is not built in.
    pub fn chat_rooms(&self) -> Option<&crate::chat_rooms::RoomDirectory> {
        self.rooms.as_ref()
    }

    pub fn settings(&self) -> &AccountSettings {
        &self.settings
    }

    pub fn asset_url(&self, key: &str) -> String {
        self.assets.url(key)
    }

    async fn account(&self, id: AccountId) -> AccountResult<Account> {
        self.store.account(id).await?.ok_or(AccountError::NotFound)
    }

    /// Counts one attempt against `key` and refuses once the window's `limit` is passed.
    async fn throttle(&self, key: &str, limit: u32) -> AccountResult<()> {
        let (window, retry_after_secs) = self.window(Utc::now());
        if self.store.hit(key, window).await? > limit {
            return Err(AccountError::Throttled { retry_after_secs });
        }
        Ok(())
    }

    /// Refuses if `key` has already reached `limit` in this window, without counting.
    async fn throttle_check(&self, key: &str, limit: u32) -> AccountResult<()> {
        let (window, retry_after_secs) = self.window(Utc::now());
        if self.store.hits(key, window).await? >= limit {
            return Err(AccountError::Throttled { retry_after_secs });
        }
        Ok(())
    }

    /// The start of the fixed window containing `now`, and the seconds until it ends.
    fn window(&self, now: DateTime<Utc>) -> (DateTime<Utc>, u64) {
        let len = self.settings.throttle.window_secs as i64;
        let start = now.timestamp() - now.timestamp().rem_euclid(len);
        let retry = (start + len - now.timestamp()).max(1) as u64;
        (Utc.timestamp_opt(start, 0).single().unwrap_or(now), retry)
    }

    /// Mints a single-use link token, stores its digest and mails the link.
    async fn mail_link(
        &self,
        account: &Account,
        purpose: TokenPurpose,
        ttl: Duration,
    ) -> AccountResult<()> {
        let secret = Secret::generate();
        self.store
            .put_token(purpose, &secret.digest(), account.id, Utc::now() + ttl)
            .await?;
        let (path, subject, intro) = match purpose {
            TokenPurpose::VerifyEmail => (
                "verify",
                "Verify your Showrunner email address",
                "Welcome to Showrunner! Confirm your email address by opening this link",
            ),
            TokenPurpose::ResetPassword => (
                "reset",
                "Reset your Showrunner password",
                "Someone asked to reset the password of your Showrunner account. If it was you, open this link",
            ),
        };
        let link = format!(
            "{}/{path}?token={}",
            self.settings.public_url,
            secret.expose()
        );
        let text = format!(
            "Hi {},\n\n{intro} within {} hours:\n\n{link}\n\nIf you did not ask for this, ignore this mail.\n",
            account.username,
            ttl.num_hours()
        );
        self.mailer
            .send(Mail {
                to: account.email.clone(),
                subject: subject.into(),
                text,
            })
            .await
            .map_err(|e| AccountError::Unavailable(format!("mail: {e}")))
    }

    fn check_domain(&self, email: &Email) -> Result<(), FieldError> {
        let allowed = &self.settings.allowed_domains;
        if allowed.is_empty() || allowed.iter().any(|d| d == email.domain()) {
            Ok(())
        } else {
            Err(FieldError::new(
                "email",
                "domain_not_allowed",
                "sign-up is not open to this email domain",
            ))
        }
    }

    pub(crate) fn session_id() -> Uuid {
        Uuid::new_v4()
    }
}
