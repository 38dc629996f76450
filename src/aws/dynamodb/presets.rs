//! Stream-action presets: `PRESET#<name>` in the owner's partition, so a name is unique per
//! owner by construction, and listing them by name is a query in key order.

use async_trait::async_trait;
use uuid::Uuid;

use super::item::{Attrs, Item, id, s, time};
use super::{DynamoStore, keys};
use crate::domain::AccountId;
use crate::store::{Preset, PresetStore, StoreError, StoreResult};

fn preset_from_item(item: &Item) -> StoreResult<Preset> {
    let a = Attrs(item);
    Ok(Preset {
        id: a.uuid("id")?,
        owner: a.account("owner")?,
        name: a.string("name")?,
        action: a.json("action")?,
        updated_at: a.time("updated_at")?,
    })
}

#[async_trait]
impl PresetStore for DynamoStore {
    /// One update that keeps the id of a preset already there (`if_not_exists`), in a
    /// transaction with the owner's check. `NotFound` if the owner does not exist.
    async fn put_preset(&self, preset: Preset) -> StoreResult<Preset> {
        let action =
            serde_json::to_string(&preset.action).map_err(|e| StoreError::Backend(Box::new(e)))?;
        let actions = vec![
            self.update(
                keys::preset(preset.owner, &preset.name),
                "SET #id = if_not_exists(#id, :id), #owner = :owner, #name = :name, \
                 #action = :action, #updated_at = :updated_at",
                None,
                vec![
                    (":id", id(preset.id)),
                    (":owner", id(preset.owner.0)),
                    (":name", s(&preset.name)),
                    (":action", s(action)),
                    (":updated_at", time(preset.updated_at)),
                ],
            )?,
            self.check_alive(preset.owner)?,
        ];
        if self.transact(actions).await?.is_err() {
            return Err(StoreError::NotFound);
        }
        let stored = self
            .get(keys::preset(preset.owner, &preset.name))
            .await?
            .ok_or(StoreError::NotFound)?;
        preset_from_item(&stored)
    }

    /// By name, compared byte by byte (the sort-key order).
    async fn presets(&self, owner: AccountId) -> StoreResult<Vec<Preset>> {
        let items = self
            .partition(&keys::account_pk(owner), keys::PRESET)
            .await?;
        items.iter().map(preset_from_item).collect()
    }

    async fn delete_preset(&self, owner: AccountId, preset: Uuid) -> StoreResult<bool> {
        let Some(found) = self
            .presets(owner)
            .await?
            .into_iter()
            .find(|p| p.id == preset)
        else {
            return Ok(false);
        };
        self.delete_if(
            keys::preset(owner, &found.name),
            "#id = :id",
            vec![(":id", id(preset))],
        )
        .await
    }
}
