//! Stages without a media service: tokens are JWTs this process signs, shaped like IVS
//! Real-Time's (participant id, capabilities, expiry), so the whole stage flow runs locally.

use std::{
    collections::{BTreeMap, HashSet},
    sync::Mutex,
    time::Duration,
};

use async_trait::async_trait;
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::{Capability, Participant, ParticipantToken, Stages, StagesError};
use crate::domain::AccountId;

/// What a local participant token asserts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalTokenClaims {
    pub stage: String,
    pub participant_id: String,
    pub user_id: String,
    pub capabilities: Vec<Capability>,
    pub attributes: BTreeMap<String, String>,
    pub exp: i64,
}

pub struct LocalStages {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// Disconnected participants, so a verifier can refuse their tokens.
    disconnected: Mutex<std::collections::HashSet<String>>,
}

impl LocalStages {
    pub fn new(secret: &[u8]) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            disconnected: Mutex::default(),
        }
    }

    /// Checks a token this process issued (for tests and local tools).
    pub fn verify(&self, token: &str) -> Option<LocalTokenClaims> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp"]);
        let claims = jsonwebtoken::decode::<LocalTokenClaims>(token, &self.decoding, &validation)
            .ok()?
            .claims;
        let gone = self
            .disconnected
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&claims.participant_id);
        (!gone).then_some(claims)
    }
}

#[async_trait]
impl Stages for LocalStages {
    async fn create_stage(&self, channel: AccountId) -> Result<String, StagesError> {
        Ok(format!(
            "arn:showrunner:local:stage/{}-{}",
            channel.0.simple(),
            uuid::Uuid::new_v4().simple()
        ))
    }

    async fn participant_token(
        &self,
        stage: &str,
        user_id: &str,
        capabilities: &[Capability],
        attributes: BTreeMap<String, String>,
        valid_for: Duration,
    ) -> Result<ParticipantToken, StagesError> {
        let expires_at = Utc::now() + chrono::Duration::from_std(valid_for).unwrap_or_default();
        let claims = LocalTokenClaims {
            stage: stage.to_owned(),
            participant_id: uuid::Uuid::new_v4().simple().to_string(),
            user_id: user_id.to_owned(),
            capabilities: capabilities.to_vec(),
            attributes,
            exp: expires_at.timestamp(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| StagesError::Unavailable(e.to_string()))?;
        Ok(ParticipantToken {
            token,
            participant_id: claims.participant_id,
            capabilities: claims.capabilities,
            expires_at,
        })
    }

    async fn disconnect(
        &self,
        _stage: &str,
        participant_id: &str,
        _reason: &str,
    ) -> Result<(), StagesError> {
        self.disconnected
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(participant_id.to_owned());
        Ok(())
    }

    async fn delete_stage(&self, _stage: &str) -> Result<(), StagesError> {
        Ok(())
    }

    /// Local tokens are not connections: who is there is unknown.
    async fn participants(&self, _stage: &str) -> Result<Option<Vec<Participant>>, StagesError> {
        Ok(None)
    }

    /// Local stages cost nothing and die with the process.
    async fn sweep_idle(
        &self,
        _idle_for: Duration,
        _in_use: &HashSet<String>,
    ) -> Result<Vec<String>, StagesError> {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tokens_carry_exactly_the_capabilities_asked_for_and_die_on_disconnect() {
        let stages = LocalStages::new(&[3u8; 32]);
        let stage = stages.create_stage(AccountId::new()).await.unwrap();
        let t = stages
            .participant_token(
                &stage,
                "u1",
                &[Capability::Subscribe],
                BTreeMap::new(),
                Duration::from_secs(60),
            )
            .await
            .unwrap();
        let claims = stages.verify(&t.token).unwrap();
        assert_eq!(claims.capabilities, [Capability::Subscribe]);
        assert_eq!(claims.stage, stage);
        stages
            .disconnect(&stage, &t.participant_id, "bye")
            .await
            .unwrap();
        assert!(stages.verify(&t.token).is_none());
        assert!(LocalStages::new(&[4u8; 32]).verify(&t.token).is_none());
    }
}
