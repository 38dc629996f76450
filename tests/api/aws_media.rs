//! `backend = "aws"` with every port on AWS, end to end against moto: the real binary, set up
//! by `showrunner aws init` (table and bucket) and configured by the environment alone.
//! Registering makes the channel in IVS, an uploaded avatar goes to S3, and deleting the
//! account takes both away. (moto has no stream calls, IVS Chat or IVS Real-Time: what needs
//! them here must fail softly, as it does in production when a service is down.)

use std::io::Cursor;

use image::{ImageFormat, Rgba, RgbaImage};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    aws_mode::{AwsServer, showrunner},
    helpers::PASSWORD,
    moto::{self, Moto},
};

const CDN: &str = "https://cdn.example.com";

fn png() -> Vec<u8> {
    let img = RgbaImage::from_fn(64, 64, |x, y| Rgba([x as u8, y as u8, 90, 255]));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

/// The configuration of these tests on top of `showrunner`'s: assets in a bucket of their own.
fn command(
    moto: &Moto,
    table: &str,
    bucket: &str,
    data_dir: &std::path::Path,
) -> tokio::process::Command {
    let mut command = showrunner(moto, table, data_dir);
    command
        .env("SHOWRUNNER__AWS__S3_BUCKET", bucket)
        .env("SHOWRUNNER__AWS__S3_PREFIX", "assets/")
        .env("SHOWRUNNER__AWS__S3_PATH_STYLE", "true")
        .env("SHOWRUNNER__AWS__ASSETS_BASE_URL", CDN)
        .env("SHOWRUNNER__AWS__PROJECT", "showrunner-e2e");
    command
}

async fn clients(moto: &Moto) -> (aws_sdk_ivs::Client, aws_sdk_s3::Client) {
    let sdk = moto.sdk_config().await;
    let s3 = aws_sdk_s3::config::Builder::from(&sdk)
        .force_path_style(true)
        .build();
    (
        aws_sdk_ivs::Client::new(&sdk),
        aws_sdk_s3::Client::from_conf(s3),
    )
}

async fn object_keys(s3: &aws_sdk_s3::Client, bucket: &str, prefix: &str) -> Vec<String> {
    s3.list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .send()
        .await
        .unwrap()
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn in_aws_mode_the_channel_is_in_ivs_the_avatar_in_s3_and_both_go_with_the_account() {
    // Arrange: table and bucket made by `aws init`, and a server on them.
    let moto = Moto::shared();
    let (ivs, s3) = clients(moto).await;
    let table = moto::table_name();
    let bucket = format!(
        "showrunner-e2e-{}",
        &uuid::Uuid::now_v7().simple().to_string()[16..]
    );
    let data = tempfile::tempdir().unwrap();
    let init = command(moto, &table, &bucket, data.path())
        .args(["aws", "init"])
        .output()
        .await
        .unwrap();
    let said = String::from_utf8_lossy(&init.stdout);
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    assert!(said.contains(&bucket) && said.contains("created"), "{said}");
    let server = AwsServer::spawn(command(moto, &table, &bucket, data.path())).await;

    // Register: the channel is an IVS channel, tagged with the project.
    let user = server.register("IvsAnna").await;
    let me: Value = server
        .send(Method::GET, "/api/me", &user.token, None)
        .await
        .json()
        .await
        .unwrap();
    let arn = me["channel"]["arn"].as_str().unwrap().to_owned();
    let id = me["id"].as_str().unwrap().to_owned();
    assert!(arn.starts_with("arn:aws:ivs:"), "{me}");
    let channel = ivs.get_channel().arn(&arn).send().await.unwrap();
    let channel = channel.channel().unwrap();
    assert_eq!(
        channel
            .tags()
            .and_then(|t| t.get("project"))
            .map(String::as_str),
        Some("showrunner-e2e")
    );
    assert_eq!(
        me["channel"]["playback_url"].as_str(),
        channel.playback_url()
    );
    let platform: Value = server
        .client
        .get(server.url("/api/platform"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(platform["video"], "ivs", "{platform}");
    assert_eq!(platform["chat"], "builtin", "{platform}");

    // An avatar goes to the bucket and is served from the public base URL.
    let r = server
        .client
        .put(server.url("/api/me/avatar"))
        .bearer_auth(&user.token)
        .header("content-type", "image/png")
        .body(png())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let me: Value = server
        .send(Method::GET, "/api/me", &user.token, None)
        .await
        .json()
        .await
        .unwrap();
    let avatar_url = me["avatar_url"].as_str().unwrap().to_owned();
    let key = avatar_url
        .strip_prefix(&format!("{CDN}/"))
        .unwrap_or_else(|| panic!("{avatar_url} is not under {CDN}"));
    assert!(key.starts_with(&format!("assets/{id}/avatar-")), "{key}");
    let object = s3
        .get_object()
        .bucket(&bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    assert_eq!(object.content_type(), Some("image/png"));

    // A stream action still starts when IVS cannot take its timed metadata (moto has no
    // PutMetadata): the relay logs it, the API is not held up.
    let r = server
        .send(
            Method::POST,
            "/api/channels/ivsanna/actions",
            &user.token,
            Some(json!({"type": "celebration"})),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );

    // Act: the account is deleted.
    let r = server
        .send(
            Method::DELETE,
            "/api/me",
            &user.token,
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::NO_CONTENT,
        "{}",
        r.text().await.unwrap()
    );

    // Assert: the channel and every asset of the account are gone.
    let gone = ivs.get_channel().arn(&arn).send().await.unwrap_err();
    assert!(
        gone.as_service_error()
            .is_some_and(|e| e.is_resource_not_found_exception()),
        "{gone:?}"
    );
    assert!(
        object_keys(&s3, &bucket, &format!("assets/{id}/"))
            .await
            .is_empty()
    );
}
