use std::sync::Arc;

use serde_json::json;
use showrunner::domain::AccountId;
use showrunner::domain::stream::{
    AudioConfiguration, IngestConfiguration, MetricSample, StreamEvent, StreamEventType,
    VideoConfiguration, names,
};
use showrunner::store::{EventOutcome, Store, StoreError, StreamSession};

use crate::helpers::{at, create_account};

fn state(id: &str, name: &str, seconds: i64) -> StreamEvent {
    event(id, StreamEventType::StreamStateChange, name, seconds)
}

fn event(id: &str, event_type: StreamEventType, name: &str, seconds: i64) -> StreamEvent {
    StreamEvent {
        id: id.to_owned(),
        event_type,
        name: name.to_owned(),
        at: at(seconds),
    }
}

/// Records an event of `stream` and returns the session as it then is.
async fn record(
    store: &dyn Store,
    channel: AccountId,
    stream: &str,
    event: StreamEvent,
) -> StreamSession {
    match store
        .record_stream_event(channel, Some(stream), &event)
        .await
        .unwrap()
    {
        EventOutcome::Stored(session) => session,
        other => panic!("{other:?}"),
    }
}

async fn session(store: &dyn Store, channel: AccountId, stream: &str) -> StreamSession {
    store
        .stream_session(channel, stream)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no session {stream}"))
}

fn ids(sessions: &[StreamSession]) -> Vec<&str> {
    sessions.iter().map(|s| s.stream_id.as_str()).collect()
}

fn configuration() -> IngestConfiguration {
    IngestConfiguration {
        video: VideoConfiguration {
            avc_level: "4.1".into(),
            avc_profile: "High".into(),
            codec: "avc1.640029".into(),
            encoder: "obs".into(),
            target_bitrate: 6_000_000,
            target_framerate: 60,
            video_height: 1080,
            video_width: 1920,
        },
        audio: AudioConfiguration {
            channels: 2,
            codec: "mp4a.40.2".into(),
            sample_rate: 48_000,
            target_bitrate: 160_000,
        },
    }
}

fn sample(seconds: i64, bitrate: f64) -> MetricSample {
    MetricSample {
        at: at(seconds),
        ingest_video_bitrate: Some(bitrate),
        ingest_framerate: Some(30.0),
        keyframe_interval: None,
        concurrent_views: Some(4.0),
    }
}

pub async fn an_event_creates_its_session_and_a_redelivery_changes_nothing(store: Arc<dyn Store>) {
    let owner = create_account(&*store, "Owner").await;
    let created = state("e1", names::SESSION_CREATED, 10);

    let first = store
        .record_stream_event(owner.id, Some("st-1"), &created)
        .await
        .unwrap();
    let again = store
        .record_stream_event(owner.id, Some("st-1"), &created)
        .await
        .unwrap();

    let EventOutcome::Stored(session) = first else {
        panic!("{first:?}")
    };
    assert_eq!(
        session,
        StreamSession {
            channel: owner.id,
            stream_id: "st-1".into(),
            started_at: at(10),
            live_since: None,
            ended_at: None,
            healthy: true,
            has_error: false,
            ingest_configuration: None,
        }
    );
    assert_eq!(again, EventOutcome::Duplicate);
    assert_eq!(
        store.stream_events(owner.id, "st-1").await.unwrap(),
        vec![created]
    );
}

pub async fn a_session_is_live_from_its_start_until_its_end_in_event_time(store: Arc<dyn Store>) {
    let owner = create_account(&*store, "Owner").await;
    record(
        &*store,
        owner.id,
        "st-1",
        state("a", names::SESSION_CREATED, 10),
    )
    .await;

    let live = record(
        &*store,
        owner.id,
        "st-1",
        state("b", names::STREAM_START, 12),
    )
    .await;
    let ended = record(&*store, owner.id, "st-1", state("c", names::STREAM_END, 70)).await;
    let closed = record(
        &*store,
        owner.id,
        "st-1",
        state("d", names::SESSION_ENDED, 71),
    )
    .await;

    assert_eq!((live.live_since, live.ended_at), (Some(at(12)), None));
    assert_eq!((ended.live_since, ended.ended_at), (None, Some(at(70))));
    assert_eq!((closed.live_since, closed.ended_at), (None, Some(at(71))));
    assert_eq!(closed.started_at, at(10));
}

