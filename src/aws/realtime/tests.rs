//! The IVS Real-Time adapter against the SDK's test tools (no emulator has IVS Real-Time).

use std::collections::HashMap;

use aws_sdk_ivsrealtime::{
    config::{BehaviorVersion, Credentials, Region, retry::RetryConfig},
    error::ErrorMetadata,
    operation::{
        create_participant_token::CreateParticipantTokenError,
        create_stage::CreateStageOutput,
        delete_stage::{DeleteStageError, DeleteStageOutput},
        disconnect_participant::DisconnectParticipantError,
        get_stage::GetStageOutput,
        list_participants::ListParticipantsOutput,
        list_stages::ListStagesOutput,
    },
    types::{ParticipantSummary, Stage, StageSummary},
};
use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use aws_smithy_types::body::SdkBody;
use serde_json::json;

use super::*;

const STAGE: &str = "arn:aws:ivs:us-east-1:123456789012:stage/abcdABCDefgh";

fn tags() -> BTreeMap<String, String> {
    BTreeMap::from([("project".to_owned(), "showrunner".to_owned())])
}

fn meta(code: &str) -> ErrorMetadata {
    ErrorMetadata::builder().code(code).message("test").build()
}

fn on_the_wire(http: &StaticReplayClient) -> IvsStages {
    let config = aws_sdk_ivsrealtime::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::for_tests())
        .http_client(http.clone())
        .build();
    IvsStages::with_client(Client::from_conf(config), tags())
}

fn exchange(path: &str, request: serde_json::Value, response: serde_json::Value) -> ReplayEvent {
    ReplayEvent::new(
        http::Request::builder()
            .method("POST")
            .uri(format!("https://ivsrealtime.us-east-1.amazonaws.com{path}"))
            .body(SdkBody::from(request.to_string()))
            .unwrap(),
        http::Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(SdkBody::from(response.to_string()))
            .unwrap(),
    )
}

fn mocked(rules: &[&aws_smithy_mocks::Rule]) -> IvsStages {
    let client = mock_client!(aws_sdk_ivsrealtime, RuleMode::MatchAny, rules, |b| b
        .retry_config(RetryConfig::disabled()));
    IvsStages::with_client(client, tags())
}

