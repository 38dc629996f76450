//! The poll actor: counts one poll's votes on the server, so a poll runs to its deadline whether
//! or not the streamer's page is open.
//!
//! Durability: a vote is acknowledged only after the store has it. Votes that arrive together
//! are written in one batch (the actor queues a `Flush` behind the votes already in its
//! mailbox), so a storm of votes costs one write per batch, not per vote. After a crash the
//! actor is rebuilt from the store: every acknowledged vote is there.
//!
//! Tallies go to the channel coalesced, at most every [`TALLY_EVERY`]: the spacing is measured
//! from the last report, not kept by a fixed timer, so a report held up behind a slow write
//! does not bring the next one closer.

use std::{collections::HashMap, sync::Arc, time::Duration};

use chrono::Utc;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use tokio::time::Instant;
use uuid::Uuid;

use super::{
    RealtimeDeps,
    channel::{ChannelError, ChannelMsg, ChannelResult},
};
use crate::{domain::AccountId, store::PollRecord};

/// At most four tally updates a second.
pub const TALLY_EVERY: Duration = Duration::from_millis(250);

pub struct PollActor;

pub struct PollArgs {
    pub poll_id: Uuid,
    /// The channel actor: parent, and recipient of tallies and the final result.
    pub channel: ActorRef<ChannelMsg>,
    pub deps: Arc<RealtimeDeps>,
}

pub enum PollMsg {
    /// Counts a vote; answered once it is durable.
    Vote {
        voter: AccountId,
        option: u32,
        reply: RpcReplyPort<ChannelResult<()>>,
    },
    /// Writes the queued votes.
    Flush,
    /// Timer: report the tally if it changed (and the last report is old enough).
    PublishTally,
    /// The deadline passed, or the channel ended the poll early.
    Close,
    /// Which option a voter chose, if any.
    VoteOf {
        voter: AccountId,
        reply: RpcReplyPort<Option<u32>>,
    },
    /// Fails the actor on purpose, to exercise recovery. Never sent by the product.
    Crash,
}

pub struct PollState {
    record: PollRecord,
    channel: ActorRef<ChannelMsg>,
    deps: Arc<RealtimeDeps>,
    /// Every voter counted or being written, with their choice.
    voters: HashMap<AccountId, u32>,
    pending: Vec<(AccountId, u32, RpcReplyPort<ChannelResult<()>>)>,
    /// Second votes by voters whose first is still being written: answered after the write,
    /// since a failed write means they have not voted after all.
    duplicates: Vec<(AccountId, RpcReplyPort<ChannelResult<()>>)>,
    flush_queued: bool,
    /// The tally changed since it was last reported.
    tally_dirty: bool,
    /// When this actor last reported the tally.
    last_tally: Option<Instant>,
    /// A `PublishTally` is on its way.
    tally_scheduled: bool,
}

