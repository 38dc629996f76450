//! Stream sessions: one row per session in `stream_sessions` holding what its own events say,
//! its events in `stream_events`, local metric samples in `stream_metric_samples`.
//!
//! Whether a later session closed a session is not stored but read with it (`next_start`), so an
//! event never has to update a neighbouring session.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use super::accounts::{ACCOUNT_COLUMNS, account_from_row};
use super::{SqlJson, SqlTime, SqlUuid, SqliteStore, expect_one_row, sql_limit};
use crate::domain::AccountId;
use crate::domain::stream::{
    IngestConfiguration, MetricSample, SessionFacts, StreamEvent, StreamEventType,
};
use crate::store::{
    Account, EventOutcome, SessionPosition, StoreResult, StreamSession, StreamStore,
};

/// The columns [`session_from_row`] reads, in its order, for a session aliased `s`.
const SESSION_COLUMNS: &str = "s.channel_id, s.stream_id, s.started_at, s.live_since, \
     s.ended_at, s.healthy, s.has_error, s.ingest_configuration, \
     (SELECT n.started_at FROM stream_sessions n
      WHERE n.channel_id = s.channel_id
        AND (n.started_at > s.started_at
             OR (n.started_at = s.started_at AND n.stream_id > s.stream_id))
      ORDER BY n.started_at, n.stream_id
      LIMIT 1)";

fn session_from_row(row: &Row<'_>) -> rusqlite::Result<StreamSession> {
    let own_end = row.get::<_, Option<SqlTime>>(4)?.map(|t| t.0);
    let next_start = row.get::<_, Option<SqlTime>>(8)?.map(|t| t.0);
    let (live_since, ended_at) = match next_start {
        // Followed by another session: over, at the latest when that one started.
        Some(next) => (None, Some(own_end.unwrap_or(next))),
        None => (row.get::<_, Option<SqlTime>>(3)?.map(|t| t.0), own_end),
    };
    Ok(StreamSession {
        channel: AccountId(row.get::<_, SqlUuid>(0)?.0),
        stream_id: row.get(1)?,
        started_at: row.get::<_, SqlTime>(2)?.0,
        live_since,
        ended_at,
        healthy: row.get(5)?,
        has_error: row.get(6)?,
        ingest_configuration: row
            .get::<_, Option<SqlJson<IngestConfiguration>>>(7)?
            .map(|c| c.0),
    })
}

fn event_from_row(row: &Row<'_>) -> rusqlite::Result<StreamEvent> {
    let detail_type: String = row.get(1)?;
    let event_type = StreamEventType::parse(&detail_type).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            1,
            Type::Text,
            format!("unknown event type {detail_type:?}").into(),
        )
    })?;
    Ok(StreamEvent {
        id: row.get(0)?,
        event_type,
        name: row.get(2)?,
        at: row.get::<_, SqlTime>(3)?.0,
    })
}

fn sample_from_row(row: &Row<'_>) -> rusqlite::Result<MetricSample> {
    Ok(MetricSample {
        at: row.get::<_, SqlTime>(0)?.0,
        ingest_video_bitrate: row.get(1)?,
        ingest_framerate: row.get(2)?,
        keyframe_interval: row.get(3)?,
        concurrent_views: row.get(4)?,
    })
}

fn read_session(
    connection: &Connection,
    channel: AccountId,
    stream_id: &str,
) -> rusqlite::Result<Option<StreamSession>> {
    connection
        .prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM stream_sessions s
             WHERE s.channel_id = ?1 AND s.stream_id = ?2"
        ))?
        .query_row(params![SqlUuid(channel.0), stream_id], session_from_row)
        .optional()
}

