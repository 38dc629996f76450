//! The `Metrics` port (CloudWatch in AWS, the store locally) and the rules every adapter shares:
//! which period a session's charts use, how its window is aligned, how the four series are laid
//! out and gaps filled, and when a result may be cached.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    domain::{AccountId, stream::MetricSample},
    store::{Store, StoreError, StreamSession},
};

/// The IVS metrics a health page charts (CloudWatch namespace `AWS/IVS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricName {
    IngestVideoBitrate,
    IngestFramerate,
    KeyframeInterval,
    ConcurrentViews,
}

impl MetricName {
    pub const ALL: [MetricName; 4] = [
        MetricName::IngestVideoBitrate,
        MetricName::IngestFramerate,
        MetricName::KeyframeInterval,
        MetricName::ConcurrentViews,
    ];

    /// The CloudWatch metric name.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricName::IngestVideoBitrate => "IngestVideoBitrate",
            MetricName::IngestFramerate => "IngestFramerate",
            MetricName::KeyframeInterval => "KeyframeInterval",
            MetricName::ConcurrentViews => "ConcurrentViews",
        }
    }

    /// The rate charts: drawn as continuous lines, so gaps inside them are filled.
    pub fn fills_gaps(self) -> bool {
        matches!(
            self,
            MetricName::IngestVideoBitrate | MetricName::IngestFramerate
        )
    }

    fn of(self, sample: &MetricSample) -> Option<f64> {
        match self {
            MetricName::IngestVideoBitrate => sample.ingest_video_bitrate,
            MetricName::IngestFramerate => sample.ingest_framerate,
            MetricName::KeyframeInterval => sample.keyframe_interval,
            MetricName::ConcurrentViews => sample.concurrent_views,
        }
    }
}

/// How long CloudWatch keeps data points of each period: a window whose start is younger than
/// the bound can be read at that period. Ordered finest first.
pub const PERIOD_BRACKETS: [(TimeDelta, u32); 3] = [
    (TimeDelta::hours(3), 5),
    (TimeDelta::days(15), 60),
    (TimeDelta::days(63), 300),
];
/// The period of anything older than every bracket.
pub const COARSEST_PERIOD: u32 = 3600;

/// The finest period at which data points `age` old are still kept.
pub fn period_for_age(age: Duration) -> u32 {
    PERIOD_BRACKETS
        .iter()
        .find(|(bound, _)| age < *bound)
        .map_or(COARSEST_PERIOD, |(_, period)| *period)
}

/// How much of a live session the charts show: the last three hours, less a margin that keeps
/// the aligned start inside the 5-second bracket.
pub const LIVE_SPAN: TimeDelta = TimeDelta::minutes(3 * 60 - 1);

/// After an end, CloudWatch may still be adding data points for a few minutes; only a window
/// that ended longer ago than this is complete enough to cache.
pub const CACHE_SETTLE: TimeDelta = TimeDelta::minutes(5);

/// The aligned time range and period of one session's charts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricWindow {
    /// Seconds per data point.
    pub period: u32,
    /// A multiple of `period` since the epoch; the first data point's time.
    pub start: DateTime<Utc>,
    /// A multiple of `period` since the epoch, at or after `start`; exclusive.
    pub end: DateTime<Utc>,
}

fn align_down(t: DateTime<Utc>, period: u32) -> DateTime<Utc> {
    let step = i64::from(period) * 1000;
    let millis = t.timestamp_millis().div_euclid(step) * step;
    DateTime::from_timestamp_millis(millis).unwrap_or(t)
}

fn align_up(t: DateTime<Utc>, period: u32) -> DateTime<Utc> {
    let down = align_down(t, period);
    if down == t {
        t
    } else {
        down + Duration::seconds(i64::from(period))
    }
}

