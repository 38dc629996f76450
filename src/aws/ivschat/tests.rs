//! The IVS Chat adapter against the SDK's test tools (no emulator has IVS Chat): the exact
//! requests on the wire with `StaticReplayClient`, failures with smithy mocks.

use aws_sdk_ivschat::{
    config::{BehaviorVersion, Credentials, Region, retry::RetryConfig},
    error::ErrorMetadata,
    operation::{
        create_chat_token::CreateChatTokenError,
        delete_room::{DeleteRoomError, DeleteRoomOutput},
        send_event::SendEventError,
    },
};
use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use aws_smithy_types::body::SdkBody;
use serde_json::json;

use super::*;

const ROOM: &str = "arn:aws:ivschat:us-east-1:123456789012:room/g1H2I3j4k5L6";

fn tags() -> BTreeMap<String, String> {
    BTreeMap::from([("project".to_owned(), "showrunner".to_owned())])
}

fn on_the_wire(http: &StaticReplayClient) -> IvsChatRooms {
    let config = aws_sdk_ivschat::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .credentials_provider(Credentials::for_tests())
        .http_client(http.clone())
        .build();
    IvsChatRooms::with_client(Client::from_conf(config), tags())
}

fn exchange(path: &str, request: serde_json::Value, response: serde_json::Value) -> ReplayEvent {
    ReplayEvent::new(
        http::Request::builder()
            .method("POST")
            .uri(format!("https://ivschat.eu-west-1.amazonaws.com{path}"))
            .body(SdkBody::from(request.to_string()))
            .unwrap(),
        http::Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(SdkBody::from(response.to_string()))
            .unwrap(),
    )
}

fn mocked(rules: &[&aws_smithy_mocks::Rule]) -> IvsChatRooms {
    let client = mock_client!(aws_sdk_ivschat, RuleMode::MatchAny, rules, |b| b
        .retry_config(RetryConfig::disabled()));
    IvsChatRooms::with_client(client, tags())
}

fn meta(code: &str) -> ErrorMetadata {
    ErrorMetadata::builder().code(code).message("test").build()
}

#[tokio::test]
async fn a_room_is_created_named_after_its_channel_and_tagged() {
    let channel = AccountId(uuid::Uuid::from_u128(9));
    let http = StaticReplayClient::new(vec![exchange(
        "/CreateRoom",
        json!({
            "name": format!("anna-{}", channel.0.simple()),
            "tags": {"project": "showrunner", "owner": channel.to_string()},
        }),
        json!({"arn": ROOM, "id": "g1H2I3j4k5L6", "name": "anna"}),
    )]);
    let rooms = on_the_wire(&http);

    let room = rooms.create_room(channel, "anna").await.unwrap();

    http.relaxed_requests_match();
    assert_eq!(room, ROOM);
    assert_eq!(
        rooms.messaging_url(),
        "wss://edge.ivschat.eu-west-1.amazonaws.com"
    );
}

#[tokio::test]
async fn a_moderator_token_carries_exactly_the_capabilities_asked_for_and_the_attributes() {
    let http = StaticReplayClient::new(vec![exchange(
        "/CreateChatToken",
        json!({
            "roomIdentifier": ROOM,
            "userId": "0190f3a2-7c1e-7d4b-9a55-3c1f2e4d5a6b",
            "capabilities": ["SEND_MESSAGE", "DELETE_MESSAGE", "DISCONNECT_USER"],
            "sessionDurationInMinutes": 60,
            "attributes": {"username": "anna", "color": "blue"},
        }),
        json!({
            "token": "AQICAHg-token",
            "tokenExpirationTime": "2026-03-01T13:00:00Z",
            "sessionExpirationTime": "2026-03-01T14:00:00Z",
        }),
    )]);

    let token = on_the_wire(&http)
        .token(
            ROOM,
            "0190f3a2-7c1e-7d4b-9a55-3c1f2e4d5a6b",
            &[
                ChatCapability::SendMessage,
                ChatCapability::DeleteMessage,
                ChatCapability::DisconnectUser,
            ],
            BTreeMap::from([
                ("username".to_owned(), "anna".to_owned()),
                ("color".to_owned(), "blue".to_owned()),
            ]),
            Duration::from_secs(3600),
        )
        .await
        .unwrap();

    http.relaxed_requests_match();
    assert_eq!(token.token, "AQICAHg-token");
    assert_eq!(
        token.session_expires_at,
        DateTime::parse_from_rfc3339("2026-03-01T14:00:00Z")
            .ok()
            .map(|t| t.with_timezone(&Utc))
    );
}

