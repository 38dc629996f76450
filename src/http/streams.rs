//! Stream health over HTTP.
//!
//! - `/api/stream-events…`: for EventBridge (an API destination whose connection sends the
//!   operator's shared secret in `x-stream-events-secret`) and for the local stream simulator.
//!   Without `streams.events_secret` configured they answer 503 (so EventBridge keeps retrying
//!   until the operator sets it); a missing or wrong secret is 401 and nothing is read or stored.
//! - `/api/me/stream-sessions…`: the signed-in streamer's own sessions. There is no way to
//!   name another channel, so another streamer's session is simply not found.

use axum::{
    extract::{FromRequestParts, Path, Query, State},
    http::{StatusCode, request::Parts},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    AppState,
    error::{ApiError, ErrorBody},
    extract::{AuthUser, Json},
};
use crate::{
    domain::{
        FieldError,
        stream::{IngestConfiguration, MetricSample, StreamEvent},
    },
    store::StreamSession,
    streams::{
        EVENTS_SECRET_HEADER, IngestOutcome, LocalReport, MAX_PAGE, StreamError,
        event::{EventEnvelope, parse_stream_id},
        metrics::MetricSeries,
    },
};

/// Samples one local report may carry (20 minutes at one per 5 s; well inside the body limit).
pub const MAX_SAMPLES: usize = 240;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ingest_event))
        .routes(routes!(simulator_channel))
        .routes(routes!(report_local_metrics))
        .routes(routes!(list_sessions))
        .routes(routes!(get_session))
}

impl From<StreamError> for ApiError {
    fn from(e: StreamError) -> Self {
        match e {
            StreamError::Disabled => ApiError::Unavailable(
                "stream events are off: streams.events_secret is not set".into(),
            ),
            StreamError::BadSecret => ApiError::Unauthenticated("invalid_secret"),
            StreamError::UnknownChannel => ApiError::Validation(
                FieldError::new(
                    "resources",
                    "unknown_channel",
                    "names no channel of this service",
                )
                .into(),
            ),
            StreamError::Invalid(errors) => ApiError::Validation(errors),
            StreamError::NotFound => ApiError::NotFound("stream session"),
            StreamError::LocalMetricsDisabled => ApiError::NotFound("local metrics endpoint"),
            StreamError::Unavailable(msg) => ApiError::Unavailable(msg),
            StreamError::Internal(msg) => ApiError::Internal(msg),
        }
    }
}

/// The caller presented the stream-events secret. Checked from the headers alone, before the
/// body is read.
struct EventsSecret;

impl FromRequestParts<AppState> for EventsSecret {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let presented = parts
            .headers
            .get(EVENTS_SECRET_HEADER)
            .map(|v| v.as_bytes());
        state.streams.authorize(presented)?;
        Ok(EventsSecret)
    }
}

/// What became of a delivered event.
#[derive(Debug, Serialize, ToSchema)]
pub struct IngestReply {
    /// `stored`, `duplicate` (delivered before; nothing changed), `ignored` (not about a
    /// channel's stream) or `unattached` (no stream id and no session at that time).
    outcome: &'static str,
    /// The session the event was stored with.
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_id: Option<String>,
    /// Why it was ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
}

/// Deliver an IVS event, exactly as EventBridge sends it to an API destination. Idempotent by
/// event id; events may arrive late and out of order. A stream start or end changes the
/// channel's live state at once (directory, channel page, `live` frame on the websocket).
#[utoipa::path(post, path = "/api/stream-events", tag = "stream health",
    params(("x-stream-events-secret" = String, Header, description = "The shared secret configured as `streams.events_secret`")),
    request_body = EventEnvelope,
    responses((status = 200, description = "Accepted: stored, a duplicate, or ignored", body = IngestReply),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 401, description = "Missing or wrong secret; nothing was stored", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "A field is missing or invalid, or the channel ARN is unknown (field `resources`, code `unknown_channel`); nothing was stored", body = ErrorBody),
        (status = 503, description = "Stream events are off (no secret configured), or the store is unavailable", body = ErrorBody)))]
