//! The connections subscribed to one channel, and fan-out to them.
//!
//! A hub outlives the channel actor that uses it: when the actor is restarted after a crash, the
//! new one gets the same hub, so subscribed viewers stay subscribed and miss nothing but the
//! events the crash itself lost.
//!
//! Delivery: frames are queued to each connection's bounded outbox without waiting; a
//! connection whose outbox is full is a slow consumer and is closed (close code
//! [`close::SLOW_CONSUMER`]) rather than slowing everyone else down. Frames reach one
//! connection in the order they were broadcast.
//!
//! Large hubs are written by a sweeper (see [`Hub::broadcast`]): a broadcast only queues its
//! frame, and the sweeper writes everything queued for each viewer in one `send`, round after
//! round while broadcasts keep coming. A round takes as long as the machine needs to write to
//! every viewer once, so the more frames arrive meanwhile, the more each write carries: fan-out
//! coalesces by itself instead of needing a write per frame per viewer. A burst's round is
//! split over every sweep thread; the rounds of a storm take one.

use std::{
    collections::{HashMap, VecDeque},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
};

use bytes::Bytes;
use tokio::sync::Notify;

use crate::{
    domain::AccountId,
    gateway::socket::{SharedSocket, WireFrame},
};

/// Websocket close codes this service uses (documented in `docs/protocol.md`).
pub mod close {
    /// The server is shutting down.
    pub const GOING_AWAY: u16 = 1001;
    /// The client broke the protocol (bad frame, unknown type).
    pub const PROTOCOL: u16 = 4000;
    /// The access token expired or was revoked.
    pub const UNAUTHENTICATED: u16 = 4001;
    /// Banned from a channel this connection was subscribed to.
    pub const BANNED: u16 = 4003;
    /// The connection did not read its frames fast enough.
    pub const SLOW_CONSUMER: u16 = 4008;
    /// Too many frames from the client.
    pub const RATE_LIMITED: u16 = 4029;
}

/// The machine's cores. Asked once, since the standard library reads the cgroup's CPU quota from
/// files each time.
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Hubs with at least this many subscribers are written by a sweeper.
const LARGE_SWEEP: usize = 512;

/// Sweep threads take this many viewers at a time (~0.7 ms of writes).
const SWEEP_RUN: usize = 64;

/// The sweeper writes at most this much to one connection in one `send`.
const SWEEP_BATCH_BYTES: usize = 64 * 1024;

/// Identifies one websocket connection for the life of the process.
pub type ConnId = u64;

static NEXT_CONN: AtomicU64 = AtomicU64::new(1);

pub fn next_conn_id() -> ConnId {
    NEXT_CONN.fetch_add(1, Ordering::Relaxed)
}

/// Asks a connection to close; the connection loop watches it.
#[derive(Debug, Default)]
pub struct CloseSignal {
    reason: Mutex<Option<(u16, String)>>,
    notify: Notify,
}

impl CloseSignal {
    /// The first request wins; later ones are ignored.
    pub fn close(&self, code: u16, reason: impl Into<String>) {
        let mut slot = self.reason.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some((code, reason.into()));
            self.notify.notify_one();
        }
    }

    pub fn requested(&self) -> Option<(u16, String)> {
        self.reason
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Resolves once `close` has been called.
    pub async fn wait(&self) -> (u16, String) {
        loop {
            let notified = self.notify.notified();
            if let Some(reason) = self.requested() {
                return reason;
            }
            notified.await;
        }
    }
}

/// Creates a connection's outbox: at most `capacity` frames waiting. With `socket`, frames may
/// also be written straight to it (see [`OutboxSender::send_frame`]).
///
/// Not a tokio `mpsc` channel: that allocates a block of 32 slots (~1.1 KiB) per connection at
/// creation, idle or not, and the 8 KB budget per idle connection cannot spare it. This queue
/// allocates when frames wait and gives a backlog's memory back once drained.
pub fn outbox(capacity: usize, socket: Option<SharedSocket>) -> (OutboxSender, Outbox) {
    let shared = Arc::new(OutboxShared {
        state: Mutex::new(Outgoing::default()),
        ready: Notify::new(),
        capacity,
        receiver_alive: AtomicBool::new(true),
        socket,
    });
    (OutboxSender(shared.clone()), Outbox(shared))
}

