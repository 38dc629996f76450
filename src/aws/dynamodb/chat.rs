//! Recent chat history, in a partition per channel (`CHAT#<channel>`): one `MSG#<offset>` item
//! per message kept, the highest offset ever appended (`OFFSET`), and `AUTHOR#<user>` for each
//! account that wrote there, mirrored as `CHATTED#<channel>` in the author's partition so that
//! deleting the author finds their messages in every channel.
//!
//! An append costs an offset update, a put and a keys-only query of the newest `keep + 1`
//! messages (to trim), plus, for an author's first message in a channel seen by this process, a
//! transaction writing the author items. The author items are written before the message, so a
//! message never exists without them.

use std::collections::HashSet;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;

use super::error::condition_failed;
use super::item::{Attrs, Item, id, n, names, s, time, values, with};
use super::{DynamoStore, Query, keys};
use crate::domain::AccountId;
use crate::store::{ChatRecord, ChatStore, StoreError, StoreResult};

/// Beyond this many remembered (channel, author) pairs the memory starts over; forgetting only
/// costs a repeated, idempotent write.
const MAX_REMEMBERED_AUTHORS: usize = 100_000;

fn chat_from_item(item: &Item) -> StoreResult<ChatRecord> {
    let a = Attrs(item);
    Ok(ChatRecord {
        channel: a.account("channel")?,
        offset: a.uint("offset")?,
        author: a.account("author")?,
        username: a.string("username")?,
        text: a.string("text")?,
        sent_at: a.time("sent_at")?,
    })
}

impl DynamoStore {
    /// Makes sure the author items of (channel, author) exist. `NotFound` if either account
    /// does not exist (or is being deleted).
    async fn note_chat_author(&self, channel: AccountId, author: AccountId) -> StoreResult<()> {
        let pair = (channel, author);
        if self.remembered_authors().contains(&pair) {
            return Ok(());
        }
        let mut actions = vec![
            self.put(
                with(
                    keys::chat_author(channel, author),
                    [("author", id(author.0))],
                ),
                None,
                vec![],
            )?,
            self.put(
                with(keys::chatted(author, channel), [("channel", id(channel.0))]),
                None,
                vec![],
            )?,
        ];
        actions.extend(self.check_all_alive(&[channel, author])?);
        if self.transact(actions).await?.is_err() {
            return Err(StoreError::NotFound);
        }
        let mut remembered = self.remembered_authors();
        if remembered.len() >= MAX_REMEMBERED_AUTHORS {
            remembered.clear();
        }
        remembered.insert(pair);
        Ok(())
    }

    pub(super) fn remembered_authors(
        &self,
    ) -> std::sync::MutexGuard<'_, HashSet<(AccountId, AccountId)>> {
        // The set holds no invariant a panic could break.
        self.chat_authors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Raises the channel's highest offset to `offset` if it is lower.
    async fn raise_chat_offset(&self, channel: AccountId, offset: u64) -> StoreResult<()> {
        let update = "SET #last_offset = :offset";
        let condition = "attribute_not_exists(#last_offset) OR #last_offset < :offset";
        let outcome = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::chat_offset(channel)))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(names([update, condition]))
            .set_expression_attribute_values(values(vec![(":offset", n(offset))]))
            .send()
            .await;
        match outcome {
            Ok(_) => Ok(()),
            // Already as high or higher: a late retry must not lower it.
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(self.fail("UpdateItem", e)),
        }
    }

    /// Deletes the channel's messages older than the newest `keep` (deleted ones count too).
    ///
    /// Reads the keys of the newest `keep + 1` messages, eventually consistently: DynamoDB
    /// charges for the whole items read, so an append costs about `keep × item size / 8 KB`
    /// read units. A read that misses the message just written trims one message less, which
    /// the next append makes up for.
    async fn trim_chat(&self, channel: AccountId, keep: usize) -> StoreResult<()> {
        let newest = self
            .query(Query {
                eventually_consistent: true,
                key_condition: "#pk = :pk AND begins_with(#sk, :prefix)",
                projection: Some("#pk, #sk"),
                values: vec![
                    (":pk", s(keys::chat_pk(channel))),
                    (":prefix", s(keys::MESSAGE)),
                ],
                descending: true,
                ..Query::default()
            })
            .await?;
        self.delete_keys(newest.into_iter().skip(keep).collect())
            .await
    }
}

#[async_trait]
impl ChatStore for DynamoStore {
    /// `NotFound` if the channel or the author does not exist.
    async fn append_chat(&self, message: &ChatRecord, keep: usize) -> StoreResult<()> {
        self.note_chat_author(message.channel, message.author)
            .await?;
        // The offset first: a crash before the message leaves a gap, never a message above it.
        self.raise_chat_offset(message.channel, message.offset)
            .await?;
        let item = with(
            keys::message(message.channel, message.offset),
            [
                ("channel", id(message.channel.0)),
                ("offset", n(message.offset)),
                ("author", id(message.author.0)),
                ("username", s(&message.username)),
                ("text", s(&message.text)),
                ("sent_at", time(message.sent_at)),
            ],
        );
        // A retried append rewrites a message, but leaves a deleted one as it is, so that it
        // never comes back.
        let condition = "attribute_not_exists(#deleted)";
        let outcome = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_names(names([condition]))
            .send()
            .await;
        match outcome {
            Ok(_) => {}
            Err(e) if condition_failed(&e) => {}
            Err(e) => return Err(self.fail("PutItem", e)),
        }
        self.trim_chat(message.channel, keep).await
    }

    async fn recent_chat(&self, channel: AccountId, limit: usize) -> StoreResult<Vec<ChatRecord>> {
        let items = self
            .query(Query {
                key_condition: "#pk = :pk AND begins_with(#sk, :prefix)",
                filter: Some("attribute_not_exists(#deleted)"),
                values: vec![
                    (":pk", s(keys::chat_pk(channel))),
                    (":prefix", s(keys::MESSAGE)),
                ],
                descending: true,
                want: Some(limit),
                ..Query::default()
            })
            .await?;
        let mut messages = items
            .iter()
            .map(chat_from_item)
            .collect::<StoreResult<Vec<_>>>()?;
        messages.reverse();
        Ok(messages)
    }

    async fn last_chat_offset(&self, channel: AccountId) -> StoreResult<Option<u64>> {
        match self.get(keys::chat_offset(channel)).await? {
            Some(item) => Attrs(&item).uint("last_offset").map(Some),
            None => Ok(None),
        }
    }

    /// Also true for a message deleted before; false for one never stored or already trimmed.
    /// The text goes: nothing will ever show it again.
    async fn delete_chat(&self, channel: AccountId, offset: u64) -> StoreResult<bool> {
        let update = "SET #deleted = :yes REMOVE #text";
        let condition = "attribute_exists(#pk)";
        let outcome = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::message(channel, offset)))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(names([update, condition]))
            .set_expression_attribute_values(values(vec![(":yes", AttributeValue::Bool(true))]))
            .send()
            .await;
        match outcome {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(self.fail("UpdateItem", e)),
        }
    }
}
