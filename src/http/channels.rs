//! `/api/channels/*` and `/api/me/following/*`: channel pages, follows and the live directory.

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
    views::ChannelSummary,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(directory))
        .routes(routes!(channel))
        .routes(routes!(following))
        .routes(routes!(follow, unfollow))
}

/// A channel page.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelPage {
    #[serde(flatten)]
    channel: ChannelSummary,
    playback_url: String,
    /// Whether the signed-in viewer follows this channel.
    is_following: bool,
    /// Whether the signed-in viewer owns this channel.
    is_own: bool,
}

/// A channel page: owner profile, live status, playback URL and the viewer's relation to it.
/// Works signed in or not; a bad token is still 401.
#[utoipa::path(get, path = "/api/channels/{username}", tag = "channels", security((), ("bearer" = [])),
    params(("username" = String, Path, description = "Channel name, any case")),
    responses((status = 200, description = "OK", body = ChannelPage), (status = 401, description = "Missing or invalid credentials", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody)))]
async fn channel(
    State(state): State<AppState>,
    MaybeAuthUser(viewer): MaybeAuthUser,
    Path(username): Path<String>,
) -> Result<Json<ChannelPage>, ApiError> {
    let view = state
        .accounts
        .channel(&username, viewer.as_ref())
        .await
        .map_err(not_found("channel"))?;
    Ok(Json(ChannelPage {
        channel: ChannelSummary::new(&view.owner, &state.accounts),
        playback_url: view.owner.channel.playback_url.clone(),
        is_following: view.following,
        is_own: view.is_own,
    }))
}

fn not_found(what: &'static str) -> impl Fn(crate::accounts::AccountError) -> ApiError {
    move |e| match ApiError::from(e) {
        ApiError::NotFound(_) => ApiError::NotFound(what),
        other => other,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelList {
    channels: Vec<ChannelSummary>,
    /// The most entries a list holds.
    max_results: usize,
}

/// Live channels, most recently started first (at most 50).
#[utoipa::path(get, path = "/api/channels", tag = "channels",
    responses((status = 200, description = "OK", body = ChannelList)))]
async fn directory(State(state): State<AppState>) -> Result<Json<ChannelList>, ApiError> {
    let live = state.accounts.directory().await?;
    Ok(Json(ChannelList {
        channels: live
            .iter()
            .map(|a| ChannelSummary::new(a, &state.accounts))
            .collect(),
        max_results: crate::accounts::LIST_LIMIT,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FollowedChannel {
    #[serde(flatten)]
    channel: ChannelSummary,
    followed_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FollowingList {
    channels: Vec<FollowedChannel>,
    max_results: usize,
}

/// Channels you follow: live first (latest start first), then by most recent follow (at most 50).
#[utoipa::path(get, path = "/api/me/following", tag = "channels", security(("bearer" = [])),
    responses((status = 200, description = "OK", body = FollowingList), (status = 401, description = "Missing or invalid credentials", body = ErrorBody)))]
async fn following(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<FollowingList>, ApiError> {
    let list = state.accounts.following(&user).await?;
    Ok(Json(FollowingList {
        channels: list
            .iter()
            .map(|f| FollowedChannel {
                channel: ChannelSummary::new(&f.account, &state.accounts),
                followed_at: f.followed_at,
            })
            .collect(),
        max_results: crate::accounts::LIST_LIMIT,
    }))
}

/// Follow a channel. Idempotent.
#[utoipa::path(put, path = "/api/me/following/{username}", tag = "channels", security(("bearer" = [])),
    params(("username" = String, Path)),
    responses((status = 204, description = "Done"), (status = 401, description = "Missing or invalid credentials", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody),
        (status = 422, description = "Following yourself", body = ErrorBody)))]
async fn follow(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .accounts
        .follow(&user, &username)
        .await
        .map_err(not_found("channel"))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unfollow a channel. Idempotent.
#[utoipa::path(delete, path = "/api/me/following/{username}", tag = "channels", security(("bearer" = [])),
    params(("username" = String, Path)),
    responses((status = 204, description = "Done"), (status = 401, description = "Missing or invalid credentials", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody)))]
async fn unfollow(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .accounts
        .unfollow(&user, &username)
        .await
        .map_err(not_found("channel"))?;
    Ok(StatusCode::NO_CONTENT)
}
