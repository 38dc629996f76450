//! Stream health: IVS events in through the EventBridge path, sessions and metrics out, the live
//! state they drive, and the simulator end to end.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use reqwest::StatusCode;
use serde_json::{Value, json};
use showrunner::simulator::{self, SimulatorOptions};

use crate::{
    helpers::{TestApp, User, assert_error, error_fields, spawn_app, spawn_app_with},
    ws::WsClient,
};

const SECRET: &str = "a-shared-secret-for-eventbridge";
const HEADER: &str = "x-stream-events-secret";
/// The channel ARN the recorded fixture names.
const FIXTURE_ARN: &str = "arn:aws:ivs:us-west-2:123456789012:channel/AbCdef1G2hij";

async fn app_with_secret() -> TestApp {
    spawn_app_with(|c| c.streams.events_secret = SECRET.into()).await
}

async fn arn_of(app: &TestApp, username: &str) -> String {
    app.state
        .store
        .account_by_username(username)
        .await
        .unwrap()
        .unwrap()
        .channel
        .arn
}

async fn deliver_with(app: &TestApp, secret: Option<&str>, event: &Value) -> reqwest::Response {
    let mut request = app.client.post(app.url("/api/stream-events")).json(event);
    if let Some(secret) = secret {
        request = request.header(HEADER, secret);
    }
    request.send().await.unwrap()
}

/// Delivers as EventBridge does and returns the outcome.
async fn deliver(app: &TestApp, event: &Value) -> String {
    let response = deliver_with(app, Some(SECRET), event).await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    body["outcome"].as_str().unwrap().to_owned()
}

/// An IVS stream event shaped as EventBridge sends it.
fn ivs_event(
    id: &str,
    arn: &str,
    detail_type: &str,
    name: &str,
    time: &str,
    stream: &str,
) -> Value {
    json!({
        "version": "0",
        "id": id,
        "detail-type": detail_type,
        "source": "aws.ivs",
        "account": "123456789012",
        "time": time,
        "region": "us-west-2",
        "resources": [arn],
        "detail": {"event_name": name, "channel_name": "test", "stream_id": stream}
    })
}

fn state_event(id: &str, arn: &str, name: &str, time: &str, stream: &str) -> Value {
    ivs_event(id, arn, "IVS Stream State Change", name, time, stream)
}

/// The recorded deliveries, renamed to `arn`.
fn fixture(arn: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/ivs-events.json"
    ))
    .unwrap()
    .replace(FIXTURE_ARN, arn);
    let doc: Value = serde_json::from_str(&text).unwrap();
    doc["events"].as_array().unwrap().clone()
}

