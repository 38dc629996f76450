use chrono::{Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use showrunner::domain::AccountId;

use crate::helpers::{TestApp, User, assert_error, spawn_app};

async fn id_of(app: &TestApp, user: &User) -> AccountId {
    let me: Value = app
        .get_as("/api/me", &user.token)
        .await
        .json()
        .await
        .unwrap();
    AccountId(me["id"].as_str().unwrap().parse().unwrap())
}

/// Channels go live through stream events (a later capability); here the store is set directly.
async fn go_live(app: &TestApp, user: &User, minutes_ago: i64) {
    let id = id_of(app, user).await;
    app.state
        .store
        .set_live(id, Some(Utc::now() - Duration::minutes(minutes_ago)))
        .await
        .unwrap();
}

fn names(list: &Value) -> Vec<String> {
    list["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["username"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn follow_and_unfollow_are_idempotent_and_checked() {
    let app = spawn_app().await;
    let fan = app.user("fanuser").await;
    app.user("starchannel").await;

    for _ in 0..2 {
        let r = app
            .send_as(
                Method::PUT,
                "/api/me/following/StarChannel",
                &fan.token,
                None,
            )
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    }
    let list: Value = app
        .get_as("/api/me/following", &fan.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(names(&list), ["starchannel"]);
    let page: Value = app
        .get_as("/api/channels/starchannel", &fan.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["is_following"], true);

    let own = app
        .send_as(Method::PUT, "/api/me/following/fanuser", &fan.token, None)
        .await;
    assert_error(own, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let unknown = app
        .send_as(
            Method::PUT,
            "/api/me/following/nosuchuser",
            &fan.token,
            None,
        )
        .await;
    assert_error(unknown, StatusCode::NOT_FOUND, "not_found").await;

    for _ in 0..2 {
        let r = app
            .send_as(
                Method::DELETE,
                "/api/me/following/starchannel",
                &fan.token,
                None,
            )
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    }
    let list: Value = app
        .get_as("/api/me/following", &fan.token)
        .await
        .json()
        .await
        .unwrap();
    assert!(names(&list).is_empty());
    let unknown = app
        .send_as(
            Method::DELETE,
            "/api/me/following/nosuchuser",
            &fan.token,
            None,
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn following_lists_live_channels_first_then_most_recently_followed() {
    let app = spawn_app().await;
    let fan = app.user("listfan").await;
    let mut channels = Vec::new();
    for name in ["chan.a", "chan.b", "chan.c", "chan.d"] {
        channels.push(app.user(name).await);
        let r = app
            .send_as(
                Method::PUT,
                &format!("/api/me/following/{name}"),
                &fan.token,
                None,
            )
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    go_live(&app, &channels[0], 30).await; // chan.a started 30 min ago
    go_live(&app, &channels[2], 5).await; // chan.c started 5 min ago

    let list: Value = app
        .get_as("/api/me/following", &fan.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(names(&list), ["chan.c", "chan.a", "chan.d", "chan.b"]);
    assert_eq!(list["channels"][0]["is_live"], true);
    assert_eq!(list["channels"][2]["is_live"], false);
    assert_eq!(list["max_results"], 50);
}

#[tokio::test]
async fn directory_lists_live_channels_newest_first() {
    let app = spawn_app().await;
    let a = app.user("dir.a").await;
    let b = app.user("dir.b").await;
    app.user("dir.offline").await;
    let empty: Value = app.get("/api/channels").await.json().await.unwrap();
    assert!(names(&empty).is_empty());

    go_live(&app, &a, 60).await;
    go_live(&app, &b, 1).await;
    let list: Value = app.get("/api/channels").await.json().await.unwrap();
    assert_eq!(names(&list), ["dir.b", "dir.a"]);
    assert!(list["channels"][0]["live_since"].is_string());
}

#[tokio::test]
async fn channel_page_works_for_anonymous_viewers_and_refuses_bad_tokens() {
    let app = spawn_app().await;
    let owner = app.user("pageowner").await;
    let page: Value = app
        .get("/api/channels/PageOwner")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["username"], "pageowner");
    assert_eq!(page["is_following"], false);
    assert_eq!(page["is_own"], false);
    assert!(page["playback_url"].as_str().unwrap().ends_with(".m3u8"));
    assert!(
        page.get("stream_key").is_none() && page.get("channel").is_none(),
        "no secrets on a public page"
    );

    let own: Value = app
        .get_as("/api/channels/pageowner", &owner.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(own["is_own"], true);

    assert_error(
        app.get_as("/api/channels/pageowner", "garbage").await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    assert_error(
        app.get("/api/channels/nobodyhere").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}
