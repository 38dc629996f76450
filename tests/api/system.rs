use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{PASSWORD, assert_error, spawn_app, spawn_app_in};

#[tokio::test]
async fn health_readiness_and_request_ids() {
    let app = spawn_app().await;
    let r = app.get("/healthz").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().contains_key("x-request-id"));
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);

    let echoed = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "abc-123");
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_status() {
    let app = spawn_app().await;
    app.get("/api/channels/someone").await;
    app.get("/api/channels/someone.else").await;
    let text = app.get("/metrics").await.text().await.unwrap();
    let line = text
        .lines()
        .find(|l| {
            l.starts_with("showrunner_http_requests_total")
                && l.contains("route=\"/api/channels/{username}\"")
                && l.contains("status=\"404\"")
        })
        .unwrap_or_else(|| panic!("no request counter in:\n{text}"));
    assert!(line.ends_with(" 2"), "{line}");
    assert!(text.contains("showrunner_http_request_duration_seconds_bucket"));
    assert!(
        !text.contains("someone.else"),
        "raw paths must not become labels"
    );
}

/// The routes the API serves; the OpenAPI document must describe each one.
const ROUTES: &[(&str, &str)] = &[
    ("post", "/api/auth/register"),
    ("post", "/api/auth/login"),
    ("post", "/api/auth/refresh"),
    ("post", "/api/auth/logout"),
    ("post", "/api/auth/verify"),
    ("post", "/api/auth/verify/resend"),
    ("post", "/api/auth/reset"),
    ("post", "/api/auth/reset/confirm"),
    ("get", "/api/me"),
    ("delete", "/api/me"),
    ("patch", "/api/me/profile"),
    ("put", "/api/me/avatar"),
    ("put", "/api/me/banner"),
    ("delete", "/api/me/banner"),
    ("put", "/api/me/username"),
    ("put", "/api/me/password"),
    ("post", "/api/me/stream-key/reset"),
    ("get", "/api/me/presets"),
    ("put", "/api/me/presets/{preset}"),
    ("delete", "/api/me/presets/{preset}"),
    ("get", "/api/products"),
    ("get", "/api/me/following"),
    ("put", "/api/me/following/{username}"),
    ("delete", "/api/me/following/{username}"),
    ("get", "/api/channels"),
    ("get", "/api/channels/{username}"),
    ("get", "/api/channels/{username}/live"),
    ("post", "/api/channels/{username}/actions"),
    ("delete", "/api/channels/{username}/actions/current"),
    ("get", "/api/channels/{username}/polls"),
    ("post", "/api/channels/{username}/polls/{poll_id}/votes"),
    ("post", "/api/channels/{username}/chat"),
    ("delete", "/api/channels/{username}/chat/{offset}"),
    ("get", "/api/channels/{username}/chat/settings"),
    ("put", "/api/channels/{username}/chat/settings"),
    ("get", "/api/channels/{username}/restrictions"),
    ("put", "/api/channels/{username}/bans/{target}"),
    ("delete", "/api/channels/{username}/bans/{target}"),
    ("put", "/api/channels/{username}/timeouts/{target}"),
    ("delete", "/api/channels/{username}/timeouts/{target}"),
    ("get", "/api/channels/{username}/moderators"),
    ("put", "/api/channels/{username}/moderators/{target}"),
    ("delete", "/api/channels/{username}/moderators/{target}"),
    ("get", "/api/channels/{username}/stage"),
    ("post", "/api/channels/{username}/stage"),
    ("delete", "/api/channels/{username}/stage"),
    ("post", "/api/channels/{username}/stage/invite"),
    ("delete", "/api/channels/{username}/stage/invite"),
    ("post", "/api/channels/{username}/stage/join"),
    ("post", "/api/channels/{username}/stage/spectate"),
    ("get", "/api/channels/{username}/stage/requests"),
    ("post", "/api/channels/{username}/stage/requests"),
    ("delete", "/api/channels/{username}/stage/requests/me"),
    (
        "post",
        "/api/channels/{username}/stage/requests/{target}/accept",
    ),
    (
        "post",
        "/api/channels/{username}/stage/requests/{target}/reject",
    ),
    (
        "delete",
        "/api/channels/{username}/stage/participants/{target}",
    ),
    ("post", "/api/stream-events"),
    ("get", "/api/stream-events/channels/{username}"),
    ("post", "/api/stream-events/local-metrics"),
    ("get", "/api/me/stream-sessions"),
    ("get", "/api/me/stream-sessions/{stream_id}"),
    ("get", "/ws"),
    ("get", "/api/platform"),
    ("post", "/api/channels/{username}/chat-room/token"),
    (
        "delete",
        "/api/channels/{username}/chat-room/messages/{message_id}",
    ),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
];