pub async fn an_end_delivered_before_its_start_leaves_the_session_over(store: Arc<dyn Store>) {
    let owner = create_account(&*store, "Owner").await;

    record(
        &*store,
        owner.id,
        "st-1",
        state("end", names::STREAM_END, 70),
    )
    .await;
    record(
        &*store,
        owner.id,
        "st-1",
        state("start", names::STREAM_START, 12),
    )
    .await;
    let late_creation = record(
        &*store,
        owner.id,
        "st-1",
        state("created", names::SESSION_CREATED, 10),
    )
    .await;

    assert_eq!(late_creation.live_since, None);
    assert_eq!(late_creation.ended_at, Some(at(70)));
    assert_eq!(late_creation.started_at, at(10));
    let events: Vec<_> = store
        .stream_events(owner.id, "st-1")
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(events, ["created", "start", "end"], "in event time order");
}

pub async fn a_later_session_of_the_channel_closes_the_one_before_it(store: Arc<dyn Store>) {
    let owner = create_account(&*store, "Owner").await;
    record(
        &*store,
        owner.id,
        "st-1",
        state("a", names::SESSION_CREATED, 10),
    )
    .await;
    record(
        &*store,
        owner.id,
        "st-1",
        state("b", names::STREAM_START, 12),
    )
    .await;

    record(
        &*store,
        owner.id,
        "st-2",
        state("c", names::SESSION_CREATED, 100),
    )
    .await;

    let first = session(&*store, owner.id, "st-1").await;
    assert_eq!(first.live_since, None);
    assert_eq!(first.ended_at, Some(at(100)));
    // Its own end, when it has one, is kept.
    record(
        &*store,
        owner.id,
        "st-1",
        state("d", names::SESSION_ENDED, 90),
    )
    .await;
    assert_eq!(
        session(&*store, owner.id, "st-1").await.ended_at,
        Some(at(90))
    );
    // A late event of the older session does not reopen it.
    record(
        &*store,
        owner.id,
        "st-1",
        state("e", names::STREAM_START, 95),
    )
    .await;
    assert_eq!(session(&*store, owner.id, "st-1").await.live_since, None);
    let newest = store.stream_sessions(owner.id, None, 1).await.unwrap();
    assert_eq!(ids(&newest), ["st-2"]);
}

pub async fn an_event_without_a_stream_joins_the_session_started_by_its_time(
    store: Arc<dyn Store>,
) {
    let owner = create_account(&*store, "Owner").await;
    let breach =
        |id: &str, seconds| event(id, StreamEventType::LimitBreach, "Ingest Bitrate", seconds);

    let too_early = store
        .record_stream_event(owner.id, None, &breach("early", 5))
        .await
        .unwrap();
    record(
        &*store,
        owner.id,
        "st-1",
        state("a", names::SESSION_CREATED, 10),
    )
    .await;
    record(
        &*store,
        owner.id,
        "st-2",
        state("b", names::SESSION_CREATED, 100),
    )
    .await;
    let during_first = store
        .record_stream_event(owner.id, None, &breach("first", 50))
        .await
        .unwrap();

    assert_eq!(too_early, EventOutcome::NoSession);
    let EventOutcome::Stored(first) = during_first else {
        panic!("{during_first:?}")
    };
    assert_eq!(first.stream_id, "st-1");
    assert!(first.has_error);
    assert!(!session(&*store, owner.id, "st-2").await.has_error);
    // Nothing was kept of the refused one, so a redelivery is judged afresh.
    let redelivered = store
        .record_stream_event(owner.id, None, &breach("early", 5))
        .await
        .unwrap();
    assert_eq!(redelivered, EventOutcome::NoSession);
}

pub async fn health_and_error_flags_follow_the_sessions_events(store: Arc<dyn Store>) {
    let owner = create_account(&*store, "Owner").await;
    let health = StreamEventType::StreamHealthChange;
    record(
        &*store,
        owner.id,
        "st-1",
        state("a", names::STREAM_START, 1),
    )
    .await;

    let starving = record(
        &*store,
        owner.id,
        "st-1",
        event("b", health, names::STARVATION_START, 20),
    )
    .await;
    let recovered = record(
        &*store,
        owner.id,
        "st-1",
        event("c", health, names::STARVATION_END, 30),
    )
    .await;
    let breached = record(
        &*store,
        owner.id,
        "st-1",
        event("d", StreamEventType::LimitBreach, "Ingest Resolution", 40),
    )
    .await;

    assert!(!starving.healthy);
    assert!(recovered.healthy);
    assert!(!recovered.has_error);
    assert!(breached.has_error);
    assert!(breached.healthy);
    assert!(breached.live_since.is_some());
}

