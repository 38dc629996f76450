//! The [`Stages`] port on Amazon IVS Real-Time.
//!
//! | port | IVS Real-Time calls |
//! |---|---|
//! | `create_stage` | `CreateStage` (tagged with the project, owner and creation time) |
//! | `participant_token` | `CreateParticipantToken` |
//! | `disconnect` | `DisconnectParticipant` |
//! | `delete_stage` | `DeleteStage` |
//! | `participants` | `GetStage` (its active session), `ListParticipants` |
//! | `sweep_idle` | `ListStages`, `DeleteStage` |
//!
//! The stage actor decides who may publish; this adapter mints exactly the capabilities it is
//! asked for.

use std::{
    collections::{BTreeMap, HashSet},
    time::Duration,
};

use async_trait::async_trait;
use aws_sdk_ivsrealtime::{
    Client,
    types::{ParticipantState, ParticipantTokenCapability},
};
use chrono::{DateTime, Utc};

use super::failure::{Failure, classify};
use crate::{
    domain::AccountId,
    stages::{Capability, Participant, ParticipantToken, Stages, StagesError},
};

/// The tag holding a stage's creation time (Unix milliseconds): `ListStages` does not say.
pub const CREATED_TAG: &str = "created_ms";
/// Participant tokens last 1 minute to 14 days.
const TOKEN_MINUTES: (u64, u64) = (1, 20_160);
/// IVS Real-Time allows 5 `DeleteStage` calls a second per account; the sweep stays under.
const SWEEP_PACE: Duration = Duration::from_millis(250);

pub struct IvsStages {
    client: Client,
    /// Tags on every stage (`project`, ...). The sweep only touches stages carrying all of
    /// them, so deployments sharing an account leave each other's stages alone.
    tags: BTreeMap<String, String>,
}

impl IvsStages {
    pub fn new(sdk: &aws_config::SdkConfig, tags: BTreeMap<String, String>) -> Self {
        Self::with_client(Client::new(sdk), tags)
    }

    pub fn with_client(client: Client, tags: BTreeMap<String, String>) -> Self {
        Self { client, tags }
    }

    fn ours(&self, tags: Option<&std::collections::HashMap<String, String>>) -> bool {
        let Some(tags) = tags else { return false };
        self.tags.iter().all(|(k, v)| tags.get(k) == Some(v))
    }
}

fn stages_error(failure: Failure) -> StagesError {
    match failure {
        Failure::NotFound => StagesError::NotFound,
        Failure::Throttled => StagesError::Throttled,
        Failure::Unavailable(m) | Failure::Conflict(m) | Failure::Rejected(m) => {
            StagesError::Unavailable(m)
        }
        Failure::NotBroadcasting => StagesError::Unavailable("unexpected answer".into()),
    }
}

fn to_chrono(t: &aws_sdk_ivsrealtime::primitives::DateTime) -> Option<DateTime<Utc>> {
    t.to_millis().ok().and_then(DateTime::from_timestamp_millis)
}

#[async_trait]
impl Stages for IvsStages {
    async fn create_stage(&self, channel: AccountId) -> Result<String, StagesError> {
        let mut tags = self.tags.clone();
        tags.insert("owner".into(), channel.to_string());
        tags.insert(
            CREATED_TAG.into(),
            Utc::now().timestamp_millis().to_string(),
        );
        let output = self
            .client
            .create_stage()
            .name(format!(
                "{}-{}",
                channel.0.simple(),
                &uuid::Uuid::new_v4().simple().to_string()[..8]
            ))
            .set_tags(Some(tags.into_iter().collect()))
            .send()
            .await
            .map_err(|e| stages_error(classify("ivs:CreateStage", &e)))?;
        output
            .stage()
            .map(|s| s.arn().to_owned())
            .ok_or_else(|| StagesError::Unavailable("IVS answered without a stage".into()))
    }

