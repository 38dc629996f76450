//! Channels as others see them: the channel page, follows and the directory.

use chrono::Utc;

use super::{AccountError, AccountResult, Accounts, CurrentUser};
use crate::{
    domain::FieldError,
    store::{Account, Followed},
};

/// How many entries the directory and the following list hold.
pub const LIST_LIMIT: usize = 50;

/// A channel page, with what is particular to the viewer.
#[derive(Debug, Clone)]
pub struct ChannelView {
    pub owner: Account,
    /// Whether the viewer follows this channel (false for anonymous viewers).
    pub following: bool,
    pub is_own: bool,
}

impl Accounts {
    async fn by_username(&self, username: &str) -> AccountResult<Account> {
        self.store
            .account_by_username(&username.to_ascii_lowercase())
            .await?
            .ok_or(AccountError::NotFound)
    }

    pub async fn channel(
        &self,
        username: &str,
        viewer: Option<&CurrentUser>,
    ) -> AccountResult<ChannelView> {
        let owner = self.by_username(username).await?;
        let (following, is_own) = match viewer {
            Some(v) if v.account.id == owner.id => (false, true),
            Some(v) => (
                self.store.is_following(v.account.id, owner.id).await?,
                false,
            ),
            None => (false, false),
        };
        Ok(ChannelView {
            owner,
            following,
            is_own,
        })
    }

    /// Follows a channel. Idempotent; following oneself is refused.
    pub async fn follow(&self, user: &CurrentUser, username: &str) -> AccountResult<Account> {
        let target = self.by_username(username).await?;
        if target.id == user.account.id {
            return Err(
                FieldError::new("username", "self", "you cannot follow your own channel").into(),
            );
        }
        self.store
            .follow(user.account.id, target.id, Utc::now())
            .await?;
        Ok(target)
    }

    /// Unfollows a channel. Idempotent; an unknown channel is 404.
    pub async fn unfollow(&self, user: &CurrentUser, username: &str) -> AccountResult<()> {
        let target = self.by_username(username).await?;
        self.store.unfollow(user.account.id, target.id).await?;
        Ok(())
    }

    /// Followed channels: live ones first (latest start first), then by most recent follow.
    pub async fn following(&self, user: &CurrentUser) -> AccountResult<Vec<Followed>> {
        Ok(self.store.following(user.account.id, LIST_LIMIT).await?)
    }

    /// Live channels, most recently started first.
    pub async fn directory(&self) -> AccountResult<Vec<Account>> {
        Ok(self.store.live_channels(LIST_LIMIT).await?)
    }
}
