//! The [`AssetStore`] port on Amazon S3: avatars and banners as objects
//! `<prefix><owner>/<kind>-<hash>.<ext>` in one bucket, served from a public base URL (a
//! CloudFront distribution in front of the bucket, or the bucket itself).
//!
//! | port | S3 calls |
//! |---|---|
//! | `put` | `PutObject` (content type; cached for a year: keys are content-addressed) |
//! | `delete` | `DeleteObject` |
//! | `delete_owner` | `ListObjectsV2` and `DeleteObjects`, a page (≤ 1000 keys) at a time |
//!
//! `check_bucket` (`HeadBucket`) and `create_bucket` (`CreateBucket`, for `showrunner aws
//! init`) are not part of the port.

use async_trait::async_trait;
use aws_sdk_s3::{
    Client,
    primitives::ByteStream,
    types::{BucketLocationConstraint, CreateBucketConfiguration, Delete, ObjectIdentifier},
};

use super::failure::{Failure, classify};
use crate::assets::{
    AssetError, AssetKind, AssetStore, ProcessedImage, asset_key, check_owner, split_key,
};

/// Objects never change under a key (a changed image gets a new key), so caches may keep
/// them as long as they like.
pub const CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

/// Where assets are kept and how they are reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketSettings {
    pub bucket: String,
    /// Prepended to every key, e.g. `assets/` (may be empty).
    pub prefix: String,
    /// The URL of the bucket's root for browsers, without a trailing slash.
    pub public_base: String,
}

impl BucketSettings {
    /// `public_base` empty means the bucket's own virtual-hosted URL in `region`.
    pub fn new(bucket: &str, prefix: &str, public_base: &str, region: Option<&str>) -> Self {
        let public_base = if public_base.is_empty() {
            match region {
                Some(region) => format!("https://{bucket}.s3.{region}.amazonaws.com"),
                None => format!("https://{bucket}.s3.amazonaws.com"),
            }
        } else {
            public_base.trim_end_matches('/').to_owned()
        };
        Self {
            bucket: bucket.to_owned(),
            prefix: prefix.trim_start_matches('/').to_owned(),
            public_base,
        }
    }
}

pub struct S3AssetStore {
    client: Client,
    settings: BucketSettings,
}

fn asset_error(operation: &str, failure: Failure) -> AssetError {
    let why = match failure {
        Failure::NotFound => format!("{operation}: not found"),
        Failure::Throttled => format!("{operation}: throttled"),
        Failure::NotBroadcasting => format!("{operation}: unexpected answer"),
        Failure::Unavailable(m) | Failure::Conflict(m) | Failure::Rejected(m) => m,
    };
    AssetError::Backend(why.into())
}

impl S3AssetStore {
    pub fn new(sdk: &aws_config::SdkConfig, settings: BucketSettings, path_style: bool) -> Self {
        let config = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(path_style)
            .build();
        Self::with_client(Client::from_conf(config), settings)
    }

    pub fn with_client(client: Client, settings: BucketSettings) -> Self {
        Self { client, settings }
    }

    fn object_key(&self, key: &str) -> String {
        format!("{}{key}", self.settings.prefix)
    }

    /// Fails unless the bucket exists and this process may use it.
    pub async fn check_bucket(&self) -> Result<(), AssetError> {
        self.client
            .head_bucket()
            .bucket(&self.settings.bucket)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| asset_error("s3:HeadBucket", classify("s3:HeadBucket", &e)))
    }

    /// Creates the bucket unless it is already there (`showrunner aws init`). Returns a line
    /// for the operator. The bucket stays private; serve it through CloudFront.
    pub async fn create_bucket(&self, region: Option<&str>) -> Result<String, AssetError> {
        let bucket = &self.settings.bucket;
        if self.check_bucket().await.is_ok() {
            return Ok(format!("S3 bucket {bucket}: already there"));
        }
        let mut request = self.client.create_bucket().bucket(bucket);
        // us-east-1 is the one region that must not be named.
        if let Some(region) = region.filter(|r| *r != "us-east-1") {
            request = request.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(region))
                    .build(),
            );
        }
        request
            .send()
            .await
            .map_err(|e| asset_error("s3:CreateBucket", classify("s3:CreateBucket", &e)))?;
        Ok(format!("S3 bucket {bucket}: created"))
    }
}

#[async_trait]
impl AssetStore for S3AssetStore {
    async fn put(
        &self,
        owner: &str,
        kind: AssetKind,
        image: &ProcessedImage,
    ) -> Result<String, AssetError> {
        let key = asset_key(owner, kind, image)?;
        self.client
            .put_object()
            .bucket(&self.settings.bucket)
            .key(self.object_key(&key))
            .content_type(image.content_type)
            .cache_control(CACHE_CONTROL)
            .body(ByteStream::from(image.bytes.clone()))
            .send()
            .await
            .map_err(|e| asset_error("s3:PutObject", classify("s3:PutObject", &e)))?;
        Ok(key)
    }

    async fn delete(&self, key: &str) -> Result<(), AssetError> {
        split_key(key)?;
        // S3 answers success for a missing key: idempotent as the port wants.
        self.client
            .delete_object()
            .bucket(&self.settings.bucket)
            .key(self.object_key(key))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| asset_error("s3:DeleteObject", classify("s3:DeleteObject", &e)))
    }

    async fn delete_owner(&self, owner: &str) -> Result<(), AssetError> {
        check_owner(owner)?;
        let prefix = self.object_key(&format!("{owner}/"));
        let mut continuation = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(&self.settings.bucket)
                .prefix(&prefix)
                .set_continuation_token(continuation.take())
                .send()
                .await
                .map_err(|e| asset_error("s3:ListObjectsV2", classify("s3:ListObjectsV2", &e)))?;
            let objects = page
                .contents()
                .iter()
                .filter_map(|o| o.key())
                .map(|key| ObjectIdentifier::builder().key(key).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| AssetError::Backend(Box::new(e)))?;
            if !objects.is_empty() {
                let delete = Delete::builder()
                    .set_objects(Some(objects))
                    .quiet(true)
                    .build()
                    .map_err(|e| AssetError::Backend(Box::new(e)))?;
                let output = self
                    .client
                    .delete_objects()
                    .bucket(&self.settings.bucket)
                    .delete(delete)
                    .send()
                    .await
                    .map_err(|e| {
                        asset_error("s3:DeleteObjects", classify("s3:DeleteObjects", &e))
                    })?;
                if let Some(failed) = output.errors().first() {
                    return Err(AssetError::Backend(
                        format!(
                            "s3:DeleteObjects: {} of the owner's objects not deleted (first: {} {})",
                            output.errors().len(),
                            failed.key().unwrap_or("?"),
                            failed.code().unwrap_or("?"),
                        )
                        .into(),
                    ));
                }
            }
            match page.next_continuation_token() {
                Some(token) if page.is_truncated() == Some(true) => {
                    continuation = Some(token.to_owned());
                }
                _ => return Ok(()),
            }
        }
    }

    fn url(&self, key: &str) -> String {
        format!("{}/{}", self.settings.public_base, self.object_key(key))
    }
}

#[cfg(test)]
mod tests;
