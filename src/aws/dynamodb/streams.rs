//! Stream sessions of a channel, in its `STREAMS#<channel>` partition: per session a
//! `SESSION#<stream id>` item (what its events say, its encoder settings, its cached metrics),
//! a `START#<started>#<stream id>` item giving its place in start order, one `EVENT#…` item per
//! event and one `SAMPLE#…` item per metric sample. Event ids are held globally
//! (`STREAMEVENT#<id>`), which makes a redelivered event a no-op for any channel.
//!
//! Recording an event reads the session's events, derives its facts, and writes the event, the
//! facts and (if the start moved) the start item in one transaction, conditioned on the session
//! item's version, so concurrent events of one session are applied one after the other.
//! Whether a later session closed a session is not stored but read with it, as in SQLite.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::accounts::account_from_item;
use super::error::condition_failed;
use super::item::{self, Attrs, Item, id, key, n, s, time, with};
use super::{DynamoStore, Query, keys};
use crate::domain::AccountId;
use crate::domain::stream::{
    IngestConfiguration, MetricSample, SessionFacts, StreamEvent, StreamEventType,
};
use crate::store::{
    Account, EventOutcome, SessionPosition, StoreError, StoreResult, StreamSession, StreamStore,
};

/// How often recording an event that raced another event of its session is tried again.
const RACE_ATTEMPTS: usize = 8;

/// Samples per transaction: DynamoDB's 100 actions, less the session's check.
const SAMPLES_PER_TRANSACTION: usize = 99;

/// The session as its own item says, before any later session is taken into account.
struct StoredSession {
    session: StreamSession,
    version: i64,
}

fn session_from_item(item: &Item) -> StoreResult<StoredSession> {
    let a = Attrs(item);
    let ingest_configuration = match a.opt_str("ingest_configuration")? {
        Some(text) => Some(
            serde_json::from_str::<IngestConfiguration>(text)
                .map_err(|e| StoreError::Backend(Box::new(e)))?,
        ),
        None => None,
    };
    Ok(StoredSession {
        session: StreamSession {
            channel: a.account("channel")?,
            stream_id: a.string("stream_id")?,
            started_at: a.time("started_at")?,
            live_since: a.opt_time("live_since")?,
            ended_at: a.opt_time("ended_at")?,
            healthy: a.flag("healthy")?,
            has_error: a.flag("has_error")?,
            ingest_configuration,
        },
        version: a.int("version")?,
    })
}

/// A session that a later one follows is over: not live, and ended when that one started
/// unless its own events say when.
fn followed_by(mut session: StreamSession, next_start: Option<DateTime<Utc>>) -> StreamSession {
    if let Some(next) = next_start {
        session.live_since = None;
        session.ended_at = Some(session.ended_at.unwrap_or(next));
    }
    session
}

fn event_from_item(item: &Item) -> StoreResult<StreamEvent> {
    let a = Attrs(item);
    let detail_type = a.str("event_type")?;
    Ok(StreamEvent {
        id: a.string("event_id")?,
        event_type: StreamEventType::parse(detail_type).ok_or_else(|| {
            StoreError::Backend(format!("unknown stream event type {detail_type:?}").into())
        })?,
        name: a.string("name")?,
        at: a.time("at")?,
    })
}

/// A metric reading as stored: absent when unknown, or when it is not a finite number (which
/// DynamoDB cannot hold).
fn reading(value: Option<f64>) -> Option<AttributeValue> {
    value.filter(|v| v.is_finite()).map(n)
}

fn sample_item(channel: AccountId, stream_id: &str, sample: &MetricSample) -> Item {
    let mut item = key(
        keys::streams_pk(channel),
        keys::stream_sample_sk(stream_id, sample.at.timestamp_millis()),
    );
    item.insert("at".to_owned(), time(sample.at));
    for (name, value) in [
        ("ingest_video_bitrate", sample.ingest_video_bitrate),
        ("ingest_framerate", sample.ingest_framerate),
        ("keyframe_interval", sample.keyframe_interval),
        ("concurrent_views", sample.concurrent_views),
    ] {
        if let Some(value) = reading(value) {
            item.insert(name.to_owned(), value);
        }
    }
    item
}

fn sample_from_item(item: &Item) -> StoreResult<MetricSample> {
    let a = Attrs(item);
    Ok(MetricSample {
        at: a.time("at")?,
        ingest_video_bitrate: a.opt_float("ingest_video_bitrate")?,
        ingest_framerate: a.opt_float("ingest_framerate")?,
        keyframe_interval: a.opt_float("keyframe_interval")?,
        concurrent_views: a.opt_float("concurrent_views")?,
    })
}

const SESSION_EXISTS: &str = "attribute_exists(#pk)";