impl MetricWindow {
    /// The window of a session that started at `started_at` and ended at `ended_at` (`None`
    /// while not over), seen at `now`.
    ///
    /// The period is the finest one still kept for the (clamped) start's age. The start is
    /// aligned down to it, unless that would make it old enough for a coarser bracket; then up.
    /// The end (or `now`) is aligned up. A session that is not over shows its last
    /// [`LIVE_SPAN`] only.
    pub fn for_session(
        started_at: DateTime<Utc>,
        ended_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Self {
        let from = match ended_at {
            Some(_) => started_at,
            None => started_at.max(now - LIVE_SPAN),
        };
        let period = period_for_age(now - from);
        let down = align_down(from, period);
        let start = if period_for_age(now - down) == period {
            down
        } else {
            align_up(from, period)
        };
        let end = align_up(ended_at.unwrap_or(now), period).max(start);
        Self { period, start, end }
    }

    /// How many data points the window holds.
    pub fn slots(&self) -> usize {
        usize::try_from((self.end - self.start).num_seconds() / i64::from(self.period)).unwrap_or(0)
    }

    /// Names the query, so that a cached result is used only for the same one. It changes when
    /// the session ages into a coarser bracket.
    pub fn cache_key(&self) -> String {
        format!(
            "P{}-S{}-E{}",
            self.period,
            self.start.timestamp_millis(),
            self.end.timestamp_millis()
        )
    }

    /// The slot a data point at `at` falls in, if inside the window.
    fn slot(&self, at: DateTime<Utc>) -> Option<usize> {
        if at < self.start || at >= self.end {
            return None;
        }
        usize::try_from((at - self.start).num_milliseconds() / (i64::from(self.period) * 1000)).ok()
    }
}

/// What a metrics adapter is asked for.
#[derive(Debug, Clone, Copy)]
pub struct MetricsQuery<'a> {
    pub channel: AccountId,
    /// The channel's media ARN; CloudWatch's `Channel` dimension is its resource id.
    pub channel_arn: &'a str,
    pub stream_id: &'a str,
    pub window: MetricWindow,
}

/// The data points of one metric: the average over each period, stamped with the period's
/// start, in time order. Periods without data have no point.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricPoints {
    pub name: MetricName,
    pub points: Vec<(DateTime<Utc>, f64)>,
}

/// Why metrics could not be read or recorded.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// This adapter's numbers come from elsewhere; it records nothing.
    #[error("this metrics backend does not record samples")]
    Unsupported,
    /// Recording for a session that does not exist.
    #[error("no such session")]
    NotFound,
    #[error("metrics backend throttled the request")]
    Throttled,
    #[error("metrics unavailable: {0}")]
    Unavailable(String),
}

impl From<StoreError> for MetricsError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => MetricsError::NotFound,
            other => MetricsError::Unavailable(other.to_string()),
        }
    }
}

/// Where the stream metrics of a session come from.
#[async_trait]
pub trait Metrics: Send + Sync {
    /// The four metrics of the session's channel over `query.window` at `query.window.period`:
    /// one [`MetricPoints`] per metric that has any data, points inside the window only.
    async fn fetch(&self, query: &MetricsQuery<'_>) -> Result<Vec<MetricPoints>, MetricsError>;
    /// Keeps samples a local encoder stand-in measured (the stream simulator). Idempotent per
    /// sample time. `Unsupported` where metrics come from the video service itself;
    /// `NotFound` without such a session.
    async fn record(
        &self,
        channel: AccountId,
        stream_id: &str,
        samples: &[MetricSample],
    ) -> Result<(), MetricsError>;
}

/// One chart: `data[i]` is the value at `aligned_start + i * period`, `null` where there is
/// none. Rate charts (bitrate, frame rate) have the gaps between two values filled with the
/// earlier value; nothing is invented before the first or after the last value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MetricSeries {
    /// `IngestVideoBitrate` (bits/s), `IngestFramerate` (frames/s), `KeyframeInterval` (s) or
    /// `ConcurrentViews`.
    pub name: String,
    /// Seconds between data points: 5, 60, 300 or 3600.
    pub period: u32,
    pub aligned_start: DateTime<Utc>,
    pub data: Vec<Option<f64>>,
    /// The average of the values there are (before filling); `null` without any.
    pub average: Option<f64>,
}

/// Lays the adapter's points out over the window, one series per metric, all four always.
pub fn series(window: &MetricWindow, fetched: &[MetricPoints]) -> Vec<MetricSeries> {
    MetricName::ALL
        .into_iter()
        .map(|name| {
            let mut data = vec![None; window.slots()];
            let points = fetched
                .iter()
                .filter(|p| p.name == name)
                .flat_map(|p| p.points.iter());
            for (at, value) in points {
                if let Some(slot) = window.slot(*at)
                    && value.is_finite()
                {
                    data[slot] = Some(*value);
                }
            }
            let values: Vec<f64> = data.iter().flatten().copied().collect();
            let average =
                (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64);
            if name.fills_gaps() {
                fill_inner_gaps(&mut data);
            }
            MetricSeries {
                name: name.as_str().to_owned(),
                period: window.period,
                aligned_start: window.start,
                data,
                average,
            }
        })
        .collect()
}

