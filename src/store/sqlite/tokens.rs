//! Single-use mailed tokens: rows in `mail_tokens`, deleted when taken.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::{SqlTime, SqlUuid, SqliteStore};
use crate::domain::AccountId;
use crate::store::{StoreResult, TokenPurpose, TokenStore};

#[async_trait]
impl TokenStore for SqliteStore {
    async fn put_token(
        &self,
        purpose: TokenPurpose,
        hash: &str,
        account: AccountId,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let hash = hash.to_owned();
        self.with_connection(move |connection| {
            connection.execute(
                "INSERT INTO mail_tokens (purpose, hash, account_id, expires_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    purpose.as_str(),
                    hash,
                    SqlUuid(account.0),
                    SqlTime(expires_at)
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn take_token(
        &self,
        purpose: TokenPurpose,
        hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<AccountId>> {
        let hash = hash.to_owned();
        self.with_connection(move |connection| {
            // Deleting is the claim: of two concurrent takes only one deletes the row. An expired
            // token is deleted too, since it can never be used again.
            let transaction =
                connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let taken = transaction
                .query_row(
                    "DELETE FROM mail_tokens WHERE purpose = ?1 AND hash = ?2
                     RETURNING account_id, expires_at",
                    params![purpose.as_str(), hash],
                    |row| {
                        Ok((
                            AccountId(row.get::<_, SqlUuid>(0)?.0),
                            row.get::<_, SqlTime>(1)?.0,
                        ))
                    },
                )
                .optional()?;
            transaction.commit()?;
            Ok(taken
                .filter(|(_, expires_at)| *expires_at > now)
                .map(|(account, _)| account))
        })
        .await
    }

    async fn drop_tokens(&self, purpose: TokenPurpose, account: AccountId) -> StoreResult<()> {
        self.with_connection(move |connection| {
            connection.execute(
                "DELETE FROM mail_tokens WHERE purpose = ?1 AND account_id = ?2",
                params![purpose.as_str(), SqlUuid(account.0)],
            )?;
            Ok(())
        })
        .await
    }
}