pub async fn sessions_are_listed_newest_first_in_pages_after_a_position(store: Arc<dyn Store>) {
    let owner = create_account(&*store, "Owner").await;
    let other = create_account(&*store, "Other").await;
    for (stream, seconds) in [("st-b", 20), ("st-a", 20), ("st-c", 30), ("st-old", 5)] {
        let id = format!("created-{stream}");
        record(
            &*store,
            owner.id,
            stream,
            state(&id, names::SESSION_CREATED, seconds),
        )
        .await;
    }
    record(
        &*store,
        other.id,
        "st-x",
        state("x", names::SESSION_CREATED, 25),
    )
    .await;

    let all = store.stream_sessions(owner.id, None, 10).await.unwrap();
    let first_page = store.stream_sessions(owner.id, None, 2).await.unwrap();
    let second_page = store
        .stream_sessions(owner.id, Some(&first_page[1].position()), 2)
        .await
        .unwrap();
    let last_page = store
        .stream_sessions(owner.id, Some(&second_page[1].position()), 2)
        .await
        .unwrap();

    assert_eq!(ids(&all), ["st-c", "st-b", "st-a", "st-old"]);
    assert_eq!(ids(&first_page), ["st-c", "st-b"]);
    assert_eq!(ids(&second_page), ["st-a", "st-old"]);
    assert_eq!(ids(&last_page), Vec::<&str>::new());
}

pub async fn a_session_is_found_only_under_its_own_channel(store: Arc<dyn Store>) {
    let owner = create_account(&*store, "Owner").await;
    let other = create_account(&*store, "Other").await;
    record(
        &*store,
        owner.id,
        "st-1",
        state("a", names::SESSION_CREATED, 10),
    )
    .await;

    assert_eq!(store.stream_session(other.id, "st-1").await.unwrap(), None);
    assert_eq!(store.stream_events(other.id, "st-1").await.unwrap(), vec![]);
    assert_eq!(
        store.stream_sessions(other.id, None, 10).await.unwrap(),
        vec![]
    );
    let put = store
        .set_ingest_configuration(other.id, "st-1", &configuration())
        .await;
    assert!(matches!(put, Err(StoreError::NotFound)), "{put:?}");
}

pub async fn the_channel_of_an_arn_is_found_by_exact_match(store: Arc<dyn Store>) {
    let owner = create_account(&*store, "Owner").await;

    let found = store
        .account_by_channel_arn(&owner.channel.arn)
        .await
        .unwrap();
    let upper = store
        .account_by_channel_arn(&owner.channel.arn.to_uppercase())
        .await
        .unwrap();
    let unknown = store
        .account_by_channel_arn("arn:aws:ivs:eu-west-1:123456789012:channel/nobody")
        .await
        .unwrap();

    assert_eq!(found, Some(owner));
    assert_eq!(upper, None);
    assert_eq!(unknown, None);
}

pub async fn an_event_of_a_missing_channel_is_not_found(store: Arc<dyn Store>) {
    let result = store
        .record_stream_event(
            AccountId::new(),
            Some("st-1"),
            &state("a", names::SESSION_CREATED, 1),
        )
        .await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
}

