//! Live state in supervised `ractor` actors.
//!
//! ```text
//! Supervisor ──┬── ChannelActor (one per active channel) ──── PollActor (the running poll)
//!              └── …
//! Registry: channel id → (actor, hub)      Hub: the channel's subscribed connections
//! ```
//! Everyone else goes through [`Realtime`], a typed handle that hides ractor: it finds or
//! spawns the channel's actor, retries once if that actor just stopped, and turns messaging
//! failures into [`ChannelError::Unavailable`].

pub mod channel;
pub mod hub;
pub mod poll;
pub mod registry;
pub mod relay;
pub mod stage;
pub mod supervisor;

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use ractor::{Actor, ActorRef, RpcReplyPort, rpc::CallResult};
use uuid::Uuid;

pub use channel::{ChannelError, ChannelResult, ChannelState, ChatAuthor, Moderation};

use self::{
    channel::ChannelMsg,
    hub::{ConnId, Subscriber},
    registry::Registry,
    stage::{StageError, StageJoin, StageMsg, StageResult},
    supervisor::{Supervisor, SupervisorArgs, SupervisorMsg},
};
use crate::{
    domain::{AccountId, ChatText, StreamAction},
    gateway::protocol::ActiveActionView,
    stages::Stages,
    store::Store,
};

/// Tunables of the realtime core.
#[derive(Debug, Clone)]
pub struct RealtimeSettings {
    /// A channel actor with no subscribers, poll or action stops after this long.
    pub idle_timeout: Duration,
    /// Chat messages kept per channel for snapshots and replay.
    pub chat_history: usize,
    /// Chat messages arriving within one tick go out in one frame.
    pub chat_tick: Duration,
    /// How long a stage survives its host's disconnection.
    pub stage_host_grace: Duration,
    /// A stage nobody publishes on ends after this long.
    pub stage_idle: Duration,
    /// Threads that write a large channel's frames (see `hub`); 0: one per core.
    pub sweep_threads: usize,
}

impl Default for RealtimeSettings {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(60),
            chat_history: 200,
            chat_tick: Duration::from_millis(25),
            stage_host_grace: Duration::from_secs(180),
            stage_idle: Duration::from_secs(300),
            sweep_threads: 0,
        }
    }
}

/// What actors need from the rest of the service.
pub struct RealtimeDeps {
    pub store: Arc<dyn Store>,
    pub stages: Arc<dyn Stages>,
    pub settings: RealtimeSettings,
    /// Where channel events also go beyond the websocket (IVS timed metadata, an IVS Chat
    /// room); nowhere by default.
    pub relay: relay::Relay,
}

fn stage_unavailable(e: ChannelError) -> StageError {
    match e {
        ChannelError::NotFound => StageError::NoStage,
        other => StageError::Unavailable(other.to_string()),
    }
}

/// How long a caller waits for a channel actor's answer.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// The typed handle to the realtime core. Cheap to clone.
#[derive(Clone)]
pub struct Realtime {
    registry: Arc<Registry>,
    supervisor: ActorRef<SupervisorMsg>,
    deps: Arc<RealtimeDeps>,
}

impl Realtime {
    /// Starts the supervision tree and resumes every poll that was running when the process
    /// last stopped.
    pub async fn start(
        store: Arc<dyn Store>,
        stages: Arc<dyn Stages>,
        settings: RealtimeSettings,
    ) -> anyhow::Result<Self> {
        Self::start_with(store, stages, relay::Relay::none(), settings).await
    }