impl DynamoStore {
    /// The stream id of the channel's latest session that started at or before `at`.
    async fn session_started_by(
        &self,
        channel: AccountId,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<String>> {
        let latest = self
            .query(Query {
                key_condition: "#pk = :pk AND #sk BETWEEN :first AND :last",
                values: vec![
                    (":pk", s(keys::streams_pk(channel))),
                    (":first", s(keys::STREAM_START)),
                    (":last", s(keys::stream_start_upto(at.timestamp_millis()))),
                ],
                descending: true,
                want: Some(1),
                ..Query::default()
            })
            .await?;
        latest
            .first()
            .map(|item| Attrs(item).string("stream_id"))
            .transpose()
    }

    /// When the session after the one with start key `start_sk` started, if there is one.
    async fn next_start(
        &self,
        channel: AccountId,
        start_sk: &str,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        let next = self
            .query(Query {
                key_condition: "#pk = :pk AND #sk BETWEEN :after AND :last",
                values: vec![
                    (":pk", s(keys::streams_pk(channel))),
                    (":after", s(start_sk)),
                    (":last", s(keys::STREAM_START_END)),
                ],
                want: Some(2),
                ..Query::default()
            })
            .await?;
        // BETWEEN includes the session's own start item.
        next.iter()
            .find(|item| Attrs(item).sk().is_ok_and(|sk| sk != start_sk))
            .map(|item| Attrs(item).time("started_at"))
            .transpose()
    }

    async fn stored_session(
        &self,
        channel: AccountId,
        stream_id: &str,
    ) -> StoreResult<Option<StoredSession>> {
        self.get(keys::stream_session(channel, stream_id))
            .await?
            .as_ref()
            .map(session_from_item)
            .transpose()
    }

    /// Sets attributes of an existing session; `NotFound` without one.
    async fn update_session(
        &self,
        channel: AccountId,
        stream_id: &str,
        update: &str,
        values: super::Values,
    ) -> StoreResult<()> {
        let outcome = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::stream_session(channel, stream_id)))
            .update_expression(update)
            .condition_expression(SESSION_EXISTS)
            .set_expression_attribute_names(item::names([update, SESSION_EXISTS]))
            .set_expression_attribute_values(item::values(values))
            .send()
            .await;
        match outcome {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Err(StoreError::NotFound),
            Err(e) => Err(self.fail("UpdateItem", e)),
        }
    }

    /// The keys of everything of the channel's stream sessions, for deleting the channel.
    pub(super) async fn stream_keys(&self, channel: AccountId) -> StoreResult<Vec<Item>> {
        let mut doomed = Vec::new();
        let items = self
            .query(Query {
                key_condition: "#pk = :pk",
                values: vec![(":pk", s(keys::streams_pk(channel)))],
                ..Query::default()
            })
            .await?;
        for item in &items {
            let a = Attrs(item);
            let sk = a.sk()?;
            if sk.starts_with(keys::STREAM_EVENT) {
                doomed.push(keys::stream_event_id(a.str("event_id")?));
            }
            doomed.push(key(a.str("pk")?, sk));
        }
        Ok(doomed)
    }
}

#[async_trait]
impl StreamStore for DynamoStore {
    async fn account_by_channel_arn(&self, arn: &str) -> StoreResult<Option<Account>> {
        let Some(holder) = self.get(keys::channel_arn(arn)).await? else {
            return Ok(None);
        };
        let account = Attrs(&holder).account("account")?;
        match self.get(keys::profile(account)).await? {
            Some(profile) => Ok(account_from_item(&profile)?.filter(|a| a.channel.arn == arn)),
            None => Ok(None),
        }
    }

