//! The channel actor: one per active channel. It owns the channel's live state — presence,
//! chat, moderation, the one active stream action, the running poll (as a child actor) — and
//! fans events out to the channel's hub.
//!
//! Recovery: everything that must survive a crash is in the store (chat history, moderation,
//! polls and votes) or in a snapshot it keeps there (the active action), and the hub of
//! subscribers lives outside the actor. A restarted channel actor reloads and carries on.

mod chat;
mod history;
mod msg;

use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::Arc,
    time::Duration,
};

use chrono::{DateTime, Utc};
use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};
use tokio::{task::JoinHandle, time::Instant};
use uuid::Uuid;

pub use msg::{ChannelError, ChannelMsg, ChannelResult, ChannelState, ChatAuthor, Moderation};

use history::History;

use super::{
    RealtimeDeps,
    hub::{Hub, close},
    poll::{PollActor, PollArgs, PollMsg},
    stage::{
        self, JoinRequest, JoinVia, StageActor, StageArgs, StageError, StageJoin, StageMsg,
        StageResult, StageSnapshot, StageView,
    },
};
use crate::{
    domain::{AccountId, ChatSettings, StreamAction},
    gateway::protocol::{
        ActiveActionView, ChatLine, PollView, ServerFrame, SnapshotFrame, ViewerRole,
    },
    store::{PollRecord, Restriction, RestrictionKind},
};

pub struct ChannelActor;

pub struct ChannelArgs {
    pub channel: AccountId,
    pub hub: Arc<Hub>,
    pub deps: Arc<RealtimeDeps>,
}

/// The running poll, as the channel knows it.
struct RunningPoll {
    view: PollView,
    actor: Option<ActorRef<PollMsg>>,
}

struct ActiveAction {
    view: ActiveActionView,
    timer: Option<JoinHandle<Result<(), ractor::MessagingErr<ChannelMsg>>>>,
}

pub struct Channel {
    channel: AccountId,
    username: String,
    hub: Arc<Hub>,
    deps: Arc<RealtimeDeps>,
    live_since: Option<DateTime<Utc>>,
    settings: ChatSettings,
    moderators: HashSet<AccountId>,
    /// Restrictions in force, by user (expired ones are pruned when met).
    restrictions: HashMap<AccountId, Vec<Restriction>>,
    /// Recent chat, oldest first, for snapshots and replay.
    chat: History,
    last_offset: Option<u64>,
    /// Messages waiting for the end of the current chat tick.
    pending_chat: Vec<ChatLine>,
    last_chat_flush: Option<Instant>,
    flush_scheduled: bool,
    /// Per user: when they last chatted (slow mode) and their recent message times (rate limit).
    chat_times: HashMap<AccountId, VecDeque<Instant>>,
    action: Option<ActiveAction>,
    poll: Option<RunningPoll>,
    last_presence: usize,
    idle_since: Option<Instant>,
    stage: Option<ActorRef<StageMsg>>,
    /// The stage's view and queue as its actor last reported them, for snapshots.
    stage_view: Option<StageView>,
    stage_queue: Vec<JoinRequest>,
}

fn snapshot_key(channel: AccountId) -> String {
    format!("channel:{}:action", channel.0)
}

impl Channel {
    fn broadcast(&self, frame: &ServerFrame) {
        self.hub.broadcast(&frame.to_bytes());
        // Also to IVS (timed metadata, the chat room) when configured; never waits.
        self.deps.relay.forward(self.channel, frame);
    }

    fn is_owner(&self, user: AccountId) -> bool {
        user == self.channel
    }

    fn is_moderator(&self, user: AccountId) -> bool {
        self.is_owner(user) || self.moderators.contains(&user)
    }

    fn active_restriction(
        &mut self,
        user: AccountId,
        kind: RestrictionKind,
    ) -> Option<Restriction> {
        let now = Utc::now();
        let list = self.restrictions.get_mut(&user)?;
        list.retain(|r| r.until.is_none_or(|u| u > now));
        list.iter().find(|r| r.kind == kind).cloned()
    }

    fn poll_view(&self) -> Option<PollView> {
        self.poll.as_ref().map(|p| p.view.clone())
    }

    async fn persist_action(&self) {
        let key = snapshot_key(self.channel);
        let result = match &self.action {
            Some(a) => match serde_json::to_value(&a.view) {
                Ok(v) => self.deps.store.put_snapshot(&key, &v).await,
                Err(e) => {
                    tracing::error!(error = %e, "action snapshot does not serialise");
                    Ok(())
                }
            },
            None => self.deps.store.delete_snapshot(&key).await,
        };
        if let Err(e) = result {
            tracing::warn!(channel = %self.channel, error = %e, "could not persist the action snapshot");
        }
    }
}

