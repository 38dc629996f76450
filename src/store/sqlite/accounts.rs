//! Accounts and their channels: one row each in `accounts`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::types::Type;
use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};

use super::{SqlTime, SqlUuid, SqliteStore, expect_one_row, sql_limit};
use crate::domain::{AccountId, Avatar, AvatarPreset, Color, Email, Username};
use crate::store::{
    Account, AccountStore, ChannelResources, NewAccount, ProfileChange, StoreError, StoreResult,
};

/// The columns [`account_from_row`] reads, in its order.
pub(super) const ACCOUNT_COLUMNS: &str = "id, username, email, password_hash, email_verified, \
     color, avatar, banner, created_at, arn, ingest_endpoint, stream_key, playback_url, live_since, \
     stage_since";

/// How many columns [`ACCOUNT_COLUMNS`] names, so a query can read its own columns after them.
pub(super) const ACCOUNT_COLUMN_COUNT: usize = 15;

/// Marks an uploaded avatar's asset key; preset names never contain a colon.
const UPLOADED_AVATAR_PREFIX: &str = "upload:";

pub(super) fn account_from_row(row: &Row<'_>) -> rusqlite::Result<Account> {
    Ok(Account {
        id: AccountId(row.get::<_, SqlUuid>(0)?.0),
        username: Username::from_trusted(row.get(1)?),
        email: Email::from_trusted(row.get(2)?),
        password_hash: row.get(3)?,
        email_verified: row.get(4)?,
        color: Color::parse(&row.get::<_, String>(5)?).map_err(|e| corrupt(5, e))?,
        avatar: avatar_from_text(&row.get::<_, String>(6)?).map_err(|e| corrupt(6, e))?,
        banner: row.get(7)?,
        created_at: row.get::<_, SqlTime>(8)?.0,
        channel: ChannelResources {
            arn: row.get(9)?,
            ingest_endpoint: row.get(10)?,
            stream_key: row.get(11)?,
            playback_url: row.get(12)?,
        },
        live_since: row.get::<_, Option<SqlTime>>(13)?.map(|t| t.0),
        stage_since: row.get::<_, Option<SqlTime>>(14)?.map(|t| t.0),
    })
}

/// A stored text the domain no longer accepts: the database was written by something else.
fn corrupt(
    column: usize,
    error: impl std::error::Error + Send + Sync + 'static,
) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, Type::Text, Box::new(error))
}

fn avatar_to_text(avatar: &Avatar) -> String {
    match avatar {
        Avatar::Preset(preset) => preset.as_str().to_owned(),
        Avatar::Uploaded(key) => format!("{UPLOADED_AVATAR_PREFIX}{key}"),
    }
}

