use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use super::*;
use crate::{
    domain::{
        AvatarPreset, Color, Email, Username,
        stream::{StreamEvent, StreamEventType, names},
    },
    store::{ChannelResources, EventOutcome, NewAccount, sqlite::SqliteStore},
};

/// A round instant (a multiple of an hour), so alignment is easy to read.
fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn ago(d: TimeDelta) -> DateTime<Utc> {
    now() - d
}

const MS: TimeDelta = TimeDelta::milliseconds(1);

#[test]
fn the_period_is_the_finest_one_kept_for_the_age_at_each_bracket_edge() {
    let cases = [
        (TimeDelta::zero(), 5),
        (TimeDelta::seconds(-30), 5),
        (TimeDelta::hours(3) - MS, 5),
        (TimeDelta::hours(3), 60),
        (TimeDelta::days(15) - MS, 60),
        (TimeDelta::days(15), 300),
        (TimeDelta::days(63) - MS, 300),
        (TimeDelta::days(63), 3600),
        (TimeDelta::days(400), 3600),
    ];
    for (age, period) in cases {
        assert_eq!(period_for_age(age), period, "age {age}");
    }
}

#[test]
fn an_ended_session_is_aligned_down_at_its_start_and_up_at_its_end() {
    let started = ago(TimeDelta::hours(1)) + TimeDelta::seconds(3);
    let ended = ago(TimeDelta::minutes(10)) + TimeDelta::seconds(1);

    let window = MetricWindow::for_session(started, Some(ended), now());

    assert_eq!(window.period, 5);
    assert_eq!(window.start, ago(TimeDelta::hours(1)));
    assert_eq!(
        window.end,
        ago(TimeDelta::minutes(10)) + TimeDelta::seconds(5)
    );
    assert_eq!(window.slots(), (50 * 60 + 5) / 5);
}

#[test]
fn an_aligned_time_stays_where_it_is() {
    let window = MetricWindow::for_session(
        ago(TimeDelta::hours(20)),
        Some(ago(TimeDelta::hours(19))),
        now(),
    );
    assert_eq!(window.period, 60);
    assert_eq!(window.start, ago(TimeDelta::hours(20)));
    assert_eq!(window.end, ago(TimeDelta::hours(19)));
}

#[test]
fn a_start_that_aligning_down_would_age_into_a_coarser_bracket_is_aligned_up() {
    // 62 days 23 h 59 min ago: the 300 s bracket, but one alignment step down is 63 days.
    let started = ago(TimeDelta::days(63) - TimeDelta::minutes(1));
    let window = MetricWindow::for_session(started, Some(started + TimeDelta::hours(1)), now());
    assert_eq!(window.period, 300);
    assert_eq!(
        window.start,
        ago(TimeDelta::days(63)) + TimeDelta::seconds(300)
    );

    // Two seconds inside the 3 h bracket.
    let started = ago(TimeDelta::hours(3) - TimeDelta::seconds(2));
    let window = MetricWindow::for_session(started, Some(ago(TimeDelta::hours(2))), now());
    assert_eq!(window.period, 5);
    assert_eq!(
        window.start,
        ago(TimeDelta::hours(3)) + TimeDelta::seconds(5)
    );

    // Just past the edge, the coarser bracket applies and aligning down is fine.
    let started = ago(TimeDelta::hours(3) + TimeDelta::seconds(2));
    let window = MetricWindow::for_session(started, Some(ago(TimeDelta::hours(2))), now());
    assert_eq!(window.period, 60);
    assert_eq!(
        window.start,
        ago(TimeDelta::hours(3) + TimeDelta::minutes(1))
    );
}

#[test]
fn a_live_session_shows_its_last_three_hours_at_five_seconds_up_to_now() {
    let just_started = MetricWindow::for_session(ago(TimeDelta::seconds(12)), None, now());
    assert_eq!(just_started.period, 5);
    assert_eq!(just_started.start, ago(TimeDelta::seconds(15)));
    assert_eq!(just_started.end, now());

    let long_running = MetricWindow::for_session(ago(TimeDelta::hours(5)), None, now());
    assert_eq!(long_running.period, 5);
    assert_eq!(long_running.start, now() - LIVE_SPAN);
    assert!(now() - long_running.start < TimeDelta::hours(3));

    let mid_period = now() + TimeDelta::seconds(2);
    let window = MetricWindow::for_session(ago(TimeDelta::minutes(1)), None, mid_period);
    assert_eq!(window.end, now() + TimeDelta::seconds(5));
}

#[test]
fn the_cache_key_names_period_and_aligned_bounds() {
    let window = MetricWindow {
        period: 60,
        start: DateTime::from_timestamp_millis(60_000).unwrap(),
        end: DateTime::from_timestamp_millis(180_000).unwrap(),
    };
    assert_eq!(window.cache_key(), "P60-S60000-E180000");
}

