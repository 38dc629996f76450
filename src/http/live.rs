//! `/api/channels/{username}/…` for what happens live: the channel's live state, stream actions,
//! polls and chat, for clients that do not use the websocket. The channel actor decides every
//! rule; these handlers only translate.

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    AppState,
    error::{ApiError, ErrorBody},
    extract::{AuthUser, Json},
};
use crate::{
    actors::ChatAuthor,
    domain::{ActionInput, ChatSettings, ChatText},
    gateway::protocol::{ActiveActionView, PollView},
    store::Account,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(live_state))
        .routes(routes!(start_action))
        .routes(routes!(stop_action))
        .routes(routes!(poll_history))
        .routes(routes!(vote))
        .routes(routes!(send_chat))
}

/// Resolves a channel name, 404 when unknown.
pub(super) async fn channel_named(state: &AppState, username: &str) -> Result<Account, ApiError> {
    state
        .store
        .account_by_username(&username.to_ascii_lowercase())
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?
        .ok_or(ApiError::NotFound("channel"))
}

/// The account a request names as its subject (a user to ban, accept or remove).
pub(super) async fn user_named(state: &AppState, username: &str) -> Result<Account, ApiError> {
    state
        .store
        .account_by_username(&username.to_ascii_lowercase())
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?
        .ok_or(ApiError::NotFound("user"))
}

/// A channel's live state.
#[derive(Debug, Serialize, ToSchema)]
pub struct LiveState {
    channel: Uuid,
    viewers: usize,
    live: bool,
    #[schema(value_type = Option<Object>)]
    action: Option<ActiveActionView>,
    #[schema(value_type = Option<Object>)]
    poll: Option<PollView>,
    settings: ChatSettings,
}

/// The channel's live state: viewer count, active action, running poll, chat settings.
#[utoipa::path(get, path = "/api/channels/{username}/live", tag = "live",
    params(("username" = String, Path)),
    responses((status = 200, description = "OK", body = LiveState), (status = 404, description = "Not found", body = ErrorBody)))]
async fn live_state(
    State(state): State<AppState>,
    Path(username): Path<String>,
) -> Result<Json<LiveState>, ApiError> {
    let channel = channel_named(&state, &username).await?;
    let live = state.realtime.state(channel.id).await?;
    Ok(Json(LiveState {
        channel: channel.id.0,
        viewers: live.viewers,
        live: live.live_since.is_some(),
        action: live.action,
        poll: live.poll,
        settings: live.settings,
    }))
}

/// Start a stream action (the owner only). It replaces the active one; a replaced poll ends
/// with its results kept. While a stage is live only polls may start.
#[utoipa::path(post, path = "/api/channels/{username}/actions", tag = "live", security(("bearer" = [])),
    params(("username" = String, Path)), request_body = ActionInput,
    responses((status = 201, description = "Started", body = Object), (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Not the owner", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody),
        (status = 409, description = "A stage is live", body = ErrorBody), (status = 422, description = "Invalid fields", body = ErrorBody)))]
async fn start_action(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(username): Path<String>,
    Json(body): Json<ActionInput>,
) -> Result<(StatusCode, Json<ActiveActionView>), ApiError> {
    let channel = channel_named(&state, &username).await?;
    if channel.id != user.account.id {
        return Err(ApiError::Forbidden(
            "forbidden",
            "only the channel owner can start actions",
        ));
    }
    let action = body.parse()?;
    let view = state
        .realtime
        .start_action(channel.id, user.account.id, action)
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Stop the active action (the owner only).
#[utoipa::path(delete, path = "/api/channels/{username}/actions/current", tag = "live", security(("bearer" = [])),
    params(("username" = String, Path)),
    responses((status = 204, description = "Stopped"), (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Not the owner", body = ErrorBody), (status = 404, description = "No active action", body = ErrorBody)))]
async fn stop_action(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    let channel = channel_named(&state, &username).await?;
    state
        .realtime
        .stop_action(channel.id, user.account.id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct HistoryParams {
    /// At most this many, newest first (1–100, default 20).
    limit: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PollList {
    #[schema(value_type = Vec<Object>)]
    polls: Vec<PollView>,
}

/// The channel's polls with their results, newest first (the running one included).
#[utoipa::path(get, path = "/api/channels/{username}/polls", tag = "live",
    params(("username" = String, Path), HistoryParams),
    responses((status = 200, description = "OK", body = PollList), (status = 404, description = "Not found", body = ErrorBody)))]
async fn poll_history(
    State(state): State<AppState>,
    Path(username): Path<String>,
    Query(params): Query<HistoryParams>,
) -> Result<Json<PollList>, ApiError> {
    let channel = channel_named(&state, &username).await?;
    let limit = params.limit.unwrap_or(20).clamp(1, 100);
    let polls = state
        .store
        .channel_polls(channel.id, limit)
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    Ok(Json(PollList {
        polls: polls
            .iter()
            .map(crate::actors::channel::poll_view)
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoteRequest {
    /// Index of the chosen option.
    option: u32,
}

/// Vote in the running poll: once per account; answered when the vote is stored.
#[utoipa::path(post, path = "/api/channels/{username}/polls/{poll_id}/votes", tag = "live", security(("bearer" = [])),
    params(("username" = String, Path), ("poll_id" = Uuid, Path)), request_body = VoteRequest,
    responses((status = 204, description = "Counted"), (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 404, description = "No such running poll", body = ErrorBody),
        (status = 409, description = "Already voted, or the poll closed", body = ErrorBody),
        (status = 422, description = "No such option", body = ErrorBody)))]
async fn vote(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path((username, poll_id)): Path<(String, Uuid)>,
    Json(body): Json<VoteRequest>,
) -> Result<StatusCode, ApiError> {
    let channel = channel_named(&state, &username).await?;
    state
        .realtime
        .vote(channel.id, user.account.id, poll_id, body.option)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatRequest {
    /// 1–500 characters of plain text.
    text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChatSent {
    offset: u64,
}

/// Send a chat message (as over the websocket).
#[utoipa::path(post, path = "/api/channels/{username}/chat", tag = "live", security(("bearer" = [])),
    params(("username" = String, Path)), request_body = ChatRequest,
    responses((status = 201, description = "Sent", body = ChatSent), (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Banned, timed out or followers-only", body = ErrorBody),
        (status = 422, description = "Invalid text or a banned word", body = ErrorBody),
        (status = 429, description = "Slow mode or too fast; see Retry-After", body = ErrorBody)))]
async fn send_chat(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(username): Path<String>,
    Json(body): Json<ChatRequest>,
) -> Result<(StatusCode, Json<ChatSent>), ApiError> {
    let channel = channel_named(&state, &username).await?;
    let text = ChatText::parse(&body.text)?;
    let author = ChatAuthor {
        id: user.account.id,
        username: user.account.username.to_string(),
        color: user.account.color,
    };
    let offset = state.realtime.send_chat(channel.id, author, text).await?;
    Ok((StatusCode::CREATED, Json(ChatSent { offset })))
}
