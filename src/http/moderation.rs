//! `/api/channels/{username}/…` moderation: bans, timeouts, moderators, chat settings and
//! message deletion. The channel actor decides who may do what (owner; moderators for all but
//! appointing moderators) and enforces it.

use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    AppState,
    error::{ApiError, ErrorBody},
    extract::{AuthUser, Json},
    live::{channel_named, user_named},
};
use crate::{
    actors::Moderation,
    domain::{ChatSettings, parse_timeout},
    store::RestrictionKind,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(restrictions))
        .routes(routes!(ban, unban))
        .routes(routes!(timeout, lift_timeout))
        .routes(routes!(moderators))
        .routes(routes!(add_moderator, remove_moderator))
        .routes(routes!(chat_settings, update_chat_settings))
        .routes(routes!(delete_message))
}

/// Resolves (channel, target user) by name.
async fn pair(
    state: &AppState,
    channel: &str,
    target: &str,
) -> Result<(crate::store::Account, crate::store::Account), ApiError> {
    let channel = channel_named(state, channel).await?;
    let target = user_named(state, target).await?;
    Ok((channel, target))
}

async fn moderate(
    state: &AppState,
    channel: &str,
    target: &str,
    by: crate::domain::AccountId,
    command: impl FnOnce(crate::domain::AccountId, String) -> Moderation,
) -> Result<StatusCode, ApiError> {
    let (channel, target) = pair(state, channel, target).await?;
    let command = command(target.id, target.username.to_string());
    state.realtime.moderate(channel.id, by, command).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Only the owner and moderators may read moderation data.
async fn require_moderator(
    state: &AppState,
    channel: &crate::store::Account,
    user: crate::domain::AccountId,
) -> Result<(), ApiError> {
    if channel.id == user {
        return Ok(());
    }
    let moderators = state
        .store
        .moderators(channel.id)
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    if moderators.contains(&user) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "forbidden",
            "only the owner and moderators can do this",
        ))
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RestrictionView {
    user_id: Uuid,
    username: Option<String>,
    /// `ban` or `timeout`.
    kind: &'static str,
    until: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RestrictionList {
    restrictions: Vec<RestrictionView>,
}

/// Bans and timeouts in force (owner and moderators).
#[utoipa::path(get, path = "/api/channels/{username}/restrictions", tag = "moderation", security(("bearer" = [])),
    params(("username" = String, Path)),
    responses((status = 200, description = "OK", body = RestrictionList), (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Not a moderator", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody)))]
async fn restrictions(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(username): Path<String>,
) -> Result<Json<RestrictionList>, ApiError> {
    let channel = channel_named(&state, &username).await?;
    require_moderator(&state, &channel, user.account.id).await?;
    let list = state
        .store
        .restrictions(channel.id, Utc::now())
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let mut views = Vec::with_capacity(list.len());
    for r in list {
        let username = state
            .store
            .account(r.user)
            .await
            .ok()
            .flatten()
            .map(|a| a.username.to_string());
        views.push(RestrictionView {
            user_id: r.user.0,
            username,
            kind: match r.kind {
                RestrictionKind::Ban => "ban",
                RestrictionKind::Timeout => "timeout",
            },
            until: r.until,
            created_at: r.created_at,
        });
    }
    Ok(Json(RestrictionList {
        restrictions: views,
    }))
}

/// Ban a user: their connections to the channel close at once, and they can no longer chat,
/// watch the chat or join the stage.
#[utoipa::path(put, path = "/api/channels/{username}/bans/{target}", tag = "moderation", security(("bearer" = [])),
    params(("username" = String, Path), ("target" = String, Path, description = "The user to ban")),
    responses((status = 204, description = "Banned"), (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody)))]
async fn ban(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path((username, target)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    moderate(
        &state,
        &username,
        &target,
        user.account.id,
        |user, username| Moderation::Ban { user, username },
    )
    .await
}

/// Lift a ban.
#[utoipa::path(delete, path = "/api/channels/{username}/bans/{target}", tag = "moderation", security(("bearer" = [])),
    params(("username" = String, Path), ("target" = String, Path)),
    responses((status = 204, description = "Unbanned"), (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody)))]
async fn unban(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path((username, target)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    moderate(
        &state,
        &username,
        &target,
        user.account.id,
        |user, username| Moderation::Unban { user, username },
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeoutRequest {
    /// 1 second to 2 weeks.
    duration_secs: u64,
}

/// Time a user out: they cannot chat until it ends.
#[utoipa::path(put, path = "/api/channels/{username}/timeouts/{target}", tag = "moderation", security(("bearer" = [])),
    params(("username" = String, Path), ("target" = String, Path)), request_body = TimeoutRequest,
    responses((status = 204, description = "Timed out"), (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody),
        (status = 422, description = "Invalid duration", body = ErrorBody)))]
async fn timeout(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path((username, target)): Path<(String, String)>,
    Json(body): Json<TimeoutRequest>,
) -> Result<StatusCode, ApiError> {
    let duration = parse_timeout(body.duration_secs)?;
    let until = Utc::now() + duration;
    moderate(
        &state,
        &username,
        &target,
        user.account.id,
        |user, username| Moderation::Timeout {
            user,
            username,
            until,
        },
    )
    .await
}

/// Lift a timeout.
#[utoipa::path(delete, path = "/api/channels/{username}/timeouts/{target}", tag = "moderation", security(("bearer" = [])),
    params(("username" = String, Path), ("target" = String, Path)),
    responses((status = 204, description = "Lifted"), (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody)))]
