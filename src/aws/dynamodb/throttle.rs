//! Fixed-window rate-limit counters: one item per key and window, counted with an atomic `ADD`
//! and forgotten by TTL once the window is long over.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;
use chrono::{DateTime, Utc};

use super::item::{Attrs, expiry, n, names, values};
use super::{DynamoStore, keys};
use crate::store::{StoreResult, ThrottleStore};

fn saturating_count(count: i64) -> u32 {
    u32::try_from(count.max(0)).unwrap_or(u32::MAX)
}

#[async_trait]
impl ThrottleStore for DynamoStore {
    async fn hit(&self, key: &str, window_start: DateTime<Utc>) -> StoreResult<u32> {
        let update = "ADD #count :one SET #ttl = :ttl";
        let output = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::throttle(key, window_start.timestamp_millis())))
            .update_expression(update)
            .set_expression_attribute_names(names([update]))
            .set_expression_attribute_values(values(vec![
                (":one", n(1)),
                (
                    ":ttl",
                    expiry(
                        window_start
                            .checked_add_signed(self.throttle_retention)
                            .unwrap_or(DateTime::<Utc>::MAX_UTC),
                    ),
                ),
            ]))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| self.fail("UpdateItem", e))?;
        let updated = output.attributes.unwrap_or_default();
        Ok(saturating_count(Attrs(&updated).int("count")?))
    }

    async fn hits(&self, key: &str, window_start: DateTime<Utc>) -> StoreResult<u32> {
        let item = self
            .get(keys::throttle(key, window_start.timestamp_millis()))
            .await?;
        match item {
            Some(item) => Ok(saturating_count(Attrs(&item).int("count")?)),
            None => Ok(0),
        }
    }
}
