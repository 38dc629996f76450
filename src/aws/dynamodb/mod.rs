//! The store on one DynamoDB table (single-table design; `docs/dynamodb.md` is the design:
//! keys, indexes, access patterns, sizes, and where it differs from SQLite).
//!
//! - Every key format lives in [`keys`]; items are read through [`item::Attrs`].
//! - Uniqueness (usernames case-folded, emails, one vote per voter, one follow per pair) is
//!   decided by conditional writes inside `TransactWriteItems`, never by reading first.
//! - A relation between two accounts is written as two items, one in each account's partition,
//!   in one transaction, so deleting either account finds it with a strongly consistent query
//!   of its own partition ([`deletion`]).
//! - Writes that create something naming an account check, in the same transaction, that the
//!   account exists and is not being deleted; `delete_account` first marks the account
//!   (`deleting`), so nothing new can point at it while it is taken apart.
//! - Reads of the table are strongly consistent; the three sparse indexes (live channels, staged
//!   channels, open polls) are eventually consistent, as every DynamoDB index is.
//! - SDK errors become [`StoreError`]s in [`error`]: a failed condition is an answer (`NotFound`,
//!   `Conflict`, `false`), throttling and network trouble are `Unavailable`, the rest `Backend`.

mod accounts;
mod chat;
mod deletion;
mod error;
mod follows;
mod item;
mod keys;
mod moderation;
mod polls;
mod presets;
mod schema;
mod sessions;
mod snapshots;
mod streams;
mod throttle;
mod tokens;

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, DeleteRequest, KeysAndAttributes, Put,
    TransactWriteItem, Update, WriteRequest,
};

use self::item::Item;
use crate::domain::AccountId;
use crate::store::{Store, StoreError, StoreResult};

/// How often a transaction that collided with another one (`TransactionConflict`) is tried
/// again before the call fails as `Unavailable`.
const TRANSACTION_ATTEMPTS: u32 = 8;
/// The first pause before such a retry; it doubles each time, with jitter.
const FIRST_RETRY_PAUSE: Duration = Duration::from_millis(20);
/// DynamoDB's limits per request.
const MAX_TRANSACTION_ITEMS: usize = 100;
const MAX_BATCH_GET: usize = 100;
const MAX_BATCH_WRITE: usize = 25;

/// How long a throttle window's counter is kept when nobody says otherwise: longer than any
/// sensible rate-limit window.
const DEFAULT_THROTTLE_RETENTION: Duration = Duration::from_secs(24 * 3600);

/// The store over one DynamoDB table; one per process, shared behind an `Arc`.
pub struct DynamoStore {
    client: Client,
    table: String,
    /// How long after its start a throttle window's counter must survive; it is the TTL of
    /// the counter, since the store is never told how long a window is.
    throttle_retention: chrono::Duration,
    /// The (channel, author) pairs whose chat back-references this process has written, so
    /// that only an author's first message in a channel pays for them (see [`chat`]).
    chat_authors: Mutex<HashSet<(AccountId, AccountId)>>,
}

impl DynamoStore {
    /// A store over `table`, with clients built from `sdk` (region, credentials, endpoint).
    /// Makes no request; [`DynamoStore::check_table`] does.
    pub fn new(sdk: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        Self {
            client: Client::new(sdk),
            table: table.into(),
            throttle_retention: chrono::Duration::from_std(DEFAULT_THROTTLE_RETENTION)
                .unwrap_or(chrono::Duration::MAX),
            chat_authors: Mutex::new(HashSet::new()),
        }
    }

