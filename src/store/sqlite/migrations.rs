//! Schema versions, applied in order and counted in `PRAGMA user_version`.

use rusqlite::{Connection, TransactionBehavior};

use crate::store::{StoreError, StoreResult};

/// Append only: a released migration never changes, since databases in the field already ran it.
pub(super) const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_realtime.sql"),
    include_str!("migrations/0003_stream_sessions.sql"),
    include_str!("migrations/0004_votes_without_voter_index.sql"),
    include_str!("migrations/0005_expiry_indexes.sql"),
    include_str!("migrations/0006_refresh_grace.sql"),
];

/// Brings the schema up to date, one transaction per migration.
pub(super) fn migrate(connection: &mut Connection) -> StoreResult<()> {
    loop {
        // Read the version inside the write lock, so two processes opening a new file at once
        // cannot both apply the same migration.
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: i64 =
            transaction.pragma_query_value(None, "user_version", |row| row.get(0))?;
        let pending = usize::try_from(version)
            .ok()
            .and_then(|applied| MIGRATIONS.get(applied..));
        let Some(pending) = pending else {
            return Err(StoreError::Backend(
                format!(
                    "database schema is at version {version}, which this build (at {}) does not know",
                    MIGRATIONS.len()
                )
                .into(),
            ));
        };
        let Some(next) = pending.first() else {
            return Ok(());
        };
        transaction.execute_batch(next)?;
        transaction.pragma_update(None, "user_version", version + 1)?;
        transaction.commit()?;
    }
}