async fn sessions(app: &TestApp, user: &User) -> Value {
    let r = app.get_as("/api/me/stream-sessions", &user.token).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

async fn session(app: &TestApp, user: &User, stream: &str) -> Value {
    let r = app
        .get_as(&format!("/api/me/stream-sessions/{stream}"), &user.token)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

fn event_names(session: &Value) -> Vec<String> {
    session["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn directory_entry(app: &TestApp, username: &str) -> Option<Value> {
    let list: Value = app.get("/api/channels").await.json().await.unwrap();
    list["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["username"] == username)
        .cloned()
}

#[tokio::test]
async fn replaying_recorded_eventbridge_deliveries_yields_the_right_sessions_flags_and_live_state()
{
    let app = app_with_secret().await;
    let streamer = app.user("replayer").await;
    let arn = arn_of(&app, "replayer").await;

    let mut outcomes = Vec::new();
    for event in fixture(&arn) {
        outcomes.push(deliver(&app, &event).await);
    }

    let stored = "stored".to_owned();
    let duplicate = "duplicate".to_owned();
    let ignored = "ignored".to_owned();
    let mut expected = vec![stored.clone(); 4];
    expected.push(duplicate.clone()); // Stream Start of A again
    expected.extend(vec![stored.clone(); 8]);
    expected.push(duplicate.clone()); // Stream End of B again
    expected.extend(vec![stored.clone(); 4]);
    expected.push(duplicate); // Stream Start of C again
    expected.extend(vec![ignored; 3]); // account-wide limit, stage, CloudTrail
    assert_eq!(outcomes, expected);

    let list = sessions(&app, &streamer).await;
    let summary: Vec<_> = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["stream_id"].as_str().unwrap().to_owned(),
                s["live"].as_bool().unwrap(),
                s["healthy"].as_bool().unwrap(),
                s["has_error"].as_bool().unwrap(),
                s["started_at"].as_str().unwrap().to_owned(),
                s["ended_at"].as_str().map(str::to_owned),
            )
        })
        .collect();
    let row = |id: &str, live, healthy, error, start: &str, end: Option<&str>| {
        (
            id.to_owned(),
            live,
            healthy,
            error,
            start.to_owned(),
            end.map(str::to_owned),
        )
    };
    assert_eq!(
        summary,
        [
            // Live, starving, and a limit breach that came without a stream id.
            row(
                "st-3CwVaOFCUxJWVUd0r7RxduQ",
                true,
                false,
                true,
                "2026-03-01T18:00:00Z",
                None
            ),
            // Its end arrived before its start and creation: still over, not live forever.
            row(
                "st-2BvUzNEBTwIVUTc9q6QwctP",
                false,
                true,
                false,
                "2026-03-01T17:00:00Z",
                Some("2026-03-01T17:05:00Z")
            ),
            // Recovered from starvation; breached the bitrate limit.
            row(
                "st-1AuTyMDASvHUTSb8p5PvbsO",
                false,
                true,
                true,
                "2026-03-01T16:00:00Z",
                Some("2026-03-01T16:30:01Z")
            ),
        ]
    );
    assert!(list.get("next_cursor").is_none());

    let first = session(&app, &streamer, "st-1AuTyMDASvHUTSb8p5PvbsO").await;
    assert_eq!(
        event_names(&first),
        [
            "Session Created",
            "Stream Start",
            "Recording Start",
            "Starvation Start",
            "Starvation End",
            "Ingest Bitrate",
            "Stream End",
            "Session Ended",
            "Recording End"
        ]
    );
    assert_eq!(first["events"][5]["type"], "IVS Limit Breach");
    let metric_names: Vec<_> = first["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        metric_names,
        [
            "IngestVideoBitrate",
            "IngestFramerate",
            "KeyframeInterval",
            "ConcurrentViews"
        ]
    );

    // The channel is live since C's stream start: directory, channel page and live state agree.
    let entry = directory_entry(&app, "replayer")
        .await
        .expect("in the directory");
    assert_eq!(entry["is_live"], true);
    assert_eq!(entry["live_since"], "2026-03-01T18:00:02Z");
    let live: Value = app
        .get("/api/channels/replayer/live")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(live["live"], true);

    // A new session closes the open one; the channel is offline until it starts streaming.
    let next = state_event(
        "0e1f2a3b-0001-4c00-8d00-e00000000e01",
        &arn,
        "Session Created",
        "2026-03-01T19:00:00Z",
        "st-4DxWbPGDVyKXWVe1s8SyevR",
    );
    assert_eq!(deliver(&app, &next).await, "stored");
    let closed = session(&app, &streamer, "st-3CwVaOFCUxJWVUd0r7RxduQ").await;
    assert_eq!(closed["live"], false);
    assert_eq!(closed["ended_at"], "2026-03-01T19:00:00Z");
    assert!(directory_entry(&app, "replayer").await.is_none());
    let page: Value = app
        .get("/api/channels/replayer")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["is_live"], false);
}