    /// Keeps throttle counters at least `retention` after their window started (never less than
    /// a day).
    pub fn with_throttle_retention(mut self, retention: Duration) -> Self {
        let retention = retention.max(DEFAULT_THROTTLE_RETENTION);
        self.throttle_retention =
            chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::MAX);
        self
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// One item by key, strongly consistent.
    async fn get(&self, key: Item) -> StoreResult<Option<Item>> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.fail("GetItem", e))?;
        Ok(output.item)
    }

    /// Every item a query matches, page after page, until `want` items are collected (if
    /// given). Strongly consistent on the table; indexes can only be read eventually
    /// consistently.
    async fn query(&self, query: Query<'_>) -> StoreResult<Vec<Item>> {
        let want = query.want;
        if want == Some(0) {
            return Ok(Vec::new());
        }
        let expressions = [Some(query.key_condition), query.filter, query.projection];
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(query.key_condition)
            .set_filter_expression(query.filter.map(str::to_owned))
            .set_projection_expression(query.projection.map(str::to_owned))
            .set_expression_attribute_names(item::names(expressions.into_iter().flatten()))
            .set_expression_attribute_values(item::values(query.values))
            .scan_index_forward(!query.descending);
        request = match query.index {
            Some(index) => request.index_name(index),
            None => request.consistent_read(!query.eventually_consistent),
        };
        // Without a filter every item read is wanted, so a page need not be larger; with one,
        // DynamoDB counts items before filtering, so pages are left at their 1 MB default.
        if let (Some(want), None) = (want, query.filter) {
            request = request.limit(i32::try_from(want.min(1000)).unwrap_or(1000));
        }
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = request
                .clone()
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| self.fail("Query", e))?;
            items.extend(page.items.unwrap_or_default());
            if let Some(want) = want
                && items.len() >= want
            {
                items.truncate(want);
                return Ok(items);
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }

    /// Every item of a partition whose sort key starts with `prefix`, in sort-key order.
    async fn partition(&self, pk: &str, prefix: &str) -> StoreResult<Vec<Item>> {
        self.query(Query {
            key_condition: "#pk = :pk AND begins_with(#sk, :prefix)",
            values: vec![(":pk", item::s(pk)), (":prefix", item::s(prefix))],
            ..Query::default()
        })
        .await
    }

    /// The items with these keys that exist, strongly consistent, in no particular order.
    async fn batch_get(&self, keys: Vec<Item>) -> StoreResult<Vec<Item>> {
        let mut found = Vec::with_capacity(keys.len());
        for chunk in dedup_keys(keys).chunks(MAX_BATCH_GET) {
            let mut pending = Some(chunk.to_vec());
            let mut pause = FIRST_RETRY_PAUSE;
            while let Some(keys) = pending.take().filter(|k| !k.is_empty()) {
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| StoreError::Backend(Box::new(e)))?;
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(|e| self.fail("BatchGetItem", e))?;
                if let Some(mut responses) = output.responses {
                    found.extend(responses.remove(&self.table).unwrap_or_default());
                }
                // Keys DynamoDB did not get to (throttled or over the size limit) are asked
                // for again after a pause, as the API asks.
                pending = output
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .map(|k| k.keys);
                if pending.as_ref().is_some_and(|k| !k.is_empty()) {
                    tokio::time::sleep(jittered(pause)).await;
                    pause *= 2;
                }
            }
        }
        Ok(found)
    }

    /// Deletes these items (absent ones are no-ops), 25 per request.
    async fn delete_keys(&self, keys: Vec<Item>) -> StoreResult<()> {
        for chunk in dedup_keys(keys).chunks(MAX_BATCH_WRITE) {
            let mut pending = chunk
                .iter()
                .map(|key| {
                    DeleteRequest::builder()
                        .set_key(Some(key.clone()))
                        .build()
                        .map(|delete| WriteRequest::builder().delete_request(delete).build())
                        .map_err(|e| StoreError::Backend(Box::new(e)))
                })
                .collect::<StoreResult<Vec<_>>>()?;
            let mut pause = FIRST_RETRY_PAUSE;
            while !pending.is_empty() {
                let output = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, pending)
                    .send()
                    .await
                    .map_err(|e| self.fail("BatchWriteItem", e))?;
                pending = output
                    .unprocessed_items
                    .and_then(|mut u| u.remove(&self.table))
                    .unwrap_or_default();
                if !pending.is_empty() {
                    tokio::time::sleep(jittered(pause)).await;
                    pause *= 2;
                }
            }
        }
        Ok(())
    }

    /// Deletes one item if `condition` holds; returns whether it did.
    async fn delete_if(&self, key: Item, condition: &str, values: Values) -> StoreResult<bool> {
        let outcome = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .condition_expression(condition)
            .set_expression_attribute_names(item::names([condition]))
            .set_expression_attribute_values(item::values(values))
            .send()
            .await;
        match outcome {
            Ok(_) => Ok(true),
            Err(e) if error::condition_failed(&e) => Ok(false),
            Err(e) => Err(self.fail("DeleteItem", e)),
        }
    }

    /// Runs a transaction. `Ok(Err(cancelled))` when a condition failed, naming which; a
    /// collision with another transaction is retried here, with backoff.
    async fn transact(
        &self,
        actions: Vec<TransactWriteItem>,
    ) -> StoreResult<Result<(), Cancelled>> {
        if actions.len() > MAX_TRANSACTION_ITEMS {
            return Err(StoreError::Backend(
                format!(
                    "a transaction of {} actions is over the limit",
                    actions.len()
                )
                .into(),
            ));
        }
        let mut pause = FIRST_RETRY_PAUSE;
        for attempt in 1..=TRANSACTION_ATTEMPTS {
            let outcome = self
                .client
                .transact_write_items()
                .set_transact_items(Some(actions.clone()))
                .send()
                .await;
            let error = match outcome {
                Ok(_) => return Ok(Ok(())),
                Err(error) => error,
            };
            let retry = match error.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
                    let reasons: Vec<String> = cancelled
                        .cancellation_reasons()
                        .iter()
                        .map(|r| r.code().unwrap_or("None").to_owned())
                        .collect();
                    if reasons.iter().any(|r| r == CONDITION_FAILED) {
                        return Ok(Err(Cancelled(reasons)));
                    }
                    reasons.iter().all(|r| error::transient_reason(r))
                }
                Some(TransactWriteItemsError::TransactionInProgressException(_)) => true,
                _ => false,
            };
            if !retry {
                return Err(self.fail("TransactWriteItems", error));
            }
            if attempt == TRANSACTION_ATTEMPTS {
                return Err(StoreError::Unavailable(format!(
                    "DynamoDB TransactWriteItems still colliding after {attempt} attempts: {}",
                    aws_sdk_dynamodb::error::DisplayErrorContext(&error)
                )));
            }
            tokio::time::sleep(jittered(pause)).await;
            pause *= 2;
        }
        unreachable!("the last attempt returns")
    }

    /// A `Put` action of a transaction.
    fn put(
        &self,
        item: Item,
        condition: Option<&str>,
        values: Values,
    ) -> StoreResult<TransactWriteItem> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(condition.map(str::to_owned))
            .set_expression_attribute_names(item::names(condition))
            .set_expression_attribute_values(item::values(values))
            .build()
            .map_err(|e| StoreError::Backend(Box::new(e)))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// An `Update` action of a transaction.
    fn update(
        &self,
        key: Item,
        update: &str,
        condition: Option<&str>,
        values: Values,
    ) -> StoreResult<TransactWriteItem> {
        self.update_with(key, update, condition, item::values(values))
    }

    /// [`Self::update`] with expression values whose names are made up on the fly.
    fn update_with(
        &self,
        key: Item,
        update: &str,
        condition: Option<&str>,
        values: Option<HashMap<String, AttributeValue>>,
    ) -> StoreResult<TransactWriteItem> {
        let action = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression(update)
            .set_condition_expression(condition.map(str::to_owned))
            .set_expression_attribute_names(item::names(
                [Some(update), condition].into_iter().flatten(),
            ))
            .set_expression_attribute_values(values)
            .build()
            .map_err(|e| StoreError::Backend(Box::new(e)))?;
        Ok(TransactWriteItem::builder().update(action).build())
    }

    /// A `Delete` action of a transaction.
    fn delete(
        &self,
        key: Item,
        condition: Option<&str>,
        values: Values,
    ) -> StoreResult<TransactWriteItem> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .set_condition_expression(condition.map(str::to_owned))
            .set_expression_attribute_names(item::names(condition))
            .set_expression_attribute_values(item::values(values))
            .build()
            .map_err(|e| StoreError::Backend(Box::new(e)))?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// A transaction action that holds only while the account exists and is not being deleted.
    fn check_alive(&self, account: AccountId) -> StoreResult<TransactWriteItem> {
        self.check(keys::profile(account), ALIVE)
    }

    /// A transaction action that holds only while `condition` holds for the item at `key`.
    fn check(&self, key: Item, condition: &str) -> StoreResult<TransactWriteItem> {
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .condition_expression(condition)
            .set_expression_attribute_names(item::names([condition]))
            .build()
            .map_err(|e| StoreError::Backend(Box::new(e)))?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    /// [`Self::check_alive`] for each distinct account (a transaction may not name one item
    /// twice).
    fn check_all_alive(&self, accounts: &[AccountId]) -> StoreResult<Vec<TransactWriteItem>> {
        let mut seen = HashSet::new();
        accounts
            .iter()
            .filter(|a| seen.insert(**a))
            .map(|a| self.check_alive(*a))
            .collect()
    }
}

