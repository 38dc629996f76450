//! The stage actor: one per live stage, child of its channel's actor. It holds who publishes
//! (at most [`MAX_PUBLISHERS`], the host included), the FIFO queue of join requests and the
//! invite code, and it is the only place that decides who gets a publish token — so the limit
//! holds however many requests arrive at once.
//!
//! Lifecycle: created by the channel owner (the host); ends when the host ends it, when the
//! host has been disconnected for the grace period, or when nobody has been on it for the idle
//! period. Its state is kept in a store snapshot after every change, so a restart resumes it.

mod msg;
mod reconcile;

use std::{
    collections::{BTreeMap, VecDeque},
    sync::Arc,
    time::Duration,
};

use chrono::{DateTime, Utc};
use ractor::{Actor, ActorProcessingErr, ActorRef};
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;
use uuid::Uuid;

pub(crate) use msg::refuse;
pub use msg::{JoinVia, StageError, StageJoin, StageMsg, StageResult};

use super::{RealtimeDeps, channel::ChannelMsg, hub::Hub};
use crate::{
    domain::AccountId,
    gateway::protocol::ServerFrame,
    stages::{Capability, ParticipantToken},
};

/// The most people publishing on one stage, host included.
pub const MAX_PUBLISHERS: usize = 12;
/// How long participant tokens are valid.
const TOKEN_VALIDITY: Duration = Duration::from_secs(12 * 3600);

/// `updated` goes to every viewer of the channel, and a rush of join requests changes the queue
/// length hundreds of times a second: one frame per change queued that many frames in every
/// viewer's outbox (1,000 requests at once closed half of 1,000 watchers as slow consumers). So
/// the view goes out at most this often: a change at once, later ones folded into one frame at
/// the end of the interval, which carries the latest view.
const VIEW_EVERY: Duration = Duration::from_millis(200);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Host,
    /// Joined through the invite link.
    Invited,
    /// Accepted from the join-request queue.
    Requested,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Publisher {
    pub user_id: Uuid,
    pub username: String,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
    /// The media service's id of their current token.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub participant_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JoinRequest {
    pub user_id: Uuid,
    pub username: String,
    pub requested_at: DateTime<Utc>,
}

/// The stage as everyone sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageView {
    pub id: Uuid,
    pub host_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub publishers: Vec<Publisher>,
    pub capacity: usize,
    pub queue_length: usize,
    pub host_connected: bool,
}

/// Everything a restarted stage actor needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StageSnapshot {
    pub id: Uuid,
    pub arn: String,
    pub host: AccountId,
    pub created_at: DateTime<Utc>,
    pub publishers: BTreeMap<AccountId, Publisher>,
    pub queue: VecDeque<JoinRequest>,
    pub invite: Option<String>,
    pub host_away_since: Option<DateTime<Utc>>,
}

pub fn snapshot_key(channel: AccountId) -> String {
    format!("stage:{}", channel.0)
}

pub struct StageActor;

pub struct StageArgs {
    pub channel: AccountId,
    pub hub: Arc<Hub>,
    pub deps: Arc<RealtimeDeps>,
    pub parent: ActorRef<ChannelMsg>,
    /// `Some` to resume; `None` to create a new stage hosted by the channel owner.
    pub resume: Option<StageSnapshot>,
    pub host_username: String,
}

pub struct StageState {
    channel: AccountId,
    hub: Arc<Hub>,
    deps: Arc<RealtimeDeps>,
    parent: ActorRef<ChannelMsg>,
    snap: StageSnapshot,
    grace_timer: Option<JoinHandle<Result<(), ractor::MessagingErr<StageMsg>>>>,
    /// Since when nobody publishes.
    empty_since: Option<tokio::time::Instant>,
    ended: bool,
    myself: ActorRef<StageMsg>,
    /// When the last `updated` frame went out.
    view_sent: Option<tokio::time::Instant>,
    /// A `FlushView` is on its way and will send the latest view.
    view_flush_scheduled: bool,
}

