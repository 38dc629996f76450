//! Chat carried by IVS Chat: the token route, moderation reaching the room, and poll events
//! sent into it. The server is real; its IVS Chat client is the SDK's own, answered by smithy
//! mocks at the HTTP boundary (no emulator has IVS Chat), which record what it was asked.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use aws_sdk_ivschat::{
    Client,
    operation::{
        create_chat_token::CreateChatTokenOutput, create_room::CreateRoomOutput,
        delete_message::DeleteMessageOutput, disconnect_user::DisconnectUserOutput,
        send_event::SendEventOutput,
    },
};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use showrunner::aws::ivschat::IvsChatRooms;

use crate::helpers::{TestApp, spawn_app, spawn_app_with_backends};

const ROOM: &str = "arn:aws:ivschat:us-east-1:123456789012:room/g1H2I3j4k5L6";

/// What the chat service was asked, one line per call.
type Calls = Arc<Mutex<Vec<String>>>;

async fn app_with_ivs_chat() -> (TestApp, Calls, tempfile::TempDir) {
    let calls: Calls = Arc::default();
    let log = |calls: &Calls| {
        let calls = calls.clone();
        move |line: String| calls.lock().unwrap().push(line)
    };
    let (l1, l2, l3, l4, l5) = (
        log(&calls),
        log(&calls),
        log(&calls),
        log(&calls),
        log(&calls),
    );
    let create = mock!(Client::create_room).then_compute_output(move |r| {
        l1(format!("CreateRoom {}", r.name().unwrap_or_default()));
        CreateRoomOutput::builder().arn(ROOM).build()
    });
    let token = mock!(Client::create_chat_token).then_compute_output(move |r| {
        let mut capabilities: Vec<_> = r.capabilities().iter().map(|c| c.as_str()).collect();
        capabilities.sort();
        l2(format!(
            "CreateChatToken {} [{}]",
            r.user_id().unwrap_or_default(),
            capabilities.join(",")
        ));
        CreateChatTokenOutput::builder()
            .token("ivs-chat-token")
            .build()
    });
    let disconnect = mock!(Client::disconnect_user).then_compute_output(move |r| {
        l3(format!(
            "DisconnectUser {} ({})",
            r.user_id().unwrap_or_default(),
            r.reason().unwrap_or_default()
        ));
        DisconnectUserOutput::builder().build()
    });
    let delete = mock!(Client::delete_message).then_compute_output(move |r| {
        l4(format!("DeleteMessage {}", r.id().unwrap_or_default()));
        DeleteMessageOutput::builder().build()
    });
    let event = mock!(Client::send_event).then_compute_output(move |r| {
        l5(format!("SendEvent {}", r.event_name().unwrap_or_default()));
        SendEventOutput::builder().build()
    });
    let client = mock_client!(
        aws_sdk_ivschat,
        RuleMode::MatchAny,
        [&create, &token, &disconnect, &delete, &event]
    );
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_with_backends(
        dir.path().to_path_buf(),
        |_| {},
        |backends| {
            backends.chat_rooms = Some(Arc::new(IvsChatRooms::with_client(
                client,
                Default::default(),
            )))
        },
    )
    .await;
    (app, calls, dir)
}

fn taken(calls: &Calls, prefix: &str) -> Vec<String> {
    calls
        .lock()
        .unwrap()
        .iter()
        .filter(|c| c.starts_with(prefix))
        .cloned()
        .collect()
}

