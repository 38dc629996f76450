//! The flows of local mode with every port a flow needs on its AWS adapter, in process: the store
//! on DynamoDB (moto), chat rooms on IVS Chat and stages on IVS Real-Time. No emulator has the
//! last two, so their SDK clients are the real ones answered at the HTTP boundary: IVS Chat by
//! smithy mocks that record what they were asked, IVS Real-Time by a `StaticReplayClient` whose
//! recorded wire requests are checked.

use std::sync::{Arc, Mutex};

use aws_sdk_ivschat::operation::{
    create_chat_token::CreateChatTokenOutput, create_room::CreateRoomOutput,
    send_event::SendEventOutput,
};
use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use aws_smithy_types::body::SdkBody;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use showrunner::{
    aws::{ivschat::IvsChatRooms, realtime::IvsStages},
    store::{AccountStore, SnapshotStore},
};

use crate::{
    helpers::{TestApp, dynamo_store, spawn_app_with_backends, use_store},
    ws::WsClient,
};

const ROOM: &str = "arn:aws:ivschat:us-east-1:123456789012:room/g1H2I3j4k5L6";
const STAGE: &str = "arn:aws:ivs:us-east-1:123456789012:stage/abcdABCDefgh";

/// One IVS Real-Time answer, in the order the flow makes its calls. The request half is not
/// compared (user ids are made at registration); the test reads the actual requests instead.
fn answer(json: Value) -> ReplayEvent {
    ReplayEvent::new(
        http::Request::builder()
            .uri("https://ivsrealtime.us-east-1.amazonaws.com/")
            .body(SdkBody::empty())
            .unwrap(),
        http::Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(SdkBody::from(json.to_string()))
            .unwrap(),
    )
}

fn token_answer(participant: &str, token: &str) -> ReplayEvent {
    answer(json!({"participantToken": {
        "participantId": participant,
        "token": token,
        "expirationTime": "2030-01-01T00:00:00Z",
    }}))
}

/// What IVS Real-Time was asked: `(operation path, JSON body)` per call, in order.
fn wire(http: &StaticReplayClient) -> Vec<(String, Value)> {
    http.actual_requests()
        .map(|r| {
            let path = r
                .uri()
                .split_once("amazonaws.com")
                .map(|(_, p)| p.to_owned())
                .unwrap_or_else(|| r.uri().to_owned());
            let body = serde_json::from_slice(r.body().bytes().unwrap_or(b"{}")).unwrap();
            (path, body)
        })
        .collect()
}

type Calls = Arc<Mutex<Vec<String>>>;

/// An IVS Chat client whose calls are answered by mocks and logged in `calls`.
fn ivs_chat(calls: &Calls) -> aws_sdk_ivschat::Client {
    let log = |calls: &Calls| {
        let calls = calls.clone();
        move |line: String| calls.lock().unwrap().push(line)
    };
    let (l1, l2, l3) = (log(calls), log(calls), log(calls));
    let create = mock!(aws_sdk_ivschat::Client::create_room).then_compute_output(move |r| {
        l1(format!("CreateRoom {}", r.name().unwrap_or_default()));
        CreateRoomOutput::builder().arn(ROOM).build()
    });
    let token = mock!(aws_sdk_ivschat::Client::create_chat_token).then_compute_output(move |r| {
        let capabilities: Vec<_> = r.capabilities().iter().map(|c| c.as_str()).collect();
        l2(format!(
            "CreateChatToken {} {} [{}]",
            r.room_identifier().unwrap_or_default(),
            r.user_id().unwrap_or_default(),
            capabilities.join(",")
        ));
        CreateChatTokenOutput::builder().token("chat-token").build()
    });
    let event = mock!(aws_sdk_ivschat::Client::send_event).then_compute_output(move |r| {
        l3(format!("SendEvent {}", r.event_name().unwrap_or_default()));
        SendEventOutput::builder().build()
    });
    mock_client!(
        aws_sdk_ivschat,
        RuleMode::MatchAny,
        [&create, &token, &event]
    )
}

