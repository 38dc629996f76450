//! Persistence ports and their embedded implementation.
//!
//! The traits speak in domain types and say nothing about SQL; the SQLite implementation in
//! [`sqlite`] is the default, and a DynamoDB one lives in `crate::aws`. Every implementation must
//! pass the contract suite in `tests/contract/`.
//!
//! Times are passed in by the caller, never read from a clock here, so behaviour at expiry
//! boundaries is the caller's (testable) decision.

pub mod sqlite;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::stream::{IngestConfiguration, MetricSample, StreamEvent};
use crate::domain::{AccountId, Avatar, AvatarPreset, ChatSettings, Color, Email, Username};

/// Failures of a store call. Conflicts and absences are answers, not faults.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("{0} already taken")]
    Conflict(UniqueField),
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("store failure: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The field whose uniqueness a write would have broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniqueField {
    Username,
    Email,
}

impl std::fmt::Display for UniqueField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            UniqueField::Username => "username",
            UniqueField::Email => "email",
        })
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The media resources of a channel, as the media port created them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelResources {
    /// The media service's id for the channel (an IVS ARN in AWS mode).
    pub arn: String,
    /// Host that encoders send to.
    pub ingest_endpoint: String,
    /// The secret an encoder authenticates with.
    pub stream_key: String,
    pub playback_url: String,
}

/// A stored account together with the channel it owns.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub id: AccountId,
    pub username: Username,
    pub email: Email,
    /// Argon2id PHC string.
    pub password_hash: String,
    pub email_verified: bool,
    pub color: Color,
    pub avatar: Avatar,
    /// Asset key of an uploaded banner.
    pub banner: Option<String>,
    pub created_at: DateTime<Utc>,
    pub channel: ChannelResources,
    /// When the current broadcast started; `None` while offline.
    pub live_since: Option<DateTime<Utc>>,
    /// When the channel's current stage was created; `None` without a stage.
    pub stage_since: Option<DateTime<Utc>>,
}

/// Everything needed to create an account; the store adds nothing but persistence.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub id: AccountId,
    pub username: Username,
    pub email: Email,
    pub password_hash: String,
    pub email_verified: bool,
    pub color: Color,
    pub avatar: AvatarPreset,
    pub created_at: DateTime<Utc>,
    pub channel: ChannelResources,
}

/// A change to the public profile. Only these fields can ever be written by a user.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileChange {
    pub color: Option<Color>,
    pub avatar: Option<Avatar>,
    /// `Some(None)` removes the banner.
    pub banner: Option<Option<String>>,
}

/// A channel someone follows, as the following list shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Followed {
    pub account: Account,
    pub followed_at: DateTime<Utc>,
}

/// A login session: one refresh-token family, rotated on every use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    pub id: Uuid,
    pub account: AccountId,
    /// SHA-256 of the first refresh token; the token itself is never stored.
    pub token_hash: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// What presenting a refresh token led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was current: it is now spent and `new_hash` is the session's token.
    Rotated { session: Uuid, account: AccountId },
    /// The token had already been spent: someone replayed it, so the whole session was revoked.
    Reused { session: Uuid, account: AccountId },
    /// Unknown, expired, or its session was revoked.
    Invalid,
}

/// What a single-use mailed token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    VerifyEmail,
    ResetPassword,
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::VerifyEmail => "verify_email",
            TokenPurpose::ResetPassword => "reset_password",
        }
    }
}