/// A queue that held more than this many frames is shrunk once drained.
const KEEP_QUEUED_SLOTS: usize = 64;

#[derive(Debug)]
struct OutboxShared {
    state: Mutex<Outgoing>,
    ready: Notify,
    capacity: usize,
    receiver_alive: AtomicBool,
    socket: Option<SharedSocket>,
}

/// Who may write to the socket: a sender, for one whole frame, while holding this state's lock
/// with nothing queued and the connection task not writing; otherwise only the connection task,
/// in queue order. So frames reach the socket whole and in the order they were sent.
#[derive(Debug, Default)]
struct Outgoing {
    queue: VecDeque<Queued>,
    /// The connection task took frames (or writes a control frame) and has not finished. Stays
    /// set after a write the task abandoned (the stream may end mid-frame).
    task_writing: bool,
}

/// Something waiting to be written by the connection task.
#[derive(Debug)]
pub enum Queued {
    /// A frame's payload, to be framed by the task.
    Frame(Bytes),
    /// The unwritten end of a frame a sender started writing; goes out first, as is.
    Raw(Bytes),
}

impl Queued {
    fn len(&self) -> usize {
        match self {
            Queued::Frame(b) | Queued::Raw(b) => b.len(),
        }
    }
}

impl OutboxShared {
    fn state(&self) -> std::sync::MutexGuard<'_, Outgoing> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Why a frame was not queued.
#[derive(Debug, PartialEq, Eq)]
pub enum OutboxError {
    Full,
    Closed,
}

/// Sends frames to one connection.
#[derive(Debug, Clone)]
pub struct OutboxSender(Arc<OutboxShared>);

impl OutboxSender {
    /// Queues a frame's payload for the connection task.
    pub fn try_send(&self, payload: Bytes) -> Result<(), OutboxError> {
        if self.is_closed() {
            return Err(OutboxError::Closed);
        }
        let mut state = self.0.state();
        self.enqueue(&mut state, Queued::Frame(payload))
    }

