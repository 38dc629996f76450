//! Actors' restart state: one item per key holding the JSON as text. A channel's snapshots
//! (`channel:<id>…`, `stage:<id>…`) are kept in that account's partition ([`keys::snapshot`]).

use async_trait::async_trait;

use super::item::{Attrs, s, with};
use super::{DynamoStore, keys};
use crate::store::{SnapshotStore, StoreError, StoreResult};

#[async_trait]
impl SnapshotStore for DynamoStore {
    /// Replaces any earlier snapshot of `key`.
    async fn put_snapshot(&self, key: &str, value: &serde_json::Value) -> StoreResult<()> {
        let text = serde_json::to_string(value).map_err(|e| StoreError::Backend(Box::new(e)))?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(with(
                keys::snapshot(key),
                [("key", s(key)), ("value", s(text))],
            )))
            .send()
            .await
            .map_err(|e| self.fail("PutItem", e))?;
        Ok(())
    }

    async fn snapshot(&self, key: &str) -> StoreResult<Option<serde_json::Value>> {
        match self.get(keys::snapshot(key)).await? {
            Some(item) => Attrs(&item).json("value").map(Some),
            None => Ok(None),
        }
    }

    async fn delete_snapshot(&self, key: &str) -> StoreResult<()> {
        self.delete_keys(vec![keys::snapshot(key)]).await
    }
}
