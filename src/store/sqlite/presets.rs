//! Stream-action presets: one row per preset in `presets`, unique by owner and name.

use async_trait::async_trait;
use rusqlite::{Row, params};
use uuid::Uuid;

use super::{SqlJson, SqlTime, SqlUuid, SqliteStore};
use crate::domain::AccountId;
use crate::store::{Preset, PresetStore, StoreResult};

/// The columns [`preset_from_row`] reads, in its order.
const PRESET_COLUMNS: &str = "id, owner_id, name, action, updated_at";

fn preset_from_row(row: &Row<'_>) -> rusqlite::Result<Preset> {
    Ok(Preset {
        id: row.get::<_, SqlUuid>(0)?.0,
        owner: AccountId(row.get::<_, SqlUuid>(1)?.0),
        name: row.get(2)?,
        action: row.get::<_, SqlJson<serde_json::Value>>(3)?.0,
        updated_at: row.get::<_, SqlTime>(4)?.0,
    })
}

#[async_trait]
impl PresetStore for SqliteStore {
    /// `NotFound` if the owner does not exist. A new preset whose id another preset already has
    /// is a `Backend` failure: ids are generated, so that is a bug, never a user's mistake.
    async fn put_preset(&self, preset: Preset) -> StoreResult<Preset> {
        self.with_connection(move |connection| {
            // One statement: the unique (owner, name) index picks between insert and replace,
            // and a replaced preset keeps its row and with it its id.
            let stored = connection
                .prepare_cached(&format!(
                    "INSERT INTO presets (id, owner_id, name, action, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (owner_id, name) DO UPDATE SET
                         action = excluded.action,
                         updated_at = excluded.updated_at
                     RETURNING {PRESET_COLUMNS}"
                ))?
                .query_row(
                    params![
                        SqlUuid(preset.id),
                        SqlUuid(preset.owner.0),
                        preset.name,
                        SqlJson(&preset.action),
                        SqlTime(preset.updated_at),
                    ],
                    preset_from_row,
                )?;
            Ok(stored)
        })
        .await
    }

    async fn presets(&self, owner: AccountId) -> StoreResult<Vec<Preset>> {
        self.with_connection(move |connection| {
            let presets = connection
                .prepare_cached(&format!(
                    "SELECT {PRESET_COLUMNS} FROM presets WHERE owner_id = ?1 ORDER BY name"
                ))?
                .query_map([SqlUuid(owner.0)], preset_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(presets)
        })
        .await
    }

    async fn delete_preset(&self, owner: AccountId, id: Uuid) -> StoreResult<bool> {
        self.with_connection(move |connection| {
            let deleted = connection.execute(
                "DELETE FROM presets WHERE id = ?1 AND owner_id = ?2",
                params![SqlUuid(id), SqlUuid(owner.0)],
            )?;
            Ok(deleted == 1)
        })
        .await
    }
}