    /// Writes a frame straight to the socket when nothing is ahead of it and the socket takes it
    /// at once (the common case for a viewer keeping up), else queues it. A frame the socket took
    /// only part of is finished by the connection task before anything else.
    pub fn send_frame(&self, frame: &WireFrame) -> Result<(), OutboxError> {
        if self.is_closed() {
            return Err(OutboxError::Closed);
        }
        let mut state = self.0.state();
        if let Some(socket) = &self.0.socket
            && state.queue.is_empty()
            && !state.task_writing
        {
            let wire = frame.wire();
            match socket.try_write(wire) {
                Ok(n) if n == wire.len() => return Ok(()),
                Ok(n) => {
                    state.queue.push_back(Queued::Raw(wire.slice(n..)));
                    drop(state);
                    self.0.ready.notify_one();
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                // A broken socket: the connection task reads the error and ends.
                Err(_) => return Ok(()),
            }
        }
        self.enqueue(&mut state, self.queued(frame))
    }

    /// The frame as queued: already framed when it goes to a socket (the bytes are shared with
    /// every other recipient), else as a payload for the connection's sink.
    fn queued(&self, frame: &WireFrame) -> Queued {
        if self.has_socket() {
            Queued::Raw(frame.wire().clone())
        } else {
            Queued::Frame(frame.payload())
        }
    }

    /// Queues a frame for the hub's sweeper, without waking the connection task (the sweeper
    /// writes it, see [`Self::flush_queued`]). Without a socket there is no sweeper, so the task
    /// is woken as usual.
    fn queue_for_sweep(&self, frame: &WireFrame) -> Result<(), OutboxError> {
        if self.is_closed() {
            return Err(OutboxError::Closed);
        }
        let mut state = self.0.state();
        if !self.has_socket() {
            return self.enqueue(&mut state, self.queued(frame));
        }
        if state.queue.len() >= self.0.capacity {
            return Err(OutboxError::Full);
        }
        state.queue.push_back(self.queued(frame));
        Ok(())
    }

    /// Writes what is queued straight to the socket in one `send`, unless the connection task
    /// is writing (it then takes the queue itself when done). Whatever the socket does not take
    /// is left to the connection task, which is woken for it.
    ///
    /// Several frames are first copied into `scratch`: the kernel takes one buffer for much less
    /// than a `writev` of many small ones (a storm's sweep rounds took 150–200 ms with `writev`,
    /// ~100 ms with the copy).
    fn flush_queued(&self, scratch: &mut Vec<u8>) {
        let mut state = self.0.state();
        if state.queue.is_empty() || state.task_writing {
            return;
        }
        let Some(socket) = &self.0.socket else {
            self.0.ready.notify_one();
            return;
        };
        loop {
            let wire: &[u8] = match (state.queue.len(), state.queue.front()) {
                (1, Some(Queued::Raw(bytes))) => bytes,
                _ => {
                    scratch.clear();
                    for item in &state.queue {
                        let Queued::Raw(bytes) = item else { break };
                        if !scratch.is_empty() && scratch.len() + bytes.len() > SWEEP_BATCH_BYTES {
                            break;
                        }
                        scratch.extend_from_slice(bytes);
                    }
                    scratch
                }
            };
            let offered = wire.len();
            if offered == 0 {
                break;
            }
            let Ok(written) = socket.try_write(wire) else {
                // Full (`WouldBlock`) or broken: the task waits for room, or finds the error.
                break;
            };
            let mut left = written;
            while let Some(front) = state.queue.front_mut() {
                let len = front.len();
                if left < len {
                    if left > 0
                        && let Queued::Raw(bytes) = front
                    {
                        *bytes = bytes.slice(left..);
                    }
                    break;
                }
                left -= len;
                state.queue.pop_front();
            }
            if written < offered || state.queue.is_empty() {
                break;
            }
        }
        if !state.queue.is_empty() {
            self.0.ready.notify_one();
        }
    }

    /// Wakes the connection task, for frames queued for a sweep that will not come.
    fn wake(&self) {
        self.0.ready.notify_one();
    }

    fn enqueue(&self, state: &mut Outgoing, item: Queued) -> Result<(), OutboxError> {
        if state.queue.len() >= self.0.capacity {
            return Err(OutboxError::Full);
        }
        state.queue.push_back(item);
        self.0.ready.notify_one();
        Ok(())
    }

    pub fn is_closed(&self) -> bool {
        !self.0.receiver_alive.load(Ordering::Acquire)
    }

    /// Whether frames may be written straight to a socket (so are worth framing up front).
    fn has_socket(&self) -> bool {
        self.0.socket.is_some()
    }
}

/// The connection's end of its outbox.
#[derive(Debug)]
pub struct Outbox(Arc<OutboxShared>);

impl Outbox {
    /// Waits for queued frames, then takes them (up to about `max_bytes`) into `batch` and holds
    /// the socket for the task until [`Self::release`]. Cancel-safe: frames are taken only in the
    /// poll that returns.
    pub async fn next_batch(&mut self, max_bytes: usize, batch: &mut Vec<Queued>) {
        loop {
            {
                let mut state = self.0.state();
                if !state.queue.is_empty() {
                    state.task_writing = true;
                    let mut taken = 0;
                    while taken < max_bytes
                        && let Some(item) = state.queue.pop_front()
                    {
                        taken += item.len();
                        batch.push(item);
                    }
                    if state.queue.is_empty() && state.queue.capacity() > KEEP_QUEUED_SLOTS {
                        state.queue = VecDeque::new();
                    }
                    return;
                }
            }
            // A frame queued between the check and the wait leaves a permit behind, so the
            // wait then returns at once.
            self.0.ready.notified().await;
        }
    }

    /// Holds the socket for the task (to write a control frame, or for good when closing).
    pub fn hold(&self) {
        self.0.state().task_writing = true;
    }

    /// The task wrote what it held the socket for.
    pub fn release(&self) {
        self.0.state().task_writing = false;
    }

    /// The next queued payload, if any (for in-memory connections in tests).
    #[cfg(test)]
    pub fn try_recv(&mut self) -> Option<Bytes> {
        let mut state = self.0.state();
        let item = state.queue.pop_front();
        if item.is_none() && state.queue.capacity() > KEEP_QUEUED_SLOTS {
            state.queue = VecDeque::new();
        }
        item.map(|(Queued::Frame(b) | Queued::Raw(b))| b)
    }