#[tokio::test]
async fn a_viewer_token_asks_for_no_capability_and_the_shortest_session_is_a_minute() {
    let http = StaticReplayClient::new(vec![exchange(
        "/CreateChatToken",
        json!({
            "roomIdentifier": ROOM,
            "userId": "anon-1",
            "capabilities": [],
            "sessionDurationInMinutes": 1,
        }),
        json!({"token": "t"}),
    )]);

    on_the_wire(&http)
        .token(ROOM, "anon-1", &[], BTreeMap::new(), Duration::from_secs(5))
        .await
        .unwrap();

    http.relaxed_requests_match();
}

#[tokio::test]
async fn moderation_and_events_reach_the_room_as_sent() {
    let http = StaticReplayClient::new(vec![
        exchange(
            "/DeleteMessage",
            json!({"roomIdentifier": ROOM, "id": "msg-1", "reason": "spam"}),
            json!({"id": "evt-1"}),
        ),
        exchange(
            "/DisconnectUser",
            json!({"roomIdentifier": ROOM, "userId": "user-1", "reason": "banned"}),
            json!({}),
        ),
        exchange(
            "/SendEvent",
            json!({"roomIdentifier": ROOM, "eventName": "poll_started", "attributes": {"frame": "{\"type\":\"poll_started\"}"}}),
            json!({"id": "evt-2"}),
        ),
        exchange("/DeleteRoom", json!({"identifier": ROOM}), json!({})),
    ]);
    let rooms = on_the_wire(&http);

    rooms.delete_message(ROOM, "msg-1", "spam").await.unwrap();
    rooms
        .disconnect_user(ROOM, "user-1", "banned")
        .await
        .unwrap();
    rooms
        .send_event(
            ROOM,
            "poll_started",
            BTreeMap::from([("frame".to_owned(), r#"{"type":"poll_started"}"#.to_owned())]),
        )
        .await
        .unwrap();
    rooms.delete_room(ROOM).await.unwrap();

    http.relaxed_requests_match();
}

#[tokio::test]
async fn a_room_already_gone_counts_as_deleted() {
    let rule = mock!(Client::delete_room)
        .then_error(|| DeleteRoomError::generic(meta("ResourceNotFoundException")));
    let rooms = mocked(&[&rule]);

    rooms.delete_room(ROOM).await.unwrap();

    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn failures_map_into_the_port_errors() {
    let missing = mock!(Client::create_chat_token)
        .match_requests(|r| r.room_identifier() == Some("gone"))
        .then_error(|| CreateChatTokenError::generic(meta("ResourceNotFoundException")));
    let denied = mock!(Client::create_chat_token)
        .match_requests(|r| r.room_identifier() == Some("denied"))
        .then_error(|| CreateChatTokenError::generic(meta("AccessDeniedException")));
    let throttled = mock!(Client::send_event)
        .then_error(|| SendEventError::generic(meta("ThrottlingException")));
    let down = mock!(Client::disconnect_user).then_http_response(|| {
        aws_sdk_ivschat::config::http::HttpResponse::new(
            503.try_into().unwrap(),
            SdkBody::from("{}"),
        )
    });
    let ok = mock!(Client::delete_room).then_output(|| DeleteRoomOutput::builder().build());
    let rooms = mocked(&[&missing, &denied, &throttled, &down, &ok]);
    let token = |room: &'static str| {
        let rooms = &rooms;
        async move {
            rooms
                .token(room, "u", &[], BTreeMap::new(), Duration::from_secs(60))
                .await
        }
    };

    assert!(matches!(token("gone").await, Err(ChatRoomError::NotFound)));
    assert!(matches!(
        token("denied").await,
        Err(ChatRoomError::Rejected(m)) if m.contains("ivschat:CreateChatToken")
    ));
    assert!(matches!(
        rooms.send_event(ROOM, "x", BTreeMap::new()).await,
        Err(ChatRoomError::Throttled)
    ));
    assert!(matches!(
        rooms.disconnect_user(ROOM, "u", "r").await,
        Err(ChatRoomError::Unavailable(_))
    ));
    rooms.delete_room(ROOM).await.unwrap();
}
