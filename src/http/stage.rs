//! `/api/channels/{username}/stage/…`: the real-time stage — create and end it, invite links,
//! the join-request queue, joining, spectating, removing participants. The stage actor decides;
//! these handlers translate.

use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    AppState,
    error::{ApiError, ErrorBody},
    extract::{AuthUser, Json, MaybeAuthUser},
    live::{channel_named, user_named},
};
use crate::{
    actors::stage::{JoinRequest, JoinVia, StageError, StageJoin, StageMsg, StageView},
    stages::ParticipantToken,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(view, start, end))
        .routes(routes!(create_invite, revoke_invite))
        .routes(routes!(join))
        .routes(routes!(spectate))
        .routes(routes!(queue, request))
        .routes(routes!(retract))
        .routes(routes!(accept))
        .routes(routes!(reject))
        .routes(routes!(remove))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JoinResponse {
    #[schema(value_type = Object)]
    stage: Option<StageView>,
    /// Publish and subscribe.
    #[schema(value_type = Object)]
    token: ParticipantToken,
    /// `host`, `invited` or `requested`.
    role: String,
}

async fn join_response(
    state: &AppState,
    channel: crate::domain::AccountId,
    join: StageJoin,
) -> JoinResponse {
    let stage = state
        .realtime
        .state(channel)
        .await
        .ok()
        .and_then(|s| s.stage);
    JoinResponse {
        stage,
        role: serde_json::to_value(join.role)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        token: join.token,
    }
}

/// The channel's stage, if one is live.
#[utoipa::path(get, path = "/api/channels/{username}/stage", tag = "stage",
    params(("username" = String, Path)),
    responses((status = 200, description = "The stage", body = Object), (status = 404, description = "No stage", body = ErrorBody)))]
async fn view(
    State(state): State<AppState>,
    Path(username): Path<String>,
) -> Result<axum::Json<StageView>, ApiError> {
    let channel = channel_named(&state, &username).await?;
    let live = state.realtime.state(channel.id).await?;
    Ok(axum::Json(live.stage.ok_or(StageError::NoStage)?))
}

/// Start a stage (the channel owner) or rejoin it as host; answers the host's publish token.
#[utoipa::path(post, path = "/api/channels/{username}/stage", tag = "stage", security(("bearer" = [])),
    params(("username" = String, Path)),
    responses((status = 201, description = "Live; the host's token", body = JoinResponse),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Not the owner", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody)))]
async fn start(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(username): Path<String>,
) -> Result<(StatusCode, axum::Json<JoinResponse>), ApiError> {
    let channel = channel_named(&state, &username).await?;
    let join = state
        .realtime
        .start_stage(channel.id, user.account.id)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(join_response(&state, channel.id, join).await),
    ))
}