async fn ingest_event(
    State(state): State<AppState>,
    _: EventsSecret,
    Json(envelope): Json<EventEnvelope>,
) -> Result<Json<IngestReply>, ApiError> {
    let reply = match state.streams.ingest(envelope).await? {
        IngestOutcome::Stored { stream_id } => IngestReply {
            outcome: "stored",
            stream_id: Some(stream_id),
            reason: None,
        },
        IngestOutcome::Duplicate => IngestReply {
            outcome: "duplicate",
            stream_id: None,
            reason: None,
        },
        IngestOutcome::Ignored(why) => IngestReply {
            outcome: "ignored",
            stream_id: None,
            reason: Some(why),
        },
        IngestOutcome::Unattached => IngestReply {
            outcome: "unattached",
            stream_id: None,
            reason: Some("no session of the channel had started by the event's time"),
        },
    };
    Ok(Json(reply))
}

/// The media ARN events about a channel carry.
#[derive(Debug, Serialize, ToSchema)]
pub struct SimulatorChannel {
    username: String,
    /// Goes into `resources[0]` of the channel's events.
    channel_arn: String,
}

/// The channel ARN of a username, for the stream simulator (and operators checking their
/// EventBridge rule).
#[utoipa::path(get, path = "/api/stream-events/channels/{username}", tag = "stream health",
    params(("username" = String, Path),
        ("x-stream-events-secret" = String, Header, description = "The shared secret configured as `streams.events_secret`")),
    responses((status = 200, description = "The channel's ARN", body = SimulatorChannel),
        (status = 401, description = "Missing or wrong secret", body = ErrorBody),
        (status = 404, description = "No such channel", body = ErrorBody),
        (status = 503, description = "Stream events are off (no secret configured)", body = ErrorBody)))]
async fn simulator_channel(
    State(state): State<AppState>,
    _: EventsSecret,
    Path(username): Path<String>,
) -> Result<Json<SimulatorChannel>, ApiError> {
    let account = state
        .streams
        .channel_named(&username)
        .await
        .map_err(|e| match e {
            StreamError::NotFound => ApiError::NotFound("channel"),
            other => other.into(),
        })?;
    Ok(Json(SimulatorChannel {
        username: account.username.to_string(),
        channel_arn: account.channel.arn,
    }))
}

/// What a local encoder stand-in measured.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocalMetricsReport {
    channel_arn: String,
    stream_id: String,
    /// The encoder settings, once per session is enough.
    #[serde(default)]
    ingest_configuration: Option<IngestConfiguration>,
    /// At most 240; a sample at a time already reported replaces it.
    #[serde(default)]
    samples: Vec<MetricSample>,
}

/// Record metric samples and encoder settings of a session, where metrics are local
/// (`streams.metrics = "local"`): the stream simulator's stand-in for what IVS reports to
/// CloudWatch. The session must exist (its first event creates it).
#[utoipa::path(post, path = "/api/stream-events/local-metrics", tag = "stream health",
    params(("x-stream-events-secret" = String, Header, description = "The shared secret configured as `streams.events_secret`")),
    request_body = LocalMetricsReport,
    responses((status = 204, description = "Recorded"),
        (status = 401, description = "Missing or wrong secret", body = ErrorBody),
        (status = 404, description = "No such session, or metrics come from CloudWatch here", body = ErrorBody),
        (status = 422, description = "Invalid fields, too many samples, or an unknown channel ARN", body = ErrorBody),
        (status = 503, description = "Stream events are off (no secret configured)", body = ErrorBody)))]
