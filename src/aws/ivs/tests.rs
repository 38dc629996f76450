//! The IVS adapter against the SDK's own test tools: `StaticReplayClient` for the exact
//! requests on the wire (the real serializer runs), smithy mocks for behaviour (errors,
//! throttling, retries). moto covers the channel calls too (`tests/aws_adapters.rs`); it has no
//! stream keys, streams, sessions or metadata, so those are covered here only.

use std::sync::{Arc, Mutex};

use aws_sdk_ivs::{
    config::{BehaviorVersion, Credentials, Region},
    error::ErrorMetadata,
    operation::{
        create_stream_key::CreateStreamKeyOutput,
        delete_channel::{DeleteChannelError, DeleteChannelOutput},
        delete_stream_key::DeleteStreamKeyOutput,
        get_stream_session::{GetStreamSessionError, GetStreamSessionOutput},
        list_stream_keys::ListStreamKeysOutput,
        list_streams::{ListStreamsError, ListStreamsOutput},
        put_metadata::{PutMetadataError, PutMetadataOutput},
        stop_stream::{StopStreamError, StopStreamOutput},
    },
    primitives::DateTime as AwsDateTime,
    types::{
        AudioConfiguration as IvsAudio, IngestConfiguration as IvsIngest, IngestConfigurations,
        StreamKey, StreamKeySummary, StreamSession, StreamSummary, VideoConfiguration as IvsVideo,
        error::{
            ChannelNotBroadcasting, ConflictException, ResourceNotFoundException,
            ThrottlingException, ValidationException,
        },
    },
};
use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use aws_smithy_types::body::SdkBody;

use super::*;
use crate::config::MultitrackConfig;

const ARN: &str = "arn:aws:ivs:us-east-1:123456789012:channel/AbCdef1G2hij";

fn meta(code: &str) -> ErrorMetadata {
    ErrorMetadata::builder()
        .code(code)
        .message("from the test")
        .build()
}

fn throttled() -> PutMetadataError {
    PutMetadataError::ThrottlingException(
        ThrottlingException::builder()
            .message("slow down")
            .meta(meta("ThrottlingException"))
            .build(),
    )
}

fn settings(multitrack: bool) -> ChannelSettings {
    ChannelSettings::from_config(
        &MediaConfig {
            channel_type: ChannelType::Standard,
            multitrack: MultitrackConfig {
                enabled: multitrack,
                maximum_resolution: "HD".into(),
                policy: "REQUIRE".into(),
            },
        },
        BTreeMap::from([("project".to_owned(), "showrunner".to_owned())]),
    )
}

/// An adapter whose every call goes through `rules` (no SDK retries: ours are under test).
fn mocked(rules: &[&aws_smithy_mocks::Rule]) -> IvsMedia {
    let client = mock_client!(aws_sdk_ivs, RuleMode::Sequential, rules, |b| b
        .retry_config(RetryConfig::disabled()));
    IvsMedia::with_client(client, settings(false))
}

/// An adapter that sends real HTTP requests to `http`.
fn on_the_wire(http: &StaticReplayClient, settings: ChannelSettings) -> IvsMedia {
    let config = aws_sdk_ivs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::for_tests())
        .http_client(http.clone())
        .build();
    IvsMedia::with_client(Client::from_conf(config), settings)
}

fn exchange(path: &str, request: serde_json::Value, response: serde_json::Value) -> ReplayEvent {
    ReplayEvent::new(
        http::Request::builder()
            .method("POST")
            .uri(format!("https://ivs.us-east-1.amazonaws.com{path}"))
            .body(SdkBody::from(request.to_string()))
            .unwrap(),
        http::Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(SdkBody::from(response.to_string()))
            .unwrap(),
    )
}