fn read_events(
    connection: &Connection,
    channel: AccountId,
    stream_id: &str,
) -> rusqlite::Result<Vec<StreamEvent>> {
    let mut events = connection
        .prepare_cached(
            "SELECT event_id, event_type, name, at FROM stream_events
             WHERE channel_id = ?1 AND stream_id = ?2",
        )?
        .query_map(params![SqlUuid(channel.0), stream_id], event_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    events.sort_by(StreamEvent::chronological);
    Ok(events)
}

#[async_trait]
impl StreamStore for SqliteStore {
    async fn account_by_channel_arn(&self, arn: &str) -> StoreResult<Option<Account>> {
        let arn = arn.to_owned();
        self.with_connection(move |connection| {
            let account = connection
                .prepare_cached(&format!(
                    "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE arn = ?1"
                ))?
                .query_row([arn], account_from_row)
                .optional()?;
            Ok(account)
        })
        .await
    }

    async fn record_stream_event(
        &self,
        channel: AccountId,
        stream_id: Option<&str>,
        event: &StreamEvent,
    ) -> StoreResult<EventOutcome> {
        let stream_id = stream_id.map(str::to_owned);
        let event = event.clone();
        self.with_connection(move |connection| {
            let transaction =
                connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let seen = transaction
                .prepare_cached("SELECT 1 FROM stream_events WHERE event_id = ?1")?
                .exists([&event.id])?;
            if seen {
                return Ok(EventOutcome::Duplicate);
            }
            let stream_id = match stream_id {
                Some(id) => id,
                None => {
                    let latest = transaction
                        .prepare_cached(
                            "SELECT stream_id FROM stream_sessions
                             WHERE channel_id = ?1 AND started_at <= ?2
                             ORDER BY started_at DESC, stream_id DESC
                             LIMIT 1",
                        )?
                        .query_row(params![SqlUuid(channel.0), SqlTime(event.at)], |row| {
                            row.get::<_, String>(0)
                        })
                        .optional()?;
                    match latest {
                        Some(id) => id,
                        None => return Ok(EventOutcome::NoSession),
                    }
                }
            };
            // A session is created by its first event; its facts are set just below.
            transaction.execute(
                "INSERT INTO stream_sessions (channel_id, stream_id, started_at, healthy, has_error)
                 VALUES (?1, ?2, ?3, 1, 0)
                 ON CONFLICT (channel_id, stream_id) DO NOTHING",
                params![SqlUuid(channel.0), stream_id, SqlTime(event.at)],
            )?;
            transaction.execute(
                "INSERT INTO stream_events (event_id, channel_id, stream_id, event_type, name, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    event.id,
                    SqlUuid(channel.0),
                    stream_id,
                    event.event_type.as_str(),
                    event.name,
                    SqlTime(event.at),
                ],
            )?;
            let events = read_events(&transaction, channel, &stream_id)?;
            // At least the event just stored.
            if let Some(facts) = SessionFacts::from_events(&events) {
                transaction.execute(
                    "UPDATE stream_sessions
                     SET started_at = ?3, live_since = ?4, ended_at = ?5, healthy = ?6,
                         has_error = ?7
                     WHERE channel_id = ?1 AND stream_id = ?2",
                    params![
                        SqlUuid(channel.0),
                        stream_id,
                        SqlTime(facts.started_at),
                        facts.live_since.map(SqlTime),
                        facts.ended_at.map(SqlTime),
                        facts.healthy,
                        facts.has_error,
                    ],
                )?;
            }
            let session = read_session(&transaction, channel, &stream_id)?
                .ok_or(crate::store::StoreError::NotFound)?;
            transaction.commit()?;
            Ok(EventOutcome::Stored(session))
        })
        .await
    }

    async fn stream_sessions(
        &self,
        channel: AccountId,
        after: Option<&SessionPosition>,
        limit: usize,
    ) -> StoreResult<Vec<StreamSession>> {
        let after = after.cloned();
        self.with_connection(move |connection| {
            // Without a position, one after the newest possible one.
            let (after_start, after_id) = match after {
                Some(p) => (p.started_at.timestamp_millis(), Some(p.stream_id)),
                None => (i64::MAX, None),
            };
            let sessions = connection
                .prepare_cached(&format!(
                    "SELECT {SESSION_COLUMNS} FROM stream_sessions s
                     WHERE s.channel_id = ?1
                       AND (s.started_at < ?2
                            OR (s.started_at = ?2 AND (?3 IS NULL OR s.stream_id < ?3)))
                     ORDER BY s.started_at DESC, s.stream_id DESC
                     LIMIT ?4"
                ))?
                .query_map(
                    params![SqlUuid(channel.0), after_start, after_id, sql_limit(limit)],
                    session_from_row,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(sessions)
        })
        .await
    }

    async fn stream_session(
        &self,
        channel: AccountId,
        stream_id: &str,
    ) -> StoreResult<Option<StreamSession>> {
        let stream_id = stream_id.to_owned();
        self.with_connection(move |connection| Ok(read_session(connection, channel, &stream_id)?))
            .await
    }

    async fn stream_events(
        &self,
        channel: AccountId,
        stream_id: &str,
    ) -> StoreResult<Vec<StreamEvent>> {
        let stream_id = stream_id.to_owned();
        self.with_connection(move |connection| Ok(read_events(connection, channel, &stream_id)?))
            .await
    }

    async fn set_ingest_configuration(
        &self,
        channel: AccountId,
        stream_id: &str,
        configuration: &IngestConfiguration,
    ) -> StoreResult<()> {
        let stream_id = stream_id.to_owned();
        let configuration = configuration.clone();
        self.with_connection(move |connection| {
            expect_one_row(connection.execute(
                "UPDATE stream_sessions SET ingest_configuration = ?3
                 WHERE channel_id = ?1 AND stream_id = ?2",
                params![SqlUuid(channel.0), stream_id, SqlJson(&configuration)],
            )?)
        })
        .await
    }

    async fn put_metric_samples(
        &self,
        channel: AccountId,
        stream_id: &str,
        samples: &[MetricSample],
    ) -> StoreResult<()> {
        let stream_id = stream_id.to_owned();
        let samples = samples.to_vec();
        self.with_connection(move |connection| {
            let transaction =
                connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // The foreign key would say NotFound too, but only for a non-empty batch.
            let exists = transaction
                .prepare_cached(
                    "SELECT 1 FROM stream_sessions WHERE channel_id = ?1 AND stream_id = ?2",
                )?
                .exists(params![SqlUuid(channel.0), stream_id])?;
            expect_one_row(usize::from(exists))?;
            {
                let mut insert = transaction.prepare_cached(
                    "INSERT INTO stream_metric_samples (channel_id, stream_id, at,
                         ingest_video_bitrate, ingest_framerate, keyframe_interval,
                         concurrent_views)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (channel_id, stream_id, at) DO UPDATE SET
                         ingest_video_bitrate = excluded.ingest_video_bitrate,
                         ingest_framerate = excluded.ingest_framerate,
                         keyframe_interval = excluded.keyframe_interval,
                         concurrent_views = excluded.concurrent_views",
                )?;
                for sample in &samples {
                    insert.execute(params![
                        SqlUuid(channel.0),
                        stream_id,
                        SqlTime(sample.at),
                        sample.ingest_video_bitrate,
                        sample.ingest_framerate,
                        sample.keyframe_interval,
                        sample.concurrent_views,
                    ])?;
                }
            }
            transaction.commit()?;
            Ok(())
        })
        .await
    }

    async fn metric_samples(
        &self,
        channel: AccountId,
        stream_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<MetricSample>> {
        let stream_id = stream_id.to_owned();
        self.with_connection(move |connection| {
            let samples = connection
                .prepare_cached(
                    "SELECT at, ingest_video_bitrate, ingest_framerate, keyframe_interval,
                         concurrent_views
                     FROM stream_metric_samples
                     WHERE channel_id = ?1 AND stream_id = ?2 AND at >= ?3 AND at < ?4
                     ORDER BY at",
                )?
                .query_map(
                    params![SqlUuid(channel.0), stream_id, SqlTime(from), SqlTime(to)],
                    sample_from_row,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(samples)
        })
        .await
    }

    async fn cached_metrics(
        &self,
        channel: AccountId,
        stream_id: &str,
        key: &str,
    ) -> StoreResult<Option<serde_json::Value>> {
        let stream_id = stream_id.to_owned();
        let key = key.to_owned();
        self.with_connection(move |connection| {
            let cached = connection
                .prepare_cached(
                    "SELECT metrics FROM stream_sessions
                     WHERE channel_id = ?1 AND stream_id = ?2 AND metrics_key = ?3",
                )?
                .query_row(params![SqlUuid(channel.0), stream_id, key], |row| {
                    row.get::<_, Option<SqlJson<serde_json::Value>>>(0)
                })
                .optional()?;
            Ok(cached.flatten().map(|m| m.0))
        })
        .await
    }

    async fn put_cached_metrics(
        &self,
        channel: AccountId,
        stream_id: &str,
        key: &str,
        metrics: &serde_json::Value,
    ) -> StoreResult<()> {
        let stream_id = stream_id.to_owned();
        let key = key.to_owned();
        let metrics = metrics.clone();
        self.with_connection(move |connection| {
            expect_one_row(connection.execute(
                "UPDATE stream_sessions SET metrics_key = ?3, metrics = ?4
                 WHERE channel_id = ?1 AND stream_id = ?2",
                params![SqlUuid(channel.0), stream_id, key, SqlJson(&metrics)],
            )?)
        })
        .await
    }
}
