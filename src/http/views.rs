//! Response bodies shared by several resources.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    accounts::Accounts,
    config::Config,
    domain::{Avatar, Color},
    store::Account,
};

/// A channel as anyone may see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelSummary {
    pub username: String,
    pub color: Color,
    /// A preset name, or `custom` for an uploaded picture.
    pub avatar: String,
    /// URL of the uploaded picture when `avatar` is `custom`.
    pub avatar_url: Option<String>,
    pub banner_url: Option<String>,
    pub is_live: bool,
    pub live_since: Option<DateTime<Utc>>,
    /// Whether a real-time stage is live on the channel.
    pub has_stage: bool,
}

impl ChannelSummary {
    pub fn new(account: &Account, accounts: &Accounts) -> Self {
        let (avatar, avatar_url) = match &account.avatar {
            Avatar::Preset(p) => (p.as_str().to_owned(), None),
            Avatar::Uploaded(key) => ("custom".to_owned(), Some(accounts.asset_url(key))),
        };
        Self {
            username: account.username.to_string(),
            color: account.color,
            avatar,
            avatar_url,
            banner_url: account.banner.as_deref().map(|k| accounts.asset_url(k)),
            is_live: account.live_since.is_some(),
            live_since: account.live_since,
            has_stage: account.stage_since.is_some(),
        }
    }
}

/// The signed-in user's own account, with its secrets.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    pub id: uuid::Uuid,
    pub email: String,
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
    #[serde(flatten)]
    pub profile: ChannelSummary,
    pub channel: OwnChannel,
}

/// What a streamer needs to go live.
#[derive(Debug, Serialize, ToSchema)]
pub struct OwnChannel {
    /// The media service's id for the channel.
    pub arn: String,
    pub ingest_endpoint: String,
    /// What to paste into an encoder (OBS: "Server").
    pub ingest_server_url: String,
    /// Secret: whoever has it can broadcast on this channel.
    pub stream_key: String,
    pub playback_url: String,
    /// `BASIC` or `STANDARD`.
    pub channel_type: String,
}

impl MeView {
    pub fn new(account: &Account, accounts: &Accounts, config: &Config) -> Self {
        Self {
            id: account.id.0,
            email: account.email.to_string(),
            email_verified: account.email_verified,
            created_at: account.created_at,
            profile: ChannelSummary::new(account, accounts),
            channel: OwnChannel {
                arn: account.channel.arn.clone(),
                ingest_endpoint: account.channel.ingest_endpoint.clone(),
                ingest_server_url: format!("rtmps://{}:443/app/", account.channel.ingest_endpoint),
                stream_key: account.channel.stream_key.clone(),
                playback_url: account.channel.playback_url.clone(),
                channel_type: serde_json::to_value(config.media.channel_type)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
            },
        }
    }
}
