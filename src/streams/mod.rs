//! Stream health: IVS events in, stream sessions and their metrics out.
//!
//! ```text
//! EventBridge ──POST /api/stream-events──▶ StreamHealth::ingest ──▶ StreamStore (sessions, events)
//!                                               │
//!                                               └─▶ AccountStore::set_live + Realtime::set_live
//! health page ──GET /api/me/stream-sessions──▶ StreamHealth::sessions / session ──▶ Metrics port
//!                                                                      └─▶ Media port (encoder settings)
//! ```
//! The channel's live state follows its newest session: live from that session's stream start
//! until its end, so the directory, the channel page and websocket viewers (a `live` frame) see
//! a channel go live or offline as soon as IVS says so. In AWS mode a periodic check also asks
//! IVS, and ends a session whose end event never came ([`live_check`]).

pub mod cursor;
pub mod event;
pub mod live_check;
pub mod metrics;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use subtle::ConstantTimeEq;

use self::{
    cursor::CursorKey,
    event::{EventEnvelope, Parsed},
    metrics::{MetricSeries, Metrics, MetricsError, SessionMetrics},
};
use crate::{
    actors::Realtime,
    domain::{
        AccountId, FieldError, FieldErrors,
        stream::{IngestConfiguration, MetricSample, StreamEvent},
    },
    media::Media,
    store::{Account, EventOutcome, Store, StoreError, StreamSession},
};

/// The header EventBridge's API-destination connection (and the simulator) sends the shared
/// secret in.
pub const EVENTS_SECRET_HEADER: &str = "x-stream-events-secret";

/// Sessions per page at most.
pub const MAX_PAGE: usize = 50;

/// Why a stream-health request was refused.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// No ingest secret is configured: the event endpoints are off.
    #[error("stream event ingest is disabled")]
    Disabled,
    #[error("missing or wrong stream-events secret")]
    BadSecret,
    /// The event names a channel ARN no account has.
    #[error("unknown channel")]
    UnknownChannel,
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    /// No such session of this channel (or no such channel, for the simulator's look-up).
    #[error("not found")]
    NotFound,
    /// Metrics here come from the video service; nothing records samples.
    #[error("local metrics are disabled")]
    LocalMetricsDisabled,
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("internal failure: {0}")]
    Internal(String),
}

impl From<StoreError> for StreamError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => StreamError::NotFound,
            StoreError::Conflict(field) => StreamError::Internal(format!("conflict on {field}")),
            StoreError::Unavailable(msg) => StreamError::Unavailable(msg),
            StoreError::Backend(source) => StreamError::Internal(source.to_string()),
        }
    }
}

impl From<MetricsError> for StreamError {
    fn from(e: MetricsError) -> Self {
        match e {
            MetricsError::Unsupported => StreamError::LocalMetricsDisabled,
            MetricsError::NotFound => StreamError::NotFound,
            other => StreamError::Unavailable(other.to_string()),
        }
    }
}

impl From<FieldErrors> for StreamError {
    fn from(e: FieldErrors) -> Self {
        StreamError::Invalid(e)
    }
}

impl From<FieldError> for StreamError {
    fn from(e: FieldError) -> Self {
        StreamError::Invalid(e.into())
    }
}

pub type StreamResult<T> = Result<T, StreamError>;