#[tokio::test]
async fn a_channel_is_created_low_latency_with_the_configured_type_and_tags() {
    let owner = AccountId(uuid::Uuid::from_u128(7));
    let http = StaticReplayClient::new(vec![exchange(
        "/CreateChannel",
        serde_json::json!({
            "name": format!("anna_1-{}", owner.0.simple()),
            "latencyMode": "LOW",
            "type": "STANDARD",
            "tags": {"project": "showrunner", "owner": owner.to_string()},
        }),
        serde_json::json!({
            "channel": {
                "arn": ARN,
                "ingestEndpoint": "abc.global-contribute.live-video.net",
                "playbackUrl": "https://abc.us-east-1.playback.live-video.net/api/video/v1/x.m3u8",
            },
            "streamKey": {"arn": "arn:aws:ivs:us-east-1:123456789012:stream-key/k", "value": "sk_us-east-1_secret"},
        }),
    )]);
    let media = on_the_wire(&http, settings(false));

    let channel = media.create_channel(owner, "anna_1!").await.unwrap();

    http.relaxed_requests_match();
    assert_eq!(
        channel,
        ChannelResources {
            arn: ARN.into(),
            ingest_endpoint: "abc.global-contribute.live-video.net".into(),
            stream_key: "sk_us-east-1_secret".into(),
            playback_url: "https://abc.us-east-1.playback.live-video.net/api/video/v1/x.m3u8"
                .into(),
        }
    );
}

#[tokio::test]
async fn multitrack_input_asks_for_fragmented_mp4_with_the_configured_limits() {
    let owner = AccountId(uuid::Uuid::from_u128(8));
    let http = StaticReplayClient::new(vec![exchange(
        "/CreateChannel",
        serde_json::json!({
            "name": format!("bo-{}", owner.0.simple()),
            "latencyMode": "LOW",
            "type": "STANDARD",
            "tags": {"project": "showrunner", "owner": owner.to_string()},
            "containerFormat": "FRAGMENTED_MP4",
            "multitrackInputConfiguration": {"enabled": true, "maximumResolution": "HD", "policy": "REQUIRE"},
        }),
        serde_json::json!({
            "channel": {"arn": ARN, "ingestEndpoint": "i", "playbackUrl": "https://p"},
            "streamKey": {"value": "sk"},
        }),
    )]);

    on_the_wire(&http, settings(true))
        .create_channel(owner, "bo")
        .await
        .unwrap();

    http.relaxed_requests_match();
}

#[tokio::test]
async fn metadata_goes_to_the_channel_as_given() {
    let payload = r#"{"type":"action_ended","channel":"c","action_id":"a","reason":"stopped"}"#;
    let http = StaticReplayClient::new(vec![exchange(
        "/PutMetadata",
        serde_json::json!({"channelArn": ARN, "metadata": payload}),
        serde_json::json!({}),
    )]);

    on_the_wire(&http, settings(false))
        .put_metadata(ARN, payload)
        .await
        .unwrap();

    http.relaxed_requests_match();
}

#[tokio::test(start_paused = true)]
async fn throttled_metadata_is_retried_with_growing_waits_until_it_goes_through() {
    let rule = mock!(Client::put_metadata)
        .sequence()
        .error(throttled)
        .times(2)
        .output(|| PutMetadataOutput::builder().build())
        .build();
    let media = mocked(&[&rule]);
    let start = tokio::time::Instant::now();

    media.put_metadata(ARN, "{}").await.unwrap();

    assert_eq!(rule.num_calls(), 3);
    // 200 ms, then 400 ms.
    assert_eq!(start.elapsed(), METADATA_BACKOFF * 3);
}

#[tokio::test(start_paused = true)]
async fn metadata_throttled_every_time_gives_up_after_the_last_attempt() {
    let rule = mock!(Client::put_metadata)
        .sequence()
        .error(throttled)
        .repeatedly()
        .build();
    let media = mocked(&[&rule]);

    let outcome = media.put_metadata(ARN, "{}").await;

    assert!(matches!(outcome, Err(MediaError::Throttled)), "{outcome:?}");
    assert_eq!(rule.num_calls(), METADATA_ATTEMPTS as usize);
}

