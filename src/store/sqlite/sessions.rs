//! Login sessions (`sessions`) and every refresh token each has had (`refresh_tokens`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

use super::{SqlTime, SqlUuid, SqliteStore};
use crate::domain::AccountId;
use crate::store::{NewSession, Rotation, SessionStore, StoreResult};

#[async_trait]
impl SessionStore for SqliteStore {
    async fn create_session(&self, session: NewSession) -> StoreResult<()> {
        self.with_connection(move |connection| {
            let transaction =
                connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            transaction.execute(
                "INSERT INTO sessions (id, account_id, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    SqlUuid(session.id),
                    SqlUuid(session.account.0),
                    SqlTime(session.created_at),
                    SqlTime(session.expires_at),
                ],
            )?;
            transaction.execute(
                "INSERT INTO refresh_tokens (hash, session_id) VALUES (?1, ?2)",
                params![session.token_hash, SqlUuid(session.id)],
            )?;
            transaction.commit()?;
            Ok(())
        })
        .await
    }

    async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        new_hash: &str,
        now: DateTime<Utc>,
        new_expiry: DateTime<Utc>,
        grace_since: DateTime<Utc>,
    ) -> StoreResult<Rotation> {
        let old_hash = old_hash.to_owned();
        let new_hash = new_hash.to_owned();
        self.with_connection(move |connection| {
            // Read and write under one write lock, so a token cannot be spent twice.
            let transaction =
                connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let presented = transaction
                .query_row(
                    "SELECT sessions.id, sessions.account_id, sessions.expires_at, spent,
                            coalesce(previous_hash = ?1 AND rotated_at >= ?2, 0)
                     FROM refresh_tokens JOIN sessions ON sessions.id = refresh_tokens.session_id
                     WHERE hash = ?1",
                    params![old_hash, SqlTime(grace_since)],
                    |row| {
                        Ok((
                            row.get::<_, SqlUuid>(0)?.0,
                            AccountId(row.get::<_, SqlUuid>(1)?.0),
                            row.get::<_, SqlTime>(2)?.0,
                            row.get::<_, bool>(3)?,
                            row.get::<_, bool>(4)?,
                        ))
                    },
                )
                .optional()?;
            let Some((session, account, expires_at, spent, in_grace)) = presented else {
                return Ok(Rotation::Invalid);
            };
            let rotation = if expires_at <= now {
                // Dead already; dropped now rather than at the next expiry sweep.
                delete_session(&transaction, session)?;
                Rotation::Invalid
            } else if spent && !in_grace {
                delete_session(&transaction, session)?;
                Rotation::Reused { session, account }
            } else {
                if in_grace {
                    // Presented again within the grace: the token its rotation made is spent
                    // instead, and the latest rotation stays the one that spent `old_hash`.
                    transaction.execute(
                        "UPDATE refresh_tokens SET spent = 1 WHERE session_id = ?1 AND spent = 0",
                        [SqlUuid(session)],
                    )?;
                } else {
                    transaction.execute(
                        "UPDATE refresh_tokens SET spent = 1 WHERE hash = ?1",
                        [&old_hash],
                    )?;
                    transaction.execute(
                        "UPDATE sessions SET previous_hash = ?2, rotated_at = ?3 WHERE id = ?1",
                        params![SqlUuid(session), old_hash, SqlTime(now)],
                    )?;
                }
                transaction.execute(
                    "INSERT INTO refresh_tokens (hash, session_id) VALUES (?1, ?2)",
                    params![new_hash, SqlUuid(session)],
                )?;
                transaction.execute(
                    "UPDATE sessions SET expires_at = ?2 WHERE id = ?1",
                    params![SqlUuid(session), SqlTime(new_expiry)],
                )?;
                Rotation::Rotated { session, account }
            };
            transaction.commit()?;
            Ok(rotation)
        })
        .await
    }

    async fn session_alive(
        &self,
        session: Uuid,
        account: AccountId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.with_connection(move |connection| {
            let found = connection
                .prepare_cached(
                    "SELECT 1 FROM sessions WHERE id = ?1 AND account_id = ?2 AND expires_at > ?3",
                )?
                .query_row(
                    params![SqlUuid(session), SqlUuid(account.0), SqlTime(now)],
                    |_| Ok(()),
                )
                .optional()?;
            Ok(found.is_some())
        })
        .await
    }

    async fn revoke_session(&self, session: Uuid) -> StoreResult<()> {
        self.with_connection(move |connection| {
            delete_session(connection, session)?;
            Ok(())
        })
        .await
    }

    async fn revoke_sessions(&self, account: AccountId, keep: Option<Uuid>) -> StoreResult<u64> {
        self.with_connection(move |connection| {
            let revoked = connection.execute(
                "DELETE FROM sessions WHERE account_id = ?1 AND (?2 IS NULL OR id <> ?2)",
                params![SqlUuid(account.0), keep.map(SqlUuid)],
            )?;
            Ok(revoked as u64)
        })
        .await
    }
}

/// Deletes a session; its refresh tokens go with it by cascade.
fn delete_session(connection: &rusqlite::Connection, session: Uuid) -> rusqlite::Result<usize> {
    connection.execute("DELETE FROM sessions WHERE id = ?1", [SqlUuid(session)])
}
