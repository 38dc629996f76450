//! Deleting rows whose time is up: what DynamoDB's TTL does for the same items in AWS mode.
//!
//! Reads already ignore expired rows (a dead session refreshes nothing, an expired mailed token
//! is refused), so this changes no answer; it keeps the file from growing with rows nobody
//! can use. Rows go in small batches, each its own transaction, so a first sweep over a large
//! backlog does not hold the one connection (and every request waiting for it) for long.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{SqlTime, SqliteStore};
use crate::store::StoreResult;

/// Rows deleted per transaction.
const BATCH: usize = 500;

/// What one sweep deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Expired {
    /// Sessions past their expiry, with every refresh token they had.
    pub sessions: usize,
    /// Mailed tokens (verification, password reset) never used in time.
    pub mail_tokens: usize,
    /// Throttle windows that started before the retention cut-off.
    pub throttle_windows: usize,
}

impl Expired {
    pub fn total(&self) -> usize {
        self.sessions + self.mail_tokens + self.throttle_windows
    }
}

/// Each statement deletes up to [`BATCH`] rows; `?1` is the cut-off.
const SESSIONS: &str = "DELETE FROM sessions WHERE rowid IN
     (SELECT rowid FROM sessions WHERE expires_at <= ?1 LIMIT ?2)";
const MAIL_TOKENS: &str = "DELETE FROM mail_tokens WHERE rowid IN
     (SELECT rowid FROM mail_tokens WHERE expires_at <= ?1 LIMIT ?2)";
// `throttle_hits` has no rowid (WITHOUT ROWID): its primary key picks the rows.
const THROTTLE_WINDOWS: &str = "DELETE FROM throttle_hits WHERE (key, window_start) IN
     (SELECT key, window_start FROM throttle_hits WHERE window_start < ?1 LIMIT ?2)";

impl SqliteStore {
    /// Deletes sessions (their refresh tokens go with them) and mailed tokens that expired by
    /// `now`, and throttle windows that started before `throttle_before`.
    pub async fn delete_expired(
        &self,
        now: DateTime<Utc>,
        throttle_before: DateTime<Utc>,
    ) -> StoreResult<Expired> {
        Ok(Expired {
            sessions: self.delete_batches(SESSIONS, now).await?,
            mail_tokens: self.delete_batches(MAIL_TOKENS, now).await?,
            throttle_windows: self
                .delete_batches(THROTTLE_WINDOWS, throttle_before)
                .await?,
        })
    }

    /// Runs `statement` until a batch comes back short; returns the rows deleted.
    async fn delete_batches(
        &self,
        statement: &'static str,
        cut_off: DateTime<Utc>,
    ) -> StoreResult<usize> {
        let mut deleted = 0;
        loop {
            let batch = self
                .with_connection(move |connection| {
                    Ok(connection
                        .prepare_cached(statement)?
                        .execute(params![SqlTime(cut_off), BATCH as i64])?)
                })
                .await?;
            deleted += batch;
            if batch < BATCH {
                return Ok(deleted);
            }
        }
    }
}
