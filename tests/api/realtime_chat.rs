use std::sync::atomic::Ordering::SeqCst;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    helpers::{assert_error, spawn_app, spawn_app_with},
    ws::{Ended, WsClient},
};

#[tokio::test]
async fn anonymous_viewers_read_chat_and_signed_in_users_send_it() {
    let app = spawn_app().await;
    let streamer = app.user("chatstreamer").await;
    let fan = app.user("chatfan").await;

    let mut anon = WsClient::connect(&app, None).await;
    assert!(anon.welcome["user_id"].is_null());
    let snapshot = anon.subscribe("ChatStreamer").await;
    let channel = snapshot["channel"].as_str().unwrap().to_owned();
    assert_eq!(snapshot["username"], "chatstreamer");
    assert_eq!(snapshot["you"]["signed_in"], false);

    let mut fan_ws = WsClient::connect(&app, Some(&fan.token)).await;
    fan_ws.subscribe("chatstreamer").await;
    let ack = fan_ws
        .request(json!({"type": "chat", "channel": channel, "text": "  hello <b>world</b>  "}))
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let offset = ack["result"]["offset"].as_u64().unwrap();

    let lines = anon.chat_lines(1).await;
    assert_eq!(
        lines[0]["text"], "hello <b>world</b>",
        "stored and sent as plain text, trimmed"
    );
    assert_eq!(lines[0]["username"], "chatfan");
    assert_eq!(lines[0]["offset"].as_u64().unwrap(), offset);

    let refused = anon
        .request(json!({"type": "chat", "channel": channel, "text": "hi"}))
        .await;
    assert_eq!(refused["code"], "unauthenticated");
    let too_long = fan_ws
        .request(json!({"type": "chat", "channel": channel, "text": "x".repeat(501)}))
        .await;
    assert_eq!(too_long["code"], "validation_failed");

    // HTTP works too, for clients without a websocket.
    let r = app
        .send_as(
            Method::POST,
            "/api/channels/chatstreamer/chat",
            &streamer.token,
            Some(json!({"text": "from http"})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let lines = anon.chat_lines(1).await;
    assert_eq!(lines[0]["text"], "from http");
}

#[tokio::test]
async fn a_reconnecting_client_gets_what_it_missed_and_deleted_messages_never_come_back() {
    let app = spawn_app().await;
    let streamer = app.user("replayer.s").await;
    let path = "/api/channels/replayer.s/chat";
    let mut offsets = Vec::new();
    for i in 0..5 {
        let r = app
            .send_as(
                Method::POST,
                path,
                &streamer.token,
                Some(json!({"text": format!("m{i}")})),
            )
            .await;
        let body: Value = r.json().await.unwrap();
        offsets.push(body["offset"].as_u64().unwrap());
    }
    // The moderator deletes m3.
    let r = app
        .send_as(
            Method::DELETE,
            &format!("/api/channels/replayer.s/chat/{}", offsets[3]),
            &streamer.token,
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    let mut client = WsClient::connect(&app, None).await;
    let snapshot = client.subscribe_from("replayer.s", offsets[1]).await;
    let texts: Vec<&str> = snapshot["chat"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["m2", "m4"]);
    assert_eq!(snapshot["chat"]["history_lost"], false);
    assert_eq!(
        snapshot["chat"]["last_offset"].as_u64().unwrap(),
        offsets[4]
    );
}

#[tokio::test]
async fn deleting_a_message_removes_it_for_everyone_watching() {
    let app = spawn_app().await;
    let owner = app.user("delowner").await;
    let talker = app.user("deltalker").await;
    let mut watcher = WsClient::connect(&app, None).await;
    let channel = watcher.subscribe("delowner").await["channel"]
        .as_str()
        .unwrap()
        .to_owned();

    let mut talker_ws = WsClient::connect(&app, Some(&talker.token)).await;
    talker_ws.subscribe("delowner").await;
    let ack = talker_ws
        .request(json!({"type": "chat", "channel": channel, "text": "oops"}))
        .await;
    let offset = ack["result"]["offset"].as_u64().unwrap();
    watcher.chat_lines(1).await;

    // Viewers may not delete; the owner may.
    let refused = talker_ws
        .request(json!({"type": "delete_chat", "channel": channel, "offset": offset}))
        .await;
    assert_eq!(refused["code"], "forbidden");
    let mut owner_ws = WsClient::connect(&app, Some(&owner.token)).await;
    owner_ws.subscribe("delowner").await;
    let ok = owner_ws
        .request(json!({"type": "delete_chat", "channel": channel, "offset": offset}))
        .await;
    assert_eq!(ok["type"], "ack", "{ok}");
    let deleted = watcher.next_event("chat_deleted").await;
    assert_eq!(deleted["offset"].as_u64().unwrap(), offset);
    let fresh = WsClient::connect(&app, None)
        .await
        .subscribe("delowner")
        .await;
    assert!(fresh["chat"]["messages"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_ban_closes_the_users_sockets_at_once_and_refuses_them_afterwards() {
    let app = spawn_app().await;
    let owner = app.user("banowner").await;
    let troll = app.user("trolluser").await;
    let mut bystander = WsClient::connect(&app, None).await;
    bystander.subscribe("banowner").await;
    let mut troll_ws = WsClient::connect(&app, Some(&troll.token)).await;
    let channel = troll_ws.subscribe("banowner").await["channel"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut troll_ws2 = WsClient::connect(&app, Some(&troll.token)).await;
    troll_ws2.subscribe("banowner").await;

    let r = app
        .send_as(
            Method::PUT,
            "/api/channels/banowner/bans/trolluser",
            &owner.token,
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    assert_eq!(troll_ws.ended().await, Ended::Closed(Some(4003)));
    assert_eq!(troll_ws2.ended().await, Ended::Closed(Some(4003)));
    let event = bystander.next_event("moderation").await;
    assert_eq!(event["event"]["kind"], "banned");
    assert_eq!(event["event"]["username"], "trolluser");

    // Back again: refused to subscribe and to send.
    let mut again = WsClient::connect(&app, Some(&troll.token)).await;
    let refused = again.subscribe_from("banowner", 0).await;
    assert_eq!(refused["code"], "banned");
    let refused = again
        .request(json!({"type": "chat", "channel": channel, "text": "let me in"}))
        .await;
    assert_eq!(refused["code"], "banned");
    let r = app
        .send_as(
            Method::POST,
            "/api/channels/banowner/chat",
            &troll.token,
            Some(json!({"text": "hi"})),
        )
        .await;
    assert_error(r, StatusCode::FORBIDDEN, "banned").await;

    // Viewers cannot ban; unbanning lets the user back in.
    let r = app
        .send_as(
            Method::PUT,
            "/api/channels/banowner/bans/banowner",
            &troll.token,
            None,
        )
        .await;
    assert_error(r, StatusCode::FORBIDDEN, "forbidden").await;
    let r = app
        .send_as(
            Method::DELETE,
            "/api/channels/banowner/bans/trolluser",
            &owner.token,
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let mut back = WsClient::connect(&app, Some(&troll.token)).await;
    back.subscribe("banowner").await;
}

#[tokio::test]
async fn moderation_modes_are_enforced_on_the_server_with_moderators_exempt() {
    let app = spawn_app().await;
    let owner = app.user("modeowner").await;
    let viewer = app.user("modeviewer").await;
    let helper = app.user("modehelper").await;
    let chat = "/api/channels/modeowner/chat";
    let send = |token: String, text: &'static str| {
        let app = &app;
        async move {
            app.send_as(Method::POST, chat, &token, Some(json!({"text": text})))
                .await
        }
    };

    // Banned words.
    let r = app
        .send_as(Method::PUT, "/api/channels/modeowner/chat/settings", &owner.token,
            Some(json!({"slow_mode_secs": 0, "followers_only_minutes": null, "banned_words": ["Spoiler"]})))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = send(viewer.token.clone(), "big SPOILER ahead").await;
    let body = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "banned_word").await;
    assert_eq!(body["error"]["fields"][0]["field"], "text");

    // Slow mode: a second message within the window is refused with Retry-After.
    app.send_as(
        Method::PUT,
        "/api/channels/modeowner/chat/settings",
        &owner.token,
        Some(json!({"slow_mode_secs": 30, "followers_only_minutes": null, "banned_words": []})),
    )
    .await;
    assert_eq!(
        send(viewer.token.clone(), "one").await.status(),
        StatusCode::CREATED
    );
    let r = send(viewer.token.clone(), "two").await;
    assert_eq!(r.headers()["retry-after"], "30");
    assert_error(r, StatusCode::TOO_MANY_REQUESTS, "slow_mode").await;

    // Moderators are exempt.
    let r = app
        .send_as(
            Method::PUT,
            "/api/channels/modeowner/moderators/modehelper",
            &owner.token,
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        send(helper.token.clone(), "a").await.status(),
        StatusCode::CREATED
    );
    assert_eq!(
        send(helper.token.clone(), "b").await.status(),
        StatusCode::CREATED
    );

    // Followers only.
    app.send_as(
        Method::PUT,
        "/api/channels/modeowner/chat/settings",
        &owner.token,
        Some(json!({"slow_mode_secs": 0, "followers_only_minutes": 0, "banned_words": []})),
    )
    .await;
    let newcomer = app.user("modenewbie").await;
    assert_error(
        send(newcomer.token.clone(), "hi").await,
        StatusCode::FORBIDDEN,
        "followers_only",
    )
    .await;
    app.send_as(
        Method::PUT,
        "/api/me/following/modeowner",
        &newcomer.token,
        None,
    )
    .await;
    assert_eq!(
        send(newcomer.token.clone(), "hi").await.status(),
        StatusCode::CREATED
    );

    // Settings are checked.
    let r = app
        .send_as(Method::PUT, "/api/channels/modeowner/chat/settings", &owner.token,
            Some(json!({"slow_mode_secs": 99999, "followers_only_minutes": null, "banned_words": []})))
        .await;
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    // Only the owner appoints moderators; moderators cannot ban the owner.
    let r = app
        .send_as(
            Method::PUT,
            "/api/channels/modeowner/moderators/modeviewer",
            &helper.token,
            None,
        )
        .await;
    assert_error(r, StatusCode::FORBIDDEN, "forbidden").await;
    let r = app
        .send_as(
            Method::PUT,
            "/api/channels/modeowner/bans/modeowner",
            &helper.token,
            None,
        )
        .await;
    assert_error(r, StatusCode::FORBIDDEN, "forbidden").await;
}

#[tokio::test]
async fn a_timeout_stops_chat_until_it_ends_but_not_watching() {
    let app = spawn_app().await;
    let owner = app.user("toowner").await;
    let viewer = app.user("toviewer").await;
    let r = app
        .send_as(
            Method::PUT,
            "/api/channels/toowner/timeouts/toviewer",
            &owner.token,
            Some(json!({"duration_secs": 1})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let mut ws = WsClient::connect(&app, Some(&viewer.token)).await;
    let snapshot = ws.subscribe("toowner").await;
    assert!(snapshot["you"]["timed_out_until"].is_string());
    let r = app
        .send_as(
            Method::POST,
            "/api/channels/toowner/chat",
            &viewer.token,
            Some(json!({"text": "hey"})),
        )
        .await;
    assert_error(r, StatusCode::FORBIDDEN, "timed_out").await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = app
        .send_as(
            Method::POST,
            "/api/channels/toowner/chat",
            &viewer.token,
            Some(json!({"text": "hey"})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = app
        .send_as(
            Method::PUT,
            "/api/channels/toowner/timeouts/toviewer",
            &owner.token,
            Some(json!({"duration_secs": 0})),
        )
        .await;
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}

#[tokio::test]
async fn a_slow_consumer_is_disconnected_with_its_code_while_others_get_everything() {
    let app = spawn_app_with(|c| c.realtime.outbox_capacity = 16).await;
    let owner = app.user("slowowner").await;

    // A client with a tiny receive buffer that never reads.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let addr: std::net::SocketAddr = app.base.trim_start_matches("http://").parse().unwrap();
    let stream = socket.connect(addr).await.unwrap();
    let (mut slow, _) = tokio_tungstenite::client_async(format!("ws://{addr}/ws"), stream)
        .await
        .unwrap();
    use futures::{SinkExt, StreamExt};
    slow.send(tokio_tungstenite::tungstenite::Message::text(
        json!({"type": "subscribe", "id": 1, "channel": "slowowner"}).to_string(),
    ))
    .await
    .unwrap();

    let mut fast = WsClient::connect(&app, None).await;
    fast.subscribe("slowowner").await;
    // Wait until the server counts both viewers.
    while fast.next_event("presence").await["viewers"] != 2 {}

    // The fast viewer reads everything; when presence drops to 1 the slow one has been cut off.
    let slow_gone = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let senders_done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (gone, sent_by_all, done) = (slow_gone.clone(), sent.clone(), senders_done.clone());
    let reader = tokio::spawn(async move {
        let mut received = 0;
        loop {
            // Wake up now and then to see whether the senders are done.
            let next = tokio::time::timeout(std::time::Duration::from_millis(200), fast.next_any());
            if let Ok(frame) = next.await {
                match frame["type"].as_str() {
                    Some("chat") => received += frame["messages"].as_array().unwrap().len(),
                    Some("presence") if frame["viewers"] == 1 => gone.store(true, SeqCst),
                    _ => {}
                }
            }
            if done.load(SeqCst) && received == sent_by_all.load(SeqCst) {
                return received;
            }
        }
    });
    // Enough to fill the kernel's socket buffers (up to 4 MiB on loopback) and then the outbox;
    // the senders stop as soon as the server has cut the slow viewer off.
    let text = "x".repeat(490);
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (client, url, token, text) = (
            app.client.clone(),
            app.url("/api/channels/slowowner/chat"),
            owner.token.clone(),
            text.clone(),
        );
        let (gone, sent) = (slow_gone.clone(), sent.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..2000 {
                if gone.load(SeqCst) {
                    break;
                }
                let r = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"text": text}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::CREATED);
                sent.fetch_add(1, SeqCst);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    senders_done.store(true, SeqCst);
    assert!(slow_gone.load(SeqCst), "the slow viewer was cut off");
    let received = tokio::time::timeout(std::time::Duration::from_secs(30), reader)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        received,
        sent.load(SeqCst),
        "the fast viewer got every message"
    );

    // Now the slow client reads: it finds its close frame after what was buffered.
    let mut code = None;
    while let Ok(Some(message)) =
        tokio::time::timeout(std::time::Duration::from_secs(15), slow.next()).await
    {
        match message {
            Ok(tokio_tungstenite::tungstenite::Message::Close(frame)) => {
                code = frame.map(|f| u16::from(f.code));
                break;
            }
            Ok(_) => continue,
            Err(_) => break,
        }
    }
    assert_eq!(code, Some(4008), "closed as a slow consumer");
}