/// Waits for background calls (the relay's) to show up.
async fn eventually(calls: &Calls, line: &str) {
    for _ in 0..100 {
        if calls.lock().unwrap().iter().any(|c| c == line) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never called: {line}; calls: {:?}", calls.lock().unwrap());
}

async fn token(app: &TestApp, as_user: Option<&str>) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url("/api/channels/anna/chat-room/token"));
    if let Some(token) = as_user {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

async fn id_of(app: &TestApp, token: &str) -> String {
    let me: Value = app.get_as("/api/me", token).await.json().await.unwrap();
    me["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn room_tokens_carry_the_capabilities_of_the_callers_role_and_banned_users_get_none() {
    // Arrange: a channel (its room is made at registration), a moderator, a banned user and a
    // user timed out.
    let (app, calls, _dir) = app_with_ivs_chat().await;
    let anna = app.user("anna").await;
    assert_eq!(taken(&calls, "CreateRoom").len(), 1, "{calls:?}");
    let bob = app.user("bobby").await;
    let carl = app.user("carly").await;
    let dave = app.user("davey").await;
    let eve = app.user("evelyn").await;
    let moderate = |method: Method, path: &'static str, body: Option<Value>| {
        let app = &app;
        let anna = anna.token.clone();
        async move {
            let r = app.send_as(method, path, &anna, body).await;
            assert_eq!(r.status(), StatusCode::NO_CONTENT, "{path}");
        }
    };
    moderate(Method::PUT, "/api/channels/anna/moderators/carly", None).await;
    moderate(Method::PUT, "/api/channels/anna/bans/davey", None).await;
    moderate(
        Method::PUT,
        "/api/channels/anna/timeouts/evelyn",
        Some(json!({"duration_secs": 600})),
    )
    .await;

    // Act and assert, role by role.
    let visitor: Value = token(&app, None).await.json().await.unwrap();
    assert_eq!(
        visitor["capabilities"],
        json!(["VIEW_MESSAGE"]),
        "{visitor}"
    );
    assert_eq!(visitor["token"], "ivs-chat-token");
    assert_eq!(
        visitor["messaging_url"],
        "wss://edge.ivschat.us-east-1.amazonaws.com"
    );
    assert!(visitor["user_id"].as_str().unwrap().starts_with("anon-"));

    let viewer: Value = token(&app, Some(&bob.token)).await.json().await.unwrap();
    assert_eq!(
        viewer["capabilities"],
        json!(["VIEW_MESSAGE", "SEND_MESSAGE"])
    );
    assert_eq!(viewer["user_id"], id_of(&app, &bob.token).await);

    for moderator in [&anna, &carl] {
        let granted: Value = token(&app, Some(&moderator.token))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            granted["capabilities"],
            json!([
                "VIEW_MESSAGE",
                "SEND_MESSAGE",
                "DELETE_MESSAGE",
                "DISCONNECT_USER"
            ])
        );
    }

    let quiet: Value = token(&app, Some(&eve.token)).await.json().await.unwrap();
    assert_eq!(quiet["capabilities"], json!(["VIEW_MESSAGE"]));

    let refused = token(&app, Some(&dave.token)).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "banned");

    // What IVS Chat was asked: exactly these capabilities (reading is implicit there).
    let bob_id = id_of(&app, &bob.token).await;
    let carl_id = id_of(&app, &carl.token).await;
    let asked = taken(&calls, "CreateChatToken");
    assert!(
        asked.contains(&format!("CreateChatToken {bob_id} [SEND_MESSAGE]")),
        "{asked:?}"
    );
    assert!(
        asked.contains(&format!(
            "CreateChatToken {carl_id} [DELETE_MESSAGE,DISCONNECT_USER,SEND_MESSAGE]"
        )),
        "{asked:?}"
    );
    assert_eq!(
        asked.len(),
        5,
        "no token was minted for the banned user: {asked:?}"
    );
    // The ban and the timeout closed their room connections.
    let dave_id = id_of(&app, &dave.token).await;
    let eve_id = id_of(&app, &eve.token).await;
    eventually(&calls, &format!("DisconnectUser {dave_id} (banned)")).await;
    eventually(&calls, &format!("DisconnectUser {eve_id} (timed out)")).await;
}

#[tokio::test]
async fn moderators_delete_room_messages_and_polls_reach_the_room_as_events() {
    let (app, calls, _dir) = app_with_ivs_chat().await;
    let anna = app.user("anna").await;
    let bob = app.user("bobby").await;

    let denied = app
        .send_as(
            Method::DELETE,
            "/api/channels/anna/chat-room/messages/msg-1",
            &bob.token,
            None,
        )
        .await;
    let deleted = app
        .send_as(
            Method::DELETE,
            "/api/channels/anna/chat-room/messages/msg-1",
            &anna.token,
            None,
        )
        .await;
    let r = app
        .send_as(
            Method::POST,
            "/api/channels/anna/actions",
            &anna.token,
            Some(json!({"type": "poll", "question": "Tea?", "options": ["Yes", "No"], "duration_secs": 60})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let stopped = app
        .send_as(
            Method::DELETE,
            "/api/channels/anna/actions/current",
            &anna.token,
            None,
        )
        .await;

    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert!(stopped.status().is_success(), "{}", stopped.status());
    assert_eq!(taken(&calls, "DeleteMessage"), ["DeleteMessage msg-1"]);
    eventually(&calls, "SendEvent poll_started").await;
    eventually(&calls, "SendEvent action_started").await;
    eventually(&calls, "SendEvent poll_closed").await;
    eventually(&calls, "SendEvent action_ended").await;
    let events = taken(&calls, "SendEvent");
    let at = |name: &str| events.iter().position(|e| e.ends_with(name)).unwrap();
    assert!(at("poll_started") < at("action_started"), "{events:?}");
    assert!(at("action_started") < at("action_ended"), "{events:?}");
}

#[tokio::test]
async fn with_built_in_chat_there_is_no_room_to_get_a_token_for() {
    let app = spawn_app().await;
    app.user("anna").await;

    let r = token(&app, None).await;

    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let platform: Value = app.get("/api/platform").await.json().await.unwrap();
    assert_eq!(platform["chat"], "builtin");
}
