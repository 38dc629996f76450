//! The video service port: channels, stream keys, playback. IVS in AWS mode; [`local`] otherwise.

pub mod local;

use async_trait::async_trait;

use crate::{domain::AccountId, store::ChannelResources};

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("media resource not found")]
    NotFound,
    #[error("media service throttled the request")]
    Throttled,
    #[error("media service unavailable: {0}")]
    Unavailable(String),
}

/// Creates and manages a channel's video resources.
#[async_trait]
pub trait Media: Send + Sync {
    /// Creates the channel of a new account. Not idempotent: a failed registration must call
    /// `delete_channel` on what it got.
    async fn create_channel(
        &self,
        owner: AccountId,
        username: &str,
    ) -> Result<ChannelResources, MediaError>;
    /// Replaces the stream key; the old one stops working at once. Returns the new key.
    async fn reset_stream_key(&self, channel_arn: &str) -> Result<String, MediaError>;
    /// Stops any broadcast and deletes the channel. Idempotent.
    async fn delete_channel(&self, channel_arn: &str) -> Result<(), MediaError>;
}
