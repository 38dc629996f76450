use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{PASSWORD, assert_error, error_fields, spawn_app};

#[tokio::test]
async fn profile_color_and_avatar_preset_change_and_nothing_else_can() {
    let app = spawn_app().await;
    let user = app.user("painter").await;
    let r = app
        .send_as(
            Method::PATCH,
            "/api/me/profile",
            &user.token,
            Some(json!({"color": "salmon", "avatar": "tiger"})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let me: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        (me["color"].as_str(), me["avatar"].as_str()),
        (Some("salmon"), Some("tiger"))
    );

    let bad = app
        .send_as(
            Method::PATCH,
            "/api/me/profile",
            &user.token,
            Some(json!({"color": "chartreuse"})),
        )
        .await;
    let body = assert_error(bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(error_fields(&body), ["color"]);

    // The reference system let any attribute be overwritten through its preferences route.
    for field in ["username", "stream_key", "email_verified", "id"] {
        let sneaky = app
            .send_as(
                Method::PATCH,
                "/api/me/profile",
                &user.token,
                Some(json!({field: "x"})),
            )
            .await;
        let body = assert_error(
            sneaky,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(error_fields(&body), [field]);
    }
    let me: serde_json::Value = app
        .get_as("/api/me", &user.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "painter");
    assert_eq!(me["color"], "salmon");
}

#[tokio::test]
async fn changing_username_moves_the_channel_url() {
    let app = spawn_app().await;
    let user = app.user("oldname").await;
    app.user("takenname").await;

    let taken = app
        .send_as(
            Method::PUT,
            "/api/me/username",
            &user.token,
            Some(json!({"username": "TakenName"})),
        )
        .await;
    assert_error(taken, StatusCode::CONFLICT, "username_taken").await;
    let reserved = app
        .send_as(
            Method::PUT,
            "/api/me/username",
            &user.token,
            Some(json!({"username": "reset"})),
        )
        .await;
    assert_error(
        reserved,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;

    let ok = app
        .send_as(
            Method::PUT,
            "/api/me/username",
            &user.token,
            Some(json!({"username": "New.Name"})),
        )
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(
        app.get("/api/channels/new.name").await.status(),
        StatusCode::OK
    );
    assert_error(
        app.get("/api/channels/oldname").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    app.login_ok("New.Name", PASSWORD).await;
    // The old name is free again.
    let reuse = app
        .register_raw("OldName", "someone.else@example.com", PASSWORD)
        .await;
    assert_eq!(reuse.status(), StatusCode::CREATED);
    // Re-casing one's own name is allowed.
    let recase = app
        .send_as(
            Method::PUT,
            "/api/me/username",
            &user.token,
            Some(json!({"username": "NEW.NAME"})),
        )
        .await;
    assert_eq!(recase.status(), StatusCode::OK);
}

#[tokio::test]
async fn changing_password_keeps_this_session_and_ends_the_others() {
    let app = spawn_app().await;
    let user = app.user("rotator").await;
    let other = app.login_ok("rotator", PASSWORD).await;
    let other_token = other["access_token"].as_str().unwrap();

    let wrong = app
        .send_as(
            Method::PUT,
            "/api/me/password",
            &user.token,
            Some(json!({"current_password": "Nope#1234", "new_password": "Fresh#Pass1"})),
        )
        .await;
    let body = assert_error(wrong, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(error_fields(&body), ["current_password"]);
    let weak = app
        .send_as(
            Method::PUT,
            "/api/me/password",
            &user.token,
            Some(json!({"current_password": PASSWORD, "new_password": "weakweak"})),
        )
        .await;
    let body = assert_error(weak, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(error_fields(&body), ["new_password"]);

    let ok = app
        .send_as(
            Method::PUT,
            "/api/me/password",
            &user.token,
            Some(json!({"current_password": PASSWORD, "new_password": "Fresh#Pass1"})),
        )
        .await;
    assert_eq!(ok.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get_as("/api/me", &user.token).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get_as("/api/me", other_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let stale = app
        .post(
            "/api/auth/refresh",
            json!({"refresh_token": other["refresh_token"]}),
        )
        .await;
    assert_eq!(stale.status(), StatusCode::UNAUTHORIZED);
    app.login_ok("rotator", "Fresh#Pass1").await;
}

#[tokio::test]
async fn resetting_the_stream_key_replaces_it() {
    let app = spawn_app().await;
    let user = app.user("streamer").await;
    let before: serde_json::Value = app
        .get_as("/api/me", &user.token)
        .await
        .json()
        .await
        .unwrap();
    let r = app
        .send_as(Method::POST, "/api/me/stream-key/reset", &user.token, None)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let after: serde_json::Value = r.json().await.unwrap();
    assert_ne!(
        before["channel"]["stream_key"],
        after["channel"]["stream_key"]
    );
    assert_eq!(before["channel"]["arn"], after["channel"]["arn"]);
    assert!(
        after["channel"]["ingest_server_url"]
            .as_str()
            .unwrap()
            .starts_with("rtmps://")
    );
    let again: serde_json::Value = app
        .get_as("/api/me", &user.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        again["channel"]["stream_key"],
        after["channel"]["stream_key"]
    );
}

#[tokio::test]
async fn deleting_an_account_removes_every_trace() {
    let app = spawn_app().await;
    let leaver = app.user("leaver").await;
    let fan = app.user("fanatic").await;
    let idol = app.user("theidol").await;
    app.send_as(Method::PUT, "/api/me/following/leaver", &fan.token, None)
        .await;
    app.send_as(
        Method::PUT,
        "/api/me/following/theidol",
        &leaver.token,
        None,
    )
    .await;
    let _ = idol;

    let wrong = app
        .send_as(
            Method::DELETE,
            "/api/me",
            &leaver.token,
            Some(json!({"password": "Wrong#123"})),
        )
        .await;
    assert_error(wrong, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(
        app.get("/api/channels/leaver").await.status(),
        StatusCode::OK
    );

    let gone = app
        .send_as(
            Method::DELETE,
            "/api/me",
            &leaver.token,
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);

    assert_eq!(
        app.get("/api/channels/leaver").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get_as("/api/me", &leaver.token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login_raw("leaver", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let following: serde_json::Value = app
        .get_as("/api/me/following", &fan.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(following["channels"].as_array().unwrap().len(), 0);
    // Name and email are free again, and the new account starts with no follows.
    let again = app.user("leaver").await;
    let following: serde_json::Value = app
        .get_as("/api/me/following", &again.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(following["channels"].as_array().unwrap().len(), 0);
}

/// Every route that needs a signed-in user answers 401 without credentials and with bad ones.
#[tokio::test]
async fn protected_routes_answer_401_without_or_with_bad_credentials() {
    let app = spawn_app().await;
    let routes = [
        (Method::GET, "/api/me"),
        (Method::DELETE, "/api/me"),
        (Method::PATCH, "/api/me/profile"),
        (Method::PUT, "/api/me/avatar"),
        (Method::PUT, "/api/me/banner"),
        (Method::DELETE, "/api/me/banner"),
        (Method::PUT, "/api/me/username"),
        (Method::PUT, "/api/me/password"),
        (Method::POST, "/api/me/stream-key/reset"),
        (Method::GET, "/api/me/following"),
        (Method::PUT, "/api/me/following/someone"),
        (Method::DELETE, "/api/me/following/someone"),
    ];
    for (method, path) in routes {
        let none = app
            .client
            .request(method.clone(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(
            none.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path} without token"
        );
        assert_eq!(none.headers()["www-authenticate"], "Bearer");
        let bad = app.send_as(method.clone(), path, "not-a-jwt", None).await;
        assert_error(bad, StatusCode::UNAUTHORIZED, "invalid_token").await;
        let basic = app
            .client
            .request(method.clone(), app.url(path))
            .header("authorization", "Basic YTpi")
            .send()
            .await
            .unwrap();
        assert_eq!(
            basic.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path} with Basic auth"
        );
    }
}