impl Actor for ChannelActor {
    type Msg = ChannelMsg;
    type State = Channel;
    type Arguments = ChannelArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<ChannelMsg>,
        args: ChannelArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        let ChannelArgs { channel, hub, deps } = args;
        let store = &deps.store;
        let account = store
            .account(channel)
            .await?
            .ok_or_else(|| format!("channel {channel} does not exist"))?;
        let now = Utc::now();
        let settings = store.chat_settings(channel).await?;
        let moderators = store.moderators(channel).await?.into_iter().collect();
        let mut restrictions: HashMap<AccountId, Vec<Restriction>> = HashMap::new();
        for r in store.restrictions(channel, now).await? {
            restrictions.entry(r.user).or_default().push(r);
        }
        let history = store
            .recent_chat(channel, deps.settings.chat_history)
            .await?;
        let last_offset = store.last_chat_offset(channel).await?;
        // History keeps names, not colors: look each author's color up once.
        let mut colors: HashMap<AccountId, crate::domain::Color> = HashMap::new();
        for m in &history {
            if let std::collections::hash_map::Entry::Vacant(slot) = colors.entry(m.author) {
                let account = store.account(m.author).await?;
                slot.insert(account.map_or(crate::domain::Color::Blue, |a| a.color));
            }
        }
        let mut chat = History::new(deps.settings.chat_history);
        for m in history {
            chat.push(&ChatLine {
                offset: m.offset,
                user_id: m.author.0,
                color: colors[&m.author],
                username: m.username,
                text: m.text,
                sent_at: m.sent_at,
            });
        }

        let mut state = Channel {
            channel,
            username: account.username.to_string(),
            hub,
            deps: deps.clone(),
            live_since: account.live_since,
            settings,
            moderators,
            restrictions,
            chat,
            last_offset,
            pending_chat: Vec::new(),
            last_chat_flush: None,
            flush_scheduled: false,
            chat_times: HashMap::new(),
            action: None,
            poll: None,
            last_presence: 0,
            idle_since: None,
            stage: None,
            stage_view: None,
            stage_queue: Vec::new(),
        };

        // Resume the action that was active, with the time it had left.
        if let Some(value) = store.snapshot(&snapshot_key(channel)).await? {
            match serde_json::from_value::<ActiveActionView>(value) {
                Ok(view) if view.expires_at.is_none_or(|e| e > now) => {
                    // A poll's own actor ends a poll action; other actions end on this timer.
                    let is_poll = matches!(view.action, StreamAction::Poll(_));
                    let timer = view.expires_at.filter(|_| !is_poll).map(|e| {
                        let id = view.id;
                        myself.send_after((e - now).to_std().unwrap_or_default(), move || {
                            ChannelMsg::ActionExpired { action_id: id }
                        })
                    });
                    state.action = Some(ActiveAction { view, timer });
                }
                _ => store.delete_snapshot(&snapshot_key(channel)).await?,
            }
        }
        // Resume a poll that was running (it may have ended while we were down: the poll actor
        // then closes it at once).
        if let Some(record) = store
            .channel_polls(channel, 1)
            .await?
            .into_iter()
            .find(|p| p.closed_at.is_none())
        {
            let actor = spawn_poll(&myself, &state, record.id).await?;
            state.poll = Some(RunningPoll {
                view: poll_view(&record),
                actor: Some(actor),
            });
        }
        // A poll action whose poll closed just before the crash: announce the result that may
        // not have gone out, and end the action.
        if let Some(action) = &state.action
            && matches!(action.view.action, StreamAction::Poll(_))
            && state
                .poll
                .as_ref()
                .is_none_or(|p| p.view.id != action.view.id)
        {
            if let Some(record) = store.poll(action.view.id).await? {
                state.broadcast(&ServerFrame::PollClosed {
                    channel: channel.0,
                    poll: poll_view(&record),
                });
            }
            end_action(&mut state, "expired").await;
        }