fn avatar_from_text(text: &str) -> Result<Avatar, crate::domain::FieldError> {
    match text.strip_prefix(UPLOADED_AVATAR_PREFIX) {
        Some(key) => Ok(Avatar::Uploaded(key.to_owned())),
        None => AvatarPreset::parse(text).map(Avatar::Preset),
    }
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn create_account(&self, new: NewAccount) -> StoreResult<Account> {
        self.with_connection(move |connection| {
            // Explicit, so that a failed commit is reported rather than lost in a statement reset.
            let transaction =
                connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let account = transaction.query_row(
                &format!(
                    "INSERT INTO accounts (id, username, username_key, email, password_hash,
                         email_verified, color, avatar, banner, created_at, arn, ingest_endpoint,
                         stream_key, playback_url, live_since)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, ?9, ?10, ?11, ?12, ?13, NULL)
                     RETURNING {ACCOUNT_COLUMNS}"
                ),
                params![
                    SqlUuid(new.id.0),
                    new.username.as_str(),
                    new.username.key(),
                    new.email.as_str(),
                    new.password_hash,
                    new.email_verified,
                    new.color.as_str(),
                    avatar_to_text(&Avatar::Preset(new.avatar)),
                    SqlTime(new.created_at),
                    new.channel.arn,
                    new.channel.ingest_endpoint,
                    new.channel.stream_key,
                    new.channel.playback_url,
                ],
                account_from_row,
            )?;
            transaction.commit()?;
            Ok(account)
        })
        .await
    }

    async fn account(&self, id: AccountId) -> StoreResult<Option<Account>> {
        self.with_connection(move |connection| {
            let account = connection
                .prepare_cached(&format!(
                    "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = ?1"
                ))?
                .query_row([SqlUuid(id.0)], account_from_row)
                .optional()?;
            Ok(account)
        })
        .await
    }

    async fn account_by_username(&self, key: &str) -> StoreResult<Option<Account>> {
        let key = key.to_owned();
        self.with_connection(move |connection| {
            let account = connection
                .prepare_cached(&format!(
                    "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE username_key = ?1"
                ))?
                .query_row([key], account_from_row)
                .optional()?;
            Ok(account)
        })
        .await
    }

    async fn account_by_email(&self, email: &Email) -> StoreResult<Option<Account>> {
        let email = email.as_str().to_owned();
        self.with_connection(move |connection| {
            let account = connection
                .prepare_cached(&format!(
                    "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE email = ?1"
                ))?
                .query_row([email], account_from_row)
                .optional()?;
            Ok(account)
        })
        .await
    }

    async fn set_email_verified(&self, id: AccountId) -> StoreResult<()> {
        self.with_connection(move |connection| {
            expect_one_row(connection.execute(
                "UPDATE accounts SET email_verified = 1 WHERE id = ?1",
                [SqlUuid(id.0)],
            )?)
        })
        .await
    }

    async fn set_password_hash(&self, id: AccountId, hash: &str) -> StoreResult<()> {
        let hash = hash.to_owned();
        self.with_connection(move |connection| {
            expect_one_row(connection.execute(
                "UPDATE accounts SET password_hash = ?2 WHERE id = ?1",
                params![SqlUuid(id.0), hash],
            )?)
        })
        .await
    }

    async fn rename(&self, id: AccountId, username: &Username) -> StoreResult<()> {
        let username = username.clone();
        self.with_connection(move |connection| {
            // The unique key column rejects another account's name in any case, while a new
            // spelling of one's own name writes the same key to the same row.
            expect_one_row(connection.execute(
                "UPDATE accounts SET username = ?2, username_key = ?3 WHERE id = ?1",
                params![SqlUuid(id.0), username.as_str(), username.key()],
            )?)
        })
        .await
    }

    async fn update_profile(&self, id: AccountId, change: ProfileChange) -> StoreResult<Account> {
        self.with_connection(move |connection| {
            let transaction =
                connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let account = transaction
                .query_row(
                    &format!(
                        "UPDATE accounts SET
                             color = coalesce(?2, color),
                             avatar = coalesce(?3, avatar),
                             banner = CASE WHEN ?4 THEN ?5 ELSE banner END
                         WHERE id = ?1
                         RETURNING {ACCOUNT_COLUMNS}"
                    ),
                    params![
                        SqlUuid(id.0),
                        change.color.map(|c| c.as_str()),
                        change.avatar.as_ref().map(avatar_to_text),
                        change.banner.is_some(),
                        change.banner.flatten(),
                    ],
                    account_from_row,
                )
                .optional()?
                .ok_or(StoreError::NotFound)?;
            transaction.commit()?;
            Ok(account)
        })
        .await
    }

    async fn set_stream_key(&self, id: AccountId, stream_key: &str) -> StoreResult<()> {
        let stream_key = stream_key.to_owned();
        self.with_connection(move |connection| {
            expect_one_row(connection.execute(
                "UPDATE accounts SET stream_key = ?2 WHERE id = ?1",
                params![SqlUuid(id.0), stream_key],
            )?)
        })
        .await
    }

    async fn set_live(&self, id: AccountId, since: Option<DateTime<Utc>>) -> StoreResult<()> {
        self.with_connection(move |connection| {
            expect_one_row(connection.execute(
                "UPDATE accounts SET live_since = ?2 WHERE id = ?1",
                params![SqlUuid(id.0), since.map(SqlTime)],
            )?)
        })
        .await
    }

    async fn set_stage(&self, id: AccountId, since: Option<DateTime<Utc>>) -> StoreResult<()> {
        self.with_connection(move |connection| {
            expect_one_row(connection.execute(
                "UPDATE accounts SET stage_since = ?2 WHERE id = ?1",
                params![SqlUuid(id.0), since.map(SqlTime)],
            )?)
        })
        .await
    }

    async fn delete_account(&self, id: AccountId) -> StoreResult<()> {
        self.with_connection(move |connection| {
            let transaction =
                connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // Bans and timeouts the account issued as a moderator stay in force, issued in the
            // name of their channel: deleting a moderator must not free whoever they banned.
            transaction.execute(
                "UPDATE restrictions SET by_id = channel_id WHERE by_id = ?1",
                [SqlUuid(id.0)],
            )?;
            // Hyphenated UUIDs hold no GLOB metacharacters, so only the trailing `*` is one.
            transaction.execute(
                "DELETE FROM snapshots WHERE key GLOB ?1 OR key GLOB ?2",
                [
                    format!("channel:{}*", id.0.hyphenated()),
                    format!("stage:{}*", id.0.hyphenated()),
                ],
            )?;
            // The schema's ON DELETE CASCADE takes everything else: follows both ways, sessions
            // with their refresh tokens, mailed tokens, restrictions and moderator roles both
            // ways, the channel's chat settings, history and offset, its messages in other
            // channels, its polls with their votes, its presets, and its channel's stream
            // sessions with their events and metric samples. Its votes in other
            // channels' polls stay counted but no longer name it (ON DELETE SET NULL).
            expect_one_row(
                transaction.execute("DELETE FROM accounts WHERE id = ?1", [SqlUuid(id.0)])?,
            )?;
            transaction.commit()?;
            Ok(())
        })
        .await
    }

    async fn live_channels(&self, limit: usize) -> StoreResult<Vec<Account>> {
        self.with_connection(move |connection| {
            // Each part is chosen and limited on its own; a channel is in at most one of them,
            // and the outer ORDER BY puts every live one (live_since set) before every staged one.
            let accounts = connection
                .prepare_cached(&format!(
                    "SELECT {ACCOUNT_COLUMNS} FROM accounts
                     WHERE id IN (
                               SELECT id FROM accounts
                               WHERE live_since IS NOT NULL
                               ORDER BY live_since DESC, id
                               LIMIT ?1)
                        OR id IN (
                               SELECT id FROM accounts
                               WHERE stage_since IS NOT NULL AND live_since IS NULL
                               ORDER BY stage_since DESC, id
                               LIMIT ?1)
                     ORDER BY live_since IS NULL, live_since DESC, stage_since DESC, id"
                ))?
                .query_map([sql_limit(limit)], account_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(accounts)
        })
        .await
    }
}