    /// The next queued payload, waiting for one (for in-memory connections in tests).
    #[cfg(test)]
    pub async fn recv(&mut self) -> Option<Bytes> {
        loop {
            if let Some(frame) = self.try_recv() {
                return Some(frame);
            }
            self.0.ready.notified().await;
        }
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        self.0.receiver_alive.store(false, Ordering::Release);
        self.0.state().queue.clear();
    }
}

/// The sending side of one connection's outbox.
#[derive(Debug, Clone)]
pub struct ConnSender {
    pub id: ConnId,
    tx: OutboxSender,
    close: Arc<CloseSignal>,
}

impl ConnSender {
    pub fn new(id: ConnId, tx: OutboxSender, close: Arc<CloseSignal>) -> Self {
        Self { id, tx, close }
    }

    /// Sends a frame without waiting: straight to the socket if the connection is keeping up,
    /// else queued. A full outbox closes the connection as a slow consumer; returns whether the
    /// frame was sent. (Queuing one-off frames such as snapshots for the connection task to write
    /// instead was measured slower: 3,400 rather than 4,500 connect-subscribe-closes a second.)
    pub fn send(&self, payload: &Bytes) -> bool {
        let sent = if self.tx.has_socket() {
            self.tx.send_frame(&WireFrame::text(payload))
        } else {
            self.tx.try_send(payload.clone())
        };
        self.sent(sent)
    }

    /// As [`Self::send`], with the frame already framed (once, for every recipient).
    pub fn send_frame(&self, frame: &WireFrame) -> bool {
        self.sent(self.tx.send_frame(frame))
    }

    fn sent(&self, outcome: Result<(), OutboxError>) -> bool {
        match outcome {
            Ok(()) => true,
            Err(OutboxError::Full) => {
                self.close.close(close::SLOW_CONSUMER, "slow consumer");
                false
            }
            Err(OutboxError::Closed) => false,
        }
    }