#[test]
fn series_lay_points_on_slots_and_fill_only_the_inner_gaps_of_rate_charts() {
    let window = MetricWindow {
        period: 5,
        start: now(),
        end: now() + TimeDelta::seconds(35),
    };
    let t = |i: i64| now() + TimeDelta::seconds(5 * i);
    let fetched = [
        MetricPoints {
            name: MetricName::IngestVideoBitrate,
            points: vec![(t(1), 100.0), (t(4), 400.0), (t(5), 500.0), (t(9), 9.0)],
        },
        MetricPoints {
            name: MetricName::KeyframeInterval,
            points: vec![(t(1), 2.0), (t(4), 2.0)],
        },
    ];

    let charts = series(&window, &fetched);

    let names: Vec<_> = charts.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "IngestVideoBitrate",
            "IngestFramerate",
            "KeyframeInterval",
            "ConcurrentViews"
        ]
    );
    let bitrate = &charts[0];
    assert_eq!(
        bitrate.data,
        [
            None,
            Some(100.0),
            Some(100.0),
            Some(100.0),
            Some(400.0),
            Some(500.0),
            None
        ]
    );
    assert_eq!(bitrate.average, Some(1000.0 / 3.0));
    assert_eq!(bitrate.aligned_start, now());
    assert_eq!(bitrate.period, 5);
    assert_eq!(charts[1].data, vec![None; 7]);
    assert_eq!(charts[1].average, None);
    assert_eq!(
        charts[2].data,
        [None, Some(2.0), None, None, Some(2.0), None, None]
    );
}

#[tokio::test]
async fn local_metrics_average_the_samples_of_each_period() {
    let (store, _dir, channel, stream_id) = store_with_session(ago(TimeDelta::minutes(10))).await;
    let sample = |seconds: i64, bitrate: f64| MetricSample {
        at: ago(TimeDelta::minutes(10)) + TimeDelta::seconds(seconds),
        ingest_video_bitrate: Some(bitrate),
        ingest_framerate: None,
        keyframe_interval: Some(2.0),
        concurrent_views: None,
    };
    let local = LocalMetrics::new(store.clone());
    local
        .record(
            channel,
            &stream_id,
            &[sample(1, 1000.0), sample(3, 3000.0), sample(7, 7000.0)],
        )
        .await
        .unwrap();
    let window = MetricWindow {
        period: 5,
        start: ago(TimeDelta::minutes(10)),
        end: ago(TimeDelta::minutes(9)),
    };

    let fetched = local
        .fetch(&MetricsQuery {
            channel,
            channel_arn: "arn",
            stream_id: &stream_id,
            window,
        })
        .await
        .unwrap();

    let at = |s| ago(TimeDelta::minutes(10)) + TimeDelta::seconds(s);
    assert_eq!(
        fetched,
        [
            MetricPoints {
                name: MetricName::IngestVideoBitrate,
                points: vec![(at(0), 2000.0), (at(5), 7000.0)],
            },
            MetricPoints {
                name: MetricName::KeyframeInterval,
                points: vec![(at(0), 2.0), (at(5), 2.0)],
            },
        ]
    );
}

#[tokio::test]
async fn recording_for_a_missing_session_is_not_found() {
    let (store, _dir, channel, _) = store_with_session(ago(TimeDelta::minutes(10))).await;
    let result = LocalMetrics::new(store)
        .record(channel, "st-missing", &[])
        .await;
    assert!(matches!(result, Err(MetricsError::NotFound)), "{result:?}");
}

/// Counts fetches and answers one bitrate point at the window's start.
#[derive(Default)]
struct CountingMetrics {
    fetches: AtomicUsize,
}

#[async_trait]
impl Metrics for CountingMetrics {
    async fn fetch(&self, query: &MetricsQuery<'_>) -> Result<Vec<MetricPoints>, MetricsError> {
        let n = self.fetches.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(vec![MetricPoints {
            name: MetricName::IngestVideoBitrate,
            points: vec![(query.window.start, n as f64)],
        }])
    }

    async fn record(&self, _: AccountId, _: &str, _: &[MetricSample]) -> Result<(), MetricsError> {
        Err(MetricsError::Unsupported)
    }
}

async fn store_with_session(
    started: DateTime<Utc>,
) -> (Arc<dyn Store>, tempfile::TempDir, AccountId, String) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("showrunner.db")).unwrap());
    let id = AccountId::new();
    store
        .create_account(NewAccount {
            id,
            username: Username::parse("streamer").unwrap(),
            email: Email::parse("streamer@example.com").unwrap(),
            password_hash: "hash".into(),
            email_verified: true,
            color: Color::Blue,
            avatar: AvatarPreset::Bear,
            created_at: started,
            channel: ChannelResources {
                arn: "arn".into(),
                ingest_endpoint: "ingest".into(),
                stream_key: "key".into(),
                playback_url: "playback".into(),
            },
        })
        .await
        .unwrap();
    record(&*store, id, "created", names::SESSION_CREATED, started).await;
    (store, dir, id, "st-test".into())
}