async fn report_local_metrics(
    State(state): State<AppState>,
    _: EventsSecret,
    Json(body): Json<LocalMetricsReport>,
) -> Result<StatusCode, ApiError> {
    let stream_id = parse_stream_id("stream_id", &body.stream_id)?;
    if body.samples.len() > MAX_SAMPLES {
        return Err(FieldError::new(
            "samples",
            "too_many",
            format!("at most {MAX_SAMPLES} samples per report"),
        )
        .into());
    }
    state
        .streams
        .report_local(LocalReport {
            channel_arn: body.channel_arn,
            stream_id,
            ingest_configuration: body.ingest_configuration,
            samples: body.samples,
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A stream session in the list.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionSummary {
    /// IVS's stream id (`st-…`).
    stream_id: String,
    started_at: DateTime<Utc>,
    /// `null` while not over.
    ended_at: Option<DateTime<Utc>>,
    live: bool,
    /// When the stream started, while live.
    live_since: Option<DateTime<Utc>>,
    /// False while starving (the last health event is a "Starvation Start").
    healthy: bool,
    /// True once a limit (bitrate, resolution…) was breached.
    has_error: bool,
}

impl From<&StreamSession> for SessionSummary {
    fn from(s: &StreamSession) -> Self {
        Self {
            stream_id: s.stream_id.clone(),
            started_at: s.started_at,
            ended_at: s.ended_at,
            live: s.live_since.is_some(),
            live_since: s.live_since,
            healthy: s.healthy,
            has_error: s.has_error,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    /// Newest first.
    sessions: Vec<SessionSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionListParams {
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Sessions per page, 1–50 (default 20).
    limit: Option<String>,
}

/// Your channel's stream sessions, newest first.
#[utoipa::path(get, path = "/api/me/stream-sessions", tag = "stream health", security(("bearer" = [])),
    params(SessionListParams),
    responses((status = 200, description = "A page of your sessions, newest first", body = SessionList),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 422, description = "A cursor this API did not give you, or a bad limit", body = ErrorBody)))]
async fn list_sessions(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Query(params): Query<SessionListParams>,
) -> Result<Json<SessionList>, ApiError> {
    let limit = match params.limit.as_deref() {
        None => 20,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| FieldError::new("limit", "range", "must be a number from 1 to 50"))?,
    };
    let page = state
        .streams
        .sessions(user.account.id, params.cursor.as_deref(), limit)
        .await?;
    Ok(Json(SessionList {
        sessions: page.sessions.iter().map(SessionSummary::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// An event of a session.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionEvent {
    /// EventBridge's event id (`showrunner-offline-…`, `showrunner-online-…` for Showrunner's
    /// own).
    id: String,
    /// The IVS event type, e.g. `IVS Stream Health Change`.
    #[serde(rename = "type")]
    event_type: &'static str,
    /// e.g. `Starvation Start`, `Ingest Bitrate`, `Recording End`; or Showrunner's own
    /// `Stream Offline` (IVS no longer broadcasts a session whose end event never came) and
    /// `Stream Online` (IVS broadcasts one whose start event never came).
    name: String,
    time: DateTime<Utc>,
}

impl From<StreamEvent> for SessionEvent {
    fn from(e: StreamEvent) -> Self {
        Self {
            id: e.id,
            event_type: e.event_type.as_str(),
            name: e.name,
            time: e.at,
        }
    }
}

/// One session with its health page's contents.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionDetailView {
    #[serde(flatten)]
    session: SessionSummary,
    /// The encoder settings, once known.
    ingest_configuration: Option<IngestConfiguration>,
    /// In the order they happened.
    events: Vec<SessionEvent>,
    /// Bitrate, frame rate, keyframe interval and concurrent views, always in that order.
    metrics: Vec<MetricSeries>,
}

/// One of your channel's sessions: its events, flags, encoder settings and metrics. Poll it
/// while the session is live; an ended session's metrics are read once and kept.
#[utoipa::path(get, path = "/api/me/stream-sessions/{stream_id}", tag = "stream health", security(("bearer" = [])),
    params(("stream_id" = String, Path, description = "IVS's stream id (`st-…`)")),
    responses((status = 200, description = "The session", body = SessionDetailView),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 404, description = "You have no session with this id", body = ErrorBody),
        (status = 503, description = "Metrics are unavailable just now; try again", body = ErrorBody)))]
async fn get_session(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(stream_id): Path<String>,
) -> Result<Json<SessionDetailView>, ApiError> {
    let stream_id = parse_stream_id("stream_id", &stream_id)
        .map_err(|_| ApiError::NotFound("stream session"))?;
    let detail = state
        .streams
        .session(&user.account, &stream_id, Utc::now())
        .await?;
    Ok(Json(SessionDetailView {
        session: SessionSummary::from(&detail.session),
        ingest_configuration: detail.session.ingest_configuration.clone(),
        events: detail.events.into_iter().map(SessionEvent::from).collect(),
        metrics: detail.metrics,
    }))
}