    /// As [`Self::start`], with channel events also relayed beyond the websocket.
    pub async fn start_with(
        store: Arc<dyn Store>,
        stages: Arc<dyn Stages>,
        relay: relay::Relay,
        settings: RealtimeSettings,
    ) -> anyhow::Result<Self> {
        let registry = Arc::new(Registry::default());
        let deps = Arc::new(RealtimeDeps {
            store,
            stages,
            settings,
            relay,
        });
        let (supervisor, _) = Actor::spawn(
            None,
            Supervisor,
            SupervisorArgs {
                registry: registry.clone(),
                deps: deps.clone(),
            },
        )
        .await?;
        let realtime = Self {
            registry,
            supervisor,
            deps,
        };
        for poll in realtime.deps.store.open_polls().await? {
            if let Err(e) = realtime.actor(poll.channel).await {
                tracing::error!(poll = %poll.id, channel = %poll.channel, error = %e, "could not resume a poll");
            }
        }
        // Stages resume too, so their host-grace and idle timers keep running.
        for account in realtime.deps.store.live_channels(100_000).await? {
            if account.stage_since.is_some()
                && let Err(e) = realtime.actor(account.id).await
            {
                tracing::error!(channel = %account.id, error = %e, "could not resume a stage");
            }
        }
        Ok(realtime)
    }

    /// Stops every actor (they flush what they hold) and closes every connection.
    pub async fn shutdown(&self) {
        let _ = self
            .supervisor
            .stop_and_wait(Some("shutdown".into()), Some(Duration::from_secs(10)))
            .await;
    }

    pub fn active_channels(&self) -> usize {
        self.registry.len()
    }

    async fn actor(&self, channel: AccountId) -> ChannelResult<ActorRef<ChannelMsg>> {
        if let Some(entry) = self.registry.get(channel) {
            return Ok(entry.actor);
        }
        let result = self
            .supervisor
            .call(
                |reply| SupervisorMsg::Spawn { channel, reply },
                Some(CALL_TIMEOUT),
            )
            .await;
        match result {
            Ok(CallResult::Success(Ok(actor))) => Ok(actor),
            Ok(CallResult::Success(Err(e))) if e.contains("does not exist") => {
                Err(ChannelError::NotFound)
            }
            Ok(CallResult::Success(Err(e))) => Err(ChannelError::Unavailable(e)),
            _ => Err(ChannelError::Unavailable(
                "realtime core not answering".into(),
            )),
        }
    }