impl StageState {
    fn view(&self) -> StageView {
        StageView {
            id: self.snap.id,
            host_id: self.snap.host.0,
            created_at: self.snap.created_at,
            publishers: self
                .snap
                .publishers
                .values()
                .map(|p| Publisher {
                    participant_id: None,
                    ..p.clone()
                })
                .collect(),
            capacity: MAX_PUBLISHERS,
            queue_length: self.snap.queue.len(),
            host_connected: self.snap.host_away_since.is_none(),
        }
    }

    fn queue(&self) -> Vec<JoinRequest> {
        self.snap.queue.iter().cloned().collect()
    }

    /// Persists, tells the channel (for snapshots), and broadcasts the new view (throttled, see
    /// [`VIEW_EVERY`]).
    async fn changed(&mut self) {
        let store = &self.deps.store;
        match serde_json::to_value(&self.snap) {
            Ok(v) => {
                if let Err(e) = store.put_snapshot(&snapshot_key(self.channel), &v).await {
                    tracing::warn!(channel = %self.channel, error = %e, "stage snapshot not saved");
                }
            }
            Err(e) => tracing::error!(error = %e, "stage snapshot does not serialise"),
        }
        let _ = self.parent.cast(ChannelMsg::StageUpdated {
            view: Some(self.view()),
            queue: self.queue(),
        });
        if self.view_flush_scheduled {
            return;
        }
        let wait = self
            .view_sent
            .map_or(Duration::ZERO, |at| VIEW_EVERY.saturating_sub(at.elapsed()));
        if wait.is_zero() {
            self.send_view();
        } else {
            self.view_flush_scheduled = true;
            self.myself.send_after(wait, || StageMsg::FlushView);
        }
    }

    fn send_view(&mut self) {
        self.view_sent = Some(tokio::time::Instant::now());
        self.broadcast(serde_json::json!({ "kind": "updated", "stage": self.view() }));
    }

    fn broadcast(&self, event: serde_json::Value) {
        self.hub.broadcast(
            &ServerFrame::Stage {
                channel: self.channel.0,
                event,
            }
            .to_bytes(),
        );
    }

    fn tell_host(&self, event: serde_json::Value) {
        self.tell(self.snap.host, event);
    }

    fn tell(&self, user: AccountId, event: serde_json::Value) {
        self.hub.send_to_user(
            user,
            &ServerFrame::Notice {
                channel: self.channel.0,
                event,
            }
            .to_bytes(),
        );
    }

    fn is_host(&self, user: AccountId) -> bool {
        user == self.snap.host
    }

    async fn token(
        &self,
        user: AccountId,
        username: &str,
        capabilities: &[Capability],
    ) -> StageResult<ParticipantToken> {
        let mut attributes = BTreeMap::new();
        attributes.insert("username".to_owned(), username.to_owned());
        attributes.insert("channel".to_owned(), self.channel.0.to_string());
        self.deps
            .stages
            .participant_token(
                &self.snap.arn,
                &user.0.to_string(),
                capabilities,
                attributes,
                TOKEN_VALIDITY,
            )
            .await
            .map_err(|e| StageError::Unavailable(e.to_string()))
    }

    /// Takes a publishing slot for `user` and mints their publish token. The slot check and the
    /// insert happen in one message handler: nothing can interleave.
    async fn admit(
        &mut self,
        user: AccountId,
        username: String,
        role: Role,
    ) -> StageResult<StageJoin> {
        let already = self.snap.publishers.contains_key(&user);
        if !already && self.snap.publishers.len() >= MAX_PUBLISHERS {
            let spectator = self
                .token(user, &username, &[Capability::Subscribe])
                .await?;
            return Err(StageError::Full(Some(Box::new(spectator))));
        }
        let token = self
            .token(
                user,
                &username,
                &[Capability::Publish, Capability::Subscribe],
            )
            .await?;
        let role = self
            .snap
            .publishers
            .get(&user)
            .map(|p| p.role)
            .unwrap_or(role);
        self.snap.publishers.insert(
            user,
            Publisher {
                user_id: user.0,
                username,
                role,
                joined_at: Utc::now(),
                participant_id: Some(token.participant_id.clone()),
            },
        );
        self.snap.queue.retain(|r| r.user_id != user.0);
        self.empty_since = None;
        Ok(StageJoin { token, role })
    }