/// What became of a delivered event.
#[derive(Debug, Clone, PartialEq)]
pub enum IngestOutcome {
    /// Stored with its session, whose state it may have changed.
    Stored { stream_id: String },
    /// Delivered before; nothing changed.
    Duplicate,
    /// Not about a channel's stream; dropped (the reason).
    Ignored(&'static str),
    /// No stream id, and the channel had no session by the event's time; dropped.
    Unattached,
}

/// A page of a channel's sessions, newest first.
#[derive(Debug, Clone)]
pub struct SessionPage {
    pub sessions: Vec<StreamSession>,
    /// Continues after the last session of this page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// One session with everything its health page shows.
#[derive(Debug, Clone)]
pub struct SessionDetail {
    pub session: StreamSession,
    /// In their time order.
    pub events: Vec<StreamEvent>,
    pub metrics: Vec<MetricSeries>,
}

/// Samples and encoder settings of a local session, as the stream simulator reports them.
#[derive(Debug, Clone)]
pub struct LocalReport {
    pub channel_arn: String,
    pub stream_id: String,
    pub ingest_configuration: Option<IngestConfiguration>,
    pub samples: Vec<MetricSample>,
}

/// The shared secret EventBridge (through its API destination's connection) presents.
#[derive(Clone)]
struct IngestSecret(Arc<[u8]>);

impl IngestSecret {
    fn matches(&self, presented: &[u8]) -> bool {
        // Constant time in the contents; only the length can leak, and it is not secret.
        bool::from(self.0.as_ref().ct_eq(presented))
    }
}

/// The stream-health flows. Cheap to clone.
#[derive(Clone)]
pub struct StreamHealth {
    store: Arc<dyn Store>,
    realtime: Realtime,
    metrics: SessionMetrics,
    /// Where a session's encoder settings come from when nothing reported them (IVS
    /// `GetStreamSession` in AWS mode).
    media: Arc<dyn Media>,
    cursors: CursorKey,
    secret: Option<IngestSecret>,
    /// Held from recording an event until the channel's live state agrees with it, so that two
    /// events delivered at once cannot leave the older verdict last. Events are a handful per
    /// broadcast; one lock for all channels costs nothing.
    ingest: Arc<tokio::sync::Mutex<()>>,
}

impl StreamHealth {
    /// `events_secret` empty: ingest is disabled. `service_secret` keys the page cursors.
    pub fn new(
        store: Arc<dyn Store>,
        realtime: Realtime,
        metrics: Arc<dyn Metrics>,
        media: Arc<dyn Media>,
        events_secret: &str,
        service_secret: &[u8],
    ) -> Self {
        Self {
            metrics: SessionMetrics::new(store.clone(), metrics),
            media,
            store,
            realtime,
            cursors: CursorKey::derive(service_secret),
            secret: (!events_secret.is_empty())
                .then(|| IngestSecret(Arc::from(events_secret.as_bytes()))),
            ingest: Arc::default(),
        }
    }

    /// Checks the secret a caller of the event endpoints presented.
    pub fn authorize(&self, presented: Option<&[u8]>) -> StreamResult<()> {
        let secret = self.secret.as_ref().ok_or(StreamError::Disabled)?;
        match presented {
            Some(p) if secret.matches(p) => Ok(()),
            _ => Err(StreamError::BadSecret),
        }
    }

    /// Stores an IVS event with its session and brings the channel's live state in line with
    /// its newest session. A redelivered event changes nothing but still re-checks the live
    /// state, so a redelivery also repairs an earlier attempt that stopped half way.
    pub async fn ingest(&self, envelope: EventEnvelope) -> StreamResult<IngestOutcome> {
        let event = match envelope.parse()? {
            Parsed::Channel(event) => event,
            Parsed::Ignored(why) => return Ok(IngestOutcome::Ignored(why)),
        };
        let account = self.channel_by_arn(&event.channel_arn).await?;
        let _one_at_a_time = self.ingest.lock().await;
        let outcome = self
            .store
            .record_stream_event(account.id, event.stream_id.as_deref(), &event.event)
            .await?;
        self.sync_live(account.id).await?;
        Ok(match outcome {
            EventOutcome::Stored(session) => IngestOutcome::Stored {
                stream_id: session.stream_id,
            },
            EventOutcome::Duplicate => IngestOutcome::Duplicate,
            EventOutcome::NoSession => IngestOutcome::Unattached,
        })
    }

    async fn channel_by_arn(&self, arn: &str) -> StreamResult<Account> {
        self.store
            .account_by_channel_arn(arn)
            .await?
            .ok_or(StreamError::UnknownChannel)
    }

