//! The real-time stage port: stages, participant tokens, disconnection. IVS Real-Time in AWS
//! mode; [`local`] otherwise.
//!
//! The port only mints what it is asked for: who may publish is decided by the stage actor.

pub mod local;

use std::{
    collections::{BTreeMap, HashSet},
    time::Duration,
};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{domain::AccountId, store::Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Capability {
    Publish,
    Subscribe,
}

/// A token a browser joins the stage with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantToken {
    pub token: String,
    pub participant_id: String,
    pub capabilities: Vec<Capability>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum StagesError {
    #[error("stage not found")]
    NotFound,
    #[error("stage service throttled the request")]
    Throttled,
    #[error("stage service unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Stages: Send + Sync {
    /// Creates a stage for the channel; returns the service's id for it.
    async fn create_stage(&self, channel: AccountId) -> Result<String, StagesError>;
    /// Mints a token for `user_id` with exactly these capabilities.
    async fn participant_token(
        &self,
        stage: &str,
        user_id: &str,
        capabilities: &[Capability],
        attributes: BTreeMap<String, String>,
        valid_for: Duration,
    ) -> Result<ParticipantToken, StagesError>;
    /// Disconnects a participant (their token stops working). Idempotent.
    async fn disconnect(
        &self,
        stage: &str,
        participant_id: &str,
        reason: &str,
    ) -> Result<(), StagesError>;
    /// Deletes the stage; every participant is disconnected. Idempotent.
    async fn delete_stage(&self, stage: &str) -> Result<(), StagesError>;
    /// Who the media service sees in the stage's current session (none without one), so a
    /// restarted stage actor can reconcile its publishers with who is really there. `None`:
    /// this service cannot tell (its tokens are not connections), so nobody may be dropped.
    async fn participants(&self, stage: &str) -> Result<Option<Vec<Participant>>, StagesError>;
    /// Deletes stages this deployment created that have had no session for `idle_for`,
    /// except those in `in_use` (stages a stage actor still holds). Returns the deleted ids.
    async fn sweep_idle(
        &self,
        idle_for: Duration,
        in_use: &HashSet<String>,
    ) -> Result<Vec<String>, StagesError>;
}

/// A participant of a stage's current session, as the media service sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    pub participant_id: String,
    /// The `user_id` its token was minted for.
    pub user_id: String,
    /// Connected now (not yet disconnected).
    pub connected: bool,
    /// Has published media in this session.
    pub published: bool,
}

/// One sweep for stages left idle (after a crash, or a host who never came back): the stages
/// recorded in the store as live are kept, every other idle one of ours is deleted.
pub async fn sweep_idle_stages(
    stages: &dyn Stages,
    store: &dyn Store,
    idle_for: Duration,
) -> anyhow::Result<Vec<String>> {
    let mut in_use = HashSet::new();
    for account in store.live_channels(100_000).await? {
        if account.stage_since.is_none() {
            continue;
        }
        let snapshot = store
            .snapshot(&crate::actors::stage::snapshot_key(account.id))
            .await?;
        if let Some(arn) = snapshot.as_ref().and_then(|s| s["arn"].as_str()) {
            in_use.insert(arn.to_owned());
        }
    }
    Ok(stages.sweep_idle(idle_for, &in_use).await?)
}