#[tokio::test]
async fn a_stage_is_tagged_with_the_project_its_owner_and_when_it_was_made() {
    let owner = AccountId(uuid::Uuid::from_u128(3));
    let before = Utc::now().timestamp_millis();
    let rule = mock!(Client::create_stage)
        .match_requests(move |r| {
            let tags = r.tags().unwrap();
            let created: i64 = tags[CREATED_TAG].parse().unwrap();
            tags["project"] == "showrunner"
                && tags["owner"] == owner.to_string()
                && created >= before
                && r.name().unwrap().starts_with(&owner.0.simple().to_string())
                && r.participant_token_configurations().is_empty()
        })
        .then_output(|| {
            CreateStageOutput::builder()
                .stage(Stage::builder().arn(STAGE).build().unwrap())
                .build()
        });
    let stages = mocked(&[&rule]);

    let arn = stages.create_stage(owner).await.unwrap();

    assert_eq!(arn, STAGE);
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn a_publisher_token_carries_its_capabilities_attributes_and_lifetime() {
    let http = StaticReplayClient::new(vec![exchange(
        "/CreateParticipantToken",
        json!({
            "stageArn": STAGE,
            "userId": "0190f3a2-7c1e-7d4b-9a55-3c1f2e4d5a6b",
            "duration": 720,
            "capabilities": ["PUBLISH", "SUBSCRIBE"],
            "attributes": {"username": "anna", "channel": "c-1"},
        }),
        json!({"participantToken": {
            "participantId": "p-1",
            "token": "eyJ-token",
            "userId": "0190f3a2-7c1e-7d4b-9a55-3c1f2e4d5a6b",
            "duration": 720,
            "capabilities": ["PUBLISH", "SUBSCRIBE"],
            "expirationTime": "2026-03-02T00:00:00Z",
        }}),
    )]);

    let token = on_the_wire(&http)
        .participant_token(
            STAGE,
            "0190f3a2-7c1e-7d4b-9a55-3c1f2e4d5a6b",
            &[Capability::Publish, Capability::Subscribe],
            BTreeMap::from([
                ("username".to_owned(), "anna".to_owned()),
                ("channel".to_owned(), "c-1".to_owned()),
            ]),
            Duration::from_secs(12 * 3600),
        )
        .await
        .unwrap();

    http.relaxed_requests_match();
    assert_eq!(
        token,
        ParticipantToken {
            token: "eyJ-token".into(),
            participant_id: "p-1".into(),
            capabilities: vec![Capability::Publish, Capability::Subscribe],
            expires_at: DateTime::parse_from_rfc3339("2026-03-02T00:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
        }
    );
}

#[tokio::test]
async fn a_spectator_token_only_subscribes() {
    let http = StaticReplayClient::new(vec![exchange(
        "/CreateParticipantToken",
        json!({"stageArn": STAGE, "userId": "anon-1", "duration": 60, "capabilities": ["SUBSCRIBE"]}),
        json!({"participantToken": {"participantId": "p-2", "token": "t"}}),
    )]);

    let token = on_the_wire(&http)
        .participant_token(
            STAGE,
            "anon-1",
            &[Capability::Subscribe],
            BTreeMap::new(),
            Duration::from_secs(3600),
        )
        .await
        .unwrap();

    http.relaxed_requests_match();
    assert_eq!(token.capabilities, [Capability::Subscribe]);
}

#[tokio::test]
async fn disconnecting_and_deleting_send_the_ids_and_tolerate_what_is_gone() {
    let http = StaticReplayClient::new(vec![
        exchange(
            "/DisconnectParticipant",
            json!({"stageArn": STAGE, "participantId": "p-1", "reason": "removed by the host"}),
            json!({}),
        ),
        exchange("/DeleteStage", json!({"arn": STAGE}), json!({})),
    ]);
    let stages = on_the_wire(&http);
    stages
        .disconnect(STAGE, "p-1", "removed by the host")
        .await
        .unwrap();
    stages.delete_stage(STAGE).await.unwrap();
    http.relaxed_requests_match();

    let gone_participant = mock!(Client::disconnect_participant)
        .then_error(|| DisconnectParticipantError::generic(meta("ResourceNotFoundException")));
    let gone_stage = mock!(Client::delete_stage)
        .then_error(|| DeleteStageError::generic(meta("ResourceNotFoundException")));
    let stages = mocked(&[&gone_participant, &gone_stage]);
    stages.disconnect(STAGE, "p-9", "bye").await.unwrap();
    stages.delete_stage(STAGE).await.unwrap();
}

#[tokio::test]
async fn token_failures_map_into_the_port_errors() {
    let throttled = mock!(Client::create_participant_token)
        .match_requests(|r| r.user_id() == Some("busy"))
        .then_error(|| CreateParticipantTokenError::generic(meta("ThrottlingException")));
    let missing = mock!(Client::create_participant_token)
        .match_requests(|r| r.user_id() == Some("gone"))
        .then_error(|| CreateParticipantTokenError::generic(meta("ResourceNotFoundException")));
    let down = mock!(Client::create_participant_token)
        .match_requests(|r| r.user_id() == Some("down"))
        .then_http_response(|| {
            aws_sdk_ivsrealtime::config::http::HttpResponse::new(
                503.try_into().unwrap(),
                SdkBody::from("{}"),
            )
        });
    let stages = mocked(&[&throttled, &missing, &down]);
    let token = |user: &'static str| {
        let stages = &stages;
        async move {
            stages
                .participant_token(
                    STAGE,
                    user,
                    &[Capability::Subscribe],
                    BTreeMap::new(),
                    Duration::from_secs(60),
                )
                .await
        }
    };

    assert!(matches!(token("busy").await, Err(StagesError::Throttled)));
    assert!(matches!(token("gone").await, Err(StagesError::NotFound)));
    assert!(matches!(
        token("down").await,
        Err(StagesError::Unavailable(m)) if m.contains("ivs:CreateParticipantToken")
    ));
}

#[tokio::test]
async fn participants_of_the_active_session_are_listed_across_pages() {
    let stage = mock!(Client::get_stage)
        .match_requests(|r| r.arn() == Some(STAGE))
        .then_output(|| {
            GetStageOutput::builder()
                .stage(
                    Stage::builder()
                        .arn(STAGE)
                        .active_session_id("st-session")
                        .build()
                        .unwrap(),
                )
                .build()
        });
    let person = |id: &str, state: ParticipantState, published: bool| {
        ParticipantSummary::builder()
            .participant_id(id)
            .user_id(format!("user-{id}"))
            .state(state)
            .published(published)
            .build()
    };
    let first = person("p-1", ParticipantState::Connected, true);
    let second = person("p-2", ParticipantState::Disconnected, false);
    let pages = mock!(Client::list_participants)
        .match_requests(|r| r.session_id() == Some("st-session"))
        .sequence()
        .output(move || {
            ListParticipantsOutput::builder()
                .participants(first.clone())
                .next_token("page-2")
                .build()
                .unwrap()
        })
        .output(move || {
            ListParticipantsOutput::builder()
                .participants(second.clone())
                .build()
                .unwrap()
        })
        .build();
    let stages = mocked(&[&stage, &pages]);

    let participants = stages.participants(STAGE).await.unwrap().unwrap();

    assert_eq!(
        participants,
        [
            Participant {
                participant_id: "p-1".into(),
                user_id: "user-p-1".into(),
                connected: true,
                published: true,
            },
            Participant {
                participant_id: "p-2".into(),
                user_id: "user-p-2".into(),
                connected: false,
                published: false,
            },
        ]
    );
    assert_eq!(pages.num_calls(), 2);
}

#[tokio::test]
async fn a_stage_without_a_session_has_nobody_in_it() {
    let stage = mock!(Client::get_stage).then_output(|| {
        GetStageOutput::builder()
            .stage(Stage::builder().arn(STAGE).build().unwrap())
            .build()
    });
    let list = mock!(Client::list_participants)
        .then_output(|| ListParticipantsOutput::builder().build().unwrap());
    let stages = mocked(&[&stage, &list]);

    assert!(
        stages
            .participants(STAGE)
            .await
            .unwrap()
            .unwrap()
            .is_empty()
    );
    assert_eq!(list.num_calls(), 0);
}

#[tokio::test(start_paused = true)]
async fn the_sweep_deletes_only_our_old_stages_without_a_session_that_nobody_holds() {
    let hours_ago = |h: i64| (Utc::now() - chrono::Duration::hours(h)).timestamp_millis();
    let summary = |arn: &str, tags: &[(&str, String)], session: Option<&str>| {
        let tags: HashMap<String, String> = tags
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        StageSummary::builder()
            .arn(arn)
            .set_tags(Some(tags))
            .set_active_session_id(session.map(str::to_owned))
            .build()
            .unwrap()
    };
    let ours = |h: i64| {
        vec![
            ("project", "showrunner".to_owned()),
            (CREATED_TAG, hours_ago(h).to_string()),
        ]
    };
    let page_1 = vec![
        summary("idle-old", &ours(3), None),
        summary("in-session", &ours(3), Some("st-1")),
        summary("young", &ours(0), None),
    ];
    let page_2 = vec![
        summary(
            "theirs",
            &[
                ("project", "other".to_owned()),
                (CREATED_TAG, hours_ago(3).to_string()),
            ],
            None,
        ),
        summary("held", &ours(3), Some("")),
        summary("also-idle", &ours(5), Some("")),
    ];
    let list = mock!(Client::list_stages)
        .sequence()
        .output(move || {
            ListStagesOutput::builder()
                .set_stages(Some(page_1.clone()))
                .next_token("2")
                .build()
                .unwrap()
        })
        .output(move || {
            ListStagesOutput::builder()
                .set_stages(Some(page_2.clone()))
                .build()
                .unwrap()
        })
        .build();
    let deleted: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
    let seen = deleted.clone();
    let delete = mock!(Client::delete_stage).then_compute_output(move |r| {
        seen.lock().unwrap().push(r.arn().unwrap().to_owned());
        DeleteStageOutput::builder().build()
    });
    let stages = mocked(&[&list, &delete]);

    let swept = stages
        .sweep_idle(
            Duration::from_secs(3600),
            &HashSet::from(["held".to_owned()]),
        )
        .await
        .unwrap();

    assert_eq!(swept, ["idle-old", "also-idle"]);
    assert_eq!(*deleted.lock().unwrap(), ["idle-old", "also-idle"]);
}
