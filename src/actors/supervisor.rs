//! The root supervisor: spawns channel actors for the registry and restarts them when they fail.
//!
//! ractor's default would stop a supervisor when any child dies; this one decides per event:
//! a failed channel actor is restarted with the same hub (its subscribers stay connected) and
//! reloads its state from the store; one that stopped normally (idle) is forgotten. A channel
//! that keeps failing (more than [`MAX_RESTARTS`] within [`RESTART_WINDOW`]) is given up on and
//! its connections closed, so a poison state cannot loop forever.

use std::{
    collections::{HashMap, VecDeque},
    sync::Arc,
    time::{Duration, Instant},
};

use ractor::{Actor, ActorId, ActorProcessingErr, ActorRef, RpcReplyPort, SupervisionEvent};

use super::{
    RealtimeDeps,
    channel::{ChannelActor, ChannelArgs, ChannelMsg},
    hub::{Hub, close},
    registry::{Entry, Registry},
};
use crate::domain::AccountId;

pub const MAX_RESTARTS: usize = 5;
pub const RESTART_WINDOW: Duration = Duration::from_secs(60);

pub struct Supervisor;

pub struct SupervisorArgs {
    pub registry: Arc<Registry>,
    pub deps: Arc<RealtimeDeps>,
}

pub enum SupervisorMsg {
    /// Returns the channel's actor, spawning it if it is not running.
    Spawn {
        channel: AccountId,
        reply: RpcReplyPort<Result<ActorRef<ChannelMsg>, String>>,
    },
}

pub struct SupervisorState {
    registry: Arc<Registry>,
    deps: Arc<RealtimeDeps>,
    children: HashMap<ActorId, AccountId>,
    restarts: HashMap<AccountId, VecDeque<Instant>>,
}

impl SupervisorState {
    async fn spawn(
        &mut self,
        myself: &ActorRef<SupervisorMsg>,
        channel: AccountId,
        hub: Arc<Hub>,
    ) -> Result<ActorRef<ChannelMsg>, String> {
        let (actor, _) = Actor::spawn_linked(
            None,
            ChannelActor,
            ChannelArgs {
                channel,
                hub: hub.clone(),
                deps: self.deps.clone(),
            },
            myself.get_cell(),
        )
        .await
        .map_err(|e| e.to_string())?;
        self.children.insert(actor.get_id(), channel);
        self.registry.insert(
            channel,
            Entry {
                actor: actor.clone(),
                hub,
            },
        );
        Ok(actor)
    }
}

impl Actor for Supervisor {
    type Msg = SupervisorMsg;
    type State = SupervisorState;
    type Arguments = SupervisorArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<SupervisorMsg>,
        args: SupervisorArgs,
    ) -> Result<SupervisorState, ActorProcessingErr> {
        Ok(SupervisorState {
            registry: args.registry,
            deps: args.deps,
            children: HashMap::new(),
            restarts: HashMap::new(),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<SupervisorMsg>,
        message: SupervisorMsg,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            SupervisorMsg::Spawn { channel, reply } => {
                // Spawns are serialised here, so two first visitors cannot start two actors.
                let outcome = match state.registry.get(channel) {
                    Some(entry) => Ok(entry.actor),
                    None => {
                        state
                            .spawn(
                                &myself,
                                channel,
                                Arc::new(Hub::with_sweep_threads(
                                    state.deps.settings.sweep_threads,
                                )),
                            )
                            .await
                    }
                };
                let _ = reply.send(outcome);
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<SupervisorMsg>,
        event: SupervisionEvent,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        match event {
            SupervisionEvent::ActorTerminated(cell, _, reason) => {
                if let Some(channel) = state.children.remove(&cell.get_id()) {
                    tracing::debug!(%channel, ?reason, "channel actor stopped");
                    let hub = state.registry.remove_actor(channel, cell.get_id());
                    // A subscriber may have raced in while it stopped: keep serving it.
                    if let Some(hub) = hub.filter(|h| !h.is_empty()) {
                        state.spawn(&myself, channel, hub).await.ok();
                    }
                }
            }
            SupervisionEvent::ActorFailed(cell, error) => {
                let Some(channel) = state.children.remove(&cell.get_id()) else {
                    return Ok(());
                };
                let hub = state
                    .registry
                    .remove_actor(channel, cell.get_id())
                    .unwrap_or_default();
                let now = Instant::now();
                let history = state.restarts.entry(channel).or_default();
                history.retain(|t| now.duration_since(*t) < RESTART_WINDOW);
                history.push_back(now);
                if history.len() > MAX_RESTARTS {
                    tracing::error!(%channel, %error, "channel actor keeps failing; giving up on it");
                    hub.close_all(close::GOING_AWAY, "channel unavailable");
                    state.restarts.remove(&channel);
                    return Ok(());
                }
                tracing::warn!(%channel, %error, "channel actor failed; restarting it");
                if let Err(e) = state.spawn(&myself, channel, hub.clone()).await {
                    tracing::error!(%channel, error = %e, "channel actor could not restart");
                    hub.close_all(close::GOING_AWAY, "channel unavailable");
                }
            }
            _ => {}
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        myself: ActorRef<SupervisorMsg>,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        // Let channel actors flush (pending chat) before the process goes.
        myself
            .stop_children_and_wait(Some("shutdown".into()), Some(Duration::from_secs(5)))
            .await;
        state
            .registry
            .close_all(close::GOING_AWAY, "server shutting down");
        Ok(())
    }
}