/// Accounts and their channels.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Creates account and channel together, or neither. Usernames compare without case
    /// (`Username::key`); emails are already lower-case. Conflict names the first clash.
    async fn create_account(&self, new: NewAccount) -> StoreResult<Account>;
    async fn account(&self, id: AccountId) -> StoreResult<Option<Account>>;
    /// `key` is a case-folded username (`Username::key`).
    async fn account_by_username(&self, key: &str) -> StoreResult<Option<Account>>;
    async fn account_by_email(&self, email: &Email) -> StoreResult<Option<Account>>;
    async fn set_email_verified(&self, id: AccountId) -> StoreResult<()>;
    async fn set_password_hash(&self, id: AccountId, hash: &str) -> StoreResult<()>;
    /// Renames atomically; `Conflict(Username)` when another account has the name in any case.
    /// Renaming to another spelling of one's own name is allowed.
    async fn rename(&self, id: AccountId, username: &Username) -> StoreResult<()>;
    /// Applies only the fields that are `Some`; returns the account as it now is.
    async fn update_profile(&self, id: AccountId, change: ProfileChange) -> StoreResult<Account>;
    async fn set_stream_key(&self, id: AccountId, stream_key: &str) -> StoreResult<()>;
    /// Marks the channel live since `since`, or offline with `None`.
    async fn set_live(&self, id: AccountId, since: Option<DateTime<Utc>>) -> StoreResult<()>;
    /// Marks the channel as having a stage since `since`, or none with `None`.
    async fn set_stage(&self, id: AccountId, since: Option<DateTime<Utc>>) -> StoreResult<()>;
    /// Deletes the account, its channel, its follows in both directions, its sessions and its
    /// mailed tokens, and everything of the realtime stores that names it (restrictions and
    /// moderator roles in both directions, its chat history, polls and votes, presets, its
    /// channel's snapshots), and its channel's stream sessions with their events, metric samples
    /// and cached metrics, in one step. `NotFound` if there was no such account.
    async fn delete_account(&self, id: AccountId) -> StoreResult<()>;
    /// The directory: live channels (most recently started first), at most `limit`, followed by
    /// channels that are not live but have a stage (most recent stage first), at most `limit`
    /// of those; no channel twice.
    async fn live_channels(&self, limit: usize) -> StoreResult<Vec<Account>>;
}

/// Who follows whom.
#[async_trait]
pub trait FollowStore: Send + Sync {
    /// Idempotent: following twice keeps the first `at`. Returns whether a follow was added.
    /// `NotFound` if either account does not exist.
    async fn follow(
        &self,
        follower: AccountId,
        followed: AccountId,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Idempotent. Returns whether a follow was removed.
    async fn unfollow(&self, follower: AccountId, followed: AccountId) -> StoreResult<bool>;
    async fn is_following(&self, follower: AccountId, followed: AccountId) -> StoreResult<bool>;
    /// When `follower` started following `followed`, if they do.
    async fn follow_since(
        &self,
        follower: AccountId,
        followed: AccountId,
    ) -> StoreResult<Option<DateTime<Utc>>>;
    /// Live channels first (most recently started first), then offline ones (most recently
    /// followed first), at most `limit`.
    async fn following(&self, follower: AccountId, limit: usize) -> StoreResult<Vec<Followed>>;
}

/// Login sessions and their rotating refresh tokens.
#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn create_session(&self, session: NewSession) -> StoreResult<()>;
    /// Spends `old_hash` and makes `new_hash` current, extending the session to `new_expiry`.
    /// Atomic: of two concurrent rotations of one token, exactly one spends it.
    ///
    /// A spent token is a replay, and revokes the session (`Reused`), except the one the
    /// session's latest rotation spent, if that rotation was at or after `grace_since`: its
    /// holder may have lost the answer (a page reloaded mid-refresh). It then rotates again from
    /// the current token, which is spent in turn, so that of the two only the newest works.
    async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        new_hash: &str,
        now: DateTime<Utc>,
        new_expiry: DateTime<Utc>,
        grace_since: DateTime<Utc>,
    ) -> StoreResult<Rotation>;
    /// Whether the session exists, belongs to `account`, and has not expired at `now`.
    async fn session_alive(
        &self,
        session: Uuid,
        account: AccountId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Idempotent.
    async fn revoke_session(&self, session: Uuid) -> StoreResult<()>;
    /// Revokes every session of the account except `keep`. Returns how many were revoked.
    async fn revoke_sessions(&self, account: AccountId, keep: Option<Uuid>) -> StoreResult<u64>;
}

