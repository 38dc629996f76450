//! Liveness, readiness and metrics.

use axum::{
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{AppState, error::ErrorBody};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
        .routes(routes!(platform))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    status: &'static str,
}

/// Liveness: the process serves requests.
#[utoipa::path(get, path = "/healthz", tag = "system", responses((status = 200, description = "OK", body = Health)))]
async fn healthz() -> axum::Json<Health> {
    axum::Json(Health { status: "ok" })
}

/// Readiness: the store answers.
#[utoipa::path(get, path = "/readyz", tag = "system",
    responses((status = 200, description = "OK", body = Health), (status = 503, description = "Unavailable", body = ErrorBody)))]
async fn readyz(
    State(state): State<AppState>,
) -> Result<axum::Json<Health>, super::error::ApiError> {
    state
        .store
        .ping()
        .await
        .map_err(|e| super::error::ApiError::Unavailable(format!("store: {e}")))?;
    Ok(axum::Json(Health { status: "ready" }))
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "system",
    responses((status = 200, description = "OK", content_type = "text/plain", body = String)))]
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}

/// What this deployment offers, so the web client picks its video, chat and stage transports.
#[derive(Debug, Serialize, ToSchema)]
pub struct Platform {
    /// `local` (embedded, no video service) or `aws`.
    backend: crate::config::Backend,
    /// `local`: no playback or broadcast; `ivs`: the IVS Player and Web Broadcast SDKs apply.
    video: &'static str,
    /// `builtin`: chat over the Showrunner websocket. `ivs`: an IVS Chat room per channel;
    /// `POST /api/channels/{username}/chat-room/token` gives the token to connect with.
    chat: &'static str,
    /// Whether Amazon product search is configured.
    product_search: bool,
    /// Most publishers on a stage.
    stage_capacity: usize,
    /// The websocket protocol version.
    protocol_version: u32,
}

/// What this deployment offers (public).
#[utoipa::path(get, path = "/api/platform", tag = "system",
    responses((status = 200, description = "OK", body = Platform)))]
async fn platform(State(state): State<AppState>) -> axum::Json<Platform> {
    let aws = state.config.backend == crate::config::Backend::Aws;
    axum::Json(Platform {
        backend: state.config.backend,
        video: if aws { "ivs" } else { "local" },
        chat: if aws && state.config.aws.chat == crate::config::ChatTransport::Ivs {
            "ivs"
        } else {
            "builtin"
        },
        product_search: state.config.catalog.is_some(),
        stage_capacity: crate::actors::stage::MAX_PUBLISHERS,
        protocol_version: crate::gateway::protocol::PROTOCOL_VERSION,
    })
}
