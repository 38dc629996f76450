//! What a signed-in user changes about their own account and channel.

use super::{AccountError, AccountResult, Accounts, CurrentUser};
use crate::{
    assets::{AssetKind, process_upload},
    domain::{Avatar, AvatarPreset, Color, FieldErrors, Username},
    store::{Account, ProfileChange},
};

/// A profile change as the client sent it. Only these fields exist: there is no way to write
/// any other attribute of an account through the profile.
#[derive(Debug, Clone, Default)]
pub struct ProfileEdit {
    pub color: Option<String>,
    /// A preset name.
    pub avatar: Option<String>,
}

impl Accounts {
    pub async fn update_profile(
        &self,
        user: &CurrentUser,
        edit: ProfileEdit,
    ) -> AccountResult<Account> {
        let mut errors = FieldErrors::default();
        let color = edit
            .color
            .as_deref()
            .and_then(|c| errors.check(Color::parse(c)));
        let avatar = edit
            .avatar
            .as_deref()
            .and_then(|a| errors.check(AvatarPreset::parse(a)));
        errors.into_result()?;
        let previous_upload = match (&avatar, &user.account.avatar) {
            (Some(_), Avatar::Uploaded(key)) => Some(key.clone()),
            _ => None,
        };
        let account = self
            .store
            .update_profile(
                user.account.id,
                ProfileChange {
                    color,
                    avatar: avatar.map(Avatar::Preset),
                    banner: None,
                },
            )
            .await?;
        if let Some(key) = previous_upload {
            self.forget_asset(&key).await;
        }
        Ok(account)
    }

    /// Checks, re-encodes and stores an uploaded avatar or banner, then points the profile at it.
    pub async fn upload_asset(
        &self,
        user: &CurrentUser,
        kind: AssetKind,
        bytes: bytes::Bytes,
    ) -> AccountResult<Account> {
        let _permit = self
            .uploads
            .acquire()
            .await
            .map_err(|_| AccountError::Unavailable("shutting down".into()))?;
        let image = tokio::task::spawn_blocking(move || process_upload(kind, &bytes))
            .await
            .map_err(|e| AccountError::Internal(format!("image processing panicked: {e}")))??;
        let owner = user.account.id.to_string();
        let key = self
            .assets
            .put(&owner, kind, &image)
            .await
            .map_err(|e| AccountError::Unavailable(format!("asset store: {e}")))?;
        let (change, previous) = match kind {
            AssetKind::Avatar => (
                ProfileChange {
                    avatar: Some(Avatar::Uploaded(key.clone())),
                    ..Default::default()
                },
                match &user.account.avatar {
                    Avatar::Uploaded(old) => Some(old.clone()),
                    Avatar::Preset(_) => None,
                },
            ),
            AssetKind::Banner => (
                ProfileChange {
                    banner: Some(Some(key.clone())),
                    ..Default::default()
                },
                user.account.banner.clone(),
            ),
        };
        let account = self.store.update_profile(user.account.id, change).await?;
        if let Some(old) = previous.filter(|old| *old != key) {
            self.forget_asset(&old).await;
        }
        Ok(account)
    }

    pub async fn remove_banner(&self, user: &CurrentUser) -> AccountResult<Account> {
        let account = self
            .store
            .update_profile(
                user.account.id,
                ProfileChange {
                    banner: Some(None),
                    ..Default::default()
                },
            )
            .await?;
        if let Some(old) = &user.account.banner {
            self.forget_asset(old).await;
        }
        Ok(account)
    }

    /// Deleting an unused asset is housekeeping: a failure is logged, not returned.
    async fn forget_asset(&self, key: &str) {
        if let Err(e) = self.assets.delete(key).await {
            tracing::warn!(key, error = %e, "could not delete a replaced asset");
        }
    }

    /// Changes the username, which is also the channel's URL. Same rules as registration.
    pub async fn rename(&self, user: &CurrentUser, raw: &str) -> AccountResult<Account> {
        let username = Username::parse(raw)?;
        self.store.rename(user.account.id, &username).await?;
        tracing::info!(account = %user.account.id, from = %user.account.username, to = %username, "renamed");
        self.account(user.account.id).await
    }

    /// Issues a new stream key; the old one stops working.
    pub async fn reset_stream_key(&self, user: &CurrentUser) -> AccountResult<Account> {
        let key = self
            .media
            .reset_stream_key(&user.account.channel.arn)
            .await?;
        self.store.set_stream_key(user.account.id, &key).await?;
        self.account(user.account.id).await
    }

    /// Deletes the account after re-checking its password: the channel's media resources, its
    /// uploaded assets, then every stored trace (follows both ways, sessions, tokens).
    pub async fn delete_account(&self, user: &CurrentUser, password: &str) -> AccountResult<()> {
        self.confirm_password(&user.account, password, "password")
            .await?;
        let account = &user.account;
        self.media.delete_channel(&account.channel.arn).await?;
        if let Some(rooms) = &self.rooms {
            rooms
                .close(account.id)
                .await
                .map_err(|e| AccountError::Unavailable(format!("chat room: {e}")))?;
        }
        self.assets
            .delete_owner(&account.id.to_string())
            .await
            .map_err(|e| AccountError::Unavailable(format!("asset store: {e}")))?;
        self.store.delete_account(account.id).await?;
        tracing::info!(account = %account.id, username = %account.username, "account deleted");
        Ok(())
    }
}
