use reqwest::StatusCode;
use serde_json::json;
use showrunner::config::VerificationMode;

use crate::{
    helpers::{PASSWORD, assert_error, error_fields, link_token, spawn_app, spawn_app_with},
    smtp::SmtpServer,
};

#[tokio::test]
async fn register_login_refresh_and_logout_round_trip() {
    let app = spawn_app().await;

    let response = app
        .register_raw("Anna.B", "anna@example.com", PASSWORD)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["verification_required"], false);
    assert_eq!(body["account"]["username"], "Anna.B");
    assert!(
        body["account"]["channel"]["stream_key"]
            .as_str()
            .unwrap()
            .starts_with("sk_")
    );
    assert!(body["account"].get("password_hash").is_none());

    // Login by username in any case, and by email.
    app.login_ok("anna.b", PASSWORD).await;
    let session = app.login_ok("ANNA@example.com", PASSWORD).await;
    let token = session["access_token"].as_str().unwrap();
    assert_eq!(session["token_type"], "Bearer");

    let me: serde_json::Value = app.get_as("/api/me", token).await.json().await.unwrap();
    assert_eq!(me["email"], "anna@example.com");

    // Refresh with the body token: a new pair; the old refresh token is spent.
    let first_refresh = session["refresh_token"].as_str().unwrap();
    let refreshed = app
        .post("/api/auth/refresh", json!({"refresh_token": first_refresh}))
        .await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    let refreshed: serde_json::Value = refreshed.json().await.unwrap();
    let second_refresh = refreshed["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, first_refresh);
    let new_token = refreshed["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get_as("/api/me", &new_token).await.status(),
        StatusCode::OK
    );

    // Logout ends the session: its access token stops working at once.
    let out = app
        .send_as(reqwest::Method::POST, "/api/auth/logout", &new_token, None)
        .await;
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert!(
        out.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_error(
        app.get_as("/api/me", &new_token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    let after = app
        .post(
            "/api/auth/refresh",
            json!({"refresh_token": second_refresh}),
        )
        .await;
    assert_error(after, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

#[tokio::test]
async fn refresh_works_from_the_http_only_cookie() {
    let app = spawn_app().await;
    app.register_raw("cookie.user", "c@example.com", PASSWORD)
        .await;
    let response = app.login_raw("cookie.user", PASSWORD).await;
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.contains("HttpOnly"));
    assert!(cookie.contains("SameSite=Strict"));
    assert!(cookie.contains("Path=/api/auth"));

    // The client's cookie jar sends it; no body needed.
    let refreshed = app
        .client
        .post(app.url("/api/auth/refresh"))
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_replayed_refresh_token_revokes_the_whole_session() {
    let app = spawn_app().await;
    let user = app.user("replayer").await;
    let first = app
        .post("/api/auth/refresh", json!({"refresh_token": user.refresh}))
        .await;
    let first: serde_json::Value = first.json().await.unwrap();
    let second = app
        .post(
            "/api/auth/refresh",
            json!({"refresh_token": first["refresh_token"]}),
        )
        .await;
    let rotated: serde_json::Value = second.json().await.unwrap();

    // An attacker replays a spent token (not the one just spent: that one has a short grace,
    // see the next test)…
    let replay = app
        .post("/api/auth/refresh", json!({"refresh_token": user.refresh}))
        .await;
    assert_error(replay, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    // …and the legitimate holder of the new token is signed out too.
    let legit = app
        .post(
            "/api/auth/refresh",
            json!({"refresh_token": rotated["refresh_token"]}),
        )
        .await;
    assert_eq!(legit.status(), StatusCode::UNAUTHORIZED);
    let token = rotated["access_token"].as_str().unwrap();
    assert_eq!(
        app.get_as("/api/me", token).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_refresh_whose_answer_was_lost_can_be_retried_with_the_same_token() {
    let app = spawn_app().await;
    let user = app.user("reloader").await;
    // The page reloads mid-refresh: the answer, and the token in it, never arrive.
    let lost = app
        .post("/api/auth/refresh", json!({"refresh_token": user.refresh}))
        .await;
    assert_eq!(lost.status(), StatusCode::OK);
    let lost: serde_json::Value = lost.json().await.unwrap();

    let retried = app
        .post("/api/auth/refresh", json!({"refresh_token": user.refresh}))
        .await;

    assert_eq!(retried.status(), StatusCode::OK);
    let retried: serde_json::Value = retried.json().await.unwrap();
    let token = retried["access_token"].as_str().unwrap();
    assert_eq!(app.get_as("/api/me", token).await.status(), StatusCode::OK);
    let next = app
        .post(
            "/api/auth/refresh",
            json!({"refresh_token": retried["refresh_token"]}),
        )
        .await;
    assert_eq!(next.status(), StatusCode::OK);
    // The lost answer's token was spent by the retry: whoever presents it now replays it.
    let stale = app
        .post(
            "/api/auth/refresh",
            json!({"refresh_token": lost["refresh_token"]}),
        )
        .await;
    assert_error(stale, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_answer() {
    let app = spawn_app().await;
    app.user("realuser").await;
    let wrong = app.login_raw("realuser", "Wrong#Pass1").await;
    let body_a = assert_error(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let unknown = app.login_raw("ghostuser", "Wrong#Pass1").await;
    let body_b = assert_error(unknown, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert_eq!(body_a, body_b);
}

#[tokio::test]
async fn reserved_invalid_and_duplicate_usernames_are_refused_with_the_field_named() {
    let app = spawn_app().await;
    for reserved in [
        "login",
        "Settings",
        "manager",
        "health",
        "following",
        "api",
        "ws",
        "admin",
    ] {
        let r = app
            .register_raw(reserved, &format!("{reserved}@example.com"), PASSWORD)
            .await;
        let body = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(body["error"]["fields"][0]["code"], "reserved", "{reserved}");
    }
    for bad in ["abc", "has space", "dash-ed", "twentyonecharacters_x"] {
        let r = app.register_raw(bad, "x@example.com", PASSWORD).await;
        let body = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(error_fields(&body), ["username"], "{bad}");
    }

    app.user("Taken.Name").await;
    let r = app
        .register_raw("taken.NAME", "other@example.com", PASSWORD)
        .await;
    let body = assert_error(r, StatusCode::CONFLICT, "username_taken").await;
    assert_eq!(error_fields(&body), ["username"]);
    let r = app
        .register_raw("fresh.name", "TAKEN.name@example.com", PASSWORD)
        .await;
    assert_error(r, StatusCode::CONFLICT, "email_taken").await;
    // The refused registration left nothing behind.
    assert_eq!(
        app.login_raw("fresh.name", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn every_bad_field_of_a_registration_is_reported_at_once() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/api/auth/register",
            json!({"username": "x", "email": "nope", "password": "short", "color": "red", "avatar": "dragon"}),
        )
        .await;
    let body = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let mut fields = error_fields(&body);
    fields.sort();
    assert_eq!(fields, ["avatar", "color", "email", "password", "username"]);
}

#[tokio::test]
async fn malformed_bodies_get_400_415_and_field_errors() {
    let app = spawn_app().await;
    let broken = app
        .client
        .post(app.url("/api/auth/register"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_error(broken, StatusCode::BAD_REQUEST, "malformed_request").await;

    let no_type = app
        .client
        .post(app.url("/api/auth/login"))
        .body(r#"{"login":"a","password":"b"}"#)
        .send()
        .await
        .unwrap();
    assert_error(
        no_type,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;

    let missing = app
        .post(
            "/api/auth/register",
            json!({"username": "abcd", "password": PASSWORD}),
        )
        .await;
    let body = assert_error(
        missing,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(error_fields(&body), ["email"]);

    let wrong_type = app
        .post("/api/auth/login", json!({"login": 5, "password": "x"}))
        .await;
    let body = assert_error(
        wrong_type,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(error_fields(&body), ["login"]);
}

#[tokio::test]
async fn signup_is_limited_to_allowed_email_domains() {
    let app =
        spawn_app_with(|c| c.accounts.signup_email_domains = vec!["corp.example".into()]).await;
    let r = app.register_raw("outsider", "o@gmail.com", PASSWORD).await;
    let body = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["error"]["fields"][0]["code"], "domain_not_allowed");
    let r = app
        .register_raw("insider", "i@Corp.Example", PASSWORD)
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn required_verification_blocks_login_until_the_outbox_link_is_followed() {
    let app = spawn_app_with(|c| c.accounts.email_verification = VerificationMode::Required).await;
    let r = app
        .register_raw("verifyme", "v@example.com", PASSWORD)
        .await;
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["verification_required"], true);

    assert_error(
        app.login_raw("verifyme", PASSWORD).await,
        StatusCode::FORBIDDEN,
        "email_not_verified",
    )
    .await;

    let mails = app.outbox();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("To: v@example.com"));
    let token = link_token(&mails[0], "verify");
    // The link opens a page of this server.
    assert_eq!(
        app.get(&format!("/verify?token={token}")).await.status(),
        StatusCode::OK
    );

    let verify = app.post("/api/auth/verify", json!({"token": token})).await;
    assert_eq!(verify.status(), StatusCode::NO_CONTENT);
    app.login_ok("verifyme", PASSWORD).await;

    // A link works once.
    let again = app.post("/api/auth/verify", json!({"token": token})).await;
    let body = assert_error(again, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(error_fields(&body), ["token"]);
}

#[tokio::test]
async fn resend_verification_mails_a_fresh_link_and_reveals_nothing() {
    let app = spawn_app_with(|c| c.accounts.email_verification = VerificationMode::Required).await;
    app.register_raw("resender", "r@example.com", PASSWORD)
        .await;
    let known = app
        .post("/api/auth/verify/resend", json!({"email": "r@example.com"}))
        .await;
    let unknown = app
        .post(
            "/api/auth/verify/resend",
            json!({"email": "nobody@example.com"}),
        )
        .await;
    assert_eq!(known.status(), StatusCode::ACCEPTED);
    assert_eq!(unknown.status(), StatusCode::ACCEPTED);
    let mails = app.outbox();
    assert_eq!(mails.len(), 2);
    let token = link_token(&mails[1], "verify");
    assert_eq!(
        app.post("/api/auth/verify", json!({"token": token}))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn verification_mail_goes_through_a_real_smtp_server_when_configured() {
    let smtp = SmtpServer::start().await;
    let smtp_config = smtp.smtp_config();
    let app = spawn_app_with(move |c| {
        c.accounts.email_verification = VerificationMode::Required;
        c.mail.smtp = Some(smtp_config);
        c.mail.from = "Showrunner <noreply@showrunner.example>".into();
    })
    .await;
    app.register_raw("smtpuser", "smtp.user@example.com", PASSWORD)
        .await;

    let mails = smtp.wait_for_mail(1).await;
    assert_eq!(mails[0].to, "smtp.user@example.com");
    assert!(mails[0].from.contains("noreply@showrunner.example"));
    assert!(
        app.outbox().is_empty(),
        "with SMTP configured nothing goes to the outbox"
    );
    let token = link_token(&mails[0].text, "verify");
    assert_eq!(
        app.post("/api/auth/verify", json!({"token": token}))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    app.login_ok("smtpuser", PASSWORD).await;
}

#[tokio::test]
async fn password_reset_by_mail_sets_the_password_and_signs_out_everywhere() {
    let app = spawn_app().await;
    let user = app.user("forgetful").await;

    let known = app
        .post("/api/auth/reset", json!({"email": "forgetful@example.com"}))
        .await;
    let unknown = app
        .post("/api/auth/reset", json!({"email": "stranger@example.com"}))
        .await;
    assert_eq!(known.status(), StatusCode::ACCEPTED);
    assert_eq!(unknown.status(), StatusCode::ACCEPTED);
    assert_eq!(known.text().await.unwrap(), unknown.text().await.unwrap());

    let mails = app.outbox();
    assert_eq!(mails.len(), 1, "only the known address gets mail");
    let token = link_token(&mails[0], "reset");

    let weak = app
        .post(
            "/api/auth/reset/confirm",
            json!({"token": token, "password": "weak"}),
        )
        .await;
    assert_error(weak, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let ok = app
        .post(
            "/api/auth/reset/confirm",
            json!({"token": token, "password": "N3w#Password"}),
        )
        .await;
    assert_eq!(ok.status(), StatusCode::NO_CONTENT);

    assert_eq!(
        app.login_raw("forgetful", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    app.login_ok("forgetful", "N3w#Password").await;
    assert_eq!(
        app.get_as("/api/me", &user.token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let reuse = app
        .post(
            "/api/auth/reset/confirm",
            json!({"token": token, "password": "Other#Pass9"}),
        )
        .await;
    assert_eq!(reuse.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn repeated_login_failures_are_throttled_with_retry_after() {
    let app = spawn_app_with(|c| c.throttle.login_failures_per_account = 3).await;
    app.user("target").await;
    for _ in 0..3 {
        assert_eq!(
            app.login_raw("target", "Wrong#Pass1").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // Even the right password is refused while the account is throttled.
    let body = assert_error(
        app.login_raw("target", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    )
    .await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("seconds")
    );
    // Other accounts are unaffected.
    app.user("bystander").await;
}

#[tokio::test]
async fn logins_per_client_address_are_throttled() {
    let app = spawn_app_with(|c| c.throttle.logins_per_ip = 4).await;
    app.user("someone").await; // one login
    for i in 0..3 {
        let r = app.login_raw(&format!("nobody{i}"), "Wrong#Pass1").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    assert_error(
        app.login_raw("someone", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    )
    .await;
}

#[tokio::test]
async fn reset_requests_are_throttled_per_address() {
    let app = spawn_app_with(|c| c.throttle.mail_requests_per_ip = 2).await;
    for _ in 0..2 {
        let r = app
            .post("/api/auth/reset", json!({"email": "a@example.com"}))
            .await;
        assert_eq!(r.status(), StatusCode::ACCEPTED);
    }
    let r = app
        .post("/api/auth/reset", json!({"email": "a@example.com"}))
        .await;
    assert_error(r, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
}
