//! Who follows whom: one row per pair in `follows`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::accounts::{ACCOUNT_COLUMN_COUNT, ACCOUNT_COLUMNS, account_from_row};
use super::{SqlTime, SqlUuid, SqliteStore, sql_limit};
use crate::domain::AccountId;
use crate::store::{FollowStore, Followed, StoreResult};

#[async_trait]
impl FollowStore for SqliteStore {
    async fn follow(
        &self,
        follower: AccountId,
        followed: AccountId,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.with_connection(move |connection| {
            // A missing account fails the foreign key, which maps to NotFound.
            let added = connection.execute(
                "INSERT INTO follows (follower_id, followed_id, followed_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
                params![SqlUuid(follower.0), SqlUuid(followed.0), SqlTime(at)],
            )?;
            Ok(added == 1)
        })
        .await
    }

    async fn unfollow(&self, follower: AccountId, followed: AccountId) -> StoreResult<bool> {
        self.with_connection(move |connection| {
            let removed = connection.execute(
                "DELETE FROM follows WHERE follower_id = ?1 AND followed_id = ?2",
                params![SqlUuid(follower.0), SqlUuid(followed.0)],
            )?;
            Ok(removed == 1)
        })
        .await
    }

    async fn follow_since(
        &self,
        follower: AccountId,
        followed: AccountId,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        self.with_connection(move |connection| {
            let at: Option<SqlTime> = connection
                .prepare_cached(
                    "SELECT followed_at FROM follows WHERE follower_id = ?1 AND followed_id = ?2",
                )?
                .query_row(params![SqlUuid(follower.0), SqlUuid(followed.0)], |row| {
                    row.get(0)
                })
                .optional()?;
            Ok(at.map(|t| t.0))
        })
        .await
    }

    async fn is_following(&self, follower: AccountId, followed: AccountId) -> StoreResult<bool> {
        self.with_connection(move |connection| {
            let found = connection
                .prepare_cached(
                    "SELECT 1 FROM follows WHERE follower_id = ?1 AND followed_id = ?2",
                )?
                .query_row(
                    params![SqlUuid(follower.0), SqlUuid(followed.0)],
                    |_| Ok(()),
                )
                .optional()?;
            Ok(found.is_some())
        })
        .await
    }

    async fn following(&self, follower: AccountId, limit: usize) -> StoreResult<Vec<Followed>> {
        self.with_connection(move |connection| {
            let followed = connection
                .prepare_cached(&format!(
                    "SELECT {ACCOUNT_COLUMNS}, followed_at
                     FROM follows JOIN accounts ON accounts.id = follows.followed_id
                     WHERE follower_id = ?1
                     ORDER BY live_since IS NULL, live_since DESC, followed_at DESC, id
                     LIMIT ?2"
                ))?
                .query_map(params![SqlUuid(follower.0), sql_limit(limit)], |row| {
                    Ok(Followed {
                        account: account_from_row(row)?,
                        followed_at: row.get::<_, SqlTime>(ACCOUNT_COLUMN_COUNT)?.0,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(followed)
        })
        .await
    }
}
