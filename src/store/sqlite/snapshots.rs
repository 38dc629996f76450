//! Actors' restart state: one JSON document per key in `snapshots`.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};

use super::{SqlJson, SqliteStore};
use crate::store::{SnapshotStore, StoreResult};

#[async_trait]
impl SnapshotStore for SqliteStore {
    /// Replaces any earlier snapshot of `key`.
    async fn put_snapshot(&self, key: &str, value: &serde_json::Value) -> StoreResult<()> {
        let key = key.to_owned();
        let value = value.clone();
        self.with_connection(move |connection| {
            connection.execute(
                "INSERT INTO snapshots (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, SqlJson(&value)],
            )?;
            Ok(())
        })
        .await
    }

    async fn snapshot(&self, key: &str) -> StoreResult<Option<serde_json::Value>> {
        let key = key.to_owned();
        self.with_connection(move |connection| {
            let value = connection
                .prepare_cached("SELECT value FROM snapshots WHERE key = ?1")?
                .query_row([key], |row| row.get::<_, SqlJson<serde_json::Value>>(0))
                .optional()?;
            Ok(value.map(|v| v.0))
        })
        .await
    }

    async fn delete_snapshot(&self, key: &str) -> StoreResult<()> {
        let key = key.to_owned();
        self.with_connection(move |connection| {
            connection.execute("DELETE FROM snapshots WHERE key = ?1", [key])?;
            Ok(())
        })
        .await
    }
}
