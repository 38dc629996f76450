//! The IVS and S3 adapters against moto, the AWS emulator, over real HTTP: what moto
//! implements of IVS (create, get and delete channel) and S3. The rest of IVS, IVS Chat and IVS
//! Real-Time are not in moto; their adapters are tested with the SDK's test tools in `src/aws/`.
//!
//! Needs moto: `SHOWRUNNER_TEST_VENV` or `SHOWRUNNER_TEST_MOTO_URL` (see `support/moto.rs`).

#[path = "support/moto.rs"]
mod moto;

use std::collections::BTreeMap;

use aws_sdk_ivs::types::{ChannelLatencyMode, ChannelType as IvsChannelType};
use showrunner::{
    assets::{AssetKind, AssetStore, ProcessedImage},
    aws::{
        ivs::{ChannelSettings, IvsMedia},
        s3::{BucketSettings, CACHE_CONTROL, S3AssetStore},
    },
    config::ChannelType,
    domain::AccountId,
    media::Media,
};

fn tags() -> BTreeMap<String, String> {
    BTreeMap::from([("project".to_owned(), "showrunner-test".to_owned())])
}

fn image(
    bytes: &'static [u8],
    content_type: &'static str,
    extension: &'static str,
) -> ProcessedImage {
    ProcessedImage {
        bytes: bytes::Bytes::from_static(bytes),
        content_type,
        extension,
        width: 1,
        height: 1,
    }
}

#[tokio::test]
async fn a_channel_is_created_in_ivs_as_configured_and_deleted_for_good() {
    let sdk = moto::Moto::shared().sdk_config().await;
    let media = IvsMedia::new(
        &sdk,
        ChannelSettings {
            channel_type: ChannelType::Basic,
            multitrack: None,
            tags: tags(),
        },
    );
    let ivs = aws_sdk_ivs::Client::new(&sdk);
    let owner = AccountId::new();

    let channel = media.create_channel(owner, "anna").await.unwrap();

    let found = ivs.get_channel().arn(&channel.arn).send().await.unwrap();
    let found = found.channel().unwrap();
    assert_eq!(found.arn(), Some(channel.arn.as_str()));
    assert_eq!(found.r#type(), Some(&IvsChannelType::BasicChannelType));
    assert_eq!(found.latency_mode(), Some(&ChannelLatencyMode::LowLatency));
    assert_eq!(
        found.name(),
        Some(format!("anna-{}", owner.0.simple()).as_str())
    );
    assert_eq!(found.playback_url(), Some(channel.playback_url.as_str()));
    assert_eq!(
        found.ingest_endpoint(),
        Some(channel.ingest_endpoint.as_str())
    );
    assert!(!channel.stream_key.is_empty());

    media.delete_channel(&channel.arn).await.unwrap();

    let gone = ivs
        .get_channel()
        .arn(&channel.arn)
        .send()
        .await
        .unwrap_err();
    assert!(
        gone.as_service_error()
            .is_some_and(|e| e.is_resource_not_found_exception()),
        "{gone:?}"
    );
    // Deleting again is not an error.
    media.delete_channel(&channel.arn).await.unwrap();
}

fn bucket_name() -> String {
    format!(
        "showrunner-test-{}",
        &uuid::Uuid::now_v7().simple().to_string()[16..]
    )
}

async fn asset_store(bucket: &str) -> (S3AssetStore, aws_sdk_s3::Client) {
    let sdk = moto::Moto::shared().sdk_config().await;
    let store = S3AssetStore::new(
        &sdk,
        BucketSettings::new(
            bucket,
            "assets/",
            "https://cdn.example.com",
            Some(moto::REGION),
        ),
        true,
    );
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    (store, s3)
}

#[tokio::test]
async fn aws_init_makes_the_bucket_once_and_serve_checks_it() {
    let bucket = bucket_name();
    let (store, _) = asset_store(&bucket).await;
    assert!(store.check_bucket().await.is_err(), "no bucket yet");

    let first = store.create_bucket(Some(moto::REGION)).await.unwrap();
    let second = store.create_bucket(Some(moto::REGION)).await.unwrap();

    assert!(first.contains("created"), "{first}");
    assert!(second.contains("already there"), "{second}");
    store.check_bucket().await.unwrap();
}

#[tokio::test]
async fn images_are_stored_typed_and_cacheable_under_the_prefix_and_deleted_by_key_or_owner() {
    let bucket = bucket_name();
    let (store, s3) = asset_store(&bucket).await;
    store.create_bucket(Some(moto::REGION)).await.unwrap();
    let (anna, bo) = (AccountId::new().to_string(), AccountId::new().to_string());

    let avatar = store
        .put(
            &anna,
            AssetKind::Avatar,
            &image(b"png bytes", "image/png", "png"),
        )
        .await
        .unwrap();
    let banner = store
        .put(
            &anna,
            AssetKind::Banner,
            &image(b"jpeg bytes", "image/jpeg", "jpg"),
        )
        .await
        .unwrap();
    let other = store
        .put(&bo, AssetKind::Avatar, &image(b"other", "image/png", "png"))
        .await
        .unwrap();

    let object = s3
        .get_object()
        .bucket(&bucket)
        .key(format!("assets/{avatar}"))
        .send()
        .await
        .unwrap();
    assert_eq!(object.content_type(), Some("image/png"));
    assert_eq!(object.cache_control(), Some(CACHE_CONTROL));
    assert_eq!(
        object.body.collect().await.unwrap().into_bytes().as_ref(),
        b"png bytes"
    );
    assert_eq!(
        store.url(&avatar),
        format!("https://cdn.example.com/assets/{avatar}")
    );

    store.delete(&banner).await.unwrap();
    store.delete(&banner).await.unwrap();
    let keys = |prefix: String| {
        let s3 = s3.clone();
        let bucket = bucket.clone();
        async move {
            s3.list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .send()
                .await
                .unwrap()
                .contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        keys(format!("assets/{anna}/")).await,
        [format!("assets/{avatar}")]
    );

    store.delete_owner(&anna).await.unwrap();
    store.delete_owner(&anna).await.unwrap();

    assert!(keys(format!("assets/{anna}/")).await.is_empty());
    assert_eq!(
        keys(format!("assets/{bo}/")).await,
        [format!("assets/{other}")]
    );
}