#[tokio::test]
async fn metadata_for_a_channel_that_is_not_broadcasting_is_a_clear_error_not_retried() {
    let rule = mock!(Client::put_metadata).then_error(|| {
        PutMetadataError::ChannelNotBroadcasting(
            ChannelNotBroadcasting::builder()
                .message("not live")
                .meta(meta("ChannelNotBroadcasting"))
                .build(),
        )
    });
    let media = mocked(&[&rule]);

    let outcome = media.put_metadata(ARN, "{}").await;

    assert!(
        matches!(outcome, Err(MediaError::NotBroadcasting)),
        "{outcome:?}"
    );
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn refused_or_failing_metadata_is_not_retried() {
    let too_big = mock!(Client::put_metadata).then_error(|| {
        PutMetadataError::ValidationException(
            ValidationException::builder()
                .message("Metadata size exceeds payload limit")
                .meta(meta("ValidationException"))
                .build(),
        )
    });
    let media = mocked(&[&too_big]);
    let outcome = media.put_metadata(ARN, "{}").await;
    assert!(
        matches!(&outcome, Err(MediaError::Rejected(m)) if m.contains("payload limit")),
        "{outcome:?}"
    );
    assert_eq!(too_big.num_calls(), 1);

    let down = mock!(Client::put_metadata).then_http_response(|| {
        aws_sdk_ivs::config::http::HttpResponse::new(503.try_into().unwrap(), SdkBody::from("{}"))
    });
    let media = mocked(&[&down]);
    let outcome = media.put_metadata(ARN, "{}").await;
    assert!(
        matches!(outcome, Err(MediaError::Unavailable(_))),
        "{outcome:?}"
    );
    assert_eq!(down.num_calls(), 1);
}

#[tokio::test]
async fn stopping_a_channel_that_is_not_broadcasting_is_not_an_error() {
    let live = mock!(Client::stop_stream)
        .match_requests(|r| r.channel_arn() == Some("live"))
        .then_output(|| StopStreamOutput::builder().build());
    let idle = mock!(Client::stop_stream)
        .match_requests(|r| r.channel_arn() == Some("idle"))
        .then_error(|| {
            StopStreamError::ChannelNotBroadcasting(
                ChannelNotBroadcasting::builder()
                    .meta(meta("ChannelNotBroadcasting"))
                    .build(),
            )
        });
    let gone = mock!(Client::stop_stream)
        .match_requests(|r| r.channel_arn() == Some("gone"))
        .then_error(|| {
            StopStreamError::ResourceNotFoundException(
                ResourceNotFoundException::builder()
                    .meta(meta("ResourceNotFoundException"))
                    .build(),
            )
        });
    let client = mock_client!(aws_sdk_ivs, RuleMode::MatchAny, [&live, &idle, &gone]);
    let media = IvsMedia::with_client(client, settings(false));

    assert!(media.stop_stream("live").await.unwrap());
    assert!(!media.stop_stream("idle").await.unwrap());
    assert!(matches!(
        media.stop_stream("gone").await,
        Err(MediaError::NotFound)
    ));
}

#[tokio::test]
async fn an_offline_channel_is_deleted_in_one_call_and_a_missing_one_counts_as_deleted() {
    let deleted = mock!(Client::delete_channel)
        .match_requests(|r| r.arn() == Some(ARN))
        .then_output(|| DeleteChannelOutput::builder().build());
    let missing = mock!(Client::delete_channel)
        .match_requests(|r| r.arn() == Some("gone"))
        .then_error(|| {
            DeleteChannelError::ResourceNotFoundException(
                ResourceNotFoundException::builder()
                    .meta(meta("ResourceNotFoundException"))
                    .build(),
            )
        });
    let stop = mock!(Client::stop_stream).then_output(|| StopStreamOutput::builder().build());
    let client = mock_client!(aws_sdk_ivs, RuleMode::MatchAny, [&deleted, &missing, &stop]);
    let media = IvsMedia::with_client(client, settings(false));

    media.delete_channel(ARN).await.unwrap();
    media.delete_channel("gone").await.unwrap();

    assert_eq!(deleted.num_calls(), 1);
    assert_eq!(
        stop.num_calls(),
        0,
        "an offline channel needs no StopStream"
    );
}

#[tokio::test(start_paused = true)]
async fn a_live_channel_is_stopped_then_deleted_once_ivs_sees_it_offline() {
    let delete = mock!(Client::delete_channel)
        .sequence()
        .error(|| {
            DeleteChannelError::ConflictException(
                ConflictException::builder()
                    .message("channel is live")
                    .meta(meta("ConflictException"))
                    .build(),
            )
        })
        .times(2)
        .output(|| DeleteChannelOutput::builder().build())
        .build();
    let stop = mock!(Client::stop_stream)
        .match_requests(|r| r.channel_arn() == Some(ARN))
        .then_output(|| StopStreamOutput::builder().build());
    let client = mock_client!(aws_sdk_ivs, RuleMode::MatchAny, [&delete, &stop]);
    let media = IvsMedia::with_client(client, settings(false));

    media.delete_channel(ARN).await.unwrap();

    assert_eq!(stop.num_calls(), 1);
    assert_eq!(delete.num_calls(), 3);
}

#[tokio::test]
async fn a_key_reset_stops_the_broadcast_replaces_the_one_key_and_returns_the_new_value() {
    let calls: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = |name: &'static str| {
        let calls = calls.clone();
        move || calls.lock().unwrap().push(name.to_owned())
    };
    let (l1, l2, l3, l4) = (
        log("StopStream"),
        log("ListStreamKeys"),
        log("DeleteStreamKey"),
        log("CreateStreamKey"),
    );
    let stop = mock!(Client::stop_stream).then_compute_output(move |_| {
        l1();
        StopStreamOutput::builder().build()
    });
    let list = mock!(Client::list_stream_keys)
        .match_requests(|r| r.channel_arn() == Some(ARN))
        .then_compute_output(move |_| {
            l2();
            ListStreamKeysOutput::builder()
                .stream_keys(StreamKeySummary::builder().arn("old-key").build())
                .build()
                .unwrap()
        });
    let delete = mock!(Client::delete_stream_key)
        .match_requests(|r| r.arn() == Some("old-key"))
        .then_compute_output(move |_| {
            l3();
            DeleteStreamKeyOutput::builder().build()
        });
    let create = mock!(Client::create_stream_key)
        .match_requests(|r| {
            r.channel_arn() == Some(ARN) && r.tags().is_some_and(|t| t["project"] == "showrunner")
        })
        .then_compute_output(move |_| {
            l4();
            CreateStreamKeyOutput::builder()
                .stream_key(StreamKey::builder().value("sk_new").build())
                .build()
        });
    let client = mock_client!(
        aws_sdk_ivs,
        RuleMode::MatchAny,
        [&stop, &list, &delete, &create]
    );
    let media = IvsMedia::with_client(client, settings(false));

    let key = media.reset_stream_key(ARN).await.unwrap();

    assert_eq!(key, "sk_new");
    assert_eq!(
        *calls.lock().unwrap(),
        [
            "StopStream",
            "ListStreamKeys",
            "DeleteStreamKey",
            "CreateStreamKey"
        ]
    );
}