    /// Frees a slot; disconnects their media session.
    async fn drop_publisher(&mut self, user: AccountId, reason: &str) -> Option<Publisher> {
        let publisher = self.snap.publishers.remove(&user)?;
        if let Some(pid) = &publisher.participant_id
            && let Err(e) = self
                .deps
                .stages
                .disconnect(&self.snap.arn, pid, reason)
                .await
        {
            tracing::warn!(error = %e, "could not disconnect a stage participant");
        }
        if self.snap.publishers.is_empty() {
            self.empty_since = Some(tokio::time::Instant::now());
        }
        Some(publisher)
    }
}

impl Actor for StageActor {
    type Msg = StageMsg;
    type State = StageState;
    type Arguments = StageArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<StageMsg>,
        args: StageArgs,
    ) -> Result<StageState, ActorProcessingErr> {
        let deps = args.deps.clone();
        let snap = match args.resume {
            Some(mut snap) => {
                reconcile::drop_departed(&*deps.stages, &mut snap).await;
                snap
            }
            None => {
                let arn = deps.stages.create_stage(args.channel).await?;
                let now = Utc::now();
                deps.store.set_stage(args.channel, Some(now)).await?;
                StageSnapshot {
                    id: Uuid::now_v7(),
                    arn,
                    host: args.channel,
                    created_at: now,
                    publishers: BTreeMap::new(),
                    queue: VecDeque::new(),
                    invite: None,
                    host_away_since: None,
                }
            }
        };
        let mut state = StageState {
            channel: args.channel,
            hub: args.hub,
            deps,
            parent: args.parent,
            empty_since: snap.publishers.is_empty().then(tokio::time::Instant::now),
            snap,
            grace_timer: None,
            ended: false,
            myself: myself.clone(),
            view_sent: None,
            view_flush_scheduled: false,
        };
        // A stage resumed while its host was away keeps counting from when they left.
        if let Some(away) = state.snap.host_away_since {
            let grace = state.deps.settings.stage_host_grace;
            let left = grace.saturating_sub((Utc::now() - away).to_std().unwrap_or_default());
            state.grace_timer = Some(myself.send_after(left, || StageMsg::GraceExpired));
        }
        myself.send_interval(Duration::from_secs(5), || StageMsg::Tick);
        let _ = args.host_username;
        state.changed().await;
        Ok(state)
    }

    async fn handle(
        &self,
        myself: ActorRef<StageMsg>,
        message: StageMsg,
        state: &mut StageState,
    ) -> Result<(), ActorProcessingErr> {
        if state.ended {
            msg::refuse_ended(message);
            return Ok(());
        }
        match message {
            StageMsg::Join {
                user,
                username,
                via,
                reply,
            } => {
                let outcome = match via {
                    JoinVia::Host if state.is_host(user) => {
                        state.admit(user, username, Role::Host).await
                    }
                    JoinVia::Host => Err(StageError::Forbidden("only the host joins as host")),
                    JoinVia::Invite(code) => {
                        if state.snap.invite.as_deref() == Some(code.as_str()) {
                            state.admit(user, username, Role::Invited).await
                        } else {
                            Err(StageError::InvalidInvite)
                        }
                    }
                    // Someone already admitted (accepted, or rejoining) gets a fresh token.
                    JoinVia::Rejoin if state.snap.publishers.contains_key(&user) => {
                        state.admit(user, username, Role::Requested).await
                    }
                    JoinVia::Rejoin => Err(StageError::NotAParticipant),
                };
                if outcome.is_ok() {
                    state.changed().await;
                }
                let _ = reply.send(outcome);
            }
            StageMsg::Spectate { user, reply } => {
                let id = user
                    .map(|u| u.0.to_string())
                    .unwrap_or_else(|| format!("anon-{}", Uuid::new_v4().simple()));
                let outcome = state
                    .deps
                    .stages
                    .participant_token(
                        &state.snap.arn,
                        &id,
                        &[Capability::Subscribe],
                        BTreeMap::new(),
                        TOKEN_VALIDITY,
                    )
                    .await
                    .map_err(|e| StageError::Unavailable(e.to_string()));
                let _ = reply.send(outcome);
            }
            StageMsg::Request {
                user,
                username,
                reply,
            } => {
                let outcome = if state.snap.publishers.contains_key(&user) {
                    Err(StageError::AlreadyOnStage)
                } else if state.snap.queue.iter().any(|r| r.user_id == user.0) {
                    Err(StageError::AlreadyRequested)
                } else {
                    let request = JoinRequest {
                        user_id: user.0,
                        username,
                        requested_at: Utc::now(),
                    };
                    state.snap.queue.push_back(request.clone());
                    state.tell_host(
                        serde_json::json!({ "kind": "join_requested", "request": request }),
                    );
                    Ok(state.snap.queue.len())
                };
                if outcome.is_ok() {
                    state.changed().await;
                }
                let _ = reply.send(outcome);
            }
            StageMsg::Retract { user, reply } => {
                let before = state.snap.queue.len();
                state.snap.queue.retain(|r| r.user_id != user.0);
                let outcome = if state.snap.queue.len() < before {
                    state.tell_host(
                        serde_json::json!({ "kind": "join_retracted", "user_id": user.0 }),
                    );
                    state.changed().await;
                    Ok(())
                } else {
                    Err(StageError::NoRequest)
                };
                let _ = reply.send(outcome);
            }
            StageMsg::Accept { by, user, reply } => {
                let outcome = if !state.is_host(by) {
                    Err(StageError::Forbidden("only the host accepts requests"))
                } else {
                    match state
                        .snap
                        .queue
                        .iter()
                        .find(|r| r.user_id == user.0)
                        .cloned()
                    {
                        None => Err(StageError::NoRequest),
                        Some(request) => {
                            match state.admit(user, request.username, Role::Requested).await {
                                Ok(join) => {
                                    state.tell(user, serde_json::json!({ "kind": "join_accepted", "token": join.token, "role": join.role }));
                                    state.changed().await;
                                    Ok(())
                                }
                                // Full: the request stays queued; the host may accept it later.
                                Err(StageError::Full(_)) => Err(StageError::Full(None)),
                                Err(e) => Err(e),
                            }
                        }
                    }
                };
                let _ = reply.send(outcome);
            }
            StageMsg::Reject { by, user, reply } => {
                let outcome = if !state.is_host(by) {
                    Err(StageError::Forbidden("only the host rejects requests"))
                } else {
                    let before = state.snap.queue.len();
                    state.snap.queue.retain(|r| r.user_id != user.0);
                    if state.snap.queue.len() < before {
                        state.tell(user, serde_json::json!({ "kind": "join_rejected" }));
                        state.changed().await;
                        Ok(())
                    } else {
                        Err(StageError::NoRequest)
                    }
                };
                let _ = reply.send(outcome);
            }
            StageMsg::Remove { by, user, reply } => {
                let outcome = if !state.is_host(by) && by != user {
                    Err(StageError::Forbidden("only the host removes participants"))
                } else if state.is_host(user) {
                    Err(StageError::Forbidden(
                        "the host ends the stage instead of leaving it",
                    ))
                } else {
                    match state
                        .drop_publisher(
                            user,
                            if by == user {
                                "left"
                            } else {
                                "removed by the host"
                            },
                        )
                        .await
                    {
                        Some(_) => {
                            if by != user {
                                state.tell(
                                    user,
                                    serde_json::json!({ "kind": "removed_from_stage" }),
                                );
                            }
                            state.changed().await;
                            Ok(())
                        }
                        None => Err(StageError::NotAParticipant),
                    }
                };
                let _ = reply.send(outcome);
            }
            StageMsg::CreateInvite { by, reply } => {
                let outcome = if state.is_host(by) {
                    let code = crate::auth::Secret::generate().expose()[..22].to_owned();
                    state.snap.invite = Some(code.clone());
                    state.changed().await;
                    Ok(code)
                } else {
                    Err(StageError::Forbidden("only the host creates invites"))
                };
                let _ = reply.send(outcome);
            }
            StageMsg::RevokeInvite { by, reply } => {
                let outcome = if state.is_host(by) {
                    state.snap.invite = None;
                    state.changed().await;
                    Ok(())
                } else {
                    Err(StageError::Forbidden("only the host revokes invites"))
                };
                let _ = reply.send(outcome);
            }
            StageMsg::Queue { by, reply } => {
                let outcome = if state.is_host(by) {
                    Ok(state.queue())
                } else {
                    Err(StageError::Forbidden("only the host sees the queue"))
                };
                let _ = reply.send(outcome);
            }
            StageMsg::HostPresence { connected } => match (connected, state.snap.host_away_since) {
                (true, Some(_)) => {
                    state.snap.host_away_since = None;
                    if let Some(t) = state.grace_timer.take() {
                        t.abort();
                    }
                    state.changed().await;
                }
                (false, None) => {
                    state.snap.host_away_since = Some(Utc::now());
                    let grace = state.deps.settings.stage_host_grace;
                    state.grace_timer = Some(myself.send_after(grace, || StageMsg::GraceExpired));
                    state.changed().await;
                }
                _ => {}
            },
            StageMsg::GraceExpired => {
                if state.snap.host_away_since.is_some() {
                    end(&myself, state, "host_disconnected").await;
                }
            }
            StageMsg::Tick => {
                let idle = state.deps.settings.stage_idle;
                if state.empty_since.is_some_and(|t| t.elapsed() >= idle) {
                    end(&myself, state, "idle").await;
                }
            }
            StageMsg::End { by, reply } => {
                let outcome = if state.is_host(by) {
                    end(&myself, state, "ended_by_host").await;
                    Ok(())
                } else {
                    Err(StageError::Forbidden("only the host ends the stage"))
                };
                let _ = reply.send(outcome);
            }
            StageMsg::View { reply } => {
                let _ = reply.send(state.view());
            }
            StageMsg::FlushView => {
                state.view_flush_scheduled = false;
                state.send_view();
            }
            StageMsg::Crash => return Err("crash requested".into()),
        }
        Ok(())
    }
}