    async fn record_stream_event(
        &self,
        channel: AccountId,
        stream_id: Option<&str>,
        event: &StreamEvent,
    ) -> StoreResult<EventOutcome> {
        if self.get(keys::stream_event_id(&event.id)).await?.is_some() {
            return Ok(EventOutcome::Duplicate);
        }
        let stream_id = match stream_id {
            Some(stream_id) => stream_id.to_owned(),
            None => match self.session_started_by(channel, event.at).await? {
                Some(stream_id) => stream_id,
                None => return Ok(EventOutcome::NoSession),
            },
        };
        let streams_pk = keys::streams_pk(channel);
        for _ in 0..RACE_ATTEMPTS {
            let stored = self.stored_session(channel, &stream_id).await?;
            let mut events = self
                .partition(&streams_pk, &keys::stream_event_prefix(&stream_id))
                .await?
                .iter()
                .map(event_from_item)
                .collect::<StoreResult<Vec<_>>>()?;
            events.push(event.clone());
            let facts = SessionFacts::from_events(&events)
                .ok_or_else(|| StoreError::Backend("a session without events".into()))?;

            let version = stored.as_ref().map_or(0, |s| s.version);
            let mut set = vec![
                "#channel = :channel",
                "#stream_id = :stream_id",
                "#started_at = :started_at",
                "#healthy = :healthy",
                "#has_error = :has_error",
                "#version = :next",
            ];
            let mut remove = Vec::new();
            let mut values = vec![
                (":channel", id(channel.0)),
                (":stream_id", s(&stream_id)),
                (":started_at", time(facts.started_at)),
                (":healthy", AttributeValue::Bool(facts.healthy)),
                (":has_error", AttributeValue::Bool(facts.has_error)),
                (":next", n(version + 1)),
            ];
            match facts.live_since {
                Some(at) => {
                    set.push("#live_since = :live_since");
                    values.push((":live_since", time(at)));
                }
                None => remove.push("#live_since"),
            }
            match facts.ended_at {
                Some(at) => {
                    set.push("#ended_at = :ended_at");
                    values.push((":ended_at", time(at)));
                }
                None => remove.push("#ended_at"),
            }
            let mut update = format!("SET {}", set.join(", "));
            if !remove.is_empty() {
                update.push_str(&format!(" REMOVE {}", remove.join(", ")));
            }
            let condition = match &stored {
                Some(_) => {
                    values.push((":version", n(version)));
                    "#version = :version"
                }
                None => "attribute_not_exists(#pk)",
            };
            let mut actions = vec![
                self.put(
                    with(
                        keys::stream_event_id(&event.id),
                        [("channel", id(channel.0)), ("stream_id", s(&stream_id))],
                    ),
                    Some("attribute_not_exists(#pk)"),
                    vec![],
                )?,
                self.put(
                    with(
                        keys::stream_event(channel, &stream_id, &event.id),
                        [
                            ("event_id", s(&event.id)),
                            ("event_type", s(event.event_type.as_str())),
                            ("name", s(&event.name)),
                            ("at", time(event.at)),
                        ],
                    ),
                    None,
                    vec![],
                )?,
                self.update(
                    keys::stream_session(channel, &stream_id),
                    &update,
                    Some(condition),
                    values,
                )?,
                self.check_alive(channel)?,
            ];
            let old_start = stored.as_ref().map(|s| s.session.started_at);
            if old_start != Some(facts.started_at) {
                let start_sk =
                    keys::stream_start_sk(facts.started_at.timestamp_millis(), &stream_id);
                actions.push(self.put(
                    with(
                        key(streams_pk.clone(), start_sk),
                        [
                            ("stream_id", s(&stream_id)),
                            ("started_at", time(facts.started_at)),
                        ],
                    ),
                    None,
                    vec![],
                )?);
                if let Some(old) = old_start {
                    let old_sk = keys::stream_start_sk(old.timestamp_millis(), &stream_id);
                    actions.push(self.delete(key(streams_pk.clone(), old_sk), None, vec![])?);
                }
            }
            match self.transact(actions).await? {
                Ok(()) => {
                    let session = self
                        .stream_session(channel, &stream_id)
                        .await?
                        .ok_or(StoreError::NotFound)?;
                    return Ok(EventOutcome::Stored(session));
                }
                Err(cancelled) if cancelled.failed(0) => return Ok(EventOutcome::Duplicate),
                Err(cancelled) if cancelled.failed(3) => return Err(StoreError::NotFound),
                // Another event of the session came first: derive again.
                Err(_) => continue,
            }
        }
        Err(StoreError::Unavailable(
            "recording a stream event kept racing other events of its session".into(),
        ))
    }

