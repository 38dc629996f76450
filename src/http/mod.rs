//! The HTTP API: `router(state)` builds it; `main` and the tests serve the same router.
//!
//! One module per resource; each contributes routes (with their OpenAPI description) through
//! `utoipa_axum`, so `/api/openapi.json` lists exactly the routes that exist.

mod accounts;
mod channels;
mod chat_rooms;
pub mod error;
mod extract;
mod live;
mod me;
mod moderation;
mod observe;
mod presets;
mod products;
mod stage;
mod streams;
mod system;
mod views;
mod web;

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderName, HeaderValue, Method, Request, header},
};
use tower_http::{
    cors::{AllowOrigin, CorsLayer},
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_axum::router::OpenApiRouter;

pub use observe::HttpMetrics;

use crate::{accounts::Accounts, config::Config, store::Store};

/// Largest JSON body any route accepts.
pub const JSON_BODY_LIMIT: usize = 64 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub accounts: Accounts,
    pub store: Arc<dyn Store>,
    pub metrics: Arc<HttpMetrics>,
    pub config: Arc<Config>,
    /// Where local assets are served from, if assets are local.
    pub asset_dir: Option<std::path::PathBuf>,
    pub realtime: crate::actors::Realtime,
    pub gateway: crate::gateway::GatewayDeps,
    /// Product search for the "Amazon product" action (may be the disabled stand-in).
    pub catalog: Arc<dyn crate::catalog::ProductCatalog>,
    /// Stream health: IVS event ingest, stream sessions and their metrics.
    pub streams: crate::streams::StreamHealth,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Showrunner API",
        description = "Accounts, channels, profiles, follows and the live directory of a live-streaming platform on Amazon IVS. Errors always have the shape `{\"error\": {\"code\", \"message\", \"fields\"?}}`."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Registration, login sessions, mailed links"),
        (name = "me", description = "The signed-in user's own account, profile and channel"),
        (name = "channels", description = "Channel pages, follows and the live directory"),
        (name = "live", description = "Live state, stream actions, polls and chat over HTTP"),
        (name = "moderation", description = "Bans, timeouts, moderators, chat settings"),
        (name = "stage", description = "Real-time stages: up to 12 publishers, invites, join requests"),
        (name = "realtime", description = "The websocket gateway (protocol in docs/protocol.md)"),
        (name = "stream health", description = "IVS stream events in; your stream sessions, their events and metrics out"),
        (name = "system", description = "Health, readiness, metrics and this document"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The API routes with their OpenAPI document.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(accounts::routes())
        .merge(me::routes())
        .merge(presets::routes())
        .merge(products::routes())
        .merge(channels::routes())
        .merge(live::routes())
        .merge(chat_rooms::routes())
        .merge(moderation::routes())
        .merge(stage::routes())
        .merge(streams::routes())
        .merge(system::routes())
        .routes(utoipa_axum::routes!(crate::gateway::upgrade))
}

/// The OpenAPI document, as served at `/api/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

pub fn router(state: AppState) -> Router {
    let (api, doc) = api().split_for_parts();
    let doc = Arc::new(doc);
    let request_id = HeaderName::from_static("x-request-id");
    let cors = cors(&state.config);
    let metrics = state.metrics.clone();

    Router::new()
        .merge(api)
        .route(
            "/api/openapi.json",
            axum::routing::get(move || {
                let doc = doc.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .merge(web::routes(&state))
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .with_state(state)
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            observe::record,
        ))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let id = request
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", id, method = %request.method(), uri = %request.uri())
            }),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(cors)
}

fn cors(config: &Config) -> CorsLayer {
    let origins: Vec<HeaderValue> = config
        .http
        .cors_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok())
        .collect();
    if origins.is_empty() {
        // Same origin only: no CORS headers at all.
        return CorsLayer::new();
    }
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .allow_credentials(true)
        .max_age(Duration::from_secs(3600))
}
