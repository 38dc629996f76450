use std::io::Cursor;

use image::{ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{TestApp, User, assert_error, spawn_app};

fn png(width: u32, height: u32) -> Vec<u8> {
    let img = RgbaImage::from_fn(width, height, |x, y| {
        Rgba([(x % 256) as u8, (y % 256) as u8, 90, 200])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x % 256) as u8, 40, (y % 256) as u8])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

async fn put(
    app: &TestApp,
    user: &User,
    path: &str,
    bytes: Vec<u8>,
    declared: &str,
) -> reqwest::Response {
    app.client
        .put(app.url(path))
        .bearer_auth(&user.token)
        .header("content-type", declared)
        .body(bytes)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_png_avatar_is_stored_reencoded_and_served_with_cache_headers() {
    let app = spawn_app().await;
    let user = app.user("pnguser").await;
    let r = put(&app, &user, "/api/me/avatar", png(800, 600), "image/png").await;
    assert_eq!(r.status(), StatusCode::OK);
    let me: Value = r.json().await.unwrap();
    assert_eq!(me["avatar"], "custom");
    let url = me["avatar_url"].as_str().unwrap();
    assert!(url.starts_with(&app.base), "{url}");

    let served = app.client.get(url).send().await.unwrap();
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert!(
        served.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let bytes = served.bytes().await.unwrap();
    let decoded = image::load_from_memory(&bytes).unwrap();
    // Scaled down to fit 512×512, keeping the aspect ratio.
    assert_eq!((decoded.width(), decoded.height()), (512, 384));

    // Choosing a preset again drops the upload.
    let r = app
        .send_as(
            Method::PATCH,
            "/api/me/profile",
            &user.token,
            Some(serde_json::json!({"avatar": "bear"})),
        )
        .await;
    let me: Value = r.json().await.unwrap();
    assert_eq!(me["avatar"], "bear");
    assert!(me["avatar_url"].is_null());
    assert_eq!(
        app.client.get(url).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_jpeg_banner_is_accepted_whatever_type_is_declared_and_can_be_removed() {
    let app = spawn_app().await;
    let user = app.user("jpguser").await;
    let r = put(
        &app,
        &user,
        "/api/me/banner",
        jpeg(640, 200),
        "application/octet-stream",
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let me: Value = r.json().await.unwrap();
    let url = me["banner_url"].as_str().unwrap().to_owned();
    let served = app.client.get(&url).send().await.unwrap();
    assert_eq!(served.headers()["content-type"], "image/jpeg");

    let public: Value = app.get("/api/channels/jpguser").await.json().await.unwrap();
    assert_eq!(public["banner_url"], url.as_str());

    let r = app
        .send_as(Method::DELETE, "/api/me/banner", &user.token, None)
        .await;
    let me: Value = r.json().await.unwrap();
    assert!(me["banner_url"].is_null());
}

#[tokio::test]
async fn a_text_file_named_png_is_refused_as_unsupported() {
    let app = spawn_app().await;
    let user = app.user("sneakyup").await;
    let r = put(
        &app,
        &user,
        "/api/me/avatar",
        b"<html>definitely a png</html>".to_vec(),
        "image/png",
    )
    .await;
    assert_error(
        r,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    let me: Value = app
        .get_as("/api/me", &user.token)
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(me["avatar"], "custom", "a refused upload changes nothing");
}

#[tokio::test]
async fn oversized_uploads_are_refused_with_413() {
    let app = spawn_app().await;
    let user = app.user("biguser").await;
    // 1.2 MB is over the avatar limit but under the banner limit.
    let mut big = png(16, 16);
    big.resize(1_200_000, 0);
    let r = put(&app, &user, "/api/me/avatar", big.clone(), "image/png").await;
    assert_error(r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    let huge = vec![0u8; 6_000_000];
    let r = put(&app, &user, "/api/me/banner", huge, "image/png").await;
    assert_error(r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
}

#[tokio::test]
async fn an_empty_or_corrupt_upload_is_a_field_error() {
    let app = spawn_app().await;
    let user = app.user("emptyup").await;
    let r = put(&app, &user, "/api/me/avatar", Vec::new(), "image/png").await;
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let mut truncated = png(64, 64);
    truncated.truncate(60);
    let r = put(&app, &user, "/api/me/avatar", truncated, "image/png").await;
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}