#[tokio::test]
async fn the_broadcasts_on_the_air_are_read_from_every_page_of_list_streams() {
    let start = AwsDateTime::from_secs(1_772_366_400);
    let summary = move |arn: &str, id: &str, state: StreamState| {
        StreamSummary::builder()
            .channel_arn(arn)
            .stream_id(id)
            .state(state)
            .health(IvsHealth::Starving)
            .viewer_count(42)
            .start_time(start)
            .build()
    };
    let first = mock!(Client::list_streams)
        .match_requests(|r| r.next_token().is_none() && r.max_results() == Some(100))
        .then_output(move || {
            ListStreamsOutput::builder()
                .streams(summary("arn:one", "st-1", StreamState::StreamLive))
                // Offline already: not on the air.
                .streams(summary("arn:two", "st-2", StreamState::StreamOffline))
                .next_token("page-2")
                .build()
                .unwrap()
        });
    let second = mock!(Client::list_streams)
        .match_requests(|r| r.next_token() == Some("page-2"))
        .then_output(move || {
            ListStreamsOutput::builder()
                .streams(summary("arn:three", "st-3", StreamState::StreamLive))
                .build()
                .unwrap()
        });
    let client = mock_client!(aws_sdk_ivs, RuleMode::MatchAny, [&first, &second], |b| b
        .retry_config(RetryConfig::disabled()));
    let media = IvsMedia::with_client(client, settings(false));

    let streams = media.live_streams().await.unwrap();

    assert_eq!(
        streams,
        [
            LiveStream {
                channel_arn: "arn:one".into(),
                stream_id: "st-1".into(),
                started_at: DateTime::from_timestamp(1_772_366_400, 0),
                viewers: 42,
                health: StreamHealth::Starving,
            },
            LiveStream {
                channel_arn: "arn:three".into(),
                stream_id: "st-3".into(),
                started_at: DateTime::from_timestamp(1_772_366_400, 0),
                viewers: 42,
                health: StreamHealth::Starving,
            },
        ]
    );
    assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
}