async fn lift_timeout(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path((username, target)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    moderate(
        &state,
        &username,
        &target,
        user.account.id,
        |user, username| Moderation::LiftTimeout { user, username },
    )
    .await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModeratorList {
    moderators: Vec<ModeratorView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModeratorView {
    user_id: Uuid,
    username: String,
}

/// The channel's moderators (owner and moderators).
#[utoipa::path(get, path = "/api/channels/{username}/moderators", tag = "moderation", security(("bearer" = [])),
    params(("username" = String, Path)),
    responses((status = 200, description = "OK", body = ModeratorList), (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Not a moderator", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody)))]
async fn moderators(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(username): Path<String>,
) -> Result<Json<ModeratorList>, ApiError> {
    let channel = channel_named(&state, &username).await?;
    require_moderator(&state, &channel, user.account.id).await?;
    let ids = state
        .store
        .moderators(channel.id)
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let mut list = Vec::new();
    for id in ids {
        if let Ok(Some(a)) = state.store.account(id).await {
            list.push(ModeratorView {
                user_id: id.0,
                username: a.username.to_string(),
            });
        }
    }
    Ok(Json(ModeratorList { moderators: list }))
}

/// Appoint a moderator (the owner only).
#[utoipa::path(put, path = "/api/channels/{username}/moderators/{target}", tag = "moderation", security(("bearer" = [])),
    params(("username" = String, Path), ("target" = String, Path)),
    responses((status = 204, description = "Appointed"), (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Not the owner", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody)))]
async fn add_moderator(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path((username, target)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    moderate(
        &state,
        &username,
        &target,
        user.account.id,
        |user, username| Moderation::AddModerator { user, username },
    )
    .await
}

/// Dismiss a moderator (the owner only).
#[utoipa::path(delete, path = "/api/channels/{username}/moderators/{target}", tag = "moderation", security(("bearer" = [])),
    params(("username" = String, Path), ("target" = String, Path)),
    responses((status = 204, description = "Dismissed"), (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Not the owner", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody)))]
async fn remove_moderator(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path((username, target)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    moderate(
        &state,
        &username,
        &target,
        user.account.id,
        |user, username| Moderation::RemoveModerator { user, username },
    )
    .await
}

/// The channel's chat settings (public: clients show them).
#[utoipa::path(get, path = "/api/channels/{username}/chat/settings", tag = "moderation",
    params(("username" = String, Path)),
    responses((status = 200, description = "OK", body = ChatSettings), (status = 404, description = "Not found", body = ErrorBody)))]
async fn chat_settings(
    State(state): State<AppState>,
    Path(username): Path<String>,
) -> Result<Json<ChatSettings>, ApiError> {
    let channel = channel_named(&state, &username).await?;
    let settings = state
        .store
        .chat_settings(channel.id)
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    Ok(Json(settings))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatSettingsRequest {
    /// Seconds between messages per user; 0 turns slow mode off (at most 3600).
    slow_mode_secs: u32,
    /// Followers only, with a minimum follow age in minutes; `null` turns it off.
    followers_only_minutes: Option<u32>,
    /// Words or phrases that get a message refused (at most 500, each ≤ 64 characters).
    banned_words: Vec<String>,
}

/// Replace the chat settings (owner and moderators).
#[utoipa::path(put, path = "/api/channels/{username}/chat/settings", tag = "moderation", security(("bearer" = [])),
    params(("username" = String, Path)), request_body = ChatSettingsRequest,
    responses((status = 200, description = "Saved", body = ChatSettings), (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody)))]
async fn update_chat_settings(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(username): Path<String>,
    Json(body): Json<ChatSettingsRequest>,
) -> Result<Json<ChatSettings>, ApiError> {
    let channel = channel_named(&state, &username).await?;
    let settings = ChatSettings::parse(
        body.slow_mode_secs,
        body.followers_only_minutes,
        body.banned_words,
    )?;
    state
        .realtime
        .moderate(
            channel.id,
            user.account.id,
            Moderation::Settings(settings.clone()),
        )
        .await?;
    Ok(Json(settings))
}

/// Delete a chat message: it vanishes for everyone, and from history replay.
#[utoipa::path(delete, path = "/api/channels/{username}/chat/{offset}", tag = "moderation", security(("bearer" = [])),
    params(("username" = String, Path), ("offset" = u64, Path)),
    responses((status = 204, description = "Deleted"), (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody)))]
async fn delete_message(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path((username, offset)): Path<(String, u64)>,
) -> Result<StatusCode, ApiError> {
    let channel = channel_named(&state, &username).await?;
    state
        .realtime
        .delete_chat(channel.id, user.account.id, offset)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