/// End the stage (the host).
#[utoipa::path(delete, path = "/api/channels/{username}/stage", tag = "stage", security(("bearer" = [])),
    params(("username" = String, Path)),
    responses((status = 204, description = "Ended"), (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Not the host", body = ErrorBody), (status = 404, description = "No stage", body = ErrorBody)))]
async fn end(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    let channel = channel_named(&state, &username).await?;
    let by = user.account.id;
    state
        .realtime
        .stage(channel.id, |reply| StageMsg::End { by, reply })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InviteResponse {
    code: String,
    /// The link to share: opening it lets a signed-in user join as a publisher.
    url: String,
}

/// Create (or replace) the invite link (the host).
#[utoipa::path(post, path = "/api/channels/{username}/stage/invite", tag = "stage", security(("bearer" = [])),
    params(("username" = String, Path)),
    responses((status = 201, description = "Created", body = InviteResponse), (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Not the host", body = ErrorBody), (status = 404, description = "No stage", body = ErrorBody)))]
async fn create_invite(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(username): Path<String>,
) -> Result<(StatusCode, axum::Json<InviteResponse>), ApiError> {
    let channel = channel_named(&state, &username).await?;
    let by = user.account.id;
    let code = state
        .realtime
        .stage(channel.id, |reply| StageMsg::CreateInvite { by, reply })
        .await?;
    let url = format!(
        "{}/{}?invite={code}",
        state.config.public_url(),
        channel.username
    );
    Ok((
        StatusCode::CREATED,
        axum::Json(InviteResponse { code, url }),
    ))
}

/// Revoke the invite link (the host); people already on the stage stay.
#[utoipa::path(delete, path = "/api/channels/{username}/stage/invite", tag = "stage", security(("bearer" = [])),
    params(("username" = String, Path)),
    responses((status = 204, description = "Revoked"), (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Not the host", body = ErrorBody), (status = 404, description = "No stage", body = ErrorBody)))]
async fn revoke_invite(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    let channel = channel_named(&state, &username).await?;
    let by = user.account.id;
    state
        .realtime
        .stage(channel.id, |reply| StageMsg::RevokeInvite { by, reply })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinRequestBody {
    /// The invite code from the link; absent to get a fresh token as someone already on stage.
    invite: Option<String>,
}

/// Join as a publisher: with the invite code, or (already accepted or on stage) for a fresh
/// token. A full stage answers 409 `stage_full` with a `spectator_token`.
#[utoipa::path(post, path = "/api/channels/{username}/stage/join", tag = "stage", security(("bearer" = [])),
    params(("username" = String, Path)), request_body = JoinRequestBody,
    responses((status = 200, description = "Publishing", body = JoinResponse), (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Bad invite or banned", body = ErrorBody), (status = 404, description = "No stage", body = ErrorBody),
        (status = 409, description = "Full (spectator token offered)", body = ErrorBody)))]
async fn join(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(username): Path<String>,
    Json(body): Json<JoinRequestBody>,
) -> Result<axum::Json<JoinResponse>, ApiError> {
    let channel = channel_named(&state, &username).await?;
    let via = match body.invite {
        Some(code) => JoinVia::Invite(code),
        None if user.account.id == channel.id => JoinVia::Host,
        None => JoinVia::Rejoin,
    };
    let (id, name) = (user.account.id, user.account.username.to_string());
    let join = state
        .realtime
        .stage(channel.id, |reply| StageMsg::Join {
            user: id,
            username: name.clone(),
            via: via.clone(),
            reply,
        })
        .await?;
    Ok(axum::Json(join_response(&state, channel.id, join).await))
}

/// A subscribe-only token to watch the stage (anyone not banned, signed in or not).
#[utoipa::path(post, path = "/api/channels/{username}/stage/spectate", tag = "stage", security((), ("bearer" = [])),
    params(("username" = String, Path)),
    responses((status = 200, description = "Token", body = Object), (status = 403, description = "Banned", body = ErrorBody),
        (status = 404, description = "No stage", body = ErrorBody)))]
async fn spectate(
    State(state): State<AppState>,
    MaybeAuthUser(user): MaybeAuthUser,
    Path(username): Path<String>,
) -> Result<axum::Json<ParticipantToken>, ApiError> {
    let channel = channel_named(&state, &username).await?;
    let who = user.map(|u| u.account.id);
    let token = state
        .realtime
        .stage(channel.id, |reply| StageMsg::Spectate { user: who, reply })
        .await?;
    Ok(axum::Json(token))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueueResponse {
    #[schema(value_type = Vec<Object>)]
    requests: Vec<JoinRequest>,
}

/// The join-request queue, oldest first (the host).
#[utoipa::path(get, path = "/api/channels/{username}/stage/requests", tag = "stage", security(("bearer" = [])),
    params(("username" = String, Path)),
    responses((status = 200, description = "Queue", body = QueueResponse), (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Not the host", body = ErrorBody), (status = 404, description = "No stage", body = ErrorBody)))]
async fn queue(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(username): Path<String>,
) -> Result<axum::Json<QueueResponse>, ApiError> {
    let channel = channel_named(&state, &username).await?;
    let by = user.account.id;
    let requests = state
        .realtime
        .stage(channel.id, |reply| StageMsg::Queue { by, reply })
        .await?;
    Ok(axum::Json(QueueResponse { requests }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RequestResponse {
    /// 1 = next in line.
    position: usize,
}

/// Ask to join the stage; the host sees the request at once.
#[utoipa::path(post, path = "/api/channels/{username}/stage/requests", tag = "stage", security(("bearer" = [])),
    params(("username" = String, Path)),
    responses((status = 201, description = "Queued", body = RequestResponse), (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Banned", body = ErrorBody), (status = 404, description = "No stage", body = ErrorBody),
        (status = 409, description = "Already queued or on stage", body = ErrorBody)))]
async fn request(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(username): Path<String>,
) -> Result<(StatusCode, axum::Json<RequestResponse>), ApiError> {
    let channel = channel_named(&state, &username).await?;
    let (id, name) = (user.account.id, user.account.username.to_string());
    let position = state
        .realtime
        .stage(channel.id, |reply| StageMsg::Request {
            user: id,
            username: name.clone(),
            reply,
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(RequestResponse { position }),
    ))
}

/// Withdraw your join request.
#[utoipa::path(delete, path = "/api/channels/{username}/stage/requests/me", tag = "stage", security(("bearer" = [])),
    params(("username" = String, Path)),
    responses((status = 204, description = "Withdrawn"), (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 404, description = "No request", body = ErrorBody)))]
async fn retract(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    let channel = channel_named(&state, &username).await?;
    let id = user.account.id;
    state
        .realtime
        .stage(channel.id, |reply| StageMsg::Retract { user: id, reply })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn decide(
    state: &AppState,
    username: &str,
    target: &str,
    by: crate::domain::AccountId,
    accept: bool,
) -> Result<StatusCode, ApiError> {
    let channel = channel_named(state, username).await?;
    let target = user_named(state, target).await?.id;
    state
        .realtime
        .stage(channel.id, |reply| {
            if accept {
                StageMsg::Accept {
                    by,
                    user: target,
                    reply,
                }
            } else {
                StageMsg::Reject {
                    by,
                    user: target,
                    reply,
                }
            }
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Accept a join request (the host): the requester gets a publish token over the websocket.
#[utoipa::path(post, path = "/api/channels/{username}/stage/requests/{target}/accept", tag = "stage", security(("bearer" = [])),
    params(("username" = String, Path), ("target" = String, Path)),
    responses((status = 204, description = "Accepted"), (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Not the host", body = ErrorBody), (status = 404, description = "No such request", body = ErrorBody),
        (status = 409, description = "Stage full; the request stays queued", body = ErrorBody)))]
async fn accept(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path((username, target)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    decide(&state, &username, &target, user.account.id, true).await
}

/// Reject a join request (the host).
#[utoipa::path(post, path = "/api/channels/{username}/stage/requests/{target}/reject", tag = "stage", security(("bearer" = [])),
    params(("username" = String, Path), ("target" = String, Path)),
    responses((status = 204, description = "Rejected"), (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Not the host", body = ErrorBody), (status = 404, description = "No such request", body = ErrorBody)))]
async fn reject(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path((username, target)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    decide(&state, &username, &target, user.account.id, false).await
}

/// Remove a participant (the host), or leave the stage (yourself).
#[utoipa::path(delete, path = "/api/channels/{username}/stage/participants/{target}", tag = "stage", security(("bearer" = [])),
    params(("username" = String, Path), ("target" = String, Path)),
    responses((status = 204, description = "Removed"), (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody), (status = 404, description = "Not on stage", body = ErrorBody)))]
async fn remove(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path((username, target)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let channel = channel_named(&state, &username).await?;
    let target = user_named(&state, &target).await?.id;
    let by = user.account.id;
    state
        .realtime
        .stage(channel.id, |reply| StageMsg::Remove {
            by,
            user: target,
            reply,
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