/// Single-use tokens sent by mail (verification, password reset).
#[async_trait]
pub trait TokenStore: Send + Sync {
    async fn put_token(
        &self,
        purpose: TokenPurpose,
        hash: &str,
        account: AccountId,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Consumes the token: the first call before expiry gets the account, every later one `None`.
    async fn take_token(
        &self,
        purpose: TokenPurpose,
        hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<AccountId>>;
    /// Drops every token of that purpose for the account (e.g. after a successful reset).
    async fn drop_tokens(&self, purpose: TokenPurpose, account: AccountId) -> StoreResult<()>;
}

/// Fixed-window counters for rate limits.
#[async_trait]
pub trait ThrottleStore: Send + Sync {
    /// Adds one to the counter of `key` in the window starting at `window_start` and returns the
    /// new count. Windows past `window_start` of earlier windows may be forgotten.
    async fn hit(&self, key: &str, window_start: DateTime<Utc>) -> StoreResult<u32>;
    /// The current count without adding to it.
    async fn hits(&self, key: &str, window_start: DateTime<Utc>) -> StoreResult<u32>;
}

/// What keeps someone out of a channel's chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RestrictionKind {
    /// May not chat, watch the chat, or join the stage.
    Ban,
    /// May not chat until it expires.
    Timeout,
}

/// A restriction as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restriction {
    pub channel: AccountId,
    pub user: AccountId,
    pub kind: RestrictionKind,
    /// `None`: until lifted.
    pub until: Option<DateTime<Utc>>,
    pub by: AccountId,
    pub created_at: DateTime<Utc>,
}

/// Bans, timeouts, moderators and chat settings of channels.
#[async_trait]
pub trait ModerationStore: Send + Sync {
    /// Creates or replaces the restriction of that kind for (channel, user).
    async fn restrict(&self, restriction: Restriction) -> StoreResult<()>;
    /// Returns whether there was one to lift.
    async fn lift(
        &self,
        channel: AccountId,
        user: AccountId,
        kind: RestrictionKind,
    ) -> StoreResult<bool>;
    /// Restrictions of the channel in force at `now` (not expired), newest first.
    async fn restrictions(
        &self,
        channel: AccountId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Restriction>>;
    /// The restrictions in force at `now` for one user in one channel.
    async fn restrictions_of(
        &self,
        channel: AccountId,
        user: AccountId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Restriction>>;
    /// Idempotent; returns whether the user was not a moderator before.
    async fn add_moderator(&self, channel: AccountId, user: AccountId) -> StoreResult<bool>;
    /// Idempotent; returns whether the user was a moderator.
    async fn remove_moderator(&self, channel: AccountId, user: AccountId) -> StoreResult<bool>;
    async fn moderators(&self, channel: AccountId) -> StoreResult<Vec<AccountId>>;
    /// The default settings when none were ever saved.
    async fn chat_settings(&self, channel: AccountId) -> StoreResult<ChatSettings>;
    async fn set_chat_settings(
        &self,
        channel: AccountId,
        settings: &ChatSettings,
    ) -> StoreResult<()>;
}

/// A chat message as kept in history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatRecord {
    pub channel: AccountId,
    /// Position in the channel's history; strictly increasing, chosen by the channel actor.
    pub offset: u64,
    pub author: AccountId,
    /// The author's name when the message was sent.
    pub username: String,
    pub text: String,
    pub sent_at: DateTime<Utc>,
}

/// Recent chat history, for replay after a reconnect or a restart.
#[async_trait]
pub trait ChatStore: Send + Sync {
    /// Appends a message and forgets the channel's messages older than the newest `keep`.
    /// `Conflict`-free: an offset already stored is overwritten (a retried append is harmless).
    async fn append_chat(&self, message: &ChatRecord, keep: usize) -> StoreResult<()>;
    /// The newest `limit` messages that are not deleted, oldest first.
    async fn recent_chat(&self, channel: AccountId, limit: usize) -> StoreResult<Vec<ChatRecord>>;
    /// The highest offset ever appended for the channel (deleted or not), if any.
    async fn last_chat_offset(&self, channel: AccountId) -> StoreResult<Option<u64>>;
    /// Marks a message deleted; it never comes back in `recent_chat`. Returns whether it existed.
    async fn delete_chat(&self, channel: AccountId, offset: u64) -> StoreResult<bool>;
}

/// A poll as stored; `tally[i]` counts the votes for `options[i]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollRecord {
    pub id: Uuid,
    pub channel: AccountId,
    pub question: String,
    pub options: Vec<String>,
    pub started_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    /// Set once the poll has ended (at its deadline, or replaced, or stopped).
    pub closed_at: Option<DateTime<Utc>>,
    pub tally: Vec<u64>,
}

