//! `/api/channels/{username}/chat-room/…`: the channel's IVS Chat room, when chat is carried by
//! IVS Chat (`aws.chat = "ivs"`; otherwise these answer 404 and chat is on the websocket).
//!
//! The server decides what a token allows, from the store: anyone may read; signed-in users
//! may send; the owner and moderators may also delete messages and disconnect users. Banned
//! users get no token, and users timed out get one that only reads.

use std::{collections::BTreeMap, time::Duration};

use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    AppState,
    error::{ApiError, ErrorBody},
    extract::{AuthUser, Json, MaybeAuthUser},
    live::channel_named,
};
use crate::{
    chat_rooms::{ChatCapability, ChatRoomError, RoomDirectory},
    domain::AccountId,
    store::{Account, RestrictionKind},
};

/// How long a room connection made with a token lasts; clients fetch a new token to go on.
const SESSION: Duration = Duration::from_secs(60 * 60);

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(chat_room_token))
        .routes(routes!(delete_room_message))
}

impl From<ChatRoomError> for ApiError {
    fn from(e: ChatRoomError) -> Self {
        match e {
            ChatRoomError::NotFound => ApiError::NotFound("chat room"),
            ChatRoomError::Throttled => ApiError::Unavailable("chat service throttled".into()),
            ChatRoomError::Unavailable(m) => ApiError::Unavailable(m),
            ChatRoomError::Rejected(m) => ApiError::Internal(m),
        }
    }
}

fn rooms(state: &AppState) -> Result<&RoomDirectory, ApiError> {
    state
        .accounts
        .chat_rooms()
        .ok_or(ApiError::NotFound("chat room"))
}

async fn is_moderator(
    state: &AppState,
    channel: &Account,
    user: AccountId,
) -> Result<bool, ApiError> {
    if channel.id == user {
        return Ok(true);
    }
    let moderators = state
        .store
        .moderators(channel.id)
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    Ok(moderators.contains(&user))
}

/// A token for the channel's chat room.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatRoomToken {
    token: String,
    /// Connect to this with the token (the IVS Chat messaging endpoint of the region).
    messaging_url: String,
    /// Who the room knows the holder as: the account id, or `anon-…` for a visitor.
    user_id: String,
    /// What the token allows, `VIEW_MESSAGE` always included.
    capabilities: Vec<String>,
    token_expires_at: Option<DateTime<Utc>>,
    session_expires_at: Option<DateTime<Utc>>,
}

/// A token for the channel's IVS Chat room, with the capabilities of the caller's role.
#[utoipa::path(post, path = "/api/channels/{username}/chat-room/token", tag = "live", security((), ("bearer" = [])),
    params(("username" = String, Path)),
    responses((status = 200, description = "Token", body = ChatRoomToken), (status = 403, description = "Banned", body = ErrorBody),
        (status = 404, description = "No such channel, or chat is built in", body = ErrorBody)))]
async fn chat_room_token(
    State(state): State<AppState>,
    MaybeAuthUser(user): MaybeAuthUser,
    Path(username): Path<String>,
) -> Result<Json<ChatRoomToken>, ApiError> {
    let rooms = rooms(&state)?;
    let channel = channel_named(&state, &username).await?;
    let mut capabilities = Vec::new();
    let mut attributes = BTreeMap::new();
    let user_id = match &user {
        None => format!("anon-{}", uuid::Uuid::new_v4().simple()),
        Some(user) => {
            let id = user.account.id;
            let restrictions = state
                .store
                .restrictions_of(channel.id, id, Utc::now())
                .await
                .map_err(|e| ApiError::Unavailable(e.to_string()))?;
            let has = |kind| restrictions.iter().any(|r| r.kind == kind);
            if has(RestrictionKind::Ban) {
                return Err(ApiError::Forbidden(
                    "banned",
                    "you are banned from this channel",
                ));
            }
            if !has(RestrictionKind::Timeout) {
                capabilities.push(ChatCapability::SendMessage);
            }
            if is_moderator(&state, &channel, id).await? {
                capabilities.extend([
                    ChatCapability::DeleteMessage,
                    ChatCapability::DisconnectUser,
                ]);
            }
            attributes.insert("username".to_owned(), user.account.username.to_string());
            attributes.insert(
                "color".to_owned(),
                serde_json::to_value(user.account.color)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
            );
            id.to_string()
        }
    };
    let room = rooms.open(channel.id, channel.username.as_str()).await?;
    let minted = rooms
        .rooms()
        .token(&room, &user_id, &capabilities, attributes, SESSION)
        .await?;
    let names = std::iter::once("VIEW_MESSAGE".to_owned()).chain(capabilities.iter().map(|c| {
        serde_json::to_value(c)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }));
    Ok(Json(ChatRoomToken {
        token: minted.token,
        messaging_url: rooms.rooms().messaging_url(),
        user_id,
        capabilities: names.collect(),
        token_expires_at: minted.token_expires_at,
        session_expires_at: minted.session_expires_at,
    }))
}

/// Delete a message from the channel's IVS Chat room (owner and moderators).
#[utoipa::path(delete, path = "/api/channels/{username}/chat-room/messages/{message_id}", tag = "moderation", security(("bearer" = [])),
    params(("username" = String, Path), ("message_id" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Not a moderator", body = ErrorBody), (status = 404, description = "No such channel, or chat is built in", body = ErrorBody)))]
async fn delete_room_message(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path((username, message_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let rooms = rooms(&state)?;
    let channel = channel_named(&state, &username).await?;
    if !is_moderator(&state, &channel, user.account.id).await? {
        return Err(ApiError::Forbidden(
            "forbidden",
            "only the owner and moderators can delete messages",
        ));
    }
    let room = rooms
        .room_of(channel.id)
        .await?
        .ok_or(ApiError::NotFound("chat room"))?;
    rooms
        .rooms()
        .delete_message(&room, &message_id, "deleted by a moderator")
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