    pub fn close(&self, code: u16, reason: impl Into<String>) {
        self.close.close(code, reason);
    }

    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

/// A subscribed connection and who is behind it.
#[derive(Debug, Clone)]
pub struct Subscriber {
    pub sender: ConnSender,
    /// `None` for anonymous viewers.
    pub user: Option<AccountId>,
}

/// The subscribers of one channel.
#[derive(Debug)]
pub struct Hub {
    subscribers: Mutex<HashMap<ConnId, Subscriber>>,
    sweep: Mutex<SweepState>,
    /// Threads a sweep round is split over.
    sweep_threads: usize,
}

impl Default for Hub {
    fn default() -> Self {
        Self::with_sweep_threads(0)
    }
}

/// Whether a large hub's sweeper runs, and whether frames were queued since its round began.
#[derive(Debug, Default)]
struct SweepState {
    running: bool,
    wanted: bool,
}

impl Hub {
    /// A hub whose sweep rounds are split over `threads` threads; 0: one per core.
    pub fn with_sweep_threads(threads: usize) -> Self {
        Self {
            subscribers: Mutex::default(),
            sweep: Mutex::default(),
            sweep_threads: if threads == 0 { cores() } else { threads },
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ConnId, Subscriber>> {
        self.subscribers.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn sweep_state(&self) -> std::sync::MutexGuard<'_, SweepState> {
        self.sweep.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn insert(&self, subscriber: Subscriber) {
        self.lock().insert(subscriber.sender.id, subscriber);
    }

    /// Returns the removed subscriber, if it was there.
    pub fn remove(&self, conn: ConnId) -> Option<Subscriber> {
        let removed = self.lock().remove(&conn);
        // Frames queued for a sweep it is no longer part of are the task's to write.
        if let Some(s) = &removed {
            s.sender.tx.wake();
        }
        removed
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Whether the user has at least one connection subscribed.
    pub fn has_user(&self, user: AccountId) -> bool {
        self.lock().values().any(|s| s.user == Some(user))
    }

    /// Sends one already-serialised frame to every subscriber, framed once for all of them.
    /// Subscribers whose connection is gone, or who were just found too slow (and are being
    /// closed), are dropped on the way.
    ///
    /// A small hub writes the frame to each socket right here (~10 µs each with the kernel's
    /// loopback work), queuing it only for connections that are behind.
    ///
    /// A large hub only queues the frame (without waking anyone) and leaves the writing to its
    /// sweeper, a blocking thread that writes everything queued for each subscriber in one
    /// `send`; it goes round again while broadcasts came in meanwhile. An occasional frame is
    /// thus written at once by every sweep thread (one per core by default), and a storm (chat
    /// at 200 messages a second, tallies while thousands vote) is coalesced into one write per
    /// viewer per round, on one thread, as many rounds as that thread manages, instead of one
    /// write per frame per viewer. The broadcasting actor never waits for the writes, and no
    /// connection task is woken for frames its socket takes at once.
    pub fn broadcast(self: &Arc<Self>, payload: &Bytes) {
        let frame = WireFrame::text(payload);
        let mut subscribers = self.lock();
        if subscribers.len() < LARGE_SWEEP
            || !tokio::runtime::Handle::try_current()
                .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread)
        {
            subscribers.retain(|_, s| s.sender.send_frame(&frame));
            return;
        }
        subscribers.retain(|_, s| s.sender.sent(s.sender.tx.queue_for_sweep(&frame)));
        drop(subscribers);
        let mut sweep = self.sweep_state();
        sweep.wanted = true;
        if !sweep.running {
            sweep.running = true;
            let hub = self.clone();
            tokio::task::spawn_blocking(move || hub.sweep());
        }
    }

    /// The sweeper: rounds over every subscriber until a round finds nothing new was queued.
    fn sweep(&self) {
        // Should a round panic, the next broadcast starts a new sweeper.
        struct Unwinding<'a>(&'a Hub);
        impl Drop for Unwinding<'_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    self.0.sweep_state().running = false;
                }
            }
        }
        let _unwinding = Unwinding(self);
        // A burst (the first round) is split over every sweep thread, so an occasional frame
        // reaches everyone fast. Rounds that follow straight on mean frames keep coming: those
        // are coalesced, and take one thread, so a hub in a storm holds one core and leaves
        // the others to the rest of the server (and, in a benchmark, to its own client).
        let mut threads = self.sweep_threads;
        loop {
            {
                let mut sweep = self.sweep_state();
                if !sweep.wanted {
                    // Under the lock, so a broadcast now either sees this or is seen above.
                    sweep.running = false;
                    return;
                }
                sweep.wanted = false;
            }
            let senders: Vec<OutboxSender> =
                self.lock().values().map(|s| s.sender.tx.clone()).collect();
            // The threads take runs of viewers from a shared counter, so a thread that gets
            // less of its core (the machine's other work lands on it) is not the round's tail.
            let next = AtomicUsize::new(0);
            let round = || {
                let mut scratch = Vec::new();
                loop {
                    let from = next.fetch_add(SWEEP_RUN, Ordering::Relaxed);
                    let Some(run) = senders.get(from..(from + SWEEP_RUN).min(senders.len())) else {
                        break;
                    };
                    run.iter().for_each(|s| s.flush_queued(&mut scratch));
                }
            };
            std::thread::scope(|scope| {
                // A thread that cannot be started (out of threads) leaves its share to the rest.
                for _ in 1..threads {
                    let _ = std::thread::Builder::new()
                        .name("fanout".into())
                        .spawn_scoped(scope, round);
                }
                round();
            });
            threads = 1;
        }
    }

    /// Sends a frame to every connection of one user.
    pub fn send_to_user(&self, user: AccountId, frame: &Bytes) {
        for s in self.lock().values().filter(|s| s.user == Some(user)) {
            s.sender.send(frame);
        }
    }

    /// Sends a frame to one connection, if subscribed.
    pub fn send_to_conn(&self, conn: ConnId, frame: &Bytes) {
        if let Some(s) = self.lock().get(&conn) {
            s.sender.send(frame);
        }
    }

    /// Closes and removes every connection of `user`; returns how many.
    pub fn close_user(&self, user: AccountId, code: u16, reason: &str) -> usize {
        let mut subs = self.lock();
        let before = subs.len();
        subs.retain(|_, s| {
            if s.user == Some(user) {
                s.sender.close(code, reason);
                false
            } else {
                true
            }
        });
        before - subs.len()
    }