/// Repeats the last value into each gap that a later value closes.
fn fill_inner_gaps(data: &mut [Option<f64>]) {
    let Some(last) = data.iter().rposition(Option::is_some) else {
        return;
    };
    let mut previous = None;
    for value in &mut data[..last] {
        match value {
            Some(v) => previous = Some(*v),
            None => *value = previous,
        }
    }
}

/// Reads a session's charts through a [`Metrics`] adapter, caching those of sessions that are
/// over in the store.
#[derive(Clone)]
pub struct SessionMetrics {
    store: Arc<dyn Store>,
    metrics: Arc<dyn Metrics>,
}

impl SessionMetrics {
    pub fn new(store: Arc<dyn Store>, metrics: Arc<dyn Metrics>) -> Self {
        Self { store, metrics }
    }

    pub fn adapter(&self) -> &Arc<dyn Metrics> {
        &self.metrics
    }

    /// The session's four series as seen at `now`. A session that ended more than
    /// [`CACHE_SETTLE`] ago is read once per window (its [`MetricWindow::cache_key`]) and then
    /// served from the store; live and just-ended sessions are always read afresh.
    pub async fn of_session(
        &self,
        channel_arn: &str,
        session: &StreamSession,
        now: DateTime<Utc>,
    ) -> Result<Vec<MetricSeries>, MetricsError> {
        let window = MetricWindow::for_session(session.started_at, session.ended_at, now);
        let cacheable = session
            .ended_at
            .is_some_and(|end| now - end >= CACHE_SETTLE);
        let key = window.cache_key();
        if cacheable
            && let Some(cached) = self
                .store
                .cached_metrics(session.channel, &session.stream_id, &key)
                .await?
        {
            match serde_json::from_value(cached) {
                Ok(series) => return Ok(series),
                Err(e) => tracing::warn!(error = %e, "unreadable cached metrics; reading afresh"),
            }
        }
        let query = MetricsQuery {
            channel: session.channel,
            channel_arn,
            stream_id: &session.stream_id,
            window,
        };
        let charts = series(&window, &self.metrics.fetch(&query).await?);
        if cacheable {
            let value = serde_json::to_value(&charts)
                .map_err(|e| MetricsError::Unavailable(e.to_string()))?;
            // A failed write costs only a later re-read.
            if let Err(e) = self
                .store
                .put_cached_metrics(session.channel, &session.stream_id, &key, &value)
                .await
            {
                tracing::warn!(error = %e, "could not cache session metrics");
            }
        }
        Ok(charts)
    }
}

/// Metrics without CloudWatch: the samples the stream simulator recorded, kept in the store and
/// averaged per period.
#[derive(Clone)]
pub struct LocalMetrics {
    store: Arc<dyn Store>,
}

impl LocalMetrics {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }
}

#[async_trait]
impl Metrics for LocalMetrics {
    async fn fetch(&self, query: &MetricsQuery<'_>) -> Result<Vec<MetricPoints>, MetricsError> {
        let window = query.window;
        let samples = self
            .store
            .metric_samples(query.channel, query.stream_id, window.start, window.end)
            .await?;
        Ok(MetricName::ALL
            .into_iter()
            .map(|name| {
                // (slot, sum, count), slots ascending because samples are.
                let mut buckets: Vec<(usize, f64, u32)> = Vec::new();
                for sample in &samples {
                    let (Some(slot), Some(value)) = (window.slot(sample.at), name.of(sample))
                    else {
                        continue;
                    };
                    match buckets.last_mut() {
                        Some((s, sum, count)) if *s == slot => {
                            *sum += value;
                            *count += 1;
                        }
                        _ => buckets.push((slot, value, 1)),
                    }
                }
                let period = Duration::seconds(i64::from(window.period));
                MetricPoints {
                    name,
                    points: buckets
                        .into_iter()
                        .map(|(slot, sum, count)| {
                            let offset = period * i32::try_from(slot).unwrap_or(i32::MAX);
                            (window.start + offset, sum / f64::from(count))
                        })
                        .collect(),
                }
            })
            .filter(|p| !p.points.is_empty())
            .collect())
    }

    async fn record(
        &self,
        channel: AccountId,
        stream_id: &str,
        samples: &[MetricSample],
    ) -> Result<(), MetricsError> {
        Ok(self
            .store
            .put_metric_samples(channel, stream_id, samples)
            .await?)
    }
}

#[cfg(test)]
mod tests;