#[tokio::test]
async fn an_unknown_channel_or_a_bad_secret_is_refused_and_nothing_is_stored() {
    let app = app_with_secret().await;
    let streamer = app.user("careful").await;
    let arn = arn_of(&app, "careful").await;
    let start = state_event(
        "11111111-0000-4000-8000-000000000001",
        &arn,
        "Session Created",
        "2026-03-01T16:00:00Z",
        "st-1",
    );

    let unknown = deliver_with(
        &app,
        Some(SECRET),
        &state_event(
            "11111111-0000-4000-8000-000000000002",
            "arn:aws:ivs:us-west-2:123456789012:channel/NotOurs",
            "Session Created",
            "2026-03-01T16:00:00Z",
            "st-2",
        ),
    )
    .await;
    let body = assert_error(
        unknown,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(error_fields(&body), ["resources"]);
    assert_eq!(body["error"]["fields"][0]["code"], "unknown_channel");

    let wrong = deliver_with(&app, Some("a-shared-secret-for-eventbridgE"), &start).await;
    assert_error(wrong, StatusCode::UNAUTHORIZED, "invalid_secret").await;
    let shorter = deliver_with(&app, Some("a-shared-secret"), &start).await;
    assert_error(shorter, StatusCode::UNAUTHORIZED, "invalid_secret").await;
    let missing = deliver_with(&app, None, &start).await;
    assert_error(missing, StatusCode::UNAUTHORIZED, "invalid_secret").await;
    // The secret is checked before the body is even read.
    let garbage = app
        .client
        .post(app.url("/api/stream-events"))
        .header(HEADER, "wrong")
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), StatusCode::UNAUTHORIZED);

    assert_eq!(sessions(&app, &streamer).await["sessions"], json!([]));
    // Nothing was remembered either: the refused event's id is new to the store.
    assert_eq!(deliver(&app, &start).await, "stored");
}

#[tokio::test]
async fn without_a_configured_secret_stream_events_are_off() {
    let app = spawn_app().await;
    app.user("nosecret").await;
    let arn = arn_of(&app, "nosecret").await;
    let event = state_event(
        "22222222-0000-4000-8000-000000000001",
        &arn,
        "Session Created",
        "2026-03-01T16:00:00Z",
        "st-1",
    );

    for secret in [None, Some(""), Some(SECRET)] {
        let r = deliver_with(&app, secret, &event).await;
        assert_error(r, StatusCode::SERVICE_UNAVAILABLE, "unavailable").await;
    }
}

#[tokio::test]
async fn a_channel_goes_live_over_the_websocket_within_a_second_of_stream_start() {
    let app = app_with_secret().await;
    app.user("golive").await;
    let arn = arn_of(&app, "golive").await;
    let mut viewer = WsClient::connect(&app, None).await;
    let snapshot = viewer.subscribe("golive").await;
    assert_eq!(snapshot["live"], false, "{snapshot}");
    let created = state_event(
        "33333333-0000-4000-8000-000000000001",
        &arn,
        "Session Created",
        "2026-03-01T16:00:00Z",
        "st-live",
    );
    deliver(&app, &created).await;
    let start = state_event(
        "33333333-0000-4000-8000-000000000002",
        &arn,
        "Stream Start",
        "2026-03-01T16:00:02Z",
        "st-live",
    );

    let sent = Instant::now();
    let response = deliver_with(&app, Some(SECRET), &start).await;
    let frame = viewer.next_event("live").await;
    let latency = sent.elapsed();

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(frame["live"], true, "{frame}");
    assert_eq!(frame["since"], "2026-03-01T16:00:02Z");
    eprintln!("stream start to `live` frame: {latency:?}");
    assert!(
        latency < Duration::from_secs(1),
        "the live frame took {latency:?}"
    );

    let end = state_event(
        "33333333-0000-4000-8000-000000000003",
        &arn,
        "Stream End",
        "2026-03-01T16:30:00Z",
        "st-live",
    );
    deliver(&app, &end).await;
    let frame = viewer.next_event("live").await;
    assert_eq!(frame["live"], false, "{frame}");
}