async fn id_of(app: &TestApp, token: &str) -> String {
    let me: Value = app.get_as("/api/me", token).await.json().await.unwrap();
    me["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn in_aws_mode_register_follow_chat_token_poll_and_stage_join_work_as_in_local_mode() {
    // Arrange: DynamoDB on moto; IVS Chat mocked; IVS Real-Time answering, in order, the calls
    // of the stage flow below.
    let dir = tempfile::tempdir().unwrap();
    let store = dynamo_store(dir.path()).await;
    let chat_calls: Calls = Arc::default();
    let chat = ivs_chat(&chat_calls);
    let realtime_http = StaticReplayClient::new(vec![
        answer(json!({"stage": {"arn": STAGE}, "participantTokens": []})),
        token_answer("p-host", "host-token"),
        token_answer("p-guest", "guest-token"),
        answer(json!({})),
        answer(json!({})),
    ]);
    let realtime = aws_sdk_ivsrealtime::Client::from_conf(
        aws_sdk_ivsrealtime::Config::builder()
            .behavior_version(aws_sdk_ivsrealtime::config::BehaviorVersion::latest())
            .region(aws_sdk_ivsrealtime::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_ivsrealtime::config::Credentials::for_tests())
            .http_client(realtime_http.clone())
            .build(),
    );
    let app = spawn_app_with_backends(
        dir.path().to_path_buf(),
        |_| {},
        |backends| {
            use_store(backends, store.clone());
            backends.chat_rooms = Some(Arc::new(IvsChatRooms::with_client(
                chat,
                Default::default(),
            )));
            backends.stages = Arc::new(IvsStages::with_client(realtime, Default::default()));
        },
    )
    .await;

    // Register (the account is in DynamoDB; the channel's room in IVS Chat) and follow.
    let host = app.user("AwsHost").await;
    let guest = app.user("awsguest").await;
    let (host_id, guest_id) = (
        id_of(&app, &host.token).await,
        id_of(&app, &guest.token).await,
    );
    let stored = store.account_by_username("awshost").await.unwrap();
    assert_eq!(
        stored.map(|a| a.id.to_string()),
        Some(host_id.clone()),
        "the account is read back from DynamoDB"
    );
    assert!(
        chat_calls
            .lock()
            .unwrap()
            .iter()
            .any(|c| c.starts_with("CreateRoom")),
        "{chat_calls:?}"
    );
    let r = app
        .send_as(Method::PUT, "/api/me/following/awshost", &guest.token, None)
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let following: Value = app
        .get_as("/api/me/following", &guest.token)
        .await
        .json()
        .await
        .unwrap();
    assert!(following.to_string().contains("AwsHost"), "{following}");

    // A chat token from IVS Chat, with the capabilities of a logged-in viewer.
    let r = app
        .send_as(
            Method::POST,
            "/api/channels/awshost/chat-room/token",
            &guest.token,
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let chat_token: Value = r.json().await.unwrap();
    assert_eq!(chat_token["token"], "chat-token");
    assert_eq!(
        chat_token["capabilities"],
        json!(["VIEW_MESSAGE", "SEND_MESSAGE"])
    );
    // IVS Chat has no view capability: every token may view.
    assert!(
        chat_calls
            .lock()
            .unwrap()
            .contains(&format!("CreateChatToken {ROOM} {guest_id} [SEND_MESSAGE]")),
        "{chat_calls:?}"
    );

    // A poll, one vote per account.
    let r = app
        .send_as(
            Method::POST,
            "/api/channels/awshost/actions",
            &host.token,
            Some(json!({"type": "poll", "question": "Which?", "options": ["Yes", "No"], "duration_secs": 60})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let poll: Value = r.json().await.unwrap();
    let votes = format!(
        "/api/channels/awshost/polls/{}/votes",
        poll["id"].as_str().unwrap()
    );
    let r = app
        .send_as(
            Method::POST,
            &votes,
            &guest.token,
            Some(json!({"option": 1})),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let r = app
        .send_as(
            Method::POST,
            &votes,
            &guest.token,
            Some(json!({"option": 0})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);

    // Act: the host starts a stage; the guest asks to join and is accepted; the host removes
    // them and ends the stage.
    let r = app
        .send_as(
            Method::POST,
            "/api/channels/awshost/stage",
            &host.token,
            None,
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    let hosted: Value = r.json().await.unwrap();
    assert_eq!(hosted["token"]["token"], "host-token");
    let mut guest_ws = WsClient::connect(&app, Some(&guest.token)).await;
    guest_ws.subscribe("awshost").await;
    let r = app
        .send_as(
            Method::POST,
            "/api/channels/awshost/stage/requests",
            &guest.token,
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = app
        .send_as(
            Method::POST,
            "/api/channels/awshost/stage/requests/awsguest/accept",
            &host.token,
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let accepted = guest_ws.next_event("notice").await;
    assert_eq!(accepted["event"]["kind"], "join_accepted");
    assert_eq!(accepted["event"]["token"]["token"], "guest-token");
    assert_eq!(accepted["event"]["token"]["participant_id"], "p-guest");
    let r = app
        .send_as(
            Method::DELETE,
            "/api/channels/awshost/stage/participants/awsguest",
            &host.token,
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        guest_ws.next_event("notice").await["event"]["kind"],
        "removed_from_stage"
    );
    let r = app
        .send_as(
            Method::DELETE,
            "/api/channels/awshost/stage",
            &host.token,
            None,
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());

    // Assert: what IVS Real-Time was asked, call by call.
    let calls = wire(&realtime_http);
    let paths: Vec<&str> = calls.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/CreateStage",
            "/CreateParticipantToken",
            "/CreateParticipantToken",
            "/DisconnectParticipant",
            "/DeleteStage",
        ]
    );
    assert_eq!(calls[0].1["tags"]["owner"], host_id.as_str());
    let host_token = &calls[1].1;
    assert_eq!(host_token["stageArn"], STAGE);
    assert_eq!(host_token["userId"], host_id.as_str());
    assert_eq!(host_token["capabilities"], json!(["PUBLISH", "SUBSCRIBE"]));
    let guest_token = &calls[2].1;
    assert_eq!(guest_token["stageArn"], STAGE);
    assert_eq!(guest_token["userId"], guest_id.as_str());
    assert_eq!(guest_token["capabilities"], json!(["PUBLISH", "SUBSCRIBE"]));
    assert_eq!(
        guest_token["attributes"],
        json!({"username": "awsguest", "channel": host_id})
    );
    assert_eq!(
        calls[3].1,
        json!({"stageArn": STAGE, "participantId": "p-guest", "reason": "removed by the host"})
    );
    assert_eq!(calls[4].1, json!({"arn": STAGE}));
    let stage = store.snapshot(&format!("stage:{host_id}")).await.unwrap();
    assert_eq!(stage, None, "the ended stage is gone from DynamoDB");
}

#[tokio::test]
async fn a_resumed_stage_keeps_only_the_publishers_ivs_still_lists_as_connected() {
    use aws_sdk_ivsrealtime::{
        Client,
        operation::{
            create_participant_token::CreateParticipantTokenOutput,
            create_stage::CreateStageOutput, get_stage::GetStageOutput,
            list_participants::ListParticipantsOutput,
        },
        types::{ParticipantState, ParticipantSummary, ParticipantToken, Stage},
    };

    // Arrange: IVS Real-Time answered by smithy mocks. Tokens are `p-<user id>`; after the
    // restart the stage's session lists the host and one guest connected, the other gone.
    let dir = tempfile::tempdir().unwrap();
    let create = mock!(Client::create_stage).then_output(|| {
        CreateStageOutput::builder()
            .stage(Stage::builder().arn(STAGE).build().unwrap())
            .build()
    });
    let token = mock!(Client::create_participant_token).then_compute_output(|r| {
        let user = r.user_id().unwrap_or_default();
        CreateParticipantTokenOutput::builder()
            .participant_token(
                ParticipantToken::builder()
                    .participant_id(format!("p-{user}"))
                    .token(format!("token-{user}"))
                    .build(),
            )
            .build()
    });
    let get_stage = mock!(Client::get_stage)
        .match_requests(|r| r.arn() == Some(STAGE))
        .then_output(|| {
            GetStageOutput::builder()
                .stage(
                    Stage::builder()
                        .arn(STAGE)
                        .active_session_id("st-session-1")
                        .build()
                        .unwrap(),
                )
                .build()
        });
    let present: Arc<Mutex<Vec<(String, ParticipantState)>>> = Arc::default();
    let listed = present.clone();
    let list = mock!(Client::list_participants)
        .match_requests(|r| r.stage_arn() == Some(STAGE) && r.session_id() == Some("st-session-1"))
        .then_compute_output(move |_| {
            let participants = listed
                .lock()
                .unwrap()
                .iter()
                .map(|(user, state)| {
                    ParticipantSummary::builder()
                        .participant_id(format!("p-{user}"))
                        .user_id(user)
                        .state(state.clone())
                        .published(true)
                        .build()
                })
                .collect();
            ListParticipantsOutput::builder()
                .set_participants(Some(participants))
                .build()
                .unwrap()
        });
    let client = mock_client!(
        aws_sdk_ivsrealtime,
        RuleMode::MatchAny,
        [&create, &token, &get_stage, &list]
    );
    let spawn = |client: Client| {
        let dir = dir.path().to_path_buf();
        async move {
            let store = dynamo_store(&dir).await;
            spawn_app_with_backends(
                dir,
                |_| {},
                |backends| {
                    use_store(backends, store);
                    backends.stages = Arc::new(IvsStages::with_client(client, Default::default()));
                },
            )
            .await
        }
    };
    let app = spawn(client.clone()).await;
    let host = app.user("resumehost").await;
    let stayer = app.user("stayer").await;
    let leaver = app.user("leaver").await;
    let r = app
        .send_as(
            Method::POST,
            "/api/channels/resumehost/stage",
            &host.token,
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = app
        .send_as(
            Method::POST,
            "/api/channels/resumehost/stage/invite",
            &host.token,
            None,
        )
        .await;
    let code = r.json::<Value>().await.unwrap()["code"]
        .as_str()
        .unwrap()
        .to_owned();
    for guest in [&stayer, &leaver] {
        let r = app
            .send_as(
                Method::POST,
                "/api/channels/resumehost/stage/join",
                &guest.token,
                Some(json!({"invite": code})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let ids = [
        id_of(&app, &host.token).await,
        id_of(&app, &stayer.token).await,
        id_of(&app, &leaver.token).await,
    ];
    assert_eq!(list.num_calls(), 0, "a new stage has nobody to reconcile");
    *present.lock().unwrap() = vec![
        (ids[0].clone(), ParticipantState::Connected),
        (ids[1].clone(), ParticipantState::Connected),
        (ids[2].clone(), ParticipantState::Disconnected),
    ];

    // Act: the server restarts on the same data; the stage resumes when its channel is asked.
    app.stop().await;
    let app = spawn(client).await;
    let stage: Value = app
        .get("/api/channels/resumehost/stage")
        .await
        .json()
        .await
        .unwrap();

    // Assert: the guest IVS lists as disconnected lost their slot; host and the other stay.
    let mut publishers: Vec<&str> = stage["publishers"]
        .as_array()
        .unwrap_or_else(|| panic!("{stage}"))
        .iter()
        .map(|p| p["username"].as_str().unwrap())
        .collect();
    publishers.sort();
    assert_eq!(publishers, ["resumehost", "stayer"], "{stage}");
    assert_eq!(list.num_calls(), 1);
    // The freed slot is free for good: the snapshot says so too.
    let snapshot = app
        .state
        .store
        .snapshot(&format!("stage:{}", ids[0]))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(snapshot["publishers"].as_object().unwrap().len(), 2);
}
