//! The embedded store: one SQLite file in WAL mode.
//!
//! One connection behind a mutex serves every call on Tokio's blocking pool, so calls never run
//! on the async workers and never interleave: each port method is one statement or one
//! transaction (`BEGIN IMMEDIATE` when it writes, so that it reads what it writes against under
//! the write lock), and `synchronous=FULL` makes it durable before it returns.
//! Uniqueness is left to the schema's constraints; their violations are mapped to
//! [`StoreError::Conflict`] in one place (`From<rusqlite::Error>` below).
//!
//! Schema: `migrations/*.sql`, applied in order at open and counted in `PRAGMA user_version`.

mod accounts;
mod chat;
mod expiry;
mod follows;
mod migrations;
mod moderation;
mod polls;
mod presets;
mod sessions;
mod snapshots;
mod streams;
mod throttle;
mod tokens;

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{Connection, ErrorCode, ToSql, ffi};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::{Store, StoreError, StoreResult, UniqueField};

pub use expiry::Expired;

/// How long a statement waits for a lock held by another connection (another process, or the
/// `sqlite3` shell) before the call fails as `Unavailable`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The store over one SQLite database file. Cheap to clone; clones share the connection.
#[derive(Clone)]
pub struct SqliteStore {
    connection: Arc<Mutex<Connection>>,
}

impl SqliteStore {
    /// Opens (creating it and its parent directories if need be) and migrates the database at
    /// `path`. Blocks on file I/O, so call it at startup rather than on a busy runtime.
    pub fn open(path: &Path) -> StoreResult<SqliteStore> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Backend(Box::new(e)))?;
        }
        let mut connection = Connection::open(path)?;
        connection.busy_timeout(BUSY_TIMEOUT)?;
        let journal_mode: String =
            connection.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !journal_mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(
                format!(
                    "{} cannot use WAL (journal mode is {journal_mode})",
                    path.display()
                )
                .into(),
            ));
        }
        // NORMAL would be faster under WAL but may lose the last commits on power loss; a call
        // that returned must stay done (a rotated token, a deleted account).
        connection.pragma_update(None, "synchronous", "FULL")?;
        // Off by default in SQLite; the schema's cascades depend on it.
        connection.pragma_update(None, "foreign_keys", "ON")?;
        migrations::migrate(&mut connection)?;
        Ok(SqliteStore {
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    /// Runs `work` on the blocking pool with the connection to itself.
    async fn with_connection<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            // A panic while the lock was held unwound through any open `Transaction`, which
            // rolled it back, so the connection is still consistent.
            let mut connection = connection.lock().unwrap_or_else(PoisonError::into_inner);
            work(&mut connection)
        })
        .await
        .map_err(|e| StoreError::Backend(Box::new(e)))?
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        self.with_connection(|connection| {
            connection.query_row("SELECT 1", [], |row| row.get::<_, i64>(0))?;
            Ok(())
        })
        .await
    }
}

/// Constraint violations are answers (`Conflict`, `NotFound`); a busy database is
/// `Unavailable`; anything else is a fault.
impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        let rusqlite::Error::SqliteFailure(failure, message) = &error else {
            return StoreError::Backend(Box::new(error));
        };
        let busy = matches!(
            failure.code,
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked
        );
        // SQLite names the columns of a violated unique index in the message, and nowhere else.
        match (failure.extended_code, message.as_deref()) {
            (
                ffi::SQLITE_CONSTRAINT_UNIQUE,
                Some("UNIQUE constraint failed: accounts.username_key"),
            ) => StoreError::Conflict(UniqueField::Username),
            (ffi::SQLITE_CONSTRAINT_UNIQUE, Some("UNIQUE constraint failed: accounts.email")) => {
                StoreError::Conflict(UniqueField::Email)
            }
            // Every foreign key points at an account, a session or a poll: the row referred to
            // is gone.
            (ffi::SQLITE_CONSTRAINT_FOREIGNKEY, _) => StoreError::NotFound,
            _ if busy => StoreError::Unavailable(error.to_string()),
            _ => StoreError::Backend(Box::new(error)),
        }
    }
}

/// Rejects a write that matched no row.
fn expect_one_row(changed: usize) -> StoreResult<()> {
    if changed == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// Clamps a caller's limit to what SQLite's `LIMIT` takes.
fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// A UUID as the schema stores it: hyphenated lower-case text.
struct SqlUuid(Uuid);

impl ToSql for SqlUuid {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.0.hyphenated().to_string()))
    }
}

impl FromSql for SqlUuid {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        Uuid::parse_str(value.as_str()?)
            .map(SqlUuid)
            .map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

/// A time as the schema stores it: milliseconds since the Unix epoch, UTC. Finer precision is
/// dropped on the way in.
struct SqlTime(DateTime<Utc>);

impl ToSql for SqlTime {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.0.timestamp_millis()))
    }
}

impl FromSql for SqlTime {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let millis = value.as_i64()?;
        DateTime::from_timestamp_millis(millis)
            .map(SqlTime)
            .ok_or(FromSqlError::OutOfRange(millis))
    }
}

/// A value as the schema stores it in a JSON text column.
struct SqlJson<T>(T);

impl<T: Serialize> ToSql for SqlJson<T> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        serde_json::to_string(&self.0)
            .map(ToSqlOutput::from)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
    }
}

impl<T: DeserializeOwned> FromSql for SqlJson<T> {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        serde_json::from_str(value.as_str()?)
            .map(SqlJson)
            .map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

/// A chat offset as the schema stores it. SQLite integers are signed, so offsets from 2^63 on
/// cannot be stored; the channel actor counts from zero and never gets near.
struct SqlOffset(u64);

impl ToSql for SqlOffset {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        i64::try_from(self.0)
            .map(ToSqlOutput::from)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
    }
}

impl FromSql for SqlOffset {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let offset = value.as_i64()?;
        u64::try_from(offset)
            .map(SqlOffset)
            .map_err(|_| FromSqlError::OutOfRange(offset))
    }
}

#[cfg(test)]
mod tests;
