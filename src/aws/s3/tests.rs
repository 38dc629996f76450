//! The S3 asset store at the HTTP boundary (`StaticReplayClient`: the real serializer, the
//! exact requests) and its paging with smithy mocks. `tests/aws_adapters.rs` runs it against
//! moto's S3 as well.

use std::sync::{Arc, Mutex};

use aws_sdk_s3::{
    config::{BehaviorVersion, Credentials, Region, retry::RetryConfig},
    error::ErrorMetadata,
    operation::{
        delete_objects::DeleteObjectsOutput, list_objects_v2::ListObjectsV2Output,
        put_object::PutObjectError,
    },
    types::{Error as S3Error, Object},
};
use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use aws_smithy_types::body::SdkBody;

use super::*;

const OWNER: &str = "0190f3a2-7c1e-7d4b-9a55-3c1f2e4d5a6b";

fn settings() -> BucketSettings {
    BucketSettings::new(
        "showrunner-assets",
        "assets/",
        "https://d111111abcdef8.cloudfront.net/",
        Some("us-east-1"),
    )
}

fn image() -> ProcessedImage {
    ProcessedImage {
        bytes: bytes::Bytes::from_static(b"\x89PNG not really"),
        content_type: "image/png",
        extension: "png",
        width: 1,
        height: 1,
    }
}

fn on_the_wire(http: &StaticReplayClient) -> S3AssetStore {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::for_tests())
        .http_client(http.clone())
        .build();
    S3AssetStore::with_client(aws_sdk_s3::Client::from_conf(config), settings())
}

fn mocked(rules: &[&aws_smithy_mocks::Rule]) -> S3AssetStore {
    let client = mock_client!(aws_sdk_s3, RuleMode::MatchAny, rules, |b| b
        .retry_config(RetryConfig::disabled()));
    S3AssetStore::with_client(client, settings())
}

fn ok() -> http::Response<SdkBody> {
    http::Response::builder()
        .status(200)
        .body(SdkBody::empty())
        .unwrap()
}

#[tokio::test]
async fn an_image_is_put_under_its_key_with_type_and_year_long_caching() {
    let key = asset_key(OWNER, AssetKind::Avatar, &image()).unwrap();
    let uri =
        format!("https://showrunner-assets.s3.us-east-1.amazonaws.com/assets/{key}?x-id=PutObject");
    let http = StaticReplayClient::new(vec![ReplayEvent::new(
        http::Request::builder()
            .uri(&uri)
            .header("content-type", "image/png")
            .header("cache-control", CACHE_CONTROL)
            .body(SdkBody::from(&b"\x89PNG not really"[..]))
            .unwrap(),
        ok(),
    )]);
    let store = on_the_wire(&http);

    let stored = store.put(OWNER, AssetKind::Avatar, &image()).await.unwrap();

    http.relaxed_requests_match();
    let sent: Vec<_> = http.actual_requests().collect();
    assert_eq!(sent[0].method(), "PUT");
    assert_eq!(stored, key);
    assert_eq!(
        store.url(&stored),
        format!("https://d111111abcdef8.cloudfront.net/assets/{key}")
    );
}

#[tokio::test]
async fn one_asset_is_deleted_by_key_and_a_foreign_key_is_refused_before_any_call() {
    let key = format!("{OWNER}/banner-0123456789abcdef.jpg");
    let http = StaticReplayClient::new(vec![ReplayEvent::new(
        http::Request::builder()
            .uri(format!(
                "https://showrunner-assets.s3.us-east-1.amazonaws.com/assets/{key}?x-id=DeleteObject"
            ))
            .body(SdkBody::empty())
            .unwrap(),
        http::Response::builder()
            .status(204)
            .body(SdkBody::empty())
            .unwrap(),
    )]);
    let store = on_the_wire(&http);

    store.delete(&key).await.unwrap();
    let refused = store.delete("../../etc/passwd").await;

    http.relaxed_requests_match();
    assert_eq!(http.actual_requests().next().unwrap().method(), "DELETE");
    assert!(matches!(refused, Err(AssetError::InvalidKey(_))));
    assert!(matches!(
        store.delete_owner("a/b").await,
        Err(AssetError::InvalidOwner(_))
    ));
}

