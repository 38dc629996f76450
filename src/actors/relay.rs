//! Where a channel's events go beyond its websocket subscribers, when the deployment has the
//! services for it:
//!
//! - **video** (IVS): an action's start and end also ride along with the stream as timed
//!   metadata ([`crate::media::metadata`]), so viewers on the player see it in sync with the
//!   picture. Only the latest matters: while a call waits (throttled), a newer event replaces
//!   the pending one.
//! - **chat room** (IVS Chat, `aws.chat = "ivs"`): poll and action events are sent into the
//!   room as events, in order (tallies at most once a second), and a user banned, timed out or
//!   removed as moderator is disconnected from it (so they must come back for a token, which
//!   says what they may do now).
//!
//! The channel actor hands every frame it broadcasts to [`Relay::forward`], which returns at
//! once: the calls run on tasks of their own, one lane per channel and outlet, so the actor
//! never waits on AWS and one slow channel holds up no other. Delivery is best effort: a
//! failure is logged, never retried past what the adapter does.

use std::{
    collections::{BTreeMap, HashMap},
    future::Future,
    pin::Pin,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use tokio::{
    sync::mpsc::{self, error::TrySendError},
    time::Instant,
};

use crate::{
    chat_rooms::RoomDirectory,
    domain::AccountId,
    gateway::protocol::{ModerationEvent, ServerFrame},
    media::{Media, MediaError, metadata},
};

/// Room events' attributes are limited to 1 KB in all; the payload goes under this key.
pub const EVENT_ATTRIBUTE: &str = "frame";
/// Tallies reach the room at most this often (the websocket gets four a second).
const TALLY_SPACING: Duration = Duration::from_secs(1);
/// Jobs a lane holds before it drops new ones (a channel whose calls all hang).
const LANE_CAPACITY: usize = 64;
/// A lane with nothing to do for this long ends its task.
const LANE_IDLE: Duration = Duration::from_secs(60);

type Job = Pin<Box<dyn Future<Output = ()> + Send>>;
/// The lanes with a task, by channel: the task's id and its queue.
type OpenLanes = Arc<Mutex<HashMap<AccountId, (u64, mpsc::Sender<Job>)>>>;

/// The outlets of every channel; cheap to clone. [`Relay::none`] forwards nothing.
#[derive(Clone, Default)]
pub struct Relay {
    outlets: Option<Arc<Outlets>>,
}

struct Outlets {
    store: Arc<dyn crate::store::Store>,
    media: Option<Arc<dyn Media>>,
    rooms: Option<RoomDirectory>,
    video: Lanes,
    chat: Lanes,
    last_tally: Mutex<HashMap<AccountId, Instant>>,
}

impl Relay {
    /// Forwards nothing: built-in chat and no video service.
    pub fn none() -> Self {
        Self::default()
    }

    /// `media` gets action events as timed metadata; `rooms` gets room events.
    pub fn new(
        store: Arc<dyn crate::store::Store>,
        media: Option<Arc<dyn Media>>,
        rooms: Option<RoomDirectory>,
    ) -> Self {
        if media.is_none() && rooms.is_none() {
            return Self::none();
        }
        Self {
            outlets: Some(Arc::new(Outlets {
                store,
                media,
                rooms,
                video: Lanes::new(true),
                chat: Lanes::new(false),
                last_tally: Mutex::default(),
            })),
        }
    }

    /// Sends `frame` on to whatever outlet wants it. Never blocks, never fails.
    pub fn forward(&self, channel: AccountId, frame: &ServerFrame) {
        let Some(outlets) = &self.outlets else {
            return;
        };
        if let Some(media) = &outlets.media
            && let Some(payload) = metadata::encode(frame)
        {
            let media = media.clone();
            let store = outlets.store.clone();
            outlets.video.push(
                channel,
                Box::pin(async move { put_metadata(&*store, &*media, channel, &payload).await }),
            );
        }
        if let Some(rooms) = &outlets.rooms
            && let Some(call) = room_call(outlets, channel, frame)
        {
            let rooms = rooms.clone();
            outlets.chat.push(
                channel,
                Box::pin(async move { call.run(&rooms, channel).await }),
            );
        }
    }
}

async fn put_metadata(
    store: &dyn crate::store::Store,
    media: &dyn Media,
    channel: AccountId,
    payload: &str,
) {
    let arn = match store.account(channel).await {
        Ok(Some(account)) => account.channel.arn,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(%channel, error = %e, "timed metadata not sent: channel not readable");
            return;
        }
    };
    match media.put_metadata(&arn, payload).await {
        Ok(()) => tracing::debug!(%channel, bytes = payload.len(), "timed metadata sent"),
        // The usual case for an action started before going live: the websocket carried it.
        Err(MediaError::NotBroadcasting) => {
            tracing::info!(%channel, "channel not broadcasting: action not sent as timed metadata")
        }
        Err(e) => tracing::warn!(%channel, error = %e, "timed metadata not sent"),
    }
}