/// Ends the stage for everyone and stops the actor.
async fn end(myself: &ActorRef<StageMsg>, state: &mut StageState, reason: &str) {
    state.ended = true;
    if let Some(t) = state.grace_timer.take() {
        t.abort();
    }
    if let Err(e) = state.deps.stages.delete_stage(&state.snap.arn).await {
        tracing::warn!(error = %e, "could not delete the stage from the media service");
    }
    let store = &state.deps.store;
    if let Err(e) = store.set_stage(state.channel, None).await {
        tracing::warn!(error = %e, "could not clear the stage flag");
    }
    if let Err(e) = store.delete_snapshot(&snapshot_key(state.channel)).await {
        tracing::warn!(error = %e, "could not delete the stage snapshot");
    }
    for user in state.snap.publishers.keys() {
        state.tell(
            *user,
            serde_json::json!({ "kind": "stage_ended", "reason": reason }),
        );
    }
    state.broadcast(
        serde_json::json!({ "kind": "ended", "stage_id": state.snap.id, "reason": reason }),
    );
    let _ = state.parent.cast(ChannelMsg::StageUpdated {
        view: None,
        queue: Vec::new(),
    });
    tracing::info!(channel = %state.channel, reason, "stage ended");
    myself.stop(Some(reason.to_owned()));
}
