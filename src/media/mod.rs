//! The video service port: channels, stream keys, playback, the live stream and its timed
//! metadata. IVS in AWS mode (`aws::ivs`); [`local`] otherwise.
//!
//! [`metadata`] turns channel events into the small JSON documents that ride along with the
//! video (IVS timed metadata), so viewers on the player see stream actions in sync with it.

pub mod local;
pub mod metadata;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::{
    domain::{AccountId, stream::IngestConfiguration},
    store::ChannelResources,
};

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("media resource not found")]
    NotFound,
    /// The channel has no live stream (IVS `ChannelNotBroadcasting`): nothing to stop, no
    /// stream to carry metadata. An expected outcome, not a fault.
    #[error("the channel is not broadcasting")]
    NotBroadcasting,
    #[error("media service throttled the request")]
    Throttled,
    #[error("media service unavailable: {0}")]
    Unavailable(String),
    /// The service refused the request itself (validation, permissions, quota): retrying the
    /// same request will not help.
    #[error("media service refused the request: {0}")]
    Rejected(String),
}

/// A channel's broadcast as the video service sees it now.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveStream {
    pub channel_arn: String,
    /// The service's id of this broadcast (IVS `streamId`), which names its stream session.
    pub stream_id: String,
    pub started_at: Option<DateTime<Utc>>,
    pub viewers: u64,
    pub health: StreamHealth,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamHealth {
    Healthy,
    /// The encoder is not sending enough to keep playback going.
    Starving,
    Unknown,
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
    /// Ends the channel's broadcast now (the encoder is disconnected; it may reconnect with
    /// the same key). Returns whether there was one: a channel that is not broadcasting is
    /// `Ok(false)`, not an error.
    async fn stop_stream(&self, channel_arn: &str) -> Result<bool, MediaError>;
    /// Every broadcast on the air now, on any channel of the service's account (channels
    /// Showrunner did not make included), in no particular order.
    async fn live_streams(&self) -> Result<Vec<LiveStream>, MediaError>;
    /// The encoder settings of one broadcast (IVS `GetStreamSession`), for the stream-health
    /// page; `None` when the service does not know them (yet). For a multitrack broadcast,
    /// the highest-resolution track.
    async fn ingest_configuration(
        &self,
        channel_arn: &str,
        stream_id: &str,
    ) -> Result<Option<IngestConfiguration>, MediaError>;
    /// Inserts `payload` (at most [`metadata::MAX_BYTES`] of UTF-8, e.g. from
    /// [`metadata::encode`]) into the live stream, so every viewer's player gets it at the
    /// same point of the video. Delivery is at most once and only to viewers watching now.
    /// A channel that is not broadcasting answers [`MediaError::NotBroadcasting`].
    async fn put_metadata(&self, channel_arn: &str, payload: &str) -> Result<(), MediaError>;
}