/// What the room is told about a frame.
enum RoomCall {
    Event {
        name: &'static str,
        payload: String,
    },
    Disconnect {
        user_id: String,
        reason: &'static str,
    },
}

fn room_call(outlets: &Outlets, channel: AccountId, frame: &ServerFrame) -> Option<RoomCall> {
    let event = |name| {
        Some(RoomCall::Event {
            name,
            payload: metadata::compact(frame, metadata::MAX_BYTES - EVENT_ATTRIBUTE.len()),
        })
    };
    let disconnect = |user_id: &uuid::Uuid, reason| {
        Some(RoomCall::Disconnect {
            user_id: user_id.to_string(),
            reason,
        })
    };
    match frame {
        ServerFrame::ActionStarted { .. } => event("action_started"),
        ServerFrame::ActionEnded { .. } => event("action_ended"),
        ServerFrame::PollStarted { .. } => event("poll_started"),
        ServerFrame::PollClosed { .. } => {
            lock(&outlets.last_tally).remove(&channel);
            event("poll_closed")
        }
        ServerFrame::PollTally { .. } => {
            let now = Instant::now();
            let mut last = lock(&outlets.last_tally);
            if last
                .get(&channel)
                .is_some_and(|t| now.duration_since(*t) < TALLY_SPACING)
            {
                return None;
            }
            last.insert(channel, now);
            event("poll_tally")
        }
        ServerFrame::Moderation { event, .. } => match event {
            ModerationEvent::Banned { user_id, .. } => disconnect(user_id, "banned"),
            ModerationEvent::TimedOut { user_id, .. } => disconnect(user_id, "timed out"),
            ModerationEvent::ModeratorRemoved { user_id, .. } => {
                disconnect(user_id, "no longer a moderator")
            }
            _ => None,
        },
        _ => None,
    }
}

impl RoomCall {
    async fn run(self, rooms: &RoomDirectory, channel: AccountId) {
        let room = match rooms.room_of(channel).await {
            Ok(Some(room)) => room,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(%channel, error = %e, "chat room unknown; event not sent");
                return;
            }
        };
        let outcome = match &self {
            RoomCall::Event { name, payload } => {
                let attributes = BTreeMap::from([(EVENT_ATTRIBUTE.to_owned(), payload.clone())]);
                rooms.rooms().send_event(&room, name, attributes).await
            }
            RoomCall::Disconnect { user_id, reason } => {
                rooms.rooms().disconnect_user(&room, user_id, reason).await
            }
        };
        if let Err(e) = outcome {
            tracing::warn!(%channel, %room, error = %e, "chat room not told");
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One task per busy channel running its jobs in order; it ends when idle. With `coalesce`,
/// a task about to run a job runs only the newest one waiting.
struct Lanes {
    coalesce: bool,
    open: OpenLanes,
    next_id: AtomicU64,
}

impl Lanes {
    fn new(coalesce: bool) -> Self {
        Self {
            coalesce,
            open: Arc::default(),
            next_id: AtomicU64::new(0),
        }
    }

    fn push(&self, channel: AccountId, job: Job) {
        let mut open = lock(&self.open);
        let job = match open.get(&channel) {
            Some((_, lane)) => match lane.try_send(job) {
                Ok(()) => return,
                Err(TrySendError::Full(_)) => {
                    tracing::warn!(%channel, "relay lane full; event dropped");
                    return;
                }
                // Its task ended (idle, or a job panicked): start a new one.
                Err(TrySendError::Closed(job)) => job,
            },
            None => job,
        };
        let (lane, jobs) = mpsc::channel(LANE_CAPACITY);
        let _ = lane.try_send(job);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        open.insert(channel, (id, lane));
        drop(open);
        tokio::spawn(run_lane(
            self.open.clone(),
            channel,
            id,
            jobs,
            self.coalesce,
        ));
    }
}

async fn run_lane(
    open: OpenLanes,
    channel: AccountId,
    id: u64,
    mut jobs: mpsc::Receiver<Job>,
    coalesce: bool,
) {
    loop {
        match tokio::time::timeout(LANE_IDLE, jobs.recv()).await {
            Ok(Some(mut job)) => {
                if coalesce {
                    while let Ok(newer) = jobs.try_recv() {
                        job = newer;
                    }
                }
                job.await;
            }
            Ok(None) => return,
            Err(_idle) => {
                // Pushes happen under this lock: with the queue empty under it, nothing can
                // be lost by leaving; the next push opens a new lane.
                let mut open = lock(&open);
                if jobs.is_empty() {
                    if open.get(&channel).is_some_and(|(i, _)| *i == id) {
                        open.remove(&channel);
                    }
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
