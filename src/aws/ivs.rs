//! The [`Media`] port on Amazon IVS (low-latency channels).
//!
//! | port | IVS calls |
//! |---|---|
//! | `create_channel` | `CreateChannel` (type, multitrack and tags from config) |
//! | `reset_stream_key` | `StopStream`, `ListStreamKeys`, `DeleteStreamKey`, `CreateStreamKey` |
//! | `delete_channel` | `DeleteChannel`; if the channel is live, `StopStream` and `DeleteChannel` again |
//! | `stop_stream` | `StopStream` |
//! | `live_streams` | `ListStreams`, every page |
//! | `ingest_configuration` | `GetStreamSession` |
//! | `put_metadata` | `PutMetadata`, retried with backoff while throttled |
//!
//! IVS answers `ChannelNotBroadcasting` for stream calls on an offline channel: that is the
//! port's [`MediaError::NotBroadcasting`], or simply "nothing to stop" where the port says so.

use std::{collections::BTreeMap, time::Duration};

use async_trait::async_trait;
use aws_sdk_ivs::{
    Client,
    config::retry::RetryConfig,
    types::{
        ChannelLatencyMode, ChannelType as IvsChannelType, ContainerFormat,
        MultitrackInputConfiguration, MultitrackMaximumResolution, MultitrackPolicy,
        StreamHealth as IvsHealth, StreamState,
    },
};
use chrono::{DateTime, Utc};

use super::failure::{Failure, classify};
use crate::{
    config::{ChannelType, MediaConfig},
    domain::{
        AccountId,
        stream::{AudioConfiguration, IngestConfiguration, VideoConfiguration},
    },
    media::{LiveStream, Media, MediaError, StreamHealth},
    store::ChannelResources,
};

/// How `PutMetadata` is retried while IVS throttles it (its quota is 5 calls a second per
/// channel): this many attempts, waiting `METADATA_BACKOFF`, then twice that, and so on. A cue
/// that arrives seconds late is worth little, so the whole budget stays under two seconds.
pub const METADATA_ATTEMPTS: u32 = 4;
pub const METADATA_BACKOFF: Duration = Duration::from_millis(200);

/// How long `delete_channel` waits for IVS to see a stopped broadcast as stopped.
const DELETE_ATTEMPTS: u32 = 5;
const DELETE_BACKOFF: Duration = Duration::from_millis(500);

/// What new channels look like.
#[derive(Debug, Clone)]
pub struct ChannelSettings {
    pub channel_type: ChannelType,
    /// Multitrack input (several renditions sent by the encoder); needs a STANDARD channel.
    pub multitrack: Option<(String, String)>,
    /// Tags on every channel and stream key (`project`, ...); the owner's id is added.
    pub tags: BTreeMap<String, String>,
}

impl ChannelSettings {
    pub fn from_config(media: &MediaConfig, tags: BTreeMap<String, String>) -> Self {
        Self {
            channel_type: media.channel_type,
            multitrack: media.multitrack.enabled.then(|| {
                (
                    media.multitrack.maximum_resolution.clone(),
                    media.multitrack.policy.clone(),
                )
            }),
            tags,
        }
    }
}

pub struct IvsMedia {
    client: Client,
    settings: ChannelSettings,
}

impl IvsMedia {
    pub fn new(sdk: &aws_config::SdkConfig, settings: ChannelSettings) -> Self {
        Self::with_client(Client::new(sdk), settings)
    }

    /// Over a ready client (tests, or a caller that already has one).
    pub fn with_client(client: Client, settings: ChannelSettings) -> Self {
        Self { client, settings }
    }
}

fn media_error(failure: Failure) -> MediaError {
    match failure {
        Failure::NotFound => MediaError::NotFound,
        Failure::NotBroadcasting => MediaError::NotBroadcasting,
        Failure::Throttled => MediaError::Throttled,
        Failure::Unavailable(m) => MediaError::Unavailable(m),
        Failure::Conflict(m) | Failure::Rejected(m) => MediaError::Rejected(m),
    }
}

/// An IVS channel name: letters, digits, `-` and `_`, at most 128.
fn channel_name(owner: AccountId, username: &str) -> String {
    let clean: String = username
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .take(64)
        .collect();
    format!("{clean}-{}", owner.0.simple())
}

fn incomplete(what: &str) -> MediaError {
    MediaError::Rejected(format!("IVS answered without {what}"))
}

fn to_chrono(t: &aws_sdk_ivs::primitives::DateTime) -> Option<DateTime<Utc>> {
    t.to_millis().ok().and_then(DateTime::from_timestamp_millis)
}

