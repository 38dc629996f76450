//! Fixed-window rate-limit counters: one row per key and window in `throttle_hits`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::{SqlTime, SqliteStore};
use crate::store::{StoreResult, ThrottleStore};

#[async_trait]
impl ThrottleStore for SqliteStore {
    async fn hit(&self, key: &str, window_start: DateTime<Utc>) -> StoreResult<u32> {
        let key = key.to_owned();
        self.with_connection(move |connection| {
            let transaction =
                connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let count: i64 = transaction.query_row(
                "INSERT INTO throttle_hits (key, window_start, count) VALUES (?1, ?2, 1)
                 ON CONFLICT (key, window_start) DO UPDATE SET count = count + 1
                 RETURNING count",
                params![key, SqlTime(window_start)],
                |row| row.get(0),
            )?;
            // Earlier windows of this key no longer count; dropping them here keeps the table
            // as small as the set of recently active keys.
            transaction.execute(
                "DELETE FROM throttle_hits WHERE key = ?1 AND window_start < ?2",
                params![key, SqlTime(window_start)],
            )?;
            transaction.commit()?;
            Ok(saturating_count(count))
        })
        .await
    }

    async fn hits(&self, key: &str, window_start: DateTime<Utc>) -> StoreResult<u32> {
        let key = key.to_owned();
        self.with_connection(move |connection| {
            let count: Option<i64> = connection
                .prepare_cached(
                    "SELECT count FROM throttle_hits WHERE key = ?1 AND window_start = ?2",
                )?
                .query_row(params![key, SqlTime(window_start)], |row| row.get(0))
                .optional()?;
            Ok(count.map_or(0, saturating_count))
        })
        .await
    }
}

fn saturating_count(count: i64) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}
