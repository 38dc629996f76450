//! The AWS adapters: the only module that imports `aws-sdk-*`. Each adapter maps its SDK's
//! errors into its port's own error type (not found, conflict, unavailable, ...), so nothing
//! outside this module ever sees an SDK type.
//!
//! Credentials, region and endpoints come from the SDK's default chain: environment variables,
//! the shared profile, or the instance/task role. `aws.region` overrides the region; endpoints
//! are overridden the standard way (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_DYNAMODB`, ...), which
//! is how the tests point the adapters at an emulator.
//!
//! - [`dynamodb`]: the store ([`crate::store::Store`]) on one DynamoDB table.
//! - [`ivs`]: the media port ([`crate::media::Media`]) on IVS channels.
//! - [`ivschat`]: the chat-room port ([`crate::chat_rooms::ChatRooms`]) on IVS Chat.
//! - [`realtime`]: the stage port ([`crate::stages::Stages`]) on IVS Real-Time.
//! - [`s3`]: the asset store ([`crate::assets::AssetStore`]) on S3.
//! - [`cloudwatch`]: stream metrics ([`crate::streams::metrics::Metrics`]) from CloudWatch.
//!
//! Every call these make is in the IAM policy of `docs/deploy-aws.md`; the test in `iam.rs`
//! keeps the two in step.

pub mod cloudwatch;
pub mod dynamodb;
mod failure;
#[cfg(test)]
mod iam;
pub mod ivs;
pub mod ivschat;
pub mod realtime;
pub mod s3;

use crate::config::AwsConfig;

/// The SDK configuration every AWS client is built from.
pub async fn sdk_config(config: &AwsConfig) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if !config.region.is_empty() {
        loader = loader.region(aws_config::Region::new(config.region.clone()));
    }
    loader.load().await
}

/// `showrunner aws init`: creates what a first deployment needs, idempotently, and waits until
/// it is usable. Returns a line per resource, for the operator.
pub async fn init(config: &AwsConfig) -> anyhow::Result<Vec<String>> {
    let sdk = sdk_config(config).await;
    let table = dynamodb::DynamoStore::new(&sdk, &config.dynamodb_table)
        .create_table()
        .await?;
    let mut done = vec![table];
    if !config.s3_bucket.is_empty() {
        let region = sdk.region().map(|r| r.as_ref().to_owned());
        let assets =
            s3::S3AssetStore::new(&sdk, bucket_settings(config, &sdk), config.s3_path_style);
        done.push(assets.create_bucket(region.as_deref()).await?);
    }
    Ok(done)
}

/// The asset bucket as configured.
pub fn bucket_settings(config: &AwsConfig, sdk: &aws_config::SdkConfig) -> s3::BucketSettings {
    s3::BucketSettings::new(
        &config.s3_bucket,
        &config.s3_prefix,
        &config.assets_base_url,
        sdk.region().map(|r| r.as_ref()),
    )
}