pub async fn ingest_configuration_and_samples_read_back_and_need_their_session(
    store: Arc<dyn Store>,
) {
    let owner = create_account(&*store, "Owner").await;
    record(
        &*store,
        owner.id,
        "st-1",
        state("a", names::SESSION_CREATED, 10),
    )
    .await;

    store
        .set_ingest_configuration(owner.id, "st-1", &configuration())
        .await
        .unwrap();
    store
        .put_metric_samples(
            owner.id,
            "st-1",
            &[sample(10, 1.0), sample(15, 2.0), sample(20, 3.0)],
        )
        .await
        .unwrap();
    // The same instant again replaces its sample.
    store
        .put_metric_samples(owner.id, "st-1", &[sample(15, 20.0)])
        .await
        .unwrap();

    assert_eq!(
        session(&*store, owner.id, "st-1")
            .await
            .ingest_configuration,
        Some(configuration())
    );
    assert_eq!(
        store
            .metric_samples(owner.id, "st-1", at(10), at(20))
            .await
            .unwrap(),
        vec![sample(10, 1.0), sample(15, 20.0)],
        "from inclusive, to exclusive"
    );
    for missing in [
        store
            .put_metric_samples(owner.id, "st-2", &[sample(1, 1.0)])
            .await,
        store.put_metric_samples(owner.id, "st-2", &[]).await,
        store
            .set_ingest_configuration(owner.id, "st-2", &configuration())
            .await,
    ] {
        assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    }
}

pub async fn cached_metrics_are_found_under_their_key_only_and_replaced_whole(
    store: Arc<dyn Store>,
) {
    let owner = create_account(&*store, "Owner").await;
    record(
        &*store,
        owner.id,
        "st-1",
        state("a", names::SESSION_CREATED, 10),
    )
    .await;

    let before = store
        .cached_metrics(owner.id, "st-1", "P5-S0-E10")
        .await
        .unwrap();
    store
        .put_cached_metrics(owner.id, "st-1", "P5-S0-E10", &json!([1, 2]))
        .await
        .unwrap();
    let hit = store
        .cached_metrics(owner.id, "st-1", "P5-S0-E10")
        .await
        .unwrap();
    store
        .put_cached_metrics(owner.id, "st-1", "P60-S0-E60", &json!([3]))
        .await
        .unwrap();

    assert_eq!(before, None);
    assert_eq!(hit, Some(json!([1, 2])));
    assert_eq!(
        store
            .cached_metrics(owner.id, "st-1", "P5-S0-E10")
            .await
            .unwrap(),
        None,
        "replaced by the newer key"
    );
    assert_eq!(
        store
            .cached_metrics(owner.id, "st-1", "P60-S0-E60")
            .await
            .unwrap(),
        Some(json!([3]))
    );
    let missing = store
        .put_cached_metrics(owner.id, "st-2", "P5-S0-E10", &json!([]))
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
}

pub async fn deleting_an_account_removes_its_stream_sessions_events_and_metrics(
    store: Arc<dyn Store>,
) {
    let owner = create_account(&*store, "Owner").await;
    let other = create_account(&*store, "Other").await;
    for channel in [owner.id, other.id] {
        let id = format!("created-{channel}");
        record(
            &*store,
            channel,
            "st-1",
            state(&id, names::SESSION_CREATED, 10),
        )
        .await;
        store
            .put_metric_samples(channel, "st-1", &[sample(10, 1.0)])
            .await
            .unwrap();
        store
            .put_cached_metrics(channel, "st-1", "key", &json!([]))
            .await
            .unwrap();
    }

    store.delete_account(owner.id).await.unwrap();

    assert_eq!(
        store.stream_sessions(owner.id, None, 10).await.unwrap(),
        vec![]
    );
    assert_eq!(store.stream_events(owner.id, "st-1").await.unwrap(), vec![]);
    assert_eq!(
        store
            .metric_samples(owner.id, "st-1", at(0), at(100))
            .await
            .unwrap(),
        vec![]
    );
    assert_eq!(
        store
            .account_by_channel_arn(&owner.channel.arn)
            .await
            .unwrap(),
        None
    );
    // The same event id for the deleted channel is not remembered as a duplicate.
    let created = format!("created-{}", owner.id);
    let recreated = store
        .record_stream_event(
            other.id,
            Some("st-9"),
            &state(&created, names::SESSION_CREATED, 20),
        )
        .await
        .unwrap();
    assert!(
        matches!(recreated, EventOutcome::Stored(_)),
        "{recreated:?}"
    );
    // Nothing of the other channel went with it.
    assert_eq!(
        ids(&store.stream_sessions(other.id, None, 10).await.unwrap()),
        ["st-9", "st-1"]
    );
    assert_eq!(
        store
            .metric_samples(other.id, "st-1", at(0), at(100))
            .await
            .unwrap(),
        vec![sample(10, 1.0)]
    );
}
