//! The [`ChatRooms`] port on Amazon IVS Chat (`aws.chat = "ivs"`).
//!
//! | port | IVS Chat call |
//! |---|---|
//! | `create_room` / `delete_room` | `CreateRoom` (tagged) / `DeleteRoom` |
//! | `token` | `CreateChatToken` |
//! | `delete_message` | `DeleteMessage` |
//! | `disconnect_user` | `DisconnectUser` |
//! | `send_event` | `SendEvent` |

use std::{collections::BTreeMap, time::Duration};

use async_trait::async_trait;
use aws_sdk_ivschat::{Client, types::ChatTokenCapability};
use chrono::{DateTime, Utc};

use super::failure::{Failure, classify};
use crate::{
    chat_rooms::{ChatCapability, ChatRoomError, ChatRooms, ChatToken},
    domain::AccountId,
};

/// IVS Chat sessions last 1–180 minutes.
const SESSION_MINUTES: (u64, u64) = (1, 180);

pub struct IvsChatRooms {
    client: Client,
    /// The region's messaging endpoint, for clients.
    messaging_url: String,
    /// Tags on every room (`project`, ...); the owner's id is added.
    tags: BTreeMap<String, String>,
}

impl IvsChatRooms {
    pub fn new(sdk: &aws_config::SdkConfig, tags: BTreeMap<String, String>) -> Self {
        Self::with_client(Client::new(sdk), tags)
    }

    pub fn with_client(client: Client, tags: BTreeMap<String, String>) -> Self {
        let region = client
            .config()
            .region()
            .map_or_else(|| "us-east-1".to_owned(), |r| r.to_string());
        Self {
            client,
            messaging_url: format!("wss://edge.ivschat.{region}.amazonaws.com"),
            tags,
        }
    }
}

fn room_error(failure: Failure) -> ChatRoomError {
    match failure {
        Failure::NotFound => ChatRoomError::NotFound,
        Failure::Throttled => ChatRoomError::Throttled,
        Failure::Unavailable(m) => ChatRoomError::Unavailable(m),
        Failure::NotBroadcasting => ChatRoomError::Rejected("unexpected answer".into()),
        Failure::Conflict(m) | Failure::Rejected(m) => ChatRoomError::Rejected(m),
    }
}

/// A room name: letters, digits, `-` and `_`, at most 128.
fn room_name(channel: AccountId, username: &str) -> String {
    let clean: String = username
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .take(64)
        .collect();
    format!("{clean}-{}", channel.0.simple())
}

fn to_chrono(t: &aws_sdk_ivschat::primitives::DateTime) -> Option<DateTime<Utc>> {
    t.to_millis().ok().and_then(DateTime::from_timestamp_millis)
}

#[async_trait]
impl ChatRooms for IvsChatRooms {
    fn messaging_url(&self) -> String {
        self.messaging_url.clone()
    }

    async fn create_room(
        &self,
        channel: AccountId,
        username: &str,
    ) -> Result<String, ChatRoomError> {
        let mut tags = self.tags.clone();
        tags.insert("owner".into(), channel.to_string());
        let output = self
            .client
            .create_room()
            .name(room_name(channel, username))
            .set_tags(Some(tags.into_iter().collect()))
            .send()
            .await
            .map_err(|e| room_error(classify("ivschat:CreateRoom", &e)))?;
        output
            .arn()
            .map(str::to_owned)
            .ok_or_else(|| ChatRoomError::Rejected("IVS Chat answered without a room ARN".into()))
    }

    async fn delete_room(&self, room: &str) -> Result<(), ChatRoomError> {
        match self.client.delete_room().identifier(room).send().await {
            Ok(_) => Ok(()),
            Err(e) => match classify("ivschat:DeleteRoom", &e) {
                Failure::NotFound => Ok(()),
                other => Err(room_error(other)),
            },
        }
    }

    async fn token(
        &self,
        room: &str,
        user_id: &str,
        capabilities: &[ChatCapability],
        attributes: BTreeMap<String, String>,
        session: Duration,
    ) -> Result<ChatToken, ChatRoomError> {
        let minutes = (session.as_secs() / 60).clamp(SESSION_MINUTES.0, SESSION_MINUTES.1);
        let output = self
            .client
            .create_chat_token()
            .room_identifier(room)
            .user_id(user_id)
            .set_capabilities(Some(
                capabilities
                    .iter()
                    .map(|c| match c {
                        ChatCapability::SendMessage => ChatTokenCapability::SendMessage,
                        ChatCapability::DeleteMessage => ChatTokenCapability::DeleteMessage,
                        ChatCapability::DisconnectUser => ChatTokenCapability::DisconnectUser,
                    })
                    .collect(),
            ))
            .session_duration_in_minutes(minutes as i32)
            .set_attributes((!attributes.is_empty()).then(|| attributes.into_iter().collect()))
            .send()
            .await
            .map_err(|e| room_error(classify("ivschat:CreateChatToken", &e)))?;
        Ok(ChatToken {
            token: output
                .token()
                .ok_or_else(|| ChatRoomError::Rejected("IVS Chat answered without a token".into()))?
                .to_owned(),
            token_expires_at: output.token_expiration_time().and_then(to_chrono),
            session_expires_at: output.session_expiration_time().and_then(to_chrono),
        })
    }

    async fn delete_message(
        &self,
        room: &str,
        message_id: &str,
        reason: &str,
    ) -> Result<(), ChatRoomError> {
        self.client
            .delete_message()
            .room_identifier(room)
            .id(message_id)
            .reason(reason)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| room_error(classify("ivschat:DeleteMessage", &e)))
    }

    async fn disconnect_user(
        &self,
        room: &str,
        user_id: &str,
        reason: &str,
    ) -> Result<(), ChatRoomError> {
        self.client
            .disconnect_user()
            .room_identifier(room)
            .user_id(user_id)
            .reason(reason)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| room_error(classify("ivschat:DisconnectUser", &e)))
    }

    async fn send_event(
        &self,
        room: &str,
        name: &str,
        attributes: BTreeMap<String, String>,
    ) -> Result<(), ChatRoomError> {
        self.client
            .send_event()
            .room_identifier(room)
            .event_name(name)
            .set_attributes(Some(attributes.into_iter().collect()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| room_error(classify("ivschat:SendEvent", &e)))
    }
}

#[cfg(test)]
mod tests;
