//! Single-use mailed tokens: `MAILTOKEN#<purpose>#<hash>` (found by hash, taken by deleting it)
//! and the same token listed in the account's partition, both expiring by TTL.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;
use chrono::{DateTime, Utc};

use super::item::{Attrs, expiry, s, time, with};
use super::{DynamoStore, keys};
use crate::domain::AccountId;
use crate::store::{StoreError, StoreResult, TokenPurpose, TokenStore};

#[async_trait]
impl TokenStore for DynamoStore {
    /// `NotFound` if the account does not exist.
    async fn put_token(
        &self,
        purpose: TokenPurpose,
        hash: &str,
        account: AccountId,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let actions = vec![
            self.put(
                with(
                    keys::mail_token(purpose, hash),
                    [
                        ("account", s(account.0.hyphenated().to_string())),
                        ("expires_at", time(expires_at)),
                        ("ttl", expiry(expires_at)),
                    ],
                ),
                None,
                vec![],
            )?,
            self.put(
                with(
                    keys::account_mail_token(account, purpose, hash),
                    [("hash", s(hash)), ("ttl", expiry(expires_at))],
                ),
                None,
                vec![],
            )?,
            self.check_alive(account)?,
        ];
        match self.transact(actions).await? {
            Ok(()) => Ok(()),
            Err(_) => Err(StoreError::NotFound),
        }
    }

    /// Deleting is the claim: of two concurrent takes only one gets the deleted item back. An
    /// expired token is deleted too, since it can never be used again.
    async fn take_token(
        &self,
        purpose: TokenPurpose,
        hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<AccountId>> {
        let taken = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(keys::mail_token(purpose, hash)))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| self.fail("DeleteItem", e))?
            .attributes;
        let Some(taken) = taken.filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        let a = Attrs(&taken);
        let account = a.account("account")?;
        // The token is spent whatever happens next; its listing would go by TTL anyway.
        if let Err(error) = self
            .delete_keys(vec![keys::account_mail_token(account, purpose, hash)])
            .await
        {
            tracing::warn!(%error, "could not drop the listing of a taken mail token");
        }
        Ok((a.time("expires_at")? > now).then_some(account))
    }

    async fn drop_tokens(&self, purpose: TokenPurpose, account: AccountId) -> StoreResult<()> {
        let listed = self
            .partition(
                &keys::account_pk(account),
                &keys::mail_token_sk_prefix(purpose),
            )
            .await?;
        let mut doomed = Vec::with_capacity(listed.len() * 2);
        for item in &listed {
            let hash = Attrs(item).str("hash")?;
            doomed.push(keys::mail_token(purpose, hash));
            doomed.push(keys::account_mail_token(account, purpose, hash));
        }
        self.delete_keys(doomed).await
    }
}
