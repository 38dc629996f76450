//! Moderation: bans and timeouts (`restrictions`, one row per channel, user and kind),
//! moderator roles (`moderators`) and chat settings (`chat_settings`, one row per channel that
//! ever saved any).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::types::Type;
use rusqlite::{OptionalExtension, Row, params};

use super::{SqlJson, SqlTime, SqlUuid, SqliteStore};
use crate::domain::{AccountId, ChatSettings};
use crate::store::{ModerationStore, Restriction, RestrictionKind, StoreResult};

/// The columns [`restriction_from_row`] reads, in its order.
const RESTRICTION_COLUMNS: &str = "channel_id, user_id, kind, until, by_id, created_at";

fn kind_to_text(kind: RestrictionKind) -> &'static str {
    match kind {
        RestrictionKind::Ban => "ban",
        RestrictionKind::Timeout => "timeout",
    }
}

fn restriction_from_row(row: &Row<'_>) -> rusqlite::Result<Restriction> {
    let kind = match row.get_ref(2)?.as_str()? {
        "ban" => RestrictionKind::Ban,
        "timeout" => RestrictionKind::Timeout,
        other => {
            return Err(rusqlite::Error::FromSqlConversionFailure(
                2,
                Type::Text,
                format!("unknown restriction kind {other:?}").into(),
            ));
        }
    };
    Ok(Restriction {
        channel: AccountId(row.get::<_, SqlUuid>(0)?.0),
        user: AccountId(row.get::<_, SqlUuid>(1)?.0),
        kind,
        until: row.get::<_, Option<SqlTime>>(3)?.map(|t| t.0),
        by: AccountId(row.get::<_, SqlUuid>(4)?.0),
        created_at: row.get::<_, SqlTime>(5)?.0,
    })
}

/// In force at `now`: without an end, or ending after `now` (a timeout is over at its instant).
const IN_FORCE: &str = "(until IS NULL OR until > :now)";

#[async_trait]
impl ModerationStore for SqliteStore {
    /// `NotFound` if the channel, the user or the moderator does not exist.
    async fn restrict(&self, restriction: Restriction) -> StoreResult<()> {
        self.with_connection(move |connection| {
            connection.execute(
                "INSERT INTO restrictions (channel_id, user_id, kind, until, by_id, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (channel_id, user_id, kind) DO UPDATE SET
                     until = excluded.until,
                     by_id = excluded.by_id,
                     created_at = excluded.created_at",
                params![
                    SqlUuid(restriction.channel.0),
                    SqlUuid(restriction.user.0),
                    kind_to_text(restriction.kind),
                    restriction.until.map(SqlTime),
                    SqlUuid(restriction.by.0),
                    SqlTime(restriction.created_at),
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn lift(
        &self,
        channel: AccountId,
        user: AccountId,
        kind: RestrictionKind,
    ) -> StoreResult<bool> {
        self.with_connection(move |connection| {
            let lifted = connection.execute(
                "DELETE FROM restrictions WHERE channel_id = ?1 AND user_id = ?2 AND kind = ?3",
                params![SqlUuid(channel.0), SqlUuid(user.0), kind_to_text(kind)],
            )?;
            Ok(lifted == 1)
        })
        .await
    }

    async fn restrictions(
        &self,
        channel: AccountId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Restriction>> {
        self.with_connection(move |connection| {
            // Expired rows are left in place: the next restriction of that kind replaces them,
            // and deleting the account of either side removes them.
            let restrictions = connection
                .prepare_cached(&format!(
                    "SELECT {RESTRICTION_COLUMNS} FROM restrictions
                     WHERE channel_id = :channel AND {IN_FORCE}
                     ORDER BY created_at DESC, user_id, kind"
                ))?
                .query_map(
                    rusqlite::named_params! {":channel": SqlUuid(channel.0), ":now": SqlTime(now)},
                    restriction_from_row,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(restrictions)
        })
        .await
    }

    async fn restrictions_of(
        &self,
        channel: AccountId,
        user: AccountId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Restriction>> {
        self.with_connection(move |connection| {
            let restrictions = connection
                .prepare_cached(&format!(
                    "SELECT {RESTRICTION_COLUMNS} FROM restrictions
                     WHERE channel_id = :channel AND user_id = :user AND {IN_FORCE}
                     ORDER BY created_at DESC, kind"
                ))?
                .query_map(
                    rusqlite::named_params! {
                        ":channel": SqlUuid(channel.0),
                        ":user": SqlUuid(user.0),
                        ":now": SqlTime(now),
                    },
                    restriction_from_row,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(restrictions)
        })
        .await
    }

    /// `NotFound` if the channel or the user does not exist.
    async fn add_moderator(&self, channel: AccountId, user: AccountId) -> StoreResult<bool> {
        self.with_connection(move |connection| {
            let added = connection.execute(
                "INSERT INTO moderators (channel_id, user_id) VALUES (?1, ?2)
                 ON CONFLICT DO NOTHING",
                params![SqlUuid(channel.0), SqlUuid(user.0)],
            )?;
            Ok(added == 1)
        })
        .await
    }

    async fn remove_moderator(&self, channel: AccountId, user: AccountId) -> StoreResult<bool> {
        self.with_connection(move |connection| {
            let removed = connection.execute(
                "DELETE FROM moderators WHERE channel_id = ?1 AND user_id = ?2",
                params![SqlUuid(channel.0), SqlUuid(user.0)],
            )?;
            Ok(removed == 1)
        })
        .await
    }

    async fn moderators(&self, channel: AccountId) -> StoreResult<Vec<AccountId>> {
        self.with_connection(move |connection| {
            let moderators = connection
                .prepare_cached(
                    "SELECT user_id FROM moderators WHERE channel_id = ?1 ORDER BY user_id",
                )?
                .query_map([SqlUuid(channel.0)], |row| {
                    Ok(AccountId(row.get::<_, SqlUuid>(0)?.0))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(moderators)
        })
        .await
    }

    async fn chat_settings(&self, channel: AccountId) -> StoreResult<ChatSettings> {
        self.with_connection(move |connection| {
            let settings = connection
                .prepare_cached(
                    "SELECT slow_mode_secs, followers_only_minutes, banned_words
                     FROM chat_settings WHERE channel_id = ?1",
                )?
                .query_row([SqlUuid(channel.0)], |row| {
                    Ok(ChatSettings {
                        slow_mode_secs: row.get(0)?,
                        followers_only_minutes: row.get(1)?,
                        banned_words: row.get::<_, SqlJson<Vec<String>>>(2)?.0,
                    })
                })
                .optional()?;
            Ok(settings.unwrap_or_default())
        })
        .await
    }

    /// Replaces all of the channel's settings. `NotFound` if the channel does not exist.
    async fn set_chat_settings(
        &self,
        channel: AccountId,
        settings: &ChatSettings,
    ) -> StoreResult<()> {
        let settings = settings.clone();
        self.with_connection(move |connection| {
            connection.execute(
                "INSERT INTO chat_settings
                     (channel_id, slow_mode_secs, followers_only_minutes, banned_words)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (channel_id) DO UPDATE SET
                     slow_mode_secs = excluded.slow_mode_secs,
                     followers_only_minutes = excluded.followers_only_minutes,
                     banned_words = excluded.banned_words",
                params![
                    SqlUuid(channel.0),
                    settings.slow_mode_secs,
                    settings.followers_only_minutes,
                    SqlJson(&settings.banned_words),
                ],
            )?;
            Ok(())
        })
        .await
    }
}
