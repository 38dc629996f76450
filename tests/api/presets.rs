//! `/api/me/presets`: saved stream actions, per account.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, error_fields, spawn_app};

fn notice(title: &str) -> Value {
    json!({"type": "notice", "title": title, "message": "Be nice", "duration_secs": 15})
}

async fn put_preset(app: &TestApp, token: &str, name: &str, action: Value) -> reqwest::Response {
    let path = format!("/api/me/presets/{}", urlencoding(name));
    app.send_as(Method::PUT, &path, token, Some(action)).await
}

async fn presets(app: &TestApp, token: &str) -> Vec<Value> {
    let response = app.get_as("/api/me/presets", token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["presets"].as_array().unwrap().clone()
}

/// Percent-encodes a path segment (spaces and the like).
fn urlencoding(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn a_streamer_saves_replaces_lists_and_deletes_presets() {
    let app = spawn_app().await;
    let anna = app.user("anna").await;

    let created = put_preset(&app, &anna.token, " Welcome ", notice("  Hi all  ")).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["name"], "Welcome");
    assert_eq!(created["action"], notice("Hi all"), "kept in checked form");
    assert!(created["updated_at"].is_string());

    let replaced = put_preset(&app, &anna.token, "Welcome", notice("Hello")).await;
    assert_eq!(replaced.status(), StatusCode::OK);
    let replaced: Value = replaced.json().await.unwrap();
    assert_eq!(replaced["id"], created["id"]);
    assert_eq!(replaced["action"]["title"], "Hello");

    let confetti = json!({"type": "celebration"});
    put_preset(&app, &anna.token, "Applause", confetti.clone()).await;
    let list = presets(&app, &anna.token).await;
    let names: Vec<_> = list.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Applause", "Welcome"]);
    assert_eq!(list[0]["action"], confetti);

    let path = format!("/api/me/presets/{}", created["id"].as_str().unwrap());
    let deleted = app.send_as(Method::DELETE, &path, &anna.token, None).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(presets(&app, &anna.token).await.len(), 1);
    let again = app.send_as(Method::DELETE, &path, &anna.token, None).await;
    assert_error(again, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn a_saved_action_starts_as_it_is() {
    let app = spawn_app().await;
    let anna = app.user("anna").await;
    let poll = json!({"type": "poll", "question": "Next game?", "options": ["Chess", "Go"], "duration_secs": 60});
    let saved: Value = put_preset(&app, &anna.token, "Next game", poll)
        .await
        .json()
        .await
        .unwrap();

    let started = app
        .send_as(
            Method::POST,
            "/api/channels/anna/actions",
            &anna.token,
            Some(saved["action"].clone()),
        )
        .await;

    assert_eq!(started.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn presets_are_private_to_their_owner() {
    let app = spawn_app().await;
    let anna = app.user("anna").await;
    let bobby = app.user("bobby").await;
    let annas: Value = put_preset(&app, &anna.token, "Welcome", notice("Hi"))
        .await
        .json()
        .await
        .unwrap();

    assert!(presets(&app, &bobby.token).await.is_empty());
    let path = format!("/api/me/presets/{}", annas["id"].as_str().unwrap());
    let refused = app.send_as(Method::DELETE, &path, &bobby.token, None).await;
    assert_error(refused, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(presets(&app, &anna.token).await.len(), 1);

    // The same name is bobby's own preset, not a replacement of anna's.
    let own = put_preset(&app, &bobby.token, "Welcome", notice("Yo")).await;
    assert_eq!(own.status(), StatusCode::CREATED);
    assert_eq!(presets(&app, &anna.token).await[0]["action"]["title"], "Hi");

    let anonymous = app.get("/api/me/presets").await;
    assert_error(anonymous, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let bad_id = app
        .send_as(
            Method::DELETE,
            "/api/me/presets/not-an-id",
            &anna.token,
            None,
        )
        .await;
    assert_error(bad_id, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn bad_names_and_actions_are_refused_naming_every_field() {
    let app = spawn_app().await;
    let anna = app.user("anna").await;

    for name in ["   ", &"n".repeat(41)] {
        let r = put_preset(&app, &anna.token, name, notice("Hi")).await;
        let body = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(error_fields(&body), ["name"], "{name:?}");
    }
    let forty = put_preset(&app, &anna.token, &"n".repeat(40), notice("Hi")).await;
    assert_eq!(forty.status(), StatusCode::CREATED);

    let bad_action =
        json!({"type": "notice", "title": "t".repeat(25), "message": "m", "duration_secs": 99});
    let r = put_preset(&app, &anna.token, &"n".repeat(41), bad_action).await;
    let body = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(error_fields(&body), ["name", "title", "duration_secs"]);

    let unknown = json!({"type": "raffle", "title": "t"});
    let r = put_preset(&app, &anna.token, "Raffle", unknown).await;
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;

    assert_eq!(presets(&app, &anna.token).await.len(), 1);
}

#[tokio::test]
async fn an_account_keeps_at_most_fifty_presets_but_may_still_replace_them() {
    let app = spawn_app().await;
    let anna = app.user("anna").await;
    for i in 0..50 {
        let r = put_preset(&app, &anna.token, &format!("Preset {i:02}"), notice("Hi")).await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }

    let r = put_preset(&app, &anna.token, "One too many", notice("Hi")).await;
    let body = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["error"]["fields"][0]["field"], "name");
    assert_eq!(body["error"]["fields"][0]["code"], "too_many_presets");

    let replaced = put_preset(&app, &anna.token, "Preset 07", notice("Changed")).await;
    assert_eq!(replaced.status(), StatusCode::OK);

    let first = presets(&app, &anna.token).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/me/presets/{first}");
    app.send_as(Method::DELETE, &path, &anna.token, None).await;
    let r = put_preset(&app, &anna.token, "One too many", notice("Hi")).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(presets(&app, &anna.token).await.len(), 50);
}