/// Polls and their votes. A vote is durable when `record_votes` returns.
#[async_trait]
pub trait PollStore: Send + Sync {
    /// `tally` is ignored (a new poll has no votes).
    async fn create_poll(&self, poll: &PollRecord) -> StoreResult<()>;
    /// Records a batch of votes atomically, one per (poll, voter): for each vote, `true` if it
    /// was counted, `false` if that voter had already voted (in this batch or before).
    /// `NotFound` if the poll does not exist.
    async fn record_votes(
        &self,
        poll: Uuid,
        votes: &[(AccountId, u32)],
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<bool>>;
    /// The poll with its tally counted from the stored votes.
    async fn poll(&self, id: Uuid) -> StoreResult<Option<PollRecord>>;
    /// Who voted for which option.
    async fn votes(&self, poll: Uuid) -> StoreResult<Vec<(AccountId, u32)>>;
    /// Idempotent: the first close time is kept.
    async fn close_poll(&self, id: Uuid, at: DateTime<Utc>) -> StoreResult<()>;
    /// Polls not closed yet, with tallies (to resume after a restart).
    async fn open_polls(&self) -> StoreResult<Vec<PollRecord>>;
    /// A channel's polls, newest first, with tallies.
    async fn channel_polls(&self, channel: AccountId, limit: usize)
    -> StoreResult<Vec<PollRecord>>;
}

/// A saved stream-action preset.
#[derive(Debug, Clone, PartialEq)]
pub struct Preset {
    pub id: Uuid,
    pub owner: AccountId,
    /// Unique per owner (exact match).
    pub name: String,
    /// The action as the client would send it (validated before saving).
    pub action: serde_json::Value,
    pub updated_at: DateTime<Utc>,
}

#[async_trait]
pub trait PresetStore: Send + Sync {
    /// Creates, or replaces the owner's preset of the same name (keeping its id). Returns the
    /// stored preset.
    async fn put_preset(&self, preset: Preset) -> StoreResult<Preset>;
    /// The owner's presets by name.
    async fn presets(&self, owner: AccountId) -> StoreResult<Vec<Preset>>;
    /// Returns whether it existed (and belonged to `owner`).
    async fn delete_preset(&self, owner: AccountId, id: Uuid) -> StoreResult<bool>;
}

/// Small JSON documents actors keep to be restarted with their state.
#[async_trait]
pub trait SnapshotStore: Send + Sync {
    async fn put_snapshot(&self, key: &str, value: &serde_json::Value) -> StoreResult<()>;
    async fn snapshot(&self, key: &str) -> StoreResult<Option<serde_json::Value>>;
    /// Idempotent.
    async fn delete_snapshot(&self, key: &str) -> StoreResult<()>;
}

/// A stream session of a channel (one IVS broadcast, `st-…`), as its events describe it.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamSession {
    pub channel: AccountId,
    /// IVS's stream id, new for every broadcast.
    pub stream_id: String,
    /// Its "Session Created", or its earliest event until that arrives.
    pub started_at: DateTime<Utc>,
    /// When the stream last started, while it is live; `None` otherwise.
    pub live_since: Option<DateTime<Utc>>,
    /// `None` while nothing says it is over.
    pub ended_at: Option<DateTime<Utc>>,
    /// False while starving (the last health event is "Starvation Start").
    pub healthy: bool,
    /// True once a limit was breached.
    pub has_error: bool,
    /// The encoder settings, once known.
    pub ingest_configuration: Option<IngestConfiguration>,
}

/// A place in a channel's newest-first session list: pages continue after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionPosition {
    pub started_at: DateTime<Utc>,
    pub stream_id: String,
}

impl StreamSession {
    pub fn position(&self) -> SessionPosition {
        SessionPosition {
            started_at: self.started_at,
            stream_id: self.stream_id.clone(),
        }
    }
}