        // Resume the stage, if one was live.
        if let Some(value) = store.snapshot(&stage::snapshot_key(channel)).await? {
            match serde_json::from_value::<StageSnapshot>(value) {
                Ok(snapshot) => {
                    let actor = spawn_stage(&myself, &state, Some(snapshot)).await?;
                    state.stage = Some(actor);
                    // Until a host connection arrives, the host counts as away.
                    if !state.hub.has_user(channel) {
                        let _ = state
                            .stage
                            .as_ref()
                            .map(|s| s.cast(StageMsg::HostPresence { connected: false }));
                    }
                }
                Err(e) => {
                    tracing::error!(%channel, error = %e, "unreadable stage snapshot; dropping it");
                    store.delete_snapshot(&stage::snapshot_key(channel)).await?;
                    store.set_stage(channel, None).await?;
                }
            }
        }

        myself.send_interval(Duration::from_secs(1), || ChannelMsg::Tick);
        tracing::debug!(%channel, "channel actor started");
        Ok(state)
    }

    async fn handle(
        &self,
        myself: ActorRef<ChannelMsg>,
        message: ChannelMsg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            ChannelMsg::Subscribe {
                subscriber,
                request_id,
                chat_offset,
                reply,
            } => {
                let _ = reply.send(subscribe(state, subscriber, request_id, chat_offset).await);
            }
            ChannelMsg::Unsubscribe { conn, user } => {
                state.hub.remove(conn);
                if user == Some(state.channel)
                    && !state.hub.has_user(state.channel)
                    && let Some(stage) = &state.stage
                {
                    let _ = stage.cast(StageMsg::HostPresence { connected: false });
                }
            }
            ChannelMsg::StartStage { by, reply } => {
                let outcome = start_stage(&myself, state, by).await;
                let _ = reply.send(outcome);
            }
            ChannelMsg::ForStage(message) => {
                let banned = message
                    .requester()
                    .is_some_and(|u| state.active_restriction(u, RestrictionKind::Ban).is_some());
                match &state.stage {
                    _ if banned => stage::refuse(
                        message,
                        StageError::Forbidden("you are banned from this channel"),
                    ),
                    Some(stage) => {
                        if let Err(ractor::MessagingErr::SendErr(message)) = stage.cast(message) {
                            stage::refuse(
                                message,
                                StageError::Unavailable("stage restarting".into()),
                            );
                        }
                    }
                    None => stage::refuse(message, StageError::NoStage),
                }
            }
            ChannelMsg::StageUpdated { view, queue } => {
                if view.is_none() {
                    state.stage = None;
                }
                state.stage_view = view;
                state.stage_queue = queue;
            }
            ChannelMsg::SendChat {
                author,
                text,
                reply,
            } => {
                let outcome = chat::send(state, &myself, author, text).await;
                let _ = reply.send(outcome);
            }
            ChannelMsg::DeleteChat { by, offset, reply } => {
                let _ = reply.send(chat::delete(state, by, offset).await);
            }
            ChannelMsg::Moderate { by, command, reply } => {
                let _ = reply.send(chat::moderate(state, by, command).await);
            }
            ChannelMsg::FlushChat => chat::flush(state),
            ChannelMsg::StartAction { by, action, reply } => {
                let outcome = start_action(&myself, state, by, action).await;
                let _ = reply.send(outcome);
            }
            ChannelMsg::StopAction { by, reply } => {
                let outcome = if !state.is_owner(by) {
                    Err(ChannelError::Forbidden(
                        "only the channel owner can stop actions",
                    ))
                } else if state.action.is_none() {
                    Err(ChannelError::NoAction)
                } else {
                    end_action(state, "stopped").await;
                    Ok(())
                };
                let _ = reply.send(outcome);
            }
            ChannelMsg::ActionExpired { action_id } => {
                if state
                    .action
                    .as_ref()
                    .is_some_and(|a| a.view.id == action_id)
                {
                    end_action(state, "expired").await;
                }
            }
            ChannelMsg::Vote {
                voter,
                poll_id,
                option,
                reply,
            } => match &state.poll {
                Some(RunningPoll {
                    view,
                    actor: Some(actor),
                }) if view.id == poll_id => {
                    // If the poll actor is restarting, the voter is told so and may try again.
                    if let Err(ractor::MessagingErr::SendErr(PollMsg::Vote { reply, .. })) = actor
                        .cast(PollMsg::Vote {
                            voter,
                            option,
                            reply,
                        })
                    {
                        let _ =
                            reply.send(Err(ChannelError::Unavailable("poll restarting".into())));
                    }
                }
                _ => {
                    let _ = reply.send(Err(ChannelError::NoPoll));
                }
            },
            ChannelMsg::PollTallied {
                poll_id,
                tally,
                total,
            } => {
                if let Some(poll) = state.poll.as_mut().filter(|p| p.view.id == poll_id) {
                    poll.view.tally = tally.clone();
                    poll.view.total = total;
                    state.broadcast(&ServerFrame::PollTally {
                        channel: state.channel.0,
                        poll_id,
                        tally,
                        total,
                    });
                }
            }
            ChannelMsg::PollEnded { record } => {
                let view = poll_view(&record);
                if state.poll.as_ref().is_some_and(|p| p.view.id == record.id) {
                    state.poll = None;
                }
                state.broadcast(&ServerFrame::PollClosed {
                    channel: state.channel.0,
                    poll: view,
                });
                if state
                    .action
                    .as_ref()
                    .is_some_and(|a| a.view.id == record.id)
                {
                    end_action(state, "expired").await;
                }
            }
            ChannelMsg::SetLive { since } => {
                if state.live_since != since {
                    state.live_since = since;
                    state.broadcast(&ServerFrame::Live {
                        channel: state.channel.0,
                        live: since.is_some(),
                        since,
                    });
                }
            }
            ChannelMsg::GetState { reply } => {
                let _ = reply.send(ChannelState {
                    live_since: state.live_since,
                    stage: state.stage_view.clone(),
                    viewers: state.hub.len(),
                    action: state.action.as_ref().map(|a| a.view.clone()),
                    poll: state.poll_view(),
                    settings: state.settings.clone(),
                    moderators: state.moderators.iter().copied().collect(),
                });
            }
            ChannelMsg::Tick => {
                let viewers = state.hub.len();
                if viewers != state.last_presence {
                    state.last_presence = viewers;
                    state.broadcast(&ServerFrame::Presence {
                        channel: state.channel.0,
                        viewers,
                    });
                }
                let busy = viewers > 0
                    || state.poll.is_some()
                    || state.action.is_some()
                    || state.stage.is_some();
                if busy {
                    state.idle_since = None;
                } else {
                    let since = *state.idle_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= state.deps.settings.idle_timeout {
                        tracing::debug!(channel = %state.channel, "channel idle; stopping its actor");
                        myself.stop(Some("idle".into()));
                    }
                }
            }
            ChannelMsg::Crash => return Err("crash requested".into()),
            ChannelMsg::CrashPoll => {
                if let Some(actor) = state.poll.as_ref().and_then(|p| p.actor.as_ref()) {
                    let _ = actor.cast(PollMsg::Crash);
                }
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<ChannelMsg>,
        event: SupervisionEvent,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        // The only children are poll actors. A failed poll is restarted from the store, keeping
        // every vote it acknowledged; a poll that ended normally needs nothing.
        if let SupervisionEvent::ActorFailed(cell, error) = &event
            && state
                .stage
                .as_ref()
                .is_some_and(|s| s.get_id() == cell.get_id())
        {
            tracing::warn!(channel = %state.channel, %error, "stage actor failed; restarting it from its snapshot");
            state.stage = None;
            if let Some(value) = state
                .deps
                .store
                .snapshot(&stage::snapshot_key(state.channel))
                .await?
                && let Ok(snapshot) = serde_json::from_value::<StageSnapshot>(value)
            {
                let actor = spawn_stage(&myself, state, Some(snapshot)).await?;
                state.stage = Some(actor);
            }
            return Ok(());
        }
        if let SupervisionEvent::ActorFailed(cell, error) = event {
            let Some(poll) = state.poll.as_mut() else {
                return Ok(());
            };
            if poll
                .actor
                .as_ref()
                .is_some_and(|a| a.get_id() == cell.get_id())
            {
                tracing::warn!(channel = %state.channel, poll = %poll.view.id, %error, "poll actor failed; restarting it");
                poll.actor = None;
                let id = poll.view.id;
                let actor = spawn_poll(&myself, state, id).await?;
                if let Some(poll) = state.poll.as_mut() {
                    poll.actor = Some(actor);
                }
            }
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<ChannelMsg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        chat::flush(state);
        Ok(())
    }
}

async fn spawn_poll(
    myself: &ActorRef<ChannelMsg>,
    state: &Channel,
    poll_id: Uuid,
) -> Result<ActorRef<PollMsg>, ActorProcessingErr> {
    let (actor, _) = Actor::spawn_linked(
        None,
        PollActor,
        PollArgs {
            poll_id,
            channel: myself.clone(),
            deps: state.deps.clone(),
        },
        myself.get_cell(),
    )
    .await?;
    Ok(actor)
}

async fn spawn_stage(
    myself: &ActorRef<ChannelMsg>,
    state: &Channel,
    resume: Option<StageSnapshot>,
) -> Result<ActorRef<StageMsg>, ActorProcessingErr> {
    let (actor, _) = Actor::spawn_linked(
        None,
        StageActor,
        StageArgs {
            channel: state.channel,
            hub: state.hub.clone(),
            deps: state.deps.clone(),
            parent: myself.clone(),
            resume,
            host_username: state.username.clone(),
        },
        myself.get_cell(),
    )
    .await?;
    Ok(actor)
}

/// Creates the stage (owner only) if needed and joins the owner as its host.
async fn start_stage(
    myself: &ActorRef<ChannelMsg>,
    state: &mut Channel,
    by: AccountId,
) -> StageResult<StageJoin> {
    if !state.is_owner(by) {
        return Err(StageError::Forbidden(
            "only the channel owner hosts a stage",
        ));
    }
    if state.stage.is_none() {
        let actor = spawn_stage(myself, state, None)
            .await
            .map_err(|e| StageError::Unavailable(e.to_string()))?;
        state.stage = Some(actor);
        if !state.hub.has_user(by) {
            let _ = state
                .stage
                .as_ref()
                .map(|s| s.cast(StageMsg::HostPresence { connected: false }));
        }
    }
    let stage = state.stage.clone().ok_or(StageError::NoStage)?;
    let username = state.username.clone();
    match stage
        .call(
            |reply| StageMsg::Join {
                user: by,
                username: username.clone(),
                via: JoinVia::Host,
                reply,
            },
            Some(Duration::from_secs(10)),
        )
        .await
    {
        Ok(ractor::rpc::CallResult::Success(outcome)) => outcome,
        _ => Err(StageError::Unavailable("stage not answering".into())),
    }
}

pub(crate) fn poll_view(record: &PollRecord) -> PollView {
    PollView {
        id: record.id,
        question: record.question.clone(),
        options: record.options.clone(),
        total: record.tally.iter().sum(),
        tally: record.tally.clone(),
        started_at: record.started_at,
        deadline: record.deadline,
        closed: record.closed_at.is_some(),
    }
}

async fn subscribe(
    state: &mut Channel,
    subscriber: super::hub::Subscriber,
    request_id: u64,
    chat_offset: Option<u64>,
) -> ChannelResult<()> {
    // Send held-back chat first: the snapshot has it, and the newcomer must not get it twice.
    chat::flush(state);
    let mut you = ViewerRole::default();
    if let Some(user) = subscriber.user {
        if state
            .active_restriction(user, RestrictionKind::Ban)
            .is_some()
        {
            return Err(ChannelError::Banned);
        }
        you.signed_in = true;
        you.owner = state.is_owner(user);
        you.moderator = state.is_moderator(user);
        you.timed_out_until = state
            .active_restriction(user, RestrictionKind::Timeout)
            .and_then(|r| r.until);
        if let Some(actor) = state.poll.as_ref().and_then(|p| p.actor.as_ref())
            && let Ok(ractor::rpc::CallResult::Success(vote)) = actor
                .call(
                    |reply| PollMsg::VoteOf { voter: user, reply },
                    Some(Duration::from_secs(2)),
                )
                .await
        {
            you.poll_vote = vote;
        }
        if you.owner
            && !state.hub.has_user(user)
            && let Some(stage) = &state.stage
        {
            let _ = stage.cast(StageMsg::HostPresence { connected: true });
        }
    }
    let stage = state.stage_view.as_ref().map(|view| {
        let mut value = serde_json::to_value(view).unwrap_or_default();
        // Only the host sees who is waiting.
        if you.owner {
            value["queue"] = serde_json::to_value(&state.stage_queue).unwrap_or_default();
        }
        value
    });
    // Replay what the client missed, or all we keep for a first subscription.
    let history_lost = chat_offset.is_some_and(|seen| {
        // Lost if messages after `seen` existed that we no longer keep.
        state.chat.oldest().is_some_and(|o| o > seen + 1)
            && state.last_offset.is_some_and(|l| l > seen)
    });
    let snapshot = SnapshotFrame {
        id: request_id,
        channel: state.channel.0,
        username: &state.username,
        viewers: state.hub.len() + 1,
        live: state.live_since.is_some(),
        live_since: state.live_since,
        action: state.action.as_ref().map(|a| &a.view),
        poll: state.poll.as_ref().map(|p| &p.view),
        stage: stage.as_ref(),
        messages: state.chat.since(chat_offset),
        last_offset: state.last_offset,
        history_lost,
        settings: &state.settings,
        you: &you,
    };
    subscriber.sender.send_frame(&snapshot.wire_frame());
    state.hub.insert(subscriber);
    Ok(())
}

async fn start_action(
    myself: &ActorRef<ChannelMsg>,
    state: &mut Channel,
    by: AccountId,
    action: StreamAction,
) -> ChannelResult<ActiveActionView> {
    if !state.is_owner(by) {
        return Err(ChannelError::Forbidden(
            "only the channel owner can start actions",
        ));
    }
    if state.stage.is_some() && !matches!(action, StreamAction::Poll(_)) {
        return Err(ChannelError::StageLive);
    }
    // The store is written once, below, with the new action in place of the old.
    let replaced = close_action(state, "replaced");
    // Millisecond precision, as the store keeps times: what viewers are told now is what a
    // restarted actor tells them later.
    let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 3);
    let expires_at = action
        .duration()
        .map(|d| now + chrono::Duration::from_std(d).unwrap_or_default());
    let id = Uuid::now_v7();
    if let StreamAction::Poll(spec) = &action {
        let record = PollRecord {
            id,
            channel: state.channel,
            question: spec.question.clone(),
            options: spec.options.clone(),
            started_at: now,
            deadline: expires_at.unwrap_or(now),
            closed_at: None,
            tally: vec![0; spec.options.len()],
        };
        let started = match state.deps.store.create_poll(&record).await {
            Ok(()) => spawn_poll(myself, state, id)
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let actor = match started {
            Ok(actor) => actor,
            Err(e) => {
                // Viewers were told the replaced action ended; a restart must not revive it.
                if replaced {
                    state.persist_action().await;
                }
                return Err(ChannelError::Unavailable(e));
            }
        };
        let view = poll_view(&record);
        state.poll = Some(RunningPoll {
            view: view.clone(),
            actor: Some(actor),
        });
        state.broadcast(&ServerFrame::PollStarted {
            channel: state.channel.0,
            poll: view,
        });
    }
    let view = ActiveActionView {
        id,
        action,
        started_at: now,
        expires_at,
    };
    // A poll's own actor ends it at the deadline; other actions end on this timer.
    let timer = match (&view.action, expires_at) {
        (StreamAction::Poll(_), _) | (_, None) => None,
        (_, Some(at)) => Some(
            myself.send_after((at - now).to_std().unwrap_or_default(), move || {
                ChannelMsg::ActionExpired { action_id: id }
            }),
        ),
    };
    state.action = Some(ActiveAction {
        view: view.clone(),
        timer,
    });
    // Viewers first, then the store (the owner's reply still waits for it): a failed write is
    // only logged either way, and an `fsync` here took up to ~150 ms, which every viewer
    // waited for. A crash in between loses the overlay, as a failed write does.
    state.broadcast(&ServerFrame::ActionStarted {
        channel: state.channel.0,
        action: view.clone(),
    });
    state.persist_action().await;
    Ok(view)
}

/// Ends the active action. Ending a poll action closes the poll, keeping its results.
async fn end_action(state: &mut Channel, reason: &str) {
    if close_action(state, reason) {
        state.persist_action().await;
    }
}

/// Ends the active action without writing the store; false if there was none.
fn close_action(state: &mut Channel, reason: &str) -> bool {
    let Some(action) = state.action.take() else {
        return false;
    };
    if let Some(timer) = action.timer {
        timer.abort();
    }
    if matches!(action.view.action, StreamAction::Poll(_))
        && let Some(poll) = state.poll.as_ref().filter(|p| p.view.id == action.view.id)
        && let Some(actor) = &poll.actor
    {
        // The poll actor stores the results and reports `PollEnded`.
        let _ = actor.cast(PollMsg::Close);
    }
    // Viewers first, as when it started.
    state.broadcast(&ServerFrame::ActionEnded {
        channel: state.channel.0,
        action_id: action.view.id,
        reason: reason.into(),
    });
    true
}

/// Closes every connection of a banned user in this channel.
pub(crate) fn eject(state: &Channel, user: AccountId) {
    state
        .hub
        .close_user(user, close::BANNED, "banned from this channel");
}

#[cfg(test)]
mod tests;