    /// Live from the newest session's stream start while it is live; offline otherwise.
    async fn sync_live(&self, channel: AccountId) -> StreamResult<()> {
        let newest = self.store.stream_sessions(channel, None, 1).await?;
        let live_since = newest.first().and_then(|s| s.live_since);
        let account = self
            .store
            .account(channel)
            .await?
            .ok_or(StreamError::NotFound)?;
        if account.live_since != live_since {
            self.store.set_live(channel, live_since).await?;
            tracing::info!(%channel, live = live_since.is_some(), "channel live state changed");
        }
        // The actor ignores a state it already has, so telling it again is harmless.
        self.realtime.set_live(channel, live_since);
        Ok(())
    }

    /// The channel's sessions, newest first, `limit` (1–[`MAX_PAGE`]) at a time.
    pub async fn sessions(
        &self,
        channel: AccountId,
        cursor: Option<&str>,
        limit: usize,
    ) -> StreamResult<SessionPage> {
        let after = cursor
            .map(|c| self.cursors.open(channel, c))
            .transpose()
            .map_err(|_| FieldError::new("cursor", "invalid", "is not a cursor this API gave"))?;
        let limit = limit.clamp(1, MAX_PAGE);
        let mut sessions = self
            .store
            .stream_sessions(channel, after.as_ref(), limit + 1)
            .await?;
        let more = sessions.len() > limit;
        sessions.truncate(limit);
        let next_cursor = more
            .then(|| sessions.last())
            .flatten()
            .map(|last| self.cursors.issue(channel, &last.position()));
        Ok(SessionPage {
            sessions,
            next_cursor,
        })
    }

    /// One session of the channel with its events and metrics as seen at `now`. Another
    /// channel's session is `NotFound`, exactly like one that does not exist. Encoder settings
    /// nothing has reported yet are asked of the media service once it knows them, and kept.
    pub async fn session(
        &self,
        channel: &Account,
        stream_id: &str,
        now: DateTime<Utc>,
    ) -> StreamResult<SessionDetail> {
        let mut session = self
            .store
            .stream_session(channel.id, stream_id)
            .await?
            .ok_or(StreamError::NotFound)?;
        if session.ingest_configuration.is_none() {
            session.ingest_configuration =
                self.fetch_ingest_configuration(channel, stream_id).await;
        }
        let events = self.store.stream_events(channel.id, stream_id).await?;
        let metrics = self
            .metrics
            .of_session(&channel.channel.arn, &session, now)
            .await?;
        Ok(SessionDetail {
            session,
            events,
            metrics,
        })
    }

    /// The session's encoder settings from the media service, kept in the store once known.
    /// The page works without them, so a failure is logged and the page shown without.
    async fn fetch_ingest_configuration(
        &self,
        channel: &Account,
        stream_id: &str,
    ) -> Option<IngestConfiguration> {
        let found = match self
            .media
            .ingest_configuration(&channel.channel.arn, stream_id)
            .await
        {
            Ok(found) => found?,
            Err(e) => {
                tracing::warn!(channel = %channel.id, stream_id, error = %e, "encoder settings unavailable");
                return None;
            }
        };
        if let Err(e) = self
            .store
            .set_ingest_configuration(channel.id, stream_id, &found)
            .await
        {
            tracing::warn!(channel = %channel.id, stream_id, error = %e, "encoder settings not kept");
        }
        Some(found)
    }

    /// The channel named `username` (its media ARN), for the simulator.
    pub async fn channel_named(&self, username: &str) -> StreamResult<Account> {
        self.store
            .account_by_username(&username.to_ascii_lowercase())
            .await?
            .ok_or(StreamError::NotFound)
    }

    /// Keeps what a local encoder stand-in measured. Refused as a whole, before anything is
    /// kept, where metrics come from the video service.
    pub async fn report_local(&self, report: LocalReport) -> StreamResult<()> {
        let account = self.channel_by_arn(&report.channel_arn).await?;
        self.metrics
            .adapter()
            .record(account.id, &report.stream_id, &report.samples)
            .await?;
        if let Some(configuration) = &report.ingest_configuration {
            self.store
                .set_ingest_configuration(account.id, &report.stream_id, configuration)
                .await?;
        }
        Ok(())
    }
}
