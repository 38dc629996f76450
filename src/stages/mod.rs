//! The real-time stage port: stages, participant tokens, disconnection. IVS Real-Time in AWS
//! mode; [`local`] otherwise.
//!
//! The port only mints what it is asked for: who may publish is decided by the stage actor.

pub mod local;

use std::{collections::BTreeMap, time::Duration};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::AccountId;

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
}
