//! Who follows whom: each follow is two items written together, `FOLLOWS#<followed>` in the
//! follower's partition (for the following list) and `FOLLOWER#<follower>` in the followed
//! account's partition (so that deleting either account finds it).

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::accounts::account_from_item;
use super::item::{Attrs, Item, s, time};
use super::{DynamoStore, keys};
use crate::domain::AccountId;
use crate::store::{FollowStore, Followed, StoreError, StoreResult};

fn follow_item(mut key: Item, follower: AccountId, followed: AccountId, at: DateTime<Utc>) -> Item {
    key.extend([
        (
            "follower".to_owned(),
            s(follower.0.hyphenated().to_string()),
        ),
        (
            "followed".to_owned(),
            s(followed.0.hyphenated().to_string()),
        ),
        ("followed_at".to_owned(), time(at)),
    ]);
    key
}

#[async_trait]
impl FollowStore for DynamoStore {
    /// Both items only if the first is absent, and only while both accounts exist.
    async fn follow(
        &self,
        follower: AccountId,
        followed: AccountId,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut actions = vec![
            self.put(
                follow_item(keys::follows(follower, followed), follower, followed, at),
                Some("attribute_not_exists(#pk)"),
                vec![],
            )?,
            self.put(
                follow_item(keys::follower(followed, follower), follower, followed, at),
                None,
                vec![],
            )?,
        ];
        let checks = self.check_all_alive(&[follower, followed])?;
        let checked = 2..2 + checks.len();
        actions.extend(checks);
        match self.transact(actions).await? {
            Ok(()) => Ok(true),
            Err(cancelled) if checked.clone().any(|i| cancelled.failed(i)) => {
                Err(StoreError::NotFound)
            }
            Err(_) => Ok(false),
        }
    }

    async fn unfollow(&self, follower: AccountId, followed: AccountId) -> StoreResult<bool> {
        let actions = vec![
            self.delete(
                keys::follows(follower, followed),
                Some("attribute_exists(#pk)"),
                vec![],
            )?,
            self.delete(keys::follower(followed, follower), None, vec![])?,
        ];
        Ok(self.transact(actions).await?.is_ok())
    }

    async fn is_following(&self, follower: AccountId, followed: AccountId) -> StoreResult<bool> {
        Ok(self.get(keys::follows(follower, followed)).await?.is_some())
    }

    async fn follow_since(
        &self,
        follower: AccountId,
        followed: AccountId,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        match self.get(keys::follows(follower, followed)).await? {
            Some(item) => Attrs(&item).time("followed_at").map(Some),
            None => Ok(None),
        }
    }

    /// Pages through all of the follower's follows and reads the followed profiles in batches
    /// of 100: whether a channel is live decides its place, so every one must be looked at.
    async fn following(&self, follower: AccountId, limit: usize) -> StoreResult<Vec<Followed>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let follows = self
            .partition(&keys::account_pk(follower), keys::FOLLOWS)
            .await?;
        let mut since = HashMap::with_capacity(follows.len());
        for item in &follows {
            let a = Attrs(item);
            since.insert(a.account("followed")?, a.time("followed_at")?);
        }
        let profiles = self
            .batch_get(since.keys().map(|id| keys::profile(*id)).collect())
            .await?;
        let mut list = Vec::with_capacity(profiles.len());
        for profile in &profiles {
            // A profile being deleted is not listed; its follow items are on their way out.
            if let Some(account) = account_from_item(profile)?
                && let Some(followed_at) = since.get(&account.id)
            {
                list.push(Followed {
                    followed_at: *followed_at,
                    account,
                });
            }
        }
        list.sort_by(|a, b| {
            a.account
                .live_since
                .is_none()
                .cmp(&b.account.live_since.is_none())
                .then(b.account.live_since.cmp(&a.account.live_since))
                .then(b.followed_at.cmp(&a.followed_at))
                .then(a.account.id.cmp(&b.account.id))
        });
        list.truncate(limit);
        Ok(list)
    }
}
