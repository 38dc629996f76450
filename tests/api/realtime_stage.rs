use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, User, assert_error, spawn_app, spawn_app_with},
    ws::WsClient,
};

async fn start_stage(app: &TestApp, host: &User, channel: &str) -> Value {
    let r = app
        .send_as(
            Method::POST,
            &format!("/api/channels/{channel}/stage"),
            &host.token,
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

async fn invite(app: &TestApp, host: &User, channel: &str) -> String {
    let r = app
        .send_as(
            Method::POST,
            &format!("/api/channels/{channel}/stage/invite"),
            &host.token,
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let body: Value = r.json().await.unwrap();
    assert!(body["url"].as_str().unwrap().contains("invite="));
    body["code"].as_str().unwrap().to_owned()
}

/// Registers `n` users concurrently.
async fn users(app: &TestApp, prefix: &str, n: usize) -> Vec<User> {
    let futures = (0..n).map(|i| {
        let name = format!("{prefix}{i:02}");
        async move { app.user(&name).await }
    });
    futures::future::join_all(futures).await
}

#[tokio::test]
async fn fifty_simultaneous_invite_joins_yield_exactly_the_free_slots() {
    let app = spawn_app().await;
    let host = app.user("stagehost").await;
    let hosted = start_stage(&app, &host, "stagehost").await;
    assert_eq!(hosted["role"], "host");
    assert!(
        hosted["token"]["capabilities"]
            .as_array()
            .unwrap()
            .contains(&json!("PUBLISH"))
    );
    let code = invite(&app, &host, "stagehost").await;
    let guests = users(&app, "guest", 50).await;

    let attempts = guests.iter().map(|g| {
        app.send_as(
            Method::POST,
            "/api/channels/stagehost/stage/join",
            &g.token,
            Some(json!({"invite": code})),
        )
    });
    let responses = futures::future::join_all(attempts).await;
    let mut published = 0;
    let mut full = 0;
    for r in responses {
        match r.status() {
            StatusCode::OK => published += 1,
            StatusCode::CONFLICT => {
                let body: Value = r.json().await.unwrap();
                assert_eq!(body["error"]["code"], "stage_full");
                assert_eq!(
                    body["spectator_token"]["capabilities"],
                    json!(["SUBSCRIBE"])
                );
                full += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(
        (published, full),
        (11, 39),
        "host + 11 guests = 12 publishers"
    );
    let stage: Value = app
        .get("/api/channels/stagehost/stage")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stage["publishers"].as_array().unwrap().len(), 12);
    assert_eq!(stage["capacity"], 12);

    // A wrong or revoked invite does not work.
    let late = app.user("lateguest").await;
    let r = app
        .send_as(
            Method::POST,
            "/api/channels/stagehost/stage/join",
            &late.token,
            Some(json!({"invite": "nope"})),
        )
        .await;
    assert_error(r, StatusCode::FORBIDDEN, "invalid_invite").await;
    // Anyone may watch.
    let r = app
        .client
        .post(app.url("/api/channels/stagehost/stage/spectate"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // The directory shows the stage.
    let directory: Value = app.get("/api/channels").await.json().await.unwrap();
    assert_eq!(directory["channels"][0]["username"], "stagehost");
    assert_eq!(directory["channels"][0]["has_stage"], true);
}

#[tokio::test]
async fn join_requests_queue_in_order_and_the_host_decides_over_the_websocket() {
    let app = spawn_app().await;
    let host = app.user("queuehost").await;
    start_stage(&app, &host, "queuehost").await;
    let mut host_ws = WsClient::connect(&app, Some(&host.token)).await;
    let snapshot = host_ws.subscribe("queuehost").await;
    let channel = snapshot["channel"].as_str().unwrap().to_owned();
    assert_eq!(snapshot["stage"]["publishers"].as_array().unwrap().len(), 1);

    let fans = users(&app, "queuefan", 3).await;
    let mut fan_ws = Vec::new();
    for fan in &fans {
        let mut ws = WsClient::connect(&app, Some(&fan.token)).await;
        ws.subscribe("queuehost").await;
        let ack = ws
            .request(json!({"type": "stage_request", "channel": channel}))
            .await;
        assert_eq!(ack["type"], "ack", "{ack}");
        let seen = host_ws.next_event("notice").await;
        assert_eq!(seen["event"]["kind"], "join_requested");
        fan_ws.push(ws);
    }
    let again = fan_ws[0]
        .request(json!({"type": "stage_request", "channel": channel}))
        .await;
    assert_eq!(again["code"], "already_requested");

    // The second withdraws; the queue keeps the order of the others.
    let ack = fan_ws[1]
        .request(json!({"type": "stage_retract", "channel": channel}))
        .await;
    assert_eq!(ack["type"], "ack");
    let queue: Value = app
        .get_as("/api/channels/queuehost/stage/requests", &host.token)
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = queue["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["queuefan00", "queuefan02"]);
    // Only the host sees the queue.
    let r = app
        .get_as("/api/channels/queuehost/stage/requests", &fans[0].token)
        .await;
    assert_error(r, StatusCode::FORBIDDEN, "forbidden").await;

    // Accept the first: they are told over their websocket, with a publish token.
    let r = app
        .send_as(
            Method::POST,
            "/api/channels/queuehost/stage/requests/queuefan00/accept",
            &host.token,
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let notice = fan_ws[0].next_event("notice").await;
    assert_eq!(notice["event"]["kind"], "join_accepted");
    assert!(
        notice["event"]["token"]["capabilities"]
            .as_array()
            .unwrap()
            .contains(&json!("PUBLISH"))
    );
    // Reject the other.
    let r = app
        .send_as(
            Method::POST,
            "/api/channels/queuehost/stage/requests/queuefan02/reject",
            &host.token,
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        fan_ws[2].next_event("notice").await["event"]["kind"],
        "join_rejected"
    );

    // Everyone sees the stage change; then the host removes the accepted guest.
    let stage: Value = app
        .get("/api/channels/queuehost/stage")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stage["publishers"].as_array().unwrap().len(), 2);
    let r = app
        .send_as(
            Method::DELETE,
            "/api/channels/queuehost/stage/participants/queuefan00",
            &host.token,
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        fan_ws[0].next_event("notice").await["event"]["kind"],
        "removed_from_stage"
    );
    let stage: Value = app
        .get("/api/channels/queuehost/stage")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stage["publishers"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn concurrent_accepts_never_exceed_twelve_publishers() {
    let app = spawn_app().await;
    let host = app.user("acchost").await;
    start_stage(&app, &host, "acchost").await;
    let code = invite(&app, &host, "acchost").await;
    let invited = users(&app, "accinv", 9).await;
    for g in &invited {
        let r = app
            .send_as(
                Method::POST,
                "/api/channels/acchost/stage/join",
                &g.token,
                Some(json!({"invite": code})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    // 10 publishers; 8 people queue; the host accepts all 8 at once.
    let queued = users(&app, "accreq", 8).await;
    for q in &queued {
        let r = app
            .send_as(
                Method::POST,
                "/api/channels/acchost/stage/requests",
                &q.token,
                None,
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let paths: Vec<String> = (0..8)
        .map(|i| format!("/api/channels/acchost/stage/requests/accreq{i:02}/accept"))
        .collect();
    let accepts = paths
        .iter()
        .map(|p| app.send_as(Method::POST, p, &host.token, None));
    let statuses: Vec<StatusCode> = futures::future::join_all(accepts)
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    let accepted = statuses
        .iter()
        .filter(|s| **s == StatusCode::NO_CONTENT)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((accepted, refused), (2, 6));
    let stage: Value = app
        .get("/api/channels/acchost/stage")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stage["publishers"].as_array().unwrap().len(), 12);
    assert_eq!(stage["queue_length"], 6, "refused requests stay queued");
}

#[tokio::test]
async fn while_a_stage_is_live_only_polls_may_start() {
    let app = spawn_app().await;
    let host = app.user("pollstage").await;
    start_stage(&app, &host, "pollstage").await;
    let notice = json!({"type": "notice", "title": "Hi", "message": "there", "duration_secs": 10});
    let r = app
        .send_as(
            Method::POST,
            "/api/channels/pollstage/actions",
            &host.token,
            Some(notice),
        )
        .await;
    assert_error(r, StatusCode::CONFLICT, "stage_live").await;
    let poll =
        json!({"type": "poll", "question": "Which?", "options": ["a", "b"], "duration_secs": 10});
    let r = app
        .send_as(
            Method::POST,
            "/api/channels/pollstage/actions",
            &host.token,
            Some(poll),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    // Ending the stage lifts the rule.
    let r = app
        .send_as(
            Method::DELETE,
            "/api/channels/pollstage/stage",
            &host.token,
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let notice = json!({"type": "notice", "title": "Hi", "message": "there", "duration_secs": 10});
    let r = app
        .send_as(
            Method::POST,
            "/api/channels/pollstage/actions",
            &host.token,
            Some(notice),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn the_stage_ends_after_the_host_has_been_gone_for_the_grace_period() {
    let app = spawn_app_with(|c| c.realtime.stage_host_grace_secs = 1).await;
    let host = app.user("gracehost").await;
    let mut host_ws = WsClient::connect(&app, Some(&host.token)).await;
    host_ws.subscribe("gracehost").await;
    start_stage(&app, &host, "gracehost").await;
    let mut viewer = WsClient::connect(&app, None).await;
    viewer.subscribe("gracehost").await;

    // The host leaves and comes back within the grace period: the stage stays.
    drop(host_ws);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mut host_ws = WsClient::connect(&app, Some(&host.token)).await;
    host_ws.subscribe("gracehost").await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(
        app.get("/api/channels/gracehost/stage").await.status(),
        StatusCode::OK
    );

    // The host leaves for good: it ends for everyone.
    drop(host_ws);
    loop {
        let event = viewer.next_event("stage").await;
        if event["event"]["kind"] == "ended" {
            assert_eq!(event["event"]["reason"], "host_disconnected");
            break;
        }
    }
    assert_error(
        app.get("/api/channels/gracehost/stage").await,
        StatusCode::NOT_FOUND,
        "no_stage",
    )
    .await;
    let page: Value = app
        .get("/api/channels/gracehost")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["has_stage"], false);
}

#[tokio::test]
async fn only_the_owner_starts_a_stage_and_banned_users_cannot_request() {
    let app = spawn_app().await;
    let host = app.user("ownerstage").await;
    let other = app.user("otherstage").await;
    let r = app
        .send_as(
            Method::POST,
            "/api/channels/ownerstage/stage",
            &other.token,
            None,
        )
        .await;
    assert_error(r, StatusCode::FORBIDDEN, "forbidden").await;
    let r = app
        .send_as(
            Method::POST,
            "/api/channels/ownerstage/stage/requests",
            &other.token,
            None,
        )
        .await;
    assert_error(r, StatusCode::NOT_FOUND, "no_stage").await;
    start_stage(&app, &host, "ownerstage").await;
    app.send_as(
        Method::PUT,
        "/api/channels/ownerstage/bans/otherstage",
        &host.token,
        None,
    )
    .await;
    let r = app
        .send_as(
            Method::POST,
            "/api/channels/ownerstage/stage/requests",
            &other.token,
            None,
        )
        .await;
    assert_error(r, StatusCode::FORBIDDEN, "forbidden").await;
}
