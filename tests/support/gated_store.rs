//! A store whose vote writes for chosen polls wait for the test to let them through or fail
//! them, so a test can see what a connection and a poll answer while a write is in flight
//! without timing anything; it can also fail every poll creation. Everything else goes
//! straight to the store it wraps.
//!
//! ```ignore
//! #[path = "../support/gated_store.rs"]
//! mod gated_store;
//!
//! let gated = GatedStore::new(backends.store.clone());  // in `spawn_app_with_backends`
//! backends.store = gated.clone();
//! let mut writes = gated.hold(poll_id);   // from now on each vote write of this poll waits
//! let write = writes.next().await;        // the next one to arrive (bounded wait)
//! assert_eq!(write.votes, [(voter, 2)]);
//! write.store();                          // or `write.fail()`
//! ```
//!
//! A write whose [`HeldWrite`] is dropped undecided, or that arrives after the [`HeldWrites`]
//! was dropped, goes through.
#![allow(dead_code)] // each test binary uses its own part of this module

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use showrunner::{
    domain::{
        AccountId, ChatSettings, Email, Username,
        stream::{IngestConfiguration, MetricSample, StreamEvent},
    },
    store::{
        Account, AccountStore, ChatRecord, ChatStore, EventOutcome, FollowStore, Followed,
        ModerationStore, NewAccount, NewSession, PollRecord, PollStore, Preset, PresetStore,
        ProfileChange, Restriction, RestrictionKind, Rotation, SessionPosition, SessionStore,
        SnapshotStore, Store, StoreError, StoreResult, StreamSession, StreamStore, ThrottleStore,
        TokenPurpose, TokenStore,
    },
};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// How long [`HeldWrites::next`] waits for a write.
const WAIT: Duration = Duration::from_secs(15);

pub struct GatedStore {
    inner: Arc<dyn Store>,
    gates: Mutex<HashMap<Uuid, mpsc::UnboundedSender<HeldWrite>>>,
    /// Whether `create_poll` fails as an unavailable store would.
    polls_fail: AtomicBool,
}

/// The vote writes of one poll, held as they arrive.
pub struct HeldWrites(mpsc::UnboundedReceiver<HeldWrite>);

/// One `record_votes` call, waiting for the test's decision.
pub struct HeldWrite {
    pub votes: Vec<(AccountId, u32)>,
    go: oneshot::Sender<bool>,
}

impl GatedStore {
    pub fn new(inner: Arc<dyn Store>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            gates: Mutex::default(),
            polls_fail: AtomicBool::new(false),
        })
    }

    /// Fails every poll creation from now on.
    pub fn fail_poll_creation(&self) {
        self.polls_fail.store(true, Ordering::SeqCst);
    }

    /// Holds every vote write of `poll` from now on.
    pub fn hold(&self, poll: Uuid) -> HeldWrites {
        let (tx, rx) = mpsc::unbounded_channel();
        self.gates.lock().unwrap().insert(poll, tx);
        HeldWrites(rx)
    }
}

impl HeldWrites {
    /// The next write, once it is waiting; panics if none comes within the wait.
    pub async fn next(&mut self) -> HeldWrite {
        tokio::time::timeout(WAIT, self.0.recv())
            .await
            .expect("a vote write within the wait")
            .expect("the store is alive")
    }
}

impl HeldWrite {
    /// Lets the write through to the wrapped store.
    pub fn store(self) {
        let _ = self.go.send(true);
    }

    /// Fails the write as an unavailable store would.
    pub fn fail(self) {
        let _ = self.go.send(false);
    }
}