async fn record(store: &dyn Store, channel: AccountId, id: &str, name: &str, at: DateTime<Utc>) {
    let event = StreamEvent {
        id: id.into(),
        event_type: StreamEventType::StreamStateChange,
        name: name.into(),
        at,
    };
    let outcome = store
        .record_stream_event(channel, Some("st-test"), &event)
        .await
        .unwrap();
    assert!(matches!(outcome, EventOutcome::Stored(_)), "{outcome:?}");
}

async fn session(store: &dyn Store, channel: AccountId) -> StreamSession {
    store
        .stream_session(channel, "st-test")
        .await
        .unwrap()
        .unwrap()
}

fn first_bitrate(charts: &[MetricSeries]) -> Option<f64> {
    charts[0].data.iter().flatten().next().copied()
}

#[tokio::test]
async fn a_session_that_ended_long_enough_ago_is_read_once_then_served_from_the_store() {
    let (store, _dir, channel, _) = store_with_session(ago(TimeDelta::hours(2))).await;
    record(
        &*store,
        channel,
        "ended",
        names::SESSION_ENDED,
        ago(TimeDelta::hours(1)),
    )
    .await;
    let adapter = Arc::new(CountingMetrics::default());
    let reader = SessionMetrics::new(store.clone(), adapter.clone());
    let ended = session(&*store, channel).await;

    let first = reader.of_session("arn", &ended, now()).await.unwrap();
    let second = reader.of_session("arn", &ended, now()).await.unwrap();

    assert_eq!(adapter.fetches.load(Ordering::SeqCst), 1);
    assert_eq!(first, second);
    assert_eq!(first_bitrate(&second), Some(1.0));
}

#[tokio::test]
async fn a_session_is_cached_only_once_it_ended_at_least_the_settle_time_ago() {
    let (store, _dir, channel, _) = store_with_session(ago(TimeDelta::hours(2))).await;
    record(&*store, channel, "ended", names::SESSION_ENDED, now()).await;
    let adapter = Arc::new(CountingMetrics::default());
    let reader = SessionMetrics::new(store.clone(), adapter.clone());
    let ended = session(&*store, channel).await;
    let fetches = || adapter.fetches.load(Ordering::SeqCst);

    let just_short = now() + CACHE_SETTLE - MS;
    reader.of_session("arn", &ended, just_short).await.unwrap();
    reader.of_session("arn", &ended, just_short).await.unwrap();
    assert_eq!(fetches(), 2, "not cached before the settle time");

    let settled = now() + CACHE_SETTLE;
    reader.of_session("arn", &ended, settled).await.unwrap();
    reader.of_session("arn", &ended, settled).await.unwrap();
    assert_eq!(fetches(), 3, "cached from the settle time on");
}

#[tokio::test]
async fn a_live_session_is_never_cached() {
    let (store, _dir, channel, _) = store_with_session(ago(TimeDelta::hours(1))).await;
    record(
        &*store,
        channel,
        "start",
        names::STREAM_START,
        ago(TimeDelta::minutes(59)),
    )
    .await;
    let adapter = Arc::new(CountingMetrics::default());
    let reader = SessionMetrics::new(store.clone(), adapter.clone());
    let live = session(&*store, channel).await;
    assert!(live.live_since.is_some());

    reader.of_session("arn", &live, now()).await.unwrap();
    reader.of_session("arn", &live, now()).await.unwrap();

    assert_eq!(adapter.fetches.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn ageing_into_a_coarser_bracket_reads_afresh_and_replaces_the_cache() {
    let started = ago(TimeDelta::hours(2));
    let (store, _dir, channel, _) = store_with_session(started).await;
    record(
        &*store,
        channel,
        "ended",
        names::SESSION_ENDED,
        ago(TimeDelta::hours(1)),
    )
    .await;
    let adapter = Arc::new(CountingMetrics::default());
    let reader = SessionMetrics::new(store.clone(), adapter.clone());
    let ended = session(&*store, channel).await;

    // Under 3 h old: 5 s data points.
    let early = reader.of_session("arn", &ended, now()).await.unwrap();
    // The start turns 3 h old: 60 s data points, a new query.
    let later_now = started + TimeDelta::hours(3);
    let later = reader.of_session("arn", &ended, later_now).await.unwrap();
    let again = reader.of_session("arn", &ended, later_now).await.unwrap();

    assert_eq!(early[0].period, 5);
    assert_eq!(later[0].period, 60);
    assert_eq!(adapter.fetches.load(Ordering::SeqCst), 2);
    assert_eq!(first_bitrate(&again), Some(2.0));
    let early_key = MetricWindow::for_session(ended.started_at, ended.ended_at, now()).cache_key();
    assert_eq!(
        store
            .cached_metrics(channel, "st-test", &early_key)
            .await
            .unwrap(),
        None,
        "only the latest window is kept"
    );
}
