//! Chat carried by a managed chat service (IVS Chat) instead of the Showrunner websocket: the
//! optional `aws.chat = "ivs"` transport. Without it (`None`, the default) chat is built in,
//! and nothing here is used.
//!
//! With it, each channel has a room in the service. Clients connect to the room directly with
//! a token this server vends, and the service fans messages out; this server decides who gets
//! which capabilities, tells the room about moderation, and sends poll and action events into
//! it so room clients see them. [`ChatRooms`] is the port (`aws::ivschat` implements it);
//! [`RoomDirectory`] keeps which room belongs to which channel.
//!
//! What differs from built-in chat is listed in `docs/deploy-aws.md` ("IVS Chat").

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dashmap::DashMap;
use serde::Serialize;
use utoipa::ToSchema;

use crate::{domain::AccountId, store::Store};

/// What a room token lets its holder do besides reading (which every token allows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChatCapability {
    SendMessage,
    DeleteMessage,
    DisconnectUser,
}

/// A token a client connects to a room with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ChatToken {
    pub token: String,
    /// When the token can no longer be used to connect.
    pub token_expires_at: Option<DateTime<Utc>>,
    /// When a connection made with it is closed.
    pub session_expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ChatRoomError {
    #[error("chat room not found")]
    NotFound,
    #[error("chat service throttled the request")]
    Throttled,
    #[error("chat service unavailable: {0}")]
    Unavailable(String),
    /// The service refused the request itself (validation, permissions, quota).
    #[error("chat service refused the request: {0}")]
    Rejected(String),
}

/// A managed chat service's rooms.
#[async_trait]
pub trait ChatRooms: Send + Sync {
    /// Where clients connect to a room with their token (a `wss://` URL).
    fn messaging_url(&self) -> String;
    /// Creates the room of a channel; returns the service's id for it (an ARN). Not
    /// idempotent: each call makes a new room.
    async fn create_room(
        &self,
        channel: AccountId,
        username: &str,
    ) -> Result<String, ChatRoomError>;
    /// Deletes a room; everyone in it is disconnected. Idempotent.
    async fn delete_room(&self, room: &str) -> Result<(), ChatRoomError>;
    /// A token for `user_id` with exactly these capabilities (reading is always allowed).
    /// `attributes` travel with every message the holder sends (name, color).
    async fn token(
        &self,
        room: &str,
        user_id: &str,
        capabilities: &[ChatCapability],
        attributes: BTreeMap<String, String>,
        session: Duration,
    ) -> Result<ChatToken, ChatRoomError>;
    /// Deletes a message for everyone in the room. Idempotent.
    async fn delete_message(
        &self,
        room: &str,
        message_id: &str,
        reason: &str,
    ) -> Result<(), ChatRoomError>;
    /// Closes every connection of `user_id` to the room (their token stays valid until it
    /// expires: refusing them a new one is the caller's job). Idempotent.
    async fn disconnect_user(
        &self,
        room: &str,
        user_id: &str,
        reason: &str,
    ) -> Result<(), ChatRoomError>;
    /// Sends an event (not a message) to everyone connected. At most once.
    async fn send_event(
        &self,
        room: &str,
        name: &str,
        attributes: BTreeMap<String, String>,
    ) -> Result<(), ChatRoomError>;
}

/// Which room is whose: the room of a channel is created with the channel (or on first use,
/// for channels made before `aws.chat = "ivs"` was set), its id kept in the store next to the
/// channel's other state, and deleted with the account.
#[derive(Clone)]
pub struct RoomDirectory {
    rooms: Arc<dyn ChatRooms>,
    store: Arc<dyn Store>,
    /// Room ids never change while their channel exists: read once per process.
    known: Arc<DashMap<AccountId, String>>,
    /// One room creation at a time in this process, so two first uses cannot make two rooms.
    creating: Arc<tokio::sync::Mutex<()>>,
}

/// The store key of a channel's room; in the account's snapshot space, so it goes with the
/// account.
fn room_key(channel: AccountId) -> String {
    format!("channel:{channel}:chat-room")
}

impl RoomDirectory {
    pub fn new(rooms: Arc<dyn ChatRooms>, store: Arc<dyn Store>) -> Self {
        Self {
            rooms,
            store,
            known: Arc::default(),
            creating: Arc::default(),
        }
    }

    pub fn rooms(&self) -> &Arc<dyn ChatRooms> {
        &self.rooms
    }

    /// The channel's room, if it has one.
    pub async fn room_of(&self, channel: AccountId) -> Result<Option<String>, ChatRoomError> {
        if let Some(room) = self.known.get(&channel) {
            return Ok(Some(room.clone()));
        }
        let stored = self
            .store
            .snapshot(&room_key(channel))
            .await
            .map_err(|e| ChatRoomError::Unavailable(format!("store: {e}")))?;
        let room = stored
            .as_ref()
            .and_then(|v| v["room"].as_str())
            .map(str::to_owned);
        if let Some(room) = &room {
            self.known.insert(channel, room.clone());
        }
        Ok(room)
    }

    /// The channel's room, created now if it has none.
    pub async fn open(&self, channel: AccountId, username: &str) -> Result<String, ChatRoomError> {
        if let Some(room) = self.room_of(channel).await? {
            return Ok(room);
        }
        let _one_at_a_time = self.creating.lock().await;
        if let Some(room) = self.room_of(channel).await? {
            return Ok(room);
        }
        let room = self.rooms.create_room(channel, username).await?;
        let saved = self
            .store
            .put_snapshot(&room_key(channel), &serde_json::json!({ "room": room }))
            .await;
        if let Err(e) = saved {
            // A room nobody can find is a leak: take it back.
            if let Err(cleanup) = self.rooms.delete_room(&room).await {
                tracing::warn!(%room, error = %cleanup, "could not delete an unrecorded chat room");
            }
            return Err(ChatRoomError::Unavailable(format!("store: {e}")));
        }
        self.known.insert(channel, room.clone());
        tracing::info!(%channel, %room, "chat room created");
        Ok(room)
    }

    /// Deletes the channel's room, if any. Idempotent.
    pub async fn close(&self, channel: AccountId) -> Result<(), ChatRoomError> {
        let Some(room) = self.room_of(channel).await? else {
            return Ok(());
        };
        self.rooms.delete_room(&room).await?;
        self.known.remove(&channel);
        self.store
            .delete_snapshot(&room_key(channel))
            .await
            .map_err(|e| ChatRoomError::Unavailable(format!("store: {e}")))
    }
}

#[cfg(test)]
mod tests;