#[async_trait]
impl AccountStore for GatedStore {
    async fn create_account(&self, new: NewAccount) -> StoreResult<Account> {
        self.inner.create_account(new).await
    }
    async fn account(&self, id: AccountId) -> StoreResult<Option<Account>> {
        self.inner.account(id).await
    }
    async fn account_by_username(&self, key: &str) -> StoreResult<Option<Account>> {
        self.inner.account_by_username(key).await
    }
    async fn account_by_email(&self, email: &Email) -> StoreResult<Option<Account>> {
        self.inner.account_by_email(email).await
    }
    async fn set_email_verified(&self, id: AccountId) -> StoreResult<()> {
        self.inner.set_email_verified(id).await
    }
    async fn set_password_hash(&self, id: AccountId, hash: &str) -> StoreResult<()> {
        self.inner.set_password_hash(id, hash).await
    }
    async fn rename(&self, id: AccountId, username: &Username) -> StoreResult<()> {
        self.inner.rename(id, username).await
    }
    async fn update_profile(&self, id: AccountId, change: ProfileChange) -> StoreResult<Account> {
        self.inner.update_profile(id, change).await
    }
    async fn set_stream_key(&self, id: AccountId, stream_key: &str) -> StoreResult<()> {
        self.inner.set_stream_key(id, stream_key).await
    }
    async fn set_live(&self, id: AccountId, since: Option<DateTime<Utc>>) -> StoreResult<()> {
        self.inner.set_live(id, since).await
    }
    async fn set_stage(&self, id: AccountId, since: Option<DateTime<Utc>>) -> StoreResult<()> {
        self.inner.set_stage(id, since).await
    }
    async fn delete_account(&self, id: AccountId) -> StoreResult<()> {
        self.inner.delete_account(id).await
    }
    async fn live_channels(&self, limit: usize) -> StoreResult<Vec<Account>> {
        self.inner.live_channels(limit).await
    }
}

#[async_trait]
impl FollowStore for GatedStore {
    async fn follow(
        &self,
        follower: AccountId,
        followed: AccountId,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.inner.follow(follower, followed, at).await
    }
    async fn unfollow(&self, follower: AccountId, followed: AccountId) -> StoreResult<bool> {
        self.inner.unfollow(follower, followed).await
    }
    async fn is_following(&self, follower: AccountId, followed: AccountId) -> StoreResult<bool> {
        self.inner.is_following(follower, followed).await
    }
    async fn follow_since(
        &self,
        follower: AccountId,
        followed: AccountId,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        self.inner.follow_since(follower, followed).await
    }
    async fn following(&self, follower: AccountId, limit: usize) -> StoreResult<Vec<Followed>> {
        self.inner.following(follower, limit).await
    }
}

#[async_trait]
impl SessionStore for GatedStore {
    async fn create_session(&self, session: NewSession) -> StoreResult<()> {
        self.inner.create_session(session).await
    }
    async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        new_hash: &str,
        now: DateTime<Utc>,
        new_expiry: DateTime<Utc>,
        grace_since: DateTime<Utc>,
    ) -> StoreResult<Rotation> {
        self.inner
            .rotate_refresh_token(old_hash, new_hash, now, new_expiry, grace_since)
            .await
    }
    async fn session_alive(
        &self,
        session: Uuid,
        account: AccountId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.inner.session_alive(session, account, now).await
    }
    async fn revoke_session(&self, session: Uuid) -> StoreResult<()> {
        self.inner.revoke_session(session).await
    }
    async fn revoke_sessions(&self, account: AccountId, keep: Option<Uuid>) -> StoreResult<u64> {
        self.inner.revoke_sessions(account, keep).await
    }
}

