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

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use bytes::Bytes;
use tokio::sync::{Notify, mpsc};

use crate::domain::AccountId;

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

/// The sending side of one connection's outbox.
#[derive(Debug, Clone)]
pub struct ConnSender {
    pub id: ConnId,
    tx: mpsc::Sender<Bytes>,
    close: Arc<CloseSignal>,
}

impl ConnSender {
    pub fn new(id: ConnId, tx: mpsc::Sender<Bytes>, close: Arc<CloseSignal>) -> Self {
        Self { id, tx, close }
    }

    /// Queues a frame without waiting. A full outbox closes the connection as a slow consumer;
    /// returns whether the frame was queued.
    pub fn send(&self, frame: &Bytes) -> bool {
        match self.tx.try_send(frame.clone()) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.close.close(close::SLOW_CONSUMER, "slow consumer");
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
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
#[derive(Debug, Default)]
pub struct Hub {
    subscribers: Mutex<HashMap<ConnId, Subscriber>>,
}

impl Hub {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ConnId, Subscriber>> {
        self.subscribers.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn insert(&self, subscriber: Subscriber) {
        self.lock().insert(subscriber.sender.id, subscriber);
    }

    /// Returns the removed subscriber, if it was there.
    pub fn remove(&self, conn: ConnId) -> Option<Subscriber> {
        self.lock().remove(&conn)
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

    /// Sends one already-serialised frame to every subscriber. Subscribers whose connection is
    /// gone, or who were just found too slow (and are being closed), are dropped on the way.
    pub fn broadcast(&self, frame: &Bytes) {
        self.lock().retain(|_, s| s.sender.send(frame));
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

    fn conn(
        capacity: usize,
        user: Option<AccountId>,
    ) -> (Subscriber, mpsc::Receiver<Bytes>, Arc<CloseSignal>) {
        let (tx, rx) = mpsc::channel(capacity);
        let close = Arc::new(CloseSignal::default());
        let sender = ConnSender::new(next_conn_id(), tx, close.clone());
        (Subscriber { sender, user }, rx, close)
    }

    #[tokio::test]
    async fn a_broadcast_reaches_every_subscriber_once() {
        let hub = Hub::default();
        let (a, mut rx_a, _) = conn(4, None);
        let (b, mut rx_b, _) = conn(4, None);
        hub.insert(a);
        hub.insert(b);
        hub.broadcast(&Bytes::from_static(b"x"));
        assert_eq!(rx_a.recv().await.unwrap(), "x");
        assert_eq!(rx_b.recv().await.unwrap(), "x");
        assert!(rx_a.try_recv().is_err());
    }

    #[tokio::test]
    async fn a_full_outbox_closes_only_that_connection_as_slow() {
        let hub = Hub::default();
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
        let hub = Hub::default();
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
        let hub = Hub::default();
        let (a, rx, _) = conn(4, None);
        hub.insert(a);
        drop(rx);
        hub.broadcast(&Bytes::from_static(b"x"));
        assert!(hub.is_empty());
    }
}