    /// Closes every connection (shutdown or giving up on a channel).
    pub fn close_all(&self, code: u16, reason: &str) {
        for s in self.lock().drain().map(|(_, s)| s) {
            s.sender.close(code, reason);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(capacity: usize, user: Option<AccountId>) -> (Subscriber, Outbox, Arc<CloseSignal>) {
        let (tx, rx) = outbox(capacity, None);
        let close = Arc::new(CloseSignal::default());
        let sender = ConnSender::new(next_conn_id(), tx, close.clone());
        (Subscriber { sender, user }, rx, close)
    }

    #[tokio::test]
    async fn a_broadcast_reaches_every_subscriber_once() {
        let hub = Arc::new(Hub::default());
        let (a, mut rx_a, _) = conn(4, None);
        let (b, mut rx_b, _) = conn(4, None);
        hub.insert(a);
        hub.insert(b);
        hub.broadcast(&Bytes::from_static(b"x"));
        assert_eq!(rx_a.recv().await.unwrap(), "x");
        assert_eq!(rx_b.recv().await.unwrap(), "x");
        assert!(rx_a.try_recv().is_none());
    }

    #[tokio::test]
    async fn a_full_outbox_closes_only_that_connection_as_slow() {
        let hub = Arc::new(Hub::default());
        let (slow, _rx_slow, slow_close) = conn(1, None);
        let (fast, mut rx_fast, fast_close) = conn(8, None);
        hub.insert(slow);
        hub.insert(fast);
        for _ in 0..3 {
            hub.broadcast(&Bytes::from_static(b"x"));
        }
        assert_eq!(slow_close.requested().unwrap().0, close::SLOW_CONSUMER);
        assert!(fast_close.requested().is_none());
        for _ in 0..3 {
            assert_eq!(rx_fast.recv().await.unwrap(), "x");
        }
    }

    #[tokio::test]
    async fn closing_a_user_removes_all_their_connections() {
        let hub = Arc::new(Hub::default());
        let user = AccountId::new();
        let (a, _ra, ca) = conn(4, Some(user));
        let (b, _rb, cb) = conn(4, Some(user));
        let (c, _rc, cc) = conn(4, None);
        hub.insert(a);
        hub.insert(b);
        hub.insert(c);
        assert_eq!(hub.close_user(user, close::BANNED, "banned"), 2);
        assert_eq!(hub.len(), 1);
        assert_eq!(ca.requested().unwrap().0, close::BANNED);
        assert_eq!(cb.requested().unwrap().0, close::BANNED);
        assert!(cc.requested().is_none());
    }

    #[tokio::test]
    async fn dropped_connections_are_forgotten_on_broadcast() {
        let hub = Arc::new(Hub::default());
        let (a, rx, _) = conn(4, None);
        hub.insert(a);
        drop(rx);
        hub.broadcast(&Bytes::from_static(b"x"));
        assert!(hub.is_empty());
    }

    #[tokio::test]
    async fn an_outbox_gives_back_a_drained_backlog_and_wakes_its_reader() {
        let (tx, mut rx) = outbox(1000, None);
        for _ in 0..500 {
            tx.try_send(Bytes::from_static(b"x")).unwrap();
        }
        assert!(rx.0.state().queue.capacity() >= 500);
        while rx.try_recv().is_some() {}
        assert_eq!(rx.0.state().queue.capacity(), 0);

        let reader = tokio::spawn(async move { rx.recv().await });
        tokio::task::yield_now().await;
        tx.try_send(Bytes::from_static(b"late")).unwrap();
        assert_eq!(reader.await.unwrap().unwrap(), "late");
        assert!(tx.is_closed(), "the reader is gone");
        assert_eq!(tx.try_send(Bytes::new()), Err(OutboxError::Closed));
    }

    /// `n` subscribers whose outboxes write to real loopback sockets, and the client ends.
    async fn socket_subscribers(hub: &Hub, n: usize) -> (Vec<Outbox>, Vec<tokio::net::TcpStream>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (mut outboxes, mut clients) = (Vec::new(), Vec::new());
        for _ in 0..n {
            let client = tokio::net::TcpStream::connect(addr).await.unwrap();
            let (server, _) = listener.accept().await.unwrap();
            let (tx, rx) = outbox(512, Some(server.into()));
            let sender = ConnSender::new(next_conn_id(), tx, Arc::new(CloseSignal::default()));
            hub.insert(Subscriber { sender, user: None });
            outboxes.push(rx);
            clients.push(client);
        }
        (outboxes, clients)
    }

    /// Reads `count` unmasked text frames of under 126 bytes and returns their payloads.
    async fn read_frames(client: &mut tokio::net::TcpStream, count: usize) -> Vec<String> {
        use tokio::io::AsyncReadExt;
        let mut frames = Vec::new();
        for _ in 0..count {
            let mut header = [0u8; 2];
            client.read_exact(&mut header).await.unwrap();
            assert_eq!(header[0], 0x81, "a final text frame");
            let mut payload = vec![0u8; usize::from(header[1])];
            client.read_exact(&mut payload).await.unwrap();
            frames.push(String::from_utf8(payload).unwrap());
        }
        frames
    }

    async fn sweeper_done(hub: &Hub) {
        while hub.sweep_state().running {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_large_hub_delivers_every_frame_in_order_through_its_sweeper() {
        for threads in [1, 2, 3] {
            delivers_every_frame_in_order(Arc::new(Hub::with_sweep_threads(threads))).await;
        }
    }

    async fn delivers_every_frame_in_order(hub: Arc<Hub>) {
        let (outboxes, mut clients) = socket_subscribers(&hub, LARGE_SWEEP + 8).await;
        let sent: Vec<String> = (0..40).map(|i| format!("frame {i}")).collect();
        for text in &sent {
            hub.broadcast(&Bytes::from(text.clone()));
        }
        for client in clients.iter_mut().step_by(37) {
            let read = tokio::time::timeout(
                std::time::Duration::from_secs(10),
                read_frames(client, sent.len()),
            );
            assert_eq!(read.await.expect("every frame arrives"), sent);
        }
        sweeper_done(&hub).await;
        // Written by the sweeper, not left for connection tasks (there are none here).
        assert!(outboxes.iter().all(|o| o.0.state().queue.is_empty()));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_sweeper_leaves_a_connection_to_its_task_while_the_task_writes() {
        let hub = Arc::new(Hub::default());
        let (mut outboxes, mut clients) = socket_subscribers(&hub, LARGE_SWEEP).await;
        outboxes[0].hold();
        hub.broadcast(&Bytes::from_static(b"one"));
        hub.broadcast(&Bytes::from_static(b"two"));
        sweeper_done(&hub).await;
        assert_eq!(read_frames(&mut clients[1], 2).await, ["one", "two"]);
        // The held connection's frames wait in its queue, framed, in order, for its task.
        outboxes[0].release();
        let mut batch = Vec::new();
        outboxes[0].next_batch(usize::MAX, &mut batch).await;
        let wire: Vec<Bytes> = batch
            .into_iter()
            .map(|q| match q {
                Queued::Raw(b) => b,
                Queued::Frame(_) => panic!("frames for a socket are queued framed"),
            })
            .collect();
        assert_eq!(wire, [&b"\x81\x03one"[..], &b"\x81\x03two"[..]]);
    }

    #[tokio::test]
    async fn a_subscriber_removed_before_the_sweep_reached_it_gets_its_task_woken() {
        let hub = Arc::new(Hub::default());
        let (mut outboxes, _clients) = socket_subscribers(&hub, 1).await;
        let mut outbox = outboxes.pop().unwrap();
        let task = tokio::spawn(async move {
            let mut batch = Vec::new();
            outbox.next_batch(usize::MAX, &mut batch).await;
            batch.len()
        });
        tokio::task::yield_now().await;
        // A broadcast queued a frame for the sweeper; the subscriber leaves before its round.
        let id = hub.lock().keys().copied().next().unwrap();
        let sender = hub.lock()[&id].sender.clone();
        sender.tx.queue_for_sweep(&WireFrame::text(b"x")).unwrap();
        hub.remove(id);
        let taken = tokio::time::timeout(std::time::Duration::from_secs(5), task)
            .await
            .expect("the task is woken for the frame left behind");
        assert_eq!(taken.unwrap(), 1);
    }
}