#[tokio::test]
async fn openapi_document_is_valid_3_1_and_lists_every_route() {
    let app = spawn_app().await;
    let r = app.get("/api/openapi.json").await;
    assert_eq!(r.status(), StatusCode::OK);
    let doc: Value = r.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));

    let paths = doc["paths"].as_object().unwrap();
    let mut documented: Vec<(String, String)> = paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|k| ["get", "post", "put", "patch", "delete"].contains(&k.as_str()))
                .map(move |m| (m.clone(), path.clone()))
        })
        .collect();
    documented.sort();
    let mut expected: Vec<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    expected.sort();
    assert_eq!(documented, expected);

    // Every documented route is really served (none answers 404/405 for its method).
    for (method, path) in ROUTES {
        let concrete = path
            .replace("{username}", "someone")
            .replace("{target}", "other")
            .replace("{poll_id}", "00000000-0000-0000-0000-000000000000")
            .replace("{offset}", "1")
            .replace("{preset}", "00000000-0000-0000-0000-000000000000");
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let status = app
            .client
            .request(method.clone(), app.url(&concrete))
            .send()
            .await
            .unwrap()
            .status();
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        if !path.contains('{') && *path != "/ws" {
            assert_ne!(status, StatusCode::NOT_FOUND, "{method} {path}");
        }
    }

    // Validate against the OpenAPI 3.1 schema with an independent validator.
    let venv = std::env::var("SHOWRUNNER_TEST_VENV")
        .expect("SHOWRUNNER_TEST_VENV is unset: run the README's test command (scripts/test), which provisions the validator");
    let file = app.data_dir.join("openapi.json");
    std::fs::write(&file, serde_json::to_vec(&doc).unwrap()).unwrap();
    let out = std::process::Command::new(format!("{venv}/bin/python"))
        .args([
            "-c",
            "import json,sys; from openapi_spec_validator import validate; from openapi_spec_validator.validation import OpenAPIV31SpecValidator; validate(json.load(open(sys.argv[1])), cls=OpenAPIV31SpecValidator); print('valid')",
        ])
        .arg(&file)
        .output()
        .expect("python from the test venv runs");
    assert!(
        out.status.success(),
        "OpenAPI document invalid:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn restarting_the_server_keeps_accounts_follows_and_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_in(dir.path().to_path_buf(), |_| {}).await;
    let fan = app.user("keeper").await;
    app.user("keptchannel").await;
    app.send_as(
        reqwest::Method::PUT,
        "/api/me/following/keptchannel",
        &fan.token,
        None,
    )
    .await;
    app.stop().await;

    let app = spawn_app_in(dir.path().to_path_buf(), |_| {}).await;
    // The access token from before the restart is still valid: the signing key was kept.
    let list: Value = app
        .get_as("/api/me/following", &fan.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["channels"][0]["username"], "keptchannel");
    app.login_ok("keeper", PASSWORD).await;
    let refreshed = app
        .post(
            "/api/auth/refresh",
            serde_json::json!({"refresh_token": fan.refresh}),
        )
        .await;
    assert_eq!(refreshed.status(), StatusCode::OK);
}

#[tokio::test]
async fn configured_cors_origins_may_call_the_api_and_others_may_not() {
    let app = crate::helpers::spawn_app_with(|c| {
        c.http.cors_origins = vec!["http://localhost:5173".into()]
    })
    .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/me"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let allowed = preflight("http://localhost:5173").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "http://localhost:5173"
    );
    assert_eq!(
        allowed.headers()["access-control-allow-credentials"],
        "true"
    );
    let refused = preflight("http://evil.example").await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn a_request_to_the_websocket_route_that_is_no_handshake_is_told_what_is_missing() {
    let app = spawn_app().await;
    let plain = assert_error(
        app.get("/ws").await,
        StatusCode::BAD_REQUEST,
        "malformed_request",
    )
    .await;
    assert!(
        plain["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Connection header"),
        "{plain}"
    );
    let old_version = app
        .client
        .get(app.url("/ws"))
        .header("connection", "keep-alive, Upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "8")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await
        .unwrap();
    let body = assert_error(old_version, StatusCode::BAD_REQUEST, "malformed_request").await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Sec-WebSocket-Version"),
        "{body}"
    );
}