#[async_trait]
impl TokenStore for GatedStore {
    async fn put_token(
        &self,
        purpose: TokenPurpose,
        hash: &str,
        account: AccountId,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.inner
            .put_token(purpose, hash, account, expires_at)
            .await
    }
    async fn take_token(
        &self,
        purpose: TokenPurpose,
        hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<AccountId>> {
        self.inner.take_token(purpose, hash, now).await
    }
    async fn drop_tokens(&self, purpose: TokenPurpose, account: AccountId) -> StoreResult<()> {
        self.inner.drop_tokens(purpose, account).await
    }
}

#[async_trait]
impl ThrottleStore for GatedStore {
    async fn hit(&self, key: &str, window_start: DateTime<Utc>) -> StoreResult<u32> {
        self.inner.hit(key, window_start).await
    }
    async fn hits(&self, key: &str, window_start: DateTime<Utc>) -> StoreResult<u32> {
        self.inner.hits(key, window_start).await
    }
}

#[async_trait]
impl ModerationStore for GatedStore {
    async fn restrict(&self, restriction: Restriction) -> StoreResult<()> {
        self.inner.restrict(restriction).await
    }
    async fn lift(
        &self,
        channel: AccountId,
        user: AccountId,
        kind: RestrictionKind,
    ) -> StoreResult<bool> {
        self.inner.lift(channel, user, kind).await
    }
    async fn restrictions(
        &self,
        channel: AccountId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Restriction>> {
        self.inner.restrictions(channel, now).await
    }
    async fn restrictions_of(
        &self,
        channel: AccountId,
        user: AccountId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Restriction>> {
        self.inner.restrictions_of(channel, user, now).await
    }
    async fn add_moderator(&self, channel: AccountId, user: AccountId) -> StoreResult<bool> {
        self.inner.add_moderator(channel, user).await
    }
    async fn remove_moderator(&self, channel: AccountId, user: AccountId) -> StoreResult<bool> {
        self.inner.remove_moderator(channel, user).await
    }
    async fn moderators(&self, channel: AccountId) -> StoreResult<Vec<AccountId>> {
        self.inner.moderators(channel).await
    }
    async fn chat_settings(&self, channel: AccountId) -> StoreResult<ChatSettings> {
        self.inner.chat_settings(channel).await
    }
    async fn set_chat_settings(
        &self,
        channel: AccountId,
        settings: &ChatSettings,
    ) -> StoreResult<()> {
        self.inner.set_chat_settings(channel, settings).await
    }
}

#[async_trait]
impl ChatStore for GatedStore {
    async fn append_chat(&self, message: &ChatRecord, keep: usize) -> StoreResult<()> {
        self.inner.append_chat(message, keep).await
    }
    async fn recent_chat(&self, channel: AccountId, limit: usize) -> StoreResult<Vec<ChatRecord>> {
        self.inner.recent_chat(channel, limit).await
    }
    async fn last_chat_offset(&self, channel: AccountId) -> StoreResult<Option<u64>> {
        self.inner.last_chat_offset(channel).await
    }
    async fn delete_chat(&self, channel: AccountId, offset: u64) -> StoreResult<bool> {
        self.inner.delete_chat(channel, offset).await
    }
}

#[async_trait]
impl PollStore for GatedStore {
    async fn create_poll(&self, poll: &PollRecord) -> StoreResult<()> {
        if self.polls_fail.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable(
                "poll creation failed by the test".into(),
            ));
        }
        self.inner.create_poll(poll).await
    }
    async fn record_votes(
        &self,
        poll: Uuid,
        votes: &[(AccountId, u32)],
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<bool>> {
        let gate = self.gates.lock().unwrap().get(&poll).cloned();
        if let Some(gate) = gate {
            let (go, decision) = oneshot::channel();
            let held = HeldWrite {
                votes: votes.to_vec(),
                go,
            };
            if gate.send(held).is_ok() && decision.await == Ok(false) {
                return Err(StoreError::Unavailable(
                    "vote write failed by the test".into(),
                ));
            }
        }
        self.inner.record_votes(poll, votes, at).await
    }
    async fn poll(&self, id: Uuid) -> StoreResult<Option<PollRecord>> {
        self.inner.poll(id).await
    }
    async fn votes(&self, poll: Uuid) -> StoreResult<Vec<(AccountId, u32)>> {
        self.inner.votes(poll).await
    }
    async fn close_poll(&self, id: Uuid, at: DateTime<Utc>) -> StoreResult<()> {
        self.inner.close_poll(id, at).await
    }
    async fn open_polls(&self) -> StoreResult<Vec<PollRecord>> {
        self.inner.open_polls().await
    }
    async fn channel_polls(
        &self,
        channel: AccountId,
        limit: usize,
    ) -> StoreResult<Vec<PollRecord>> {
        self.inner.channel_polls(channel, limit).await
    }
}

#[async_trait]
impl PresetStore for GatedStore {
    async fn put_preset(&self, preset: Preset) -> StoreResult<Preset> {
        self.inner.put_preset(preset).await
    }
    async fn presets(&self, owner: AccountId) -> StoreResult<Vec<Preset>> {
        self.inner.presets(owner).await
    }
    async fn delete_preset(&self, owner: AccountId, id: Uuid) -> StoreResult<bool> {
        self.inner.delete_preset(owner, id).await
    }
}

#[async_trait]
impl SnapshotStore for GatedStore {
    async fn put_snapshot(&self, key: &str, value: &serde_json::Value) -> StoreResult<()> {
        self.inner.put_snapshot(key, value).await
    }
    async fn snapshot(&self, key: &str) -> StoreResult<Option<serde_json::Value>> {
        self.inner.snapshot(key).await
    }
    async fn delete_snapshot(&self, key: &str) -> StoreResult<()> {
        self.inner.delete_snapshot(key).await
    }
}

#[async_trait]
impl StreamStore for GatedStore {
    async fn account_by_channel_arn(&self, arn: &str) -> StoreResult<Option<Account>> {
        self.inner.account_by_channel_arn(arn).await
    }
    async fn record_stream_event(
        &self,
        channel: AccountId,
        stream_id: Option<&str>,
        event: &StreamEvent,
    ) -> StoreResult<EventOutcome> {
        self.inner
            .record_stream_event(channel, stream_id, event)
            .await
    }
    async fn stream_sessions(
        &self,
        channel: AccountId,
        after: Option<&SessionPosition>,
        limit: usize,
    ) -> StoreResult<Vec<StreamSession>> {
        self.inner.stream_sessions(channel, after, limit).await
    }
    async fn stream_session(
        &self,
        channel: AccountId,
        stream_id: &str,
    ) -> StoreResult<Option<StreamSession>> {
        self.inner.stream_session(channel, stream_id).await
    }
    async fn stream_events(
        &self,
        channel: AccountId,
        stream_id: &str,
    ) -> StoreResult<Vec<StreamEvent>> {
        self.inner.stream_events(channel, stream_id).await
    }
    async fn set_ingest_configuration(
        &self,
        channel: AccountId,
        stream_id: &str,
        configuration: &IngestConfiguration,
    ) -> StoreResult<()> {
        self.inner
            .set_ingest_configuration(channel, stream_id, configuration)
            .await
    }
    async fn put_metric_samples(
        &self,
        channel: AccountId,
        stream_id: &str,
        samples: &[MetricSample],
    ) -> StoreResult<()> {
        self.inner
            .put_metric_samples(channel, stream_id, samples)
            .await
    }
    async fn metric_samples(
        &self,
        channel: AccountId,
        stream_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<MetricSample>> {
        self.inner
            .metric_samples(channel, stream_id, from, to)
            .await
    }
    async fn cached_metrics(
        &self,
        channel: AccountId,
        stream_id: &str,
        key: &str,
    ) -> StoreResult<Option<serde_json::Value>> {
        self.inner.cached_metrics(channel, stream_id, key).await
    }
    async fn put_cached_metrics(
        &self,
        channel: AccountId,
        stream_id: &str,
        key: &str,
        metrics: &serde_json::Value,
    ) -> StoreResult<()> {
        self.inner
            .put_cached_metrics(channel, stream_id, key, metrics)
            .await
    }
}

#[async_trait]
impl Store for GatedStore {
    async fn ping(&self) -> StoreResult<()> {
        self.inner.ping().await
    }
}