fn video(v: &aws_sdk_ivs::types::VideoConfiguration) -> VideoConfiguration {
    let text = |s: Option<&str>| s.unwrap_or_default().to_owned();
    VideoConfiguration {
        avc_level: text(v.avc_level().or(v.level())),
        avc_profile: text(v.avc_profile().or(v.profile())),
        codec: text(v.codec()),
        encoder: text(v.encoder()),
        target_bitrate: u64::try_from(v.target_bitrate()).unwrap_or(0),
        target_framerate: u32::try_from(v.target_framerate()).unwrap_or(0),
        video_height: u32::try_from(v.video_height()).unwrap_or(0),
        video_width: u32::try_from(v.video_width()).unwrap_or(0),
    }
}

fn audio(a: &aws_sdk_ivs::types::AudioConfiguration) -> AudioConfiguration {
    AudioConfiguration {
        channels: u32::try_from(a.channels()).unwrap_or(0),
        codec: a.codec().unwrap_or_default().to_owned(),
        sample_rate: u32::try_from(a.sample_rate()).unwrap_or(0),
        target_bitrate: u64::try_from(a.target_bitrate()).unwrap_or(0),
    }
}

#[async_trait]
impl Media for IvsMedia {
    async fn create_channel(
        &self,
        owner: AccountId,
        username: &str,
    ) -> Result<ChannelResources, MediaError> {
        let mut tags = self.settings.tags.clone();
        tags.insert("owner".into(), owner.to_string());
        let mut request = self
            .client
            .create_channel()
            .name(channel_name(owner, username))
            .latency_mode(ChannelLatencyMode::LowLatency)
            .r#type(match self.settings.channel_type {
                ChannelType::Basic => IvsChannelType::BasicChannelType,
                ChannelType::Standard => IvsChannelType::StandardChannelType,
            })
            .set_tags(Some(tags.into_iter().collect()));
        if let Some((resolution, policy)) = &self.settings.multitrack {
            request = request
                .container_format(ContainerFormat::FragmentedMp4)
                .multitrack_input_configuration(
                    MultitrackInputConfiguration::builder()
                        .enabled(true)
                        .maximum_resolution(MultitrackMaximumResolution::from(resolution.as_str()))
                        .policy(MultitrackPolicy::from(policy.as_str()))
                        .build(),
                );
        }
        let output = request
            .send()
            .await
            .map_err(|e| media_error(classify("ivs:CreateChannel", &e)))?;
        let channel = output.channel().ok_or_else(|| incomplete("a channel"))?;
        let key = output
            .stream_key()
            .ok_or_else(|| incomplete("a stream key"))?;
        Ok(ChannelResources {
            arn: channel
                .arn()
                .ok_or_else(|| incomplete("an ARN"))?
                .to_owned(),
            ingest_endpoint: channel
                .ingest_endpoint()
                .ok_or_else(|| incomplete("an ingest endpoint"))?
                .to_owned(),
            stream_key: key.value().ok_or_else(|| incomplete("a key"))?.to_owned(),
            playback_url: channel
                .playback_url()
                .ok_or_else(|| incomplete("a playback URL"))?
                .to_owned(),
        })
    }

    /// IVS allows one key per channel, so the old one is deleted before the new one is made;
    /// the broadcast using it is stopped first, so the old key stops working at once.
    async fn reset_stream_key(&self, channel_arn: &str) -> Result<String, MediaError> {
        self.stop_stream(channel_arn).await?;
        let mut next_token = None;
        loop {
            let page = self
                .client
                .list_stream_keys()
                .channel_arn(channel_arn)
                .set_next_token(next_token.take())
                .send()
                .await
                .map_err(|e| media_error(classify("ivs:ListStreamKeys", &e)))?;
            for key in page.stream_keys() {
                let Some(arn) = key.arn() else { continue };
                match self.client.delete_stream_key().arn(arn).send().await {
                    Ok(_) => {}
                    Err(e) => match classify("ivs:DeleteStreamKey", &e) {
                        Failure::NotFound => {}
                        other => return Err(media_error(other)),
                    },
                }
            }
            match page.next_token() {
                Some(token) if !token.is_empty() => next_token = Some(token.to_owned()),
                _ => break,
            }
        }
        let output = self
            .client
            .create_stream_key()
            .channel_arn(channel_arn)
            .set_tags(Some(self.settings.tags.clone().into_iter().collect()))
            .send()
            .await
            .map_err(|e| media_error(classify("ivs:CreateStreamKey", &e)))?;
        output
            .stream_key()
            .and_then(|k| k.value())
            .map(str::to_owned)
            .ok_or_else(|| incomplete("a stream key"))
    }

    /// `DeleteChannel` first: IVS refuses it for a live channel (`ConflictException`), and
    /// only then is the broadcast stopped and the delete retried while IVS still sees it live.
    async fn delete_channel(&self, channel_arn: &str) -> Result<(), MediaError> {
        let mut wait = DELETE_BACKOFF;
        let mut stopped = false;
        for attempt in 1..=DELETE_ATTEMPTS {
            match self.client.delete_channel().arn(channel_arn).send().await {
                Ok(_) => return Ok(()),
                Err(e) => match classify("ivs:DeleteChannel", &e) {
                    Failure::NotFound => return Ok(()),
                    Failure::Conflict(_) if attempt < DELETE_ATTEMPTS => {
                        if !stopped {
                            stopped = true;
                            match self.stop_stream(channel_arn).await {
                                Ok(_) | Err(MediaError::NotFound) => {}
                                Err(e) => return Err(e),
                            }
                        }
                        tokio::time::sleep(wait).await;
                        wait *= 2;
                    }
                    Failure::Throttled if attempt < DELETE_ATTEMPTS => {
                        tokio::time::sleep(wait).await;
                        wait *= 2;
                    }
                    other => return Err(media_error(other)),
                },
            }
        }
        Err(MediaError::Unavailable(
            "ivs:DeleteChannel: the channel stayed live".into(),
        ))
    }

    async fn stop_stream(&self, channel_arn: &str) -> Result<bool, MediaError> {
        match self
            .client
            .stop_stream()
            .channel_arn(channel_arn)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) => match classify("ivs:StopStream", &e) {
                Failure::NotBroadcasting => Ok(false),
                other => Err(media_error(other)),
            },
        }
    }

    async fn live_streams(&self) -> Result<Vec<LiveStream>, MediaError> {
        let mut streams = Vec::new();
        let mut next_token = None;
        loop {
            let page = self
                .client
                .list_streams()
                .max_results(100)
                .set_next_token(next_token.take())
                .send()
                .await
                .map_err(|e| media_error(classify("ivs:ListStreams", &e)))?;
            for summary in page.streams() {
                if summary.state() != Some(&StreamState::StreamLive) {
                    continue;
                }
                let (Some(channel_arn), Some(stream_id)) =
                    (summary.channel_arn(), summary.stream_id())
                else {
                    continue;
                };
                streams.push(LiveStream {
                    channel_arn: channel_arn.to_owned(),
                    stream_id: stream_id.to_owned(),
                    started_at: summary.start_time().and_then(to_chrono),
                    viewers: u64::try_from(summary.viewer_count()).unwrap_or(0),
                    health: match summary.health() {
                        Some(IvsHealth::StreamHealthy) => StreamHealth::Healthy,
                        Some(IvsHealth::Starving) => StreamHealth::Starving,
                        _ => StreamHealth::Unknown,
                    },
                });
            }
            match page.next_token() {
                Some(token) if !token.is_empty() => next_token = Some(token.to_owned()),
                _ => return Ok(streams),
            }
        }
    }

    async fn ingest_configuration(
        &self,
        channel_arn: &str,
        stream_id: &str,
    ) -> Result<Option<IngestConfiguration>, MediaError> {
        let output = match self
            .client
            .get_stream_session()
            .channel_arn(channel_arn)
            .stream_id(stream_id)
            .send()
            .await
        {
            Ok(output) => output,
            Err(e) => {
                return match classify("ivs:GetStreamSession", &e) {
                    Failure::NotFound => Ok(None),
                    other => Err(media_error(other)),
                };
            }
        };
        let Some(session) = output.stream_session() else {
            return Ok(None);
        };
        if let Some(single) = session.ingest_configuration()
            && let (Some(v), Some(a)) = (single.video(), single.audio())
        {
            return Ok(Some(IngestConfiguration {
                video: video(v),
                audio: audio(a),
            }));
        }
        // Multitrack: one configuration per rendition; the health page shows the best one.
        Ok(session.ingest_configurations().and_then(|all| {
            let best = all
                .video_configurations()
                .iter()
                .max_by_key(|v| v.video_height() * v.video_width())?;
            let first_audio = all.audio_configurations().first()?;
            Some(IngestConfiguration {
                video: video(best),
                audio: audio(first_audio),
            })
        }))
    }

    async fn put_metadata(&self, channel_arn: &str, payload: &str) -> Result<(), MediaError> {
        let mut wait = METADATA_BACKOFF;
        for attempt in 1..=METADATA_ATTEMPTS {
            // This loop is the one retry policy for the call: the SDK's own retries (on top of
            // it) would hold a stale cue for seconds.
            let sent = self
                .client
                .put_metadata()
                .channel_arn(channel_arn)
                .metadata(payload)
                .customize()
                .config_override(
                    aws_sdk_ivs::config::Builder::default().retry_config(RetryConfig::disabled()),
                )
                .send()
                .await;
            match sent {
                Ok(_) => return Ok(()),
                Err(e) => match classify("ivs:PutMetadata", &e) {
                    Failure::Throttled if attempt < METADATA_ATTEMPTS => {
                        tracing::debug!(channel_arn, attempt, "PutMetadata throttled; retrying");
                        tokio::time::sleep(wait).await;
                        wait *= 2;
                    }
                    other => return Err(media_error(other)),
                },
            }
        }
        Err(MediaError::Throttled)
    }
}

#[cfg(test)]
mod tests;