impl Actor for PollActor {
    type Msg = PollMsg;
    type State = PollState;
    type Arguments = PollArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<PollMsg>,
        args: PollArgs,
    ) -> Result<PollState, ActorProcessingErr> {
        let store = &args.deps.store;
        let record = store
            .poll(args.poll_id)
            .await?
            .ok_or_else(|| format!("poll {} does not exist", args.poll_id))?;
        let voters = store.votes(args.poll_id).await?.into_iter().collect();
        let remaining = (record.deadline - Utc::now()).to_std().unwrap_or_default();
        myself.send_after(remaining, || PollMsg::Close);
        // Not at once: a predecessor that just crashed may have reported a moment ago.
        myself.send_after(TALLY_EVERY, || PollMsg::PublishTally);
        Ok(PollState {
            record,
            channel: args.channel,
            deps: args.deps,
            voters,
            pending: Vec::new(),
            duplicates: Vec::new(),
            flush_queued: false,
            // A restarted poll re-announces its tally once, in case one was lost in the crash.
            tally_dirty: true,
            last_tally: None,
            tally_scheduled: true,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<PollMsg>,
        message: PollMsg,
        state: &mut PollState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            PollMsg::Vote {
                voter,
                option,
                reply,
            } => {
                if state.record.closed_at.is_some() || Utc::now() >= state.record.deadline {
                    let _ = reply.send(Err(ChannelError::PollClosed));
                } else if option as usize >= state.record.options.len() {
                    let _ = reply.send(Err(ChannelError::InvalidOption));
                } else if let std::collections::hash_map::Entry::Vacant(slot) =
                    state.voters.entry(voter)
                {
                    slot.insert(option);
                    state.pending.push((voter, option, reply));
                    if !state.flush_queued {
                        state.flush_queued = true;
                        myself.cast(PollMsg::Flush)?;
                    }
                } else if state.pending.iter().any(|(v, _, _)| *v == voter) {
                    state.duplicates.push((voter, reply));
                } else {
                    let _ = reply.send(Err(ChannelError::AlreadyVoted));
                }
            }
            PollMsg::Flush => {
                flush(state).await;
                schedule_tally(state, &myself);
            }
            PollMsg::PublishTally => {
                state.tally_scheduled = false;
                if state.tally_dirty && tally_wait(state).is_zero() {
                    state.tally_dirty = false;
                    state.last_tally = Some(Instant::now());
                    let _ = state.channel.cast(ChannelMsg::PollTallied {
                        poll_id: state.record.id,
                        tally: state.record.tally.clone(),
                        total: state.record.tally.iter().sum(),
                    });
                }
                schedule_tally(state, &myself);
            }
            PollMsg::Close => {
                if state.record.closed_at.is_none() {
                    // Votes acknowledged before the close must be in the result.
                    flush(state).await;
                    let now = Utc::now();
                    state.deps.store.close_poll(state.record.id, now).await?;
                    let record = state
                        .deps
                        .store
                        .poll(state.record.id)
                        .await?
                        .unwrap_or_else(|| PollRecord {
                            closed_at: Some(now),
                            ..state.record.clone()
                        });
                    state.record = record.clone();
                    let _ = state.channel.cast(ChannelMsg::PollEnded { record });
                }
                myself.stop(Some("poll closed".into()));
            }
            PollMsg::VoteOf { voter, reply } => {
                let _ = reply.send(state.voters.get(&voter).copied());
            }
            PollMsg::Crash => return Err("crash requested".into()),
        }
        Ok(())
    }
}

/// How long until the tally may be reported again.
fn tally_wait(state: &PollState) -> Duration {
    state
        .last_tally
        .map_or(Duration::ZERO, |t| TALLY_EVERY.saturating_sub(t.elapsed()))
}

/// Makes sure a changed tally is reported as soon as the spacing allows, once.
fn schedule_tally(state: &mut PollState, myself: &ActorRef<PollMsg>) {
    if !state.tally_dirty || state.tally_scheduled {
        return;
    }
    state.tally_scheduled = true;
    let wait = tally_wait(state);
    if wait.is_zero() {
        let _ = myself.cast(PollMsg::PublishTally);
    } else {
        myself.send_after(wait, || PollMsg::PublishTally);
    }
}

/// Writes the queued votes in one batch and answers each voter.
async fn flush(state: &mut PollState) {
    state.flush_queued = false;
    if state.pending.is_empty() {
        return;
    }
    let batch = std::mem::take(&mut state.pending);
    let duplicates = std::mem::take(&mut state.duplicates);
    let votes: Vec<(AccountId, u32)> = batch.iter().map(|(v, o, _)| (*v, *o)).collect();
    match state
        .deps
        .store
        .record_votes(state.record.id, &votes, Utc::now())
        .await
    {
        Ok(counted) => {
            for ((voter, option, reply), counted) in batch.into_iter().zip(counted) {
                if counted {
                    state.record.tally[option as usize] += 1;
                    state.tally_dirty = true;
                    let _ = reply.send(Ok(()));
                } else {
                    // The store knew this voter already (e.g. voted just before a restart).
                    let _ = reply.send(Err(ChannelError::AlreadyVoted));
                    let _ = voter;
                }
            }
        }
        Err(e) => {
            tracing::warn!(poll = %state.record.id, error = %e, "votes not stored; voters may retry");
            for (voter, _, reply) in batch {
                state.voters.remove(&voter);
                let _ = reply.send(Err(ChannelError::Unavailable(
                    "votes could not be stored".into(),
                )));
            }
        }
    }
    for (voter, reply) in duplicates {
        let _ = reply.send(Err(if state.voters.contains_key(&voter) {
            ChannelError::AlreadyVoted
        } else {
            ChannelError::Unavailable("votes could not be stored".into())
        }));
    }
}

#[cfg(test)]
mod tests;
