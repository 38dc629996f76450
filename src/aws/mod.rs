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

pub mod cloudwatch;
pub mod dynamodb;

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
    Ok(vec![table])
}