#[tokio::test]
async fn a_throttled_listing_is_an_error_not_an_empty_air() {
    let busy = mock!(Client::list_streams)
        .then_error(|| ListStreamsError::generic(meta("ThrottlingException")));
    let media = mocked(&[&busy]);

    assert!(matches!(
        media.live_streams().await,
        Err(MediaError::Throttled)
    ));
}

fn ivs_video(height: i64) -> IvsVideo {
    IvsVideo::builder()
        .avc_level("4.2")
        .avc_profile("High")
        .codec("avc1.64002A")
        .encoder("obs")
        .target_bitrate(6_000_000)
        .target_framerate(60)
        .video_height(height)
        .video_width(height * 16 / 9)
        .build()
}

fn ivs_audio() -> IvsAudio {
    IvsAudio::builder()
        .channels(2)
        .codec("mp4a.40.2")
        .sample_rate(48_000)
        .target_bitrate(160_000)
        .build()
}

#[tokio::test]
async fn the_ingest_configuration_comes_from_the_stream_session() {
    let single = mock!(Client::get_stream_session)
        .match_requests(|r| r.stream_id() == Some("st-single") && r.channel_arn() == Some(ARN))
        .then_output(|| {
            GetStreamSessionOutput::builder()
                .stream_session(
                    StreamSession::builder()
                        .ingest_configuration(
                            IvsIngest::builder()
                                .video(ivs_video(1080))
                                .audio(ivs_audio())
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
    let multitrack = mock!(Client::get_stream_session)
        .match_requests(|r| r.stream_id() == Some("st-multi"))
        .then_output(|| {
            GetStreamSessionOutput::builder()
                .stream_session(
                    StreamSession::builder()
                        .ingest_configurations(
                            IngestConfigurations::builder()
                                .video_configurations(ivs_video(360))
                                .video_configurations(ivs_video(720))
                                .video_configurations(ivs_video(480))
                                .audio_configurations(ivs_audio())
                                .build()
                                .unwrap(),
                        )
                        .build(),
                )
                .build()
        });
    let unknown = mock!(Client::get_stream_session)
        .match_requests(|r| r.stream_id() == Some("st-unknown"))
        .then_error(|| {
            GetStreamSessionError::ResourceNotFoundException(
                ResourceNotFoundException::builder()
                    .meta(meta("ResourceNotFoundException"))
                    .build(),
            )
        });
    let client = mock_client!(
        aws_sdk_ivs,
        RuleMode::MatchAny,
        [&single, &multitrack, &unknown]
    );
    let media = IvsMedia::with_client(client, settings(false));

    let config = media
        .ingest_configuration(ARN, "st-single")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        config,
        IngestConfiguration {
            video: VideoConfiguration {
                avc_level: "4.2".into(),
                avc_profile: "High".into(),
                codec: "avc1.64002A".into(),
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
    );
    let best = media
        .ingest_configuration(ARN, "st-multi")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(best.video.video_height, 720);
    assert_eq!(
        media.ingest_configuration(ARN, "st-unknown").await.unwrap(),
        None
    );
}

#[tokio::test]
async fn ivs_trouble_is_unavailable_and_the_sdk_type_never_leaks() {
    // Not modelled for StopStream: it arrives as a generic error with its code.
    let rule = mock!(Client::stop_stream)
        .then_error(|| StopStreamError::generic(meta("InternalServerException")));
    let media = mocked(&[&rule]);

    let outcome = media.stop_stream(ARN).await;

    assert!(
        matches!(&outcome, Err(MediaError::Unavailable(m)) if m.contains("ivs:StopStream")),
        "{outcome:?}"
    );
}