#[tokio::test]
async fn everything_of_an_owner_is_deleted_a_page_at_a_time() {
    let page = |keys: &[&str], next: Option<&str>| {
        let mut out = ListObjectsV2Output::builder().is_truncated(next.is_some());
        for key in keys {
            out = out.contents(
                Object::builder()
                    .key(format!("assets/{OWNER}/{key}"))
                    .build(),
            );
        }
        if let Some(next) = next {
            out = out.next_continuation_token(next);
        }
        out.build()
    };
    let (first, second) = (
        page(&["avatar-1.png", "banner-2.jpg"], Some("more")),
        page(&["avatar-3.png"], None),
    );
    let list = mock!(aws_sdk_s3::Client::list_objects_v2)
        .match_requests(|r| {
            r.bucket() == Some("showrunner-assets")
                && r.prefix() == Some(&format!("assets/{OWNER}/"))
        })
        .sequence()
        .output(move || first.clone())
        .output(move || second.clone())
        .build();
    let deleted: Arc<Mutex<Vec<Vec<String>>>> = Arc::default();
    let seen = deleted.clone();
    let delete = mock!(aws_sdk_s3::Client::delete_objects).then_compute_output(move |r| {
        seen.lock().unwrap().push(
            r.delete()
                .unwrap()
                .objects()
                .iter()
                .map(|o| o.key().to_owned())
                .collect(),
        );
        DeleteObjectsOutput::builder().build()
    });
    let store = mocked(&[&list, &delete]);

    store.delete_owner(OWNER).await.unwrap();

    assert_eq!(list.num_calls(), 2);
    assert_eq!(
        *deleted.lock().unwrap(),
        [
            vec![
                format!("assets/{OWNER}/avatar-1.png"),
                format!("assets/{OWNER}/banner-2.jpg")
            ],
            vec![format!("assets/{OWNER}/avatar-3.png")],
        ]
    );
}

#[tokio::test]
async fn objects_s3_could_not_delete_fail_the_owner_deletion() {
    let list = mock!(aws_sdk_s3::Client::list_objects_v2).then_output(|| {
        ListObjectsV2Output::builder()
            .contents(
                Object::builder()
                    .key(format!("assets/{OWNER}/avatar-1.png"))
                    .build(),
            )
            .build()
    });
    let delete = mock!(aws_sdk_s3::Client::delete_objects).then_output(|| {
        DeleteObjectsOutput::builder()
            .errors(
                S3Error::builder()
                    .key(format!("assets/{OWNER}/avatar-1.png"))
                    .code("AccessDenied")
                    .build(),
            )
            .build()
    });
    let store = mocked(&[&list, &delete]);

    let outcome = store.delete_owner(OWNER).await;

    assert!(
        matches!(&outcome, Err(AssetError::Backend(e)) if e.to_string().contains("AccessDenied")),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_throttled_put_is_a_backend_failure_naming_the_call() {
    let rule = mock!(aws_sdk_s3::Client::put_object)
        .then_error(|| PutObjectError::generic(ErrorMetadata::builder().code("SlowDown").build()));
    let store = mocked(&[&rule]);

    let outcome = store.put(OWNER, AssetKind::Avatar, &image()).await;

    assert!(
        matches!(&outcome, Err(AssetError::Backend(e)) if e.to_string().contains("s3:PutObject")),
        "{outcome:?}"
    );
}

#[test]
fn without_a_public_base_urls_point_at_the_bucket_itself() {
    let settings = BucketSettings::new("b", "", "", Some("eu-west-1"));
    assert_eq!(settings.public_base, "https://b.s3.eu-west-1.amazonaws.com");
    assert_eq!(settings.prefix, "");
}