    /// Asks the channel actor; if the actor stopped just then, asks its successor once.
    async fn ask<T: Send + 'static>(
        &self,
        channel: AccountId,
        make: impl Fn(RpcReplyPort<T>) -> ChannelMsg,
    ) -> ChannelResult<T> {
        self.ask_noting_retry(channel, make).await.map(|(v, _)| v)
    }

    /// As [`Self::ask`], also telling whether the first attempt's answer was lost (so the
    /// request may have taken effect before the one that answered).
    async fn ask_noting_retry<T: Send + 'static>(
        &self,
        channel: AccountId,
        make: impl Fn(RpcReplyPort<T>) -> ChannelMsg,
    ) -> ChannelResult<(T, bool)> {
        for attempt in 0..2 {
            let actor = self.actor(channel).await?;
            match actor.call(&make, Some(CALL_TIMEOUT)).await {
                Ok(CallResult::Success(v)) => return Ok((v, attempt > 0)),
                Ok(CallResult::Timeout) => {
                    return Err(ChannelError::Unavailable("channel busy".into()));
                }
                // The actor stopped or failed with our message: wait for the supervisor to
                // settle (restart or forget it), then try the current one.
                Ok(CallResult::SenderError) | Err(_) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
        Err(ChannelError::Unavailable("channel restarting".into()))
    }

    fn tell(&self, actor: &ActorRef<ChannelMsg>, msg: ChannelMsg) {
        let _ = actor.cast(msg);
    }

    /// Subscribes a connection; the snapshot answering `request_id` goes to its outbox first.
    pub async fn subscribe(
        &self,
        channel: AccountId,
        subscriber: Subscriber,
        request_id: u64,
        chat_offset: Option<u64>,
    ) -> ChannelResult<()> {
        self.ask(channel, |reply| ChannelMsg::Subscribe {
            subscriber: subscriber.clone(),
            request_id,
            chat_offset,
            reply,
        })
        .await?
    }

    pub fn unsubscribe(&self, channel: AccountId, conn: ConnId) {
        if let Some(entry) = self.registry.get(channel) {
            let user = entry.hub.remove(conn).and_then(|s| s.user);
            self.tell(&entry.actor, ChannelMsg::Unsubscribe { conn, user });
        }
    }

    pub async fn send_chat(
        &self,
        channel: AccountId,
        author: ChatAuthor,
        text: ChatText,
    ) -> ChannelResult<u64> {
        self.ask(channel, |reply| ChannelMsg::SendChat {
            author: author.clone(),
            text: text.clone(),
            reply,
        })
        .await?
    }

    pub async fn delete_chat(
        &self,
        channel: AccountId,
        by: AccountId,
        offset: u64,
    ) -> ChannelResult<()> {
        self.ask(channel, |reply| ChannelMsg::DeleteChat {
            by,
            offset,
            reply,
        })
        .await?
    }

    pub async fn moderate(
        &self,
        channel: AccountId,
        by: AccountId,
        command: Moderation,
    ) -> ChannelResult<()> {
        self.ask(channel, |reply| ChannelMsg::Moderate {
            by,
            command: command.clone(),
            reply,
        })
        .await?
    }

    pub async fn start_action(
        &self,
        channel: AccountId,
        by: AccountId,
        action: StreamAction,
    ) -> ChannelResult<ActiveActionView> {
        self.ask(channel, |reply| ChannelMsg::StartAction {
            by,
            action: action.clone(),
            reply,
        })
        .await?
    }

    pub async fn stop_action(&self, channel: AccountId, by: AccountId) -> ChannelResult<()> {
        self.ask(channel, |reply| ChannelMsg::StopAction { by, reply })
            .await?
    }

    /// Answers once the vote is durable.
    pub async fn vote(
        &self,
        channel: AccountId,
        voter: AccountId,
        poll_id: Uuid,
        option: u32,
    ) -> ChannelResult<()> {
        self.ask(channel, |reply| ChannelMsg::Vote {
            voter,
            poll_id,
            option,
            reply,
        })
        .await?
    }

    /// Tells a running channel actor that the channel went live or offline. A channel with no
    /// actor has no viewers to tell; its page reads the store.
    pub fn set_live(&self, channel: AccountId, since: Option<DateTime<Utc>>) {
        if let Some(entry) = self.registry.get(channel) {
            self.tell(&entry.actor, ChannelMsg::SetLive { since });
        }
    }

    pub async fn state(&self, channel: AccountId) -> ChannelResult<ChannelState> {
        self.ask(channel, |reply| ChannelMsg::GetState { reply })
            .await
    }

    /// Creates the channel's stage if needed (owner only) and returns the host's publish token.
    pub async fn start_stage(&self, channel: AccountId, by: AccountId) -> StageResult<StageJoin> {
        self.ask(channel, |reply| ChannelMsg::StartStage { by, reply })
            .await
            .map_err(stage_unavailable)?
    }

    /// Sends a request to the channel's stage actor.
    pub async fn stage<T: Send + 'static>(
        &self,
        channel: AccountId,
        make: impl Fn(RpcReplyPort<StageResult<T>>) -> StageMsg,
    ) -> StageResult<T> {
        self.ask(channel, |reply| ChannelMsg::ForStage(make(reply)))
            .await
            .map_err(stage_unavailable)?
    }

    /// Makes the channel actor fail, to exercise recovery in tests.
    #[doc(hidden)]
    pub async fn crash_channel(&self, channel: AccountId) {
        if let Ok(actor) = self.actor(channel).await {
            self.tell(&actor, ChannelMsg::Crash);
        }
    }

    /// Makes the running poll's actor fail, to exercise recovery in tests.
    #[doc(hidden)]
    pub async fn crash_poll(&self, channel: AccountId) {
        if let Ok(actor) = self.actor(channel).await {
            self.tell(&actor, ChannelMsg::CrashPoll);
        }
    }
}
