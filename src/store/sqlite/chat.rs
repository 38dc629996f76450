//! Recent chat history: the newest messages of each channel in `chat_messages`, and the highest
//! offset each channel ever appended in `chat_offsets`.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};

use super::{SqlOffset, SqlTime, SqlUuid, SqliteStore, sql_limit};
use crate::domain::AccountId;
use crate::store::{ChatRecord, ChatStore, StoreResult};

/// The columns [`chat_from_row`] reads, in its order.
const CHAT_COLUMNS: &str = "channel_id, position, author_id, username, text, sent_at";

fn chat_from_row(row: &Row<'_>) -> rusqlite::Result<ChatRecord> {
    Ok(ChatRecord {
        channel: AccountId(row.get::<_, SqlUuid>(0)?.0),
        offset: row.get::<_, SqlOffset>(1)?.0,
        author: AccountId(row.get::<_, SqlUuid>(2)?.0),
        username: row.get(3)?,
        text: row.get(4)?,
        sent_at: row.get::<_, SqlTime>(5)?.0,
    })
}

#[async_trait]
impl ChatStore for SqliteStore {
    /// `NotFound` if the channel or the author does not exist.
    async fn append_chat(&self, message: &ChatRecord, keep: usize) -> StoreResult<()> {
        let message = message.clone();
        self.with_connection(move |connection| {
            let transaction =
                connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // An upsert rather than INSERT OR REPLACE: a retried append rewrites a message, but
            // leaves a deleted one as it is, so that it never comes back.
            transaction.execute(
                "INSERT INTO chat_messages
                     (channel_id, position, author_id, username, text, sent_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (channel_id, position) DO UPDATE SET
                     author_id = excluded.author_id,
                     username = excluded.username,
                     text = excluded.text,
                     sent_at = excluded.sent_at
                 WHERE deleted = 0",
                params![
                    SqlUuid(message.channel.0),
                    SqlOffset(message.offset),
                    SqlUuid(message.author.0),
                    message.username,
                    message.text,
                    SqlTime(message.sent_at),
                ],
            )?;
            transaction.execute(
                "INSERT INTO chat_offsets (channel_id, last_offset) VALUES (?1, ?2)
                 ON CONFLICT (channel_id) DO UPDATE SET
                     last_offset = max(last_offset, excluded.last_offset)",
                params![SqlUuid(message.channel.0), SqlOffset(message.offset)],
            )?;
            // Everything from the (keep + 1)-th newest message down; nothing while the channel
            // has at most `keep` (the subquery is then NULL). Deleted messages count too.
            transaction.execute(
                "DELETE FROM chat_messages
                 WHERE channel_id = ?1 AND position <= (
                     SELECT position FROM chat_messages WHERE channel_id = ?1
                     ORDER BY position DESC LIMIT 1 OFFSET ?2)",
                params![SqlUuid(message.channel.0), sql_limit(keep)],
            )?;
            transaction.commit()?;
            Ok(())
        })
        .await
    }

    async fn recent_chat(&self, channel: AccountId, limit: usize) -> StoreResult<Vec<ChatRecord>> {
        self.with_connection(move |connection| {
            let mut messages = connection
                .prepare_cached(&format!(
                    "SELECT {CHAT_COLUMNS} FROM chat_messages
                     WHERE channel_id = ?1 AND deleted = 0
                     ORDER BY position DESC
                     LIMIT ?2"
                ))?
                .query_map(params![SqlUuid(channel.0), sql_limit(limit)], chat_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            messages.reverse();
            Ok(messages)
        })
        .await
    }

    async fn last_chat_offset(&self, channel: AccountId) -> StoreResult<Option<u64>> {
        self.with_connection(move |connection| {
            let offset = connection
                .prepare_cached("SELECT last_offset FROM chat_offsets WHERE channel_id = ?1")?
                .query_row([SqlUuid(channel.0)], |row| row.get::<_, SqlOffset>(0))
                .optional()?;
            Ok(offset.map(|o| o.0))
        })
        .await
    }

    /// Also true for a message deleted before; false for one never stored or already trimmed.
    async fn delete_chat(&self, channel: AccountId, offset: u64) -> StoreResult<bool> {
        self.with_connection(move |connection| {
            // The text goes too: nothing will ever show it again.
            let deleted = connection.execute(
                "UPDATE chat_messages SET deleted = 1, text = ''
                 WHERE channel_id = ?1 AND position = ?2",
                params![SqlUuid(channel.0), SqlOffset(offset)],
            )?;
            Ok(deleted == 1)
        })
        .await
    }
}
