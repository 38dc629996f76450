//! Builders shared by the checks.

use chrono::{DateTime, Duration, Utc};
use showrunner::domain::{AccountId, AvatarPreset, Color, Email, Username};
use showrunner::store::{
    Account, ChannelResources, ChatRecord, NewAccount, NewSession, PollRecord, Preset, Restriction,
    RestrictionKind, Store,
};
use uuid::Uuid;

/// `seconds` after a fixed origin. Every time in the suite comes from here, so all are whole
/// milliseconds and survive any store that keeps millisecond precision.
/// A `grace_since` for `rotate_refresh_token` after any rotation: no spent token is forgiven.
pub fn no_grace() -> DateTime<Utc> {
    DateTime::<Utc>::MAX_UTC
}

pub fn at(seconds: i64) -> DateTime<Utc> {
    const ORIGIN_MILLIS: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
    DateTime::from_timestamp_millis(ORIGIN_MILLIS).unwrap() + Duration::seconds(seconds)
}

/// A complete registration for `username` and `email`, with a channel named after it.
pub fn new_account(username: &str, email: &str) -> NewAccount {
    let id = AccountId::new();
    NewAccount {
        id,
        username: Username::parse(username).unwrap(),
        email: Email::parse(email).unwrap(),
        password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$salt-of-{username}$hash"),
        email_verified: false,
        color: Color::Turquoise,
        avatar: AvatarPreset::Hedgehog,
        created_at: at(0),
        channel: ChannelResources {
            arn: format!("arn:aws:ivs:eu-west-1:123456789012:channel/{id}"),
            ingest_endpoint: "abc123.global-contribute.live-video.net".to_owned(),
            stream_key: format!("sk_eu-west-1_{}", id.0.simple()),
            playback_url: format!("https://abc123.eu-west-1.playback.live-video.net/{id}.m3u8"),
        },
    }
}

/// Creates an account named `username` with the email `<username>@example.com`.
pub async fn create_account(store: &dyn Store, username: &str) -> Account {
    let email = format!("{}@example.com", username.to_ascii_lowercase());
    store
        .create_account(new_account(username, &email))
        .await
        .unwrap()
}

/// A session of `account` whose first refresh token hashes to `token_hash`.
pub fn new_session(account: AccountId, token_hash: &str, expires_at: DateTime<Utc>) -> NewSession {
    NewSession {
        id: Uuid::now_v7(),
        account,
        token_hash: token_hash.to_owned(),
        created_at: at(0),
        expires_at,
    }
}

/// A restriction of `user` in `channel`, issued by `by` at `created_at`.
pub fn restriction(
    channel: AccountId,
    user: AccountId,
    kind: RestrictionKind,
    until: Option<DateTime<Utc>>,
    by: AccountId,
    created_at: DateTime<Utc>,
) -> Restriction {
    Restriction {
        channel,
        user,
        kind,
        until,
        by,
        created_at,
    }
}

/// Message number `offset` of `channel`, by `author`, sent `offset` seconds in.
pub fn chat_message(channel: AccountId, offset: u64, author: &Account) -> ChatRecord {
    ChatRecord {
        channel,
        offset,
        author: author.id,
        username: author.username.as_str().to_owned(),
        text: format!("message {offset}"),
        sent_at: at(i64::try_from(offset).unwrap()),
    }
}

/// An open poll of `channel` with `options`, started at `started_at` and running a minute.
pub fn new_poll(channel: AccountId, options: &[&str], started_at: DateTime<Utc>) -> PollRecord {
    PollRecord {
        id: Uuid::now_v7(),
        channel,
        question: "Which one?".to_owned(),
        options: options.iter().map(|o| (*o).to_owned()).collect(),
        started_at,
        deadline: started_at + Duration::seconds(60),
        closed_at: None,
        tally: vec![0; options.len()],
    }
}

/// A preset of `owner` named `name`, with a fresh id.
pub fn new_preset(owner: AccountId, name: &str, action: serde_json::Value) -> Preset {
    Preset {
        id: Uuid::now_v7(),
        owner,
        name: name.to_owned(),
        action,
        updated_at: at(0),
    }
}