#[async_trait]
impl Store for DynamoStore {
    /// A strongly consistent read of a key that is never written.
    async fn ping(&self) -> StoreResult<()> {
        self.get(item::key("PING", "PING")).await.map(drop)
    }
}

/// The condition that an account's profile item exists and is not being deleted.
const ALIVE: &str = "attribute_exists(#pk) AND attribute_not_exists(#deleting)";

/// The cancellation reason of an action whose condition did not hold.
const CONDITION_FAILED: &str = "ConditionalCheckFailed";

/// Expression values of one request.
type Values = Vec<(&'static str, AttributeValue)>;

/// Why a transaction was cancelled: one reason code per action, in order (`"None"` for those
/// that were fine).
#[derive(Debug)]
struct Cancelled(Vec<String>);

impl Cancelled {
    /// Whether the condition of the `index`-th action failed.
    fn failed(&self, index: usize) -> bool {
        self.0.get(index).is_some_and(|r| r == CONDITION_FAILED)
    }
}

/// A query: a key condition on the table or on an index, optionally filtered and limited.
#[derive(Default)]
struct Query<'a> {
    index: Option<&'a str>,
    key_condition: &'a str,
    filter: Option<&'a str>,
    projection: Option<&'a str>,
    values: Values,
    descending: bool,
    /// Stop after this many matching items.
    want: Option<usize>,
    /// Half the read cost, at the price of maybe missing the latest writes (table only;
    /// indexes are always read this way).
    eventually_consistent: bool,
}

/// The keys without repeats (a batch request may not name an item twice), in their order.
fn dedup_keys(keys: Vec<Item>) -> Vec<Item> {
    let mut seen = HashSet::new();
    keys.into_iter()
        .filter(|key| seen.insert(item::key_text(key)))
        .collect()
}

/// `pause` give or take half of it, so that colliding clients do not retry in step.
fn jittered(pause: Duration) -> Duration {
    let half = pause / 2;
    half + pause.mul_f64(rand::random::<f64>()).min(pause)
}