    async fn stream_sessions(
        &self,
        channel: AccountId,
        after: Option<&SessionPosition>,
        limit: usize,
    ) -> StoreResult<Vec<StreamSession>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let upper = match after {
            Some(position) => {
                keys::stream_start_sk(position.started_at.timestamp_millis(), &position.stream_id)
            }
            None => keys::STREAM_START_END.to_owned(),
        };
        let mut starts = self
            .query(Query {
                key_condition: "#pk = :pk AND #sk BETWEEN :first AND :upper",
                values: vec![
                    (":pk", s(keys::streams_pk(channel))),
                    (":first", s(keys::STREAM_START)),
                    (":upper", s(&upper)),
                ],
                descending: true,
                want: Some(limit + 1),
                ..Query::default()
            })
            .await?;
        // BETWEEN includes the position itself, which is not "after" it.
        starts.retain(|item| Attrs(item).sk().is_ok_and(|sk| sk != upper));
        starts.truncate(limit);
        let Some(newest) = starts.first() else {
            return Ok(Vec::new());
        };
        let mut next_start = self.next_start(channel, Attrs(newest).sk()?).await?;
        let ids = starts
            .iter()
            .map(|item| Attrs(item).string("stream_id"))
            .collect::<StoreResult<Vec<_>>>()?;
        let items = self
            .batch_get(
                ids.iter()
                    .map(|stream_id| keys::stream_session(channel, stream_id))
                    .collect(),
            )
            .await?;
        let mut by_id = HashMap::with_capacity(items.len());
        for item in &items {
            let stored = session_from_item(item)?;
            by_id.insert(stored.session.stream_id.clone(), stored.session);
        }
        let mut sessions = Vec::with_capacity(ids.len());
        for stream_id in ids {
            if let Some(session) = by_id.remove(&stream_id) {
                let started_at = session.started_at;
                sessions.push(followed_by(session, next_start));
                next_start = Some(started_at);
            }
        }
        Ok(sessions)
    }

    async fn stream_session(
        &self,
        channel: AccountId,
        stream_id: &str,
    ) -> StoreResult<Option<StreamSession>> {
        let Some(stored) = self.stored_session(channel, stream_id).await? else {
            return Ok(None);
        };
        let start_sk =
            keys::stream_start_sk(stored.session.started_at.timestamp_millis(), stream_id);
        let next_start = self.next_start(channel, &start_sk).await?;
        Ok(Some(followed_by(stored.session, next_start)))
    }

    async fn stream_events(
        &self,
        channel: AccountId,
        stream_id: &str,
    ) -> StoreResult<Vec<StreamEvent>> {
        let mut events = self
            .partition(
                &keys::streams_pk(channel),
                &keys::stream_event_prefix(stream_id),
            )
            .await?
            .iter()
            .map(event_from_item)
            .collect::<StoreResult<Vec<_>>>()?;
        events.sort_by(StreamEvent::chronological);
        Ok(events)
    }

    async fn set_ingest_configuration(
        &self,
        channel: AccountId,
        stream_id: &str,
        configuration: &IngestConfiguration,
    ) -> StoreResult<()> {
        let text =
            serde_json::to_string(configuration).map_err(|e| StoreError::Backend(Box::new(e)))?;
        self.update_session(
            channel,
            stream_id,
            "SET #ingest_configuration = :configuration",
            vec![(":configuration", s(text))],
        )
        .await
    }

    /// Each transaction of up to 99 samples holds only while the session exists.
    async fn put_metric_samples(
        &self,
        channel: AccountId,
        stream_id: &str,
        samples: &[MetricSample],
    ) -> StoreResult<()> {
        if samples.is_empty() {
            return match self.stored_session(channel, stream_id).await? {
                Some(_) => Ok(()),
                None => Err(StoreError::NotFound),
            };
        }
        // A sample at an instant already kept replaces it, also within one batch.
        let mut latest: HashMap<i64, &MetricSample> = HashMap::new();
        for sample in samples {
            latest.insert(sample.at.timestamp_millis(), sample);
        }
        let samples: Vec<&MetricSample> = latest.into_values().collect();
        for chunk in samples.chunks(SAMPLES_PER_TRANSACTION) {
            let mut actions =
                vec![self.check(keys::stream_session(channel, stream_id), SESSION_EXISTS)?];
            for sample in chunk {
                actions.push(self.put(sample_item(channel, stream_id, sample), None, vec![])?);
            }
            if self.transact(actions).await?.is_err() {
                return Err(StoreError::NotFound);
            }
        }
        Ok(())
    }

    async fn metric_samples(
        &self,
        channel: AccountId,
        stream_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<MetricSample>> {
        let (from, to) = (from.timestamp_millis(), to.timestamp_millis());
        if to <= from {
            return Ok(Vec::new());
        }
        let items = self
            .query(Query {
                key_condition: "#pk = :pk AND #sk BETWEEN :from AND :to",
                values: vec![
                    (":pk", s(keys::streams_pk(channel))),
                    (":from", s(keys::stream_sample_sk(stream_id, from))),
                    (":to", s(keys::stream_sample_sk(stream_id, to - 1))),
                ],
                ..Query::default()
            })
            .await?;
        items.iter().map(sample_from_item).collect()
    }

    async fn cached_metrics(
        &self,
        channel: AccountId,
        stream_id: &str,
        key: &str,
    ) -> StoreResult<Option<serde_json::Value>> {
        let Some(item) = self.get(keys::stream_session(channel, stream_id)).await? else {
            return Ok(None);
        };
        let a = Attrs(&item);
        if a.opt_str("metrics_key")? != Some(key) {
            return Ok(None);
        }
        a.json("metrics").map(Some)
    }

    async fn put_cached_metrics(
        &self,
        channel: AccountId,
        stream_id: &str,
        key: &str,
        metrics: &serde_json::Value,
    ) -> StoreResult<()> {
        let text = serde_json::to_string(metrics).map_err(|e| StoreError::Backend(Box::new(e)))?;
        self.update_session(
            channel,
            stream_id,
            "SET #metrics_key = :key, #metrics = :metrics",
            vec![(":key", s(key)), (":metrics", s(text))],
        )
        .await
    }
}