#[tokio::test]
async fn sessions_come_in_pages_whose_cursor_cannot_be_altered_or_shared() {
    let app = app_with_secret().await;
    let streamer = app.user("pager").await;
    let other = app.user("otherpager").await;
    let arn = arn_of(&app, "pager").await;
    for i in 1..=3 {
        let event = state_event(
            &format!("44444444-0000-4000-8000-00000000000{i}"),
            &arn,
            "Session Created",
            &format!("2026-03-0{i}T16:00:00Z"),
            &format!("st-{i}"),
        );
        deliver(&app, &event).await;
    }
    let page = |token: String, query: String| {
        let app = &app;
        async move {
            app.get_as(&format!("/api/me/stream-sessions{query}"), &token)
                .await
        }
    };

    let first: Value = page(streamer.token.clone(), "?limit=2".into())
        .await
        .json()
        .await
        .unwrap();
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let second: Value = page(streamer.token.clone(), format!("?limit=2&cursor={cursor}"))
        .await
        .json()
        .await
        .unwrap();

    let ids = |page: &Value| -> Vec<String> {
        page["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["stream_id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&first), ["st-3", "st-2"]);
    assert_eq!(ids(&second), ["st-1"]);
    assert!(second.get("next_cursor").is_none());

    let (payload, tag) = cursor.split_once('.').unwrap();
    let mut flipped = tag.to_owned().into_bytes();
    flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
    let altered_tag = format!("{payload}.{}", String::from_utf8(flipped).unwrap());
    let altered_payload = format!("{}x.{tag}", payload);
    for bad in [altered_tag, altered_payload, "garbage".to_owned()] {
        let r = page(streamer.token.clone(), format!("?cursor={bad}")).await;
        let body = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(error_fields(&body), ["cursor"]);
    }
    // Another user's page cannot continue from it.
    let shared = page(other.token.clone(), format!("?cursor={cursor}")).await;
    assert_error(
        shared,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    for limit in ["0", "51", "many"] {
        let r = page(streamer.token.clone(), format!("?limit={limit}")).await;
        let body = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(error_fields(&body), ["limit"]);
    }
}

#[tokio::test]
async fn another_users_session_is_not_found_and_sessions_need_sign_in() {
    let app = app_with_secret().await;
    let owner = app.user("sessionowner").await;
    let snoop = app.user("sessionsnoop").await;
    let arn = arn_of(&app, "sessionowner").await;
    let event = state_event(
        "55555555-0000-4000-8000-000000000001",
        &arn,
        "Session Created",
        "2026-03-01T16:00:00Z",
        "st-private",
    );
    deliver(&app, &event).await;

    assert_eq!(
        app.get_as("/api/me/stream-sessions/st-private", &owner.token)
            .await
            .status(),
        StatusCode::OK
    );
    let theirs = app
        .get_as("/api/me/stream-sessions/st-private", &snoop.token)
        .await;
    assert_error(theirs, StatusCode::NOT_FOUND, "not_found").await;
    let nonsense = app
        .get_as("/api/me/stream-sessions/st-private%2F..", &owner.token)
        .await;
    assert_error(nonsense, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(sessions(&app, &snoop).await["sessions"], json!([]));
    let anonymous = app.get("/api/me/stream-sessions/st-private").await;
    assert_error(anonymous, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

#[tokio::test]
async fn the_simulator_drives_a_session_the_api_returns_with_events_and_metrics() {
    let app = app_with_secret().await;
    let streamer = app.user("simulated").await;
    let mut options = SimulatorOptions::new(&app.base, SECRET, "simulated");
    options.duration = Duration::from_millis(3500);
    options.interval = Duration::from_millis(250);
    options.starve_at = Some(Duration::from_millis(1500));
    // Over a second: EventBridge times have whole seconds, and a starvation's start and end in
    // the same second are two events of one instant, in no particular order.
    options.starve_for = Duration::from_millis(1100);
    let run = tokio::spawn(simulator::run(options, std::future::pending()));

    // Live in the directory while it streams.
    let deadline = Instant::now() + Duration::from_secs(3);
    while directory_entry(&app, "simulated").await.is_none() {
        assert!(Instant::now() < deadline, "never went live");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let simulated = run.await.unwrap().unwrap();

    assert!(
        directory_entry(&app, "simulated").await.is_none(),
        "offline at the end"
    );
    assert_eq!(simulated.events_sent, 6);
    assert!(simulated.metrics_recorded);
    assert!(simulated.samples_sent >= 8, "{simulated:?}");
    let list = sessions(&app, &streamer).await;
    assert_eq!(
        list["sessions"][0]["stream_id"],
        simulated.stream_id.as_str()
    );
    let detail = session(&app, &streamer, &simulated.stream_id).await;
    assert_eq!(
        event_names(&detail),
        [
            "Session Created",
            "Stream Start",
            "Starvation Start",
            "Starvation End",
            "Stream End",
            "Session Ended"
        ]
    );
    assert_eq!(detail["live"], false);
    assert_eq!(detail["healthy"], true);
    assert_eq!(
        detail["ingest_configuration"]["video"]["target_framerate"],
        30
    );
    let bitrate = &detail["metrics"][0];
    assert_eq!(bitrate["name"], "IngestVideoBitrate");
    assert_eq!(bitrate["period"], 5);
    let values: Vec<f64> = bitrate["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    assert!(!values.is_empty(), "{bitrate}");
    assert!(bitrate["average"].as_f64().unwrap() > 0.0);
    let views = &detail["metrics"][3];
    assert_eq!(views["name"], "ConcurrentViews");
    assert!(views["data"].as_array().unwrap().iter().any(Value::is_f64));
}

#[tokio::test]
async fn local_metrics_are_refused_where_metrics_come_from_cloudwatch() {
    let app = spawn_app_with(|c| {
        c.streams.events_secret = SECRET.into();
        c.streams.metrics = showrunner::config::MetricsSource::Cloudwatch;
    })
    .await;
    app.user("cloudy").await;
    let arn = arn_of(&app, "cloudy").await;
    let created = state_event(
        "66666666-0000-4000-8000-000000000001",
        &arn,
        "Session Created",
        "2026-03-01T16:00:00Z",
        "st-cloud",
    );
    deliver(&app, &created).await;

    let r = app
        .client
        .post(app.url("/api/stream-events/local-metrics"))
        .header(HEADER, SECRET)
        .json(&json!({"channel_arn": arn, "stream_id": "st-cloud", "samples": []}))
        .send()
        .await
        .unwrap();

    assert_error(r, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn the_simulators_channel_lookup_needs_the_secret() {
    let app = app_with_secret().await;
    app.user("lookedup").await;

    let ok = app
        .client
        .get(app.url("/api/stream-events/channels/LookedUp"))
        .header(HEADER, SECRET)
        .send()
        .await
        .unwrap();
    let no_secret = app.get("/api/stream-events/channels/lookedup").await;
    let unknown = app
        .client
        .get(app.url("/api/stream-events/channels/nobodyhere"))
        .header(HEADER, SECRET)
        .send()
        .await
        .unwrap();

    assert_eq!(ok.status(), StatusCode::OK);
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["channel_arn"], arn_of(&app, "lookedup").await.as_str());
    assert_error(no_secret, StatusCode::UNAUTHORIZED, "invalid_secret").await;
    assert_error(unknown, StatusCode::NOT_FOUND, "not_found").await;
}

/// What IVS answers `CreateChannel` with, for a channel of this ARN.
fn ivs_channel(arn: &str) -> aws_sdk_ivs::operation::create_channel::CreateChannelOutput {
    use aws_sdk_ivs::types::{Channel, StreamKey};
    aws_sdk_ivs::operation::create_channel::CreateChannelOutput::builder()
        .channel(
            Channel::builder()
                .arn(arn)
                .ingest_endpoint("abc.global-contribute.live-video.net")
                .playback_url("https://abc.us-east-1.playback.live-video.net/x.m3u8")
                .build(),
        )
        .stream_key(StreamKey::builder().value("sk_us-east-1_secret").build())
        .build()
}

/// A server taking stream events whose media port is IVS answered by `client` (smithy mocks:
/// no emulator has IVS's stream calls), with its live check every `live_check` if given. The
/// data dir lives as long as the returned guard.
async fn app_on_ivs(
    client: aws_sdk_ivs::Client,
    live_check: Option<Duration>,
) -> (TestApp, tempfile::TempDir) {
    use showrunner::aws::ivs::{ChannelSettings, IvsMedia};
    let dir = tempfile::tempdir().unwrap();
    let app = crate::helpers::spawn_app_with_backends(
        dir.path().to_path_buf(),
        |c| c.streams.events_secret = SECRET.into(),
        |backends| {
            backends.media = std::sync::Arc::new(IvsMedia::with_client(
                client,
                ChannelSettings {
                    channel_type: showrunner::config::ChannelType::Basic,
                    multitrack: None,
                    tags: Default::default(),
                },
            ));
            backends.live_check = live_check;
        },
    )
    .await;
    (app, dir)
}

#[tokio::test]
async fn encoder_settings_nobody_reported_are_asked_of_ivs_once_and_kept() {
    use aws_sdk_ivs::{
        Client,
        operation::get_stream_session::GetStreamSessionOutput,
        types::{AudioConfiguration, IngestConfiguration, StreamSession, VideoConfiguration},
    };
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    // Arrange: IVS answered by smithy mocks (no emulator has GetStreamSession): a channel at
    // registration, and the encoder settings of one broadcast.
    const ARN: &str = "arn:aws:ivs:us-east-1:123456789012:channel/EnCoder1234a";
    let create = mock!(Client::create_channel).then_output(|| ivs_channel(ARN));
    let stream_session = mock!(Client::get_stream_session)
        .match_requests(|r| r.channel_arn() == Some(ARN) && r.stream_id() == Some("st-encoder"))
        .then_output(|| {
            let video = VideoConfiguration::builder()
                .avc_level("4.2")
                .avc_profile("High")
                .codec("avc1.64002A")
                .encoder("obs")
                .target_bitrate(6_000_000)
                .target_framerate(60)
                .video_height(1080)
                .video_width(1920)
                .build();
            let audio = AudioConfiguration::builder()
                .channels(2)
                .codec("mp4a.40.2")
                .sample_rate(48_000)
                .target_bitrate(160_000)
                .build();
            GetStreamSessionOutput::builder()
                .stream_session(
                    StreamSession::builder()
                        .ingest_configuration(
                            IngestConfiguration::builder()
                                .video(video)
                                .audio(audio)
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
    let client = mock_client!(aws_sdk_ivs, RuleMode::MatchAny, [&create, &stream_session]);
    let (app, _dir) = app_on_ivs(client, None).await;
    let owner = app.user("encoderowner").await;
    deliver(
        &app,
        &state_event(
            "66666666-0000-4000-8000-000000000001",
            ARN,
            "Stream Start",
            "2026-03-01T16:00:00Z",
            "st-encoder",
        ),
    )
    .await;

    // Act: the health page is opened twice.
    let first = session(&app, &owner, "st-encoder").await;
    let second = session(&app, &owner, "st-encoder").await;

    // Assert: the settings IVS reported, asked for once and then read from the store.
    let video = &first["ingest_configuration"]["video"];
    assert_eq!(
        (
            &video["video_width"],
            &video["video_height"],
            &video["encoder"]
        ),
        (&json!(1920), &json!(1080), &json!("obs")),
        "{first}"
    );
    assert_eq!(
        first["ingest_configuration"]["audio"]["sample_rate"],
        48_000
    );
    assert_eq!(
        second["ingest_configuration"],
        first["ingest_configuration"]
    );
    assert_eq!(stream_session.num_calls(), 1);
}

#[tokio::test]
async fn live_states_that_disagree_with_what_ivs_has_on_the_air_on_two_checks_are_repaired() {
    use aws_sdk_ivs::{
        Client,
        config::retry::RetryConfig,
        error::ErrorMetadata,
        operation::{
            get_stream_session::GetStreamSessionOutput,
            list_streams::{ListStreamsError, ListStreamsOutput},
        },
        primitives::DateTime as AwsDateTime,
        types::{StreamState, StreamSummary},
    };
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    // Arrange: IVS answered by smithy mocks (no emulator has ListStreams). Each channel's ARN
    // ends in its owner's name.
    fn arn(username: &str) -> String {
        format!("arn:aws:ivs:us-east-1:123456789012:channel/{username}")
    }
    const LONG_AGO: &str = "2026-03-01T16:00:00Z";
    const NEWER_STARTED: &str = "2026-03-01T18:00:00Z";
    let now = chrono::Utc::now();
    let secs = |text: &str| {
        chrono::DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp()
    };
    let on_air = move |owner: &str, stream: &str, started: i64| {
        StreamSummary::builder()
            .channel_arn(arn(owner))
            .stream_id(stream)
            .state(StreamState::StreamLive)
            .start_time(AwsDateTime::from_secs(started))
            .build()
    };
    let page = move |streams: &[(&str, &str, i64)], next: Option<&str>| {
        let mut page = ListStreamsOutput::builder().set_next_token(next.map(str::to_owned));
        for (owner, stream, started) in streams {
            page = page.streams(on_air(owner, stream, *started));
        }
        page.build().unwrap()
    };
    let (long_ago, newer_started) = (secs(LONG_AGO), secs(NEWER_STARTED));
    // The first page changes from check to check; the second does not.
    let steady = [
        ("stillon", "st-on", long_ago),
        ("newer", "st-new", newer_started),
    ];
    // Until the channels and their events are in place, IVS throttles (no check decides
    // anything); then the checks below begin.
    let armed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let is_armed = {
        let armed = armed.clone();
        move || armed.load(std::sync::atomic::Ordering::SeqCst)
    };
    let throttled =
        || ListStreamsError::generic(ErrorMetadata::builder().code("ThrottlingException").build());
    let not_yet = {
        let is_armed = is_armed.clone();
        mock!(Client::list_streams)
            .match_requests(move |_| !is_armed())
            .then_error(throttled)
    };
    let first_page = mock!(Client::list_streams)
        .match_requests({
            let is_armed = is_armed.clone();
            move |r| is_armed() && r.next_token().is_none()
        })
        .sequence()
        // 1st check: neither lostend's nor blip's broadcast is on the air, and flicker's is,
        // though no event said it started; at the 3rd it is gone again.
        .output(move || {
            let mut streams = steady.to_vec();
            streams.push(("flicker", "st-flicker", long_ago));
            page(&streams, Some("page-2"))
        })
        // 2nd: IVS throttles, which decides nothing.
        .error(throttled)
        // 3rd: blip's is back (it was a blip); lostend's is still gone.
        .output(move || {
            let mut streams = steady.to_vec();
            streams.push(("blip", "st-blip", long_ago));
            page(&streams, Some("page-2"))
        })
        // From the 4th on, IVS lists lostend's again: a session its events or ours ended stays
        // ended.
        .output(move || {
            let mut streams = steady.to_vec();
            streams.push(("blip", "st-blip", long_ago));
            streams.push(("lostend", "st-lost", long_ago));
            page(&streams, Some("page-2"))
        })
        .repeatedly()
        .build();
    let just_now = now.timestamp();
    let second_page = mock!(Client::list_streams)
        .match_requests(move |r| is_armed() && r.next_token() == Some("page-2"))
        .then_output(move || {
            page(
                &[
                    // Its start event was lost.
                    ("foundlive", "st-found", long_ago),
                    // Started a moment ago: its events may be on their way.
                    ("justnow", "st-just", just_now),
                    // A channel of the same AWS account that is not Showrunner's.
                    ("notours", "st-other", long_ago),
                ],
                None,
            )
        });
    let create = mock!(Client::create_channel).then_compute_output(|request| {
        ivs_channel(&arn(request.name().unwrap().split('-').next().unwrap()))
    });
    // The session pages ask for encoder settings; IVS has none to give.
    let no_settings =
        mock!(Client::get_stream_session).then_output(|| GetStreamSessionOutput::builder().build());
    let client = mock_client!(
        aws_sdk_ivs,
        RuleMode::MatchAny,
        [&create, &not_yet, &first_page, &second_page, &no_settings],
        |b| b.retry_config(RetryConfig::disabled())
    );
    let (app, _dir) = app_on_ivs(client, Some(Duration::from_millis(200))).await;
    // Live by their events: the first four for long, fresh for a moment.
    let fresh_start = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let held_live = [
        ("lostend", "st-lost", LONG_AGO),
        ("blip", "st-blip", LONG_AGO),
        ("newer", "st-old", LONG_AGO),
        ("stillon", "st-on", LONG_AGO),
        ("fresh", "st-fresh", fresh_start.as_str()),
    ];
    let mut users = HashMap::new();
    for (n, (owner, stream, at)) in held_live.into_iter().enumerate() {
        users.insert(owner, app.user(owner).await);
        let id = format!("77777777-0000-4000-8000-00000000000{n}");
        let start = state_event(&id, &arn(owner), "Stream Start", at, stream);
        assert_eq!(deliver(&app, &start).await, "stored");
    }
    for owner in ["foundlive", "justnow", "flicker"] {
        users.insert(owner, app.user(owner).await);
    }

    armed.store(true, std::sync::atomic::Ordering::SeqCst);

    // Act: the periodic check runs until lostend is offline and foundlive and newer's newer
    // broadcast are live, and then twice more.
    let deadline = Instant::now() + Duration::from_secs(30);
    let live_since = async |owner: &str| {
        directory_entry(&app, owner)
            .await
            .map(|e| e["live_since"].as_str().unwrap().to_owned())
    };
    while live_since("lostend").await.is_some()
        || live_since("foundlive").await.is_none()
        || live_since("newer").await.as_deref() != Some(NEWER_STARTED)
    {
        assert!(Instant::now() < deadline, "not repaired in time");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let checks = second_page.num_calls();
    while second_page.num_calls() < checks + 2 {
        assert!(Instant::now() < deadline, "no more checks");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Assert: the lost end and the lost starts were made up for, with events of our own.
    assert_eq!(live_since("lostend").await, None);
    let lost = session(&app, &users["lostend"], "st-lost").await;
    assert_eq!(
        event_names(&lost),
        ["Stream Start", "Stream Offline"],
        "{}",
        lost["events"]
    );
    assert_eq!(
        lost["ended_at"], lost["events"][1]["time"],
        "{}",
        lost["events"]
    );
    assert!(
        lost["events"][1]["id"]
            .as_str()
            .unwrap()
            .starts_with("showrunner-offline-st-lost-")
    );
    let old = session(&app, &users["newer"], "st-old").await;
    assert_eq!(
        event_names(&old),
        ["Stream Start", "Stream Offline"],
        "{}",
        old["events"]
    );
    for (owner, stream, since) in [
        ("newer", "st-new", NEWER_STARTED),
        ("foundlive", "st-found", LONG_AGO),
    ] {
        let found = session(&app, &users[owner], stream).await;
        assert_eq!(
            event_names(&found),
            ["Stream Online"],
            "{}",
            found["events"]
        );
        assert_eq!(
            found["events"][0]["id"],
            format!("showrunner-online-{stream}")
        );
        assert_eq!(
            (&found["live"], &found["live_since"]),
            (&json!(true), &json!(since))
        );
    }
    // What agreed, what disagreed only once (the blip), and what is too new to judge, are as
    // their events say, with no event of ours.
    for (owner, stream, _) in &held_live[1..] {
        if *owner == "newer" {
            continue;
        }
        assert!(live_since(owner).await.is_some(), "{owner} went offline");
        let kept = session(&app, &users[owner], stream).await;
        assert_eq!(event_names(&kept), ["Stream Start"], "{}", kept["events"]);
    }
    for owner in ["justnow", "flicker"] {
        assert_eq!(live_since(owner).await, None, "{owner}");
        assert_eq!(sessions(&app, &users[owner]).await["sessions"], json!([]));
    }

    // The lost end arrives after all: it says when the stream ended.
    let late = state_event(
        "77777777-0000-4000-8000-0000000000ff",
        &arn("lostend"),
        "Stream End",
        "2026-03-01T17:00:00Z",
        "st-lost",
    );
    assert_eq!(deliver(&app, &late).await, "stored");
    let ended = session(&app, &users["lostend"], "st-lost").await;
    assert_eq!(
        ended["ended_at"], "2026-03-01T17:00:00Z",
        "{}",
        ended["events"]
    );
}