/// What recording a stream event did.
#[derive(Debug, Clone, PartialEq)]
// One is returned per delivered event and none is kept, so the size of `Stored` costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum EventOutcome {
    /// Stored; the session as it now is.
    Stored(StreamSession),
    /// An event with this id was stored before; nothing changed.
    Duplicate,
    /// The event named no stream and no session of the channel had started by its time;
    /// nothing was stored.
    NoSession,
}

/// Stream sessions of channels: their IVS events, encoder settings, locally recorded metric
/// samples, and metrics cached for sessions that are over.
///
/// A session's state is derived from all of its events in their own time order
/// ([`SessionFacts::from_events`](crate::domain::stream::SessionFacts::from_events)), never
/// from the order they arrived in. A channel streams one session at a time, so a session that
/// a later-starting session of the same channel follows is over: it is not live, and it ended
/// when the next one started unless its own events say when. Sessions of one channel are
/// ordered by `started_at`, then by stream id.
#[async_trait]
pub trait StreamStore: Send + Sync {
    /// The account whose channel has this media ARN (exact match).
    async fn account_by_channel_arn(&self, arn: &str) -> StoreResult<Option<Account>>;
    /// Records an event of the channel, idempotently by `event.id`: an id stored before (for
    /// any channel) is a `Duplicate` and changes nothing. With a `stream_id` the event belongs to
    /// that session, which is created by its first event; without one, to the channel's latest
    /// session that started at or before `event.at` (`NoSession` if there is none). Storing the
    /// event and updating its session is one step. `NotFound` if the channel does not exist.
    async fn record_stream_event(
        &self,
        channel: AccountId,
        stream_id: Option<&str>,
        event: &StreamEvent,
    ) -> StoreResult<EventOutcome>;
    /// The channel's sessions, newest first, strictly after `after` in that order, at most
    /// `limit`.
    async fn stream_sessions(
        &self,
        channel: AccountId,
        after: Option<&SessionPosition>,
        limit: usize,
    ) -> StoreResult<Vec<StreamSession>>;
    /// One session of the channel; another channel's stream id is `None`.
    async fn stream_session(
        &self,
        channel: AccountId,
        stream_id: &str,
    ) -> StoreResult<Option<StreamSession>>;
    /// The session's events, in their time order ([`StreamEvent::chronological`]).
    async fn stream_events(
        &self,
        channel: AccountId,
        stream_id: &str,
    ) -> StoreResult<Vec<StreamEvent>>;
    /// Sets (or replaces) the session's encoder settings. `NotFound` without such a session.
    async fn set_ingest_configuration(
        &self,
        channel: AccountId,
        stream_id: &str,
        configuration: &IngestConfiguration,
    ) -> StoreResult<()>;
    /// Keeps metric samples of the session; a sample at an instant already kept replaces it.
    /// `NotFound` without such a session.
    async fn put_metric_samples(
        &self,
        channel: AccountId,
        stream_id: &str,
        samples: &[MetricSample],
    ) -> StoreResult<()>;
    /// The session's samples with `from <= at < to`, oldest first.
    async fn metric_samples(
        &self,
        channel: AccountId,
        stream_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<MetricSample>>;
    /// The metrics cached for the session under `key`; `None` if none are, or under another key.
    async fn cached_metrics(
        &self,
        channel: AccountId,
        stream_id: &str,
        key: &str,
    ) -> StoreResult<Option<serde_json::Value>>;
    /// Caches metrics of the session under `key`, replacing whatever was cached for it under
    /// any key. `NotFound` without such a session.
    async fn put_cached_metrics(
        &self,
        channel: AccountId,
        stream_id: &str,
        key: &str,
        metrics: &serde_json::Value,
    ) -> StoreResult<()>;
}

/// Everything the service persists.
#[async_trait]
pub trait Store:
    AccountStore
    + FollowStore
    + SessionStore
    + TokenStore
    + ThrottleStore
    + ModerationStore
    + ChatStore
    + PollStore
    + PresetStore
    + SnapshotStore
    + StreamStore
{
    /// Cheap round trip, for readiness checks.
    async fn ping(&self) -> StoreResult<()>;
}
