//! Media without a video service: channel resources are derived locally, so a laptop can run
//! the whole product. Nothing is streamed; the addresses are shaped like IVS's.

use async_trait::async_trait;

use super::{LiveStream, Media, MediaError};
use crate::{
    auth::Secret,
    domain::{AccountId, stream::IngestConfiguration},
    store::ChannelResources,
};

#[derive(Debug, Clone)]
pub struct LocalMedia {
    public_url: String,
}

impl LocalMedia {
    pub fn new(public_url: String) -> Self {
        Self { public_url }
    }

    fn stream_key() -> String {
        // Shaped like an IVS key; random because a stream key is a credential.
        format!("sk_local_{}", Secret::generate().expose())
    }
}

#[async_trait]
impl Media for LocalMedia {
    async fn create_channel(
        &self,
        owner: AccountId,
        _username: &str,
    ) -> Result<ChannelResources, MediaError> {
        // Derived from the account id, so the same account always gets the same addresses.
        let id = owner.0.simple().to_string();
        Ok(ChannelResources {
            arn: format!("arn:showrunner:local:channel/{id}"),
            ingest_endpoint: "127.0.0.1".into(),
            stream_key: Self::stream_key(),
            playback_url: format!("{}/local/playback/{id}.m3u8", self.public_url),
        })
    }

    async fn reset_stream_key(&self, _channel_arn: &str) -> Result<String, MediaError> {
        Ok(Self::stream_key())
    }

    async fn delete_channel(&self, _channel_arn: &str) -> Result<(), MediaError> {
        Ok(())
    }

    /// Nothing streams here, so there is never a broadcast to stop.
    async fn stop_stream(&self, _channel_arn: &str) -> Result<bool, MediaError> {
        Ok(false)
    }

    /// Nothing streams here: local live state comes from the stream simulator's events alone
    /// (which is why the live check does not run locally).
    async fn live_streams(&self) -> Result<Vec<LiveStream>, MediaError> {
        Ok(Vec::new())
    }

    async fn ingest_configuration(
        &self,
        _channel_arn: &str,
        _stream_id: &str,
    ) -> Result<Option<IngestConfiguration>, MediaError> {
        Ok(None)
    }

    /// There is no video to carry it; the websocket already told every viewer.
    async fn put_metadata(&self, _channel_arn: &str, _payload: &str) -> Result<(), MediaError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn channel_addresses_follow_the_account_and_keys_are_fresh() {
        let media = LocalMedia::new("http://127.0.0.1:8080".into());
        let owner = AccountId::new();
        let a = media.create_channel(owner, "anna").await.unwrap();
        let b = media.create_channel(owner, "anna").await.unwrap();
        assert_eq!(a.arn, b.arn);
        assert_eq!(a.playback_url, b.playback_url);
        assert!(a.playback_url.starts_with("http://127.0.0.1:8080/"));
        assert_ne!(a.stream_key, b.stream_key);
        assert_ne!(media.reset_stream_key(&a.arn).await.unwrap(), a.stream_key);
    }

    #[tokio::test]
    async fn a_local_channel_never_broadcasts_and_metadata_goes_nowhere() {
        let media = LocalMedia::new("http://127.0.0.1:8080".into());
        let channel = media
            .create_channel(AccountId::new(), "anna")
            .await
            .unwrap();

        assert!(!media.stop_stream(&channel.arn).await.unwrap());
        assert_eq!(media.live_streams().await.unwrap(), []);
        assert_eq!(
            media
                .ingest_configuration(&channel.arn, "st-1")
                .await
                .unwrap(),
            None
        );
        media.put_metadata(&channel.arn, "{}").await.unwrap();
    }
}