    async fn participant_token(
        &self,
        stage: &str,
        user_id: &str,
        capabilities: &[Capability],
        attributes: BTreeMap<String, String>,
        valid_for: Duration,
    ) -> Result<ParticipantToken, StagesError> {
        let minutes = (valid_for.as_secs() / 60).clamp(TOKEN_MINUTES.0, TOKEN_MINUTES.1);
        let output = self
            .client
            .create_participant_token()
            .stage_arn(stage)
            .user_id(user_id)
            .duration(minutes as i32)
            .set_capabilities(Some(
                capabilities
                    .iter()
                    .map(|c| match c {
                        Capability::Publish => ParticipantTokenCapability::Publish,
                        Capability::Subscribe => ParticipantTokenCapability::Subscribe,
                    })
                    .collect(),
            ))
            .set_attributes((!attributes.is_empty()).then(|| attributes.into_iter().collect()))
            .send()
            .await
            .map_err(|e| stages_error(classify("ivs:CreateParticipantToken", &e)))?;
        let minted = output
            .participant_token()
            .ok_or_else(|| StagesError::Unavailable("IVS answered without a token".into()))?;
        let missing = || StagesError::Unavailable("IVS answered with an incomplete token".into());
        Ok(ParticipantToken {
            token: minted.token().ok_or_else(missing)?.to_owned(),
            participant_id: minted.participant_id().ok_or_else(missing)?.to_owned(),
            capabilities: capabilities.to_vec(),
            expires_at: minted
                .expiration_time()
                .and_then(to_chrono)
                .unwrap_or_else(|| Utc::now() + chrono::Duration::minutes(minutes as i64)),
        })
    }

    async fn disconnect(
        &self,
        stage: &str,
        participant_id: &str,
        reason: &str,
    ) -> Result<(), StagesError> {
        let reason: String = reason.chars().take(128).collect();
        match self
            .client
            .disconnect_participant()
            .stage_arn(stage)
            .participant_id(participant_id)
            .reason(reason)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match classify("ivs:DisconnectParticipant", &e) {
                // Gone already, or never connected: disconnected either way.
                Failure::NotFound => Ok(()),
                other => Err(stages_error(other)),
            },
        }
    }

    async fn delete_stage(&self, stage: &str) -> Result<(), StagesError> {
        match self.client.delete_stage().arn(stage).send().await {
            Ok(_) => Ok(()),
            Err(e) => match classify("ivs:DeleteStage", &e) {
                Failure::NotFound => Ok(()),
                other => Err(stages_error(other)),
            },
        }
    }

    async fn participants(&self, stage: &str) -> Result<Option<Vec<Participant>>, StagesError> {
        let found = self
            .client
            .get_stage()
            .arn(stage)
            .send()
            .await
            .map_err(|e| stages_error(classify("ivs:GetStage", &e)))?;
        let Some(session) = found
            .stage()
            .and_then(|s| s.active_session_id())
            .filter(|s| !s.is_empty())
        else {
            return Ok(Some(Vec::new()));
        };
        let mut participants = Vec::new();
        let mut next_token = None;
        loop {
            let page = self
                .client
                .list_participants()
                .stage_arn(stage)
                .session_id(session)
                .set_next_token(next_token.take())
                .send()
                .await
                .map_err(|e| stages_error(classify("ivs:ListParticipants", &e)))?;
            participants.extend(page.participants().iter().map(|p| Participant {
                participant_id: p.participant_id().unwrap_or_default().to_owned(),
                user_id: p.user_id().unwrap_or_default().to_owned(),
                connected: p.state() == Some(&ParticipantState::Connected),
                published: p.published(),
            }));
            match page.next_token() {
                Some(token) if !token.is_empty() => next_token = Some(token.to_owned()),
                _ => break,
            }
        }
        Ok(Some(participants))
    }

    async fn sweep_idle(
        &self,
        idle_for: Duration,
        in_use: &HashSet<String>,
    ) -> Result<Vec<String>, StagesError> {
        let cutoff =
            Utc::now().timestamp_millis() - i64::try_from(idle_for.as_millis()).unwrap_or(i64::MAX);
        let mut idle = Vec::new();
        let mut next_token = None;
        loop {
            let page = self
                .client
                .list_stages()
                .set_next_token(next_token.take())
                .send()
                .await
                .map_err(|e| stages_error(classify("ivs:ListStages", &e)))?;
            for stage in page.stages() {
                let created = stage
                    .tags()
                    .and_then(|t| t.get(CREATED_TAG))
                    .and_then(|v| v.parse::<i64>().ok());
                let in_session = stage.active_session_id().is_some_and(|s| !s.is_empty());
                if self.ours(stage.tags())
                    && !in_session
                    && created.is_some_and(|c| c < cutoff)
                    && !in_use.contains(stage.arn())
                {
                    idle.push(stage.arn().to_owned());
                }
            }
            match page.next_token() {
                Some(token) if !token.is_empty() => next_token = Some(token.to_owned()),
                _ => break,
            }
        }
        let mut deleted = Vec::new();
        for (i, arn) in idle.into_iter().enumerate() {
            if i > 0 {
                tokio::time::sleep(SWEEP_PACE).await;
            }
            match self.delete_stage(&arn).await {
                Ok(()) => deleted.push(arn),
                // One stage that cannot be deleted now does not stop the sweep.
                Err(e) => tracing::warn!(stage = %arn, error = %e, "idle stage not deleted"),
            }
        }
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests;
