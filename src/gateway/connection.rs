//! One websocket connection: written over `Sink`/`Stream` of [`WsMessage`], so it is tested with
//! in-memory channels; `mod.rs` adapts axum's socket to it.
//!
//! Frames for this connection go through its bounded outbox (the hub's `ConnSender`); replies to
//! commands use the same outbox, so a client sees events and replies in one order.
//!
//! Requests are handled one at a time, in the order sent, except votes: see
//! [`MAX_VOTES_IN_FLIGHT`].

use std::{collections::HashSet, sync::Arc, time::Duration};

use bytes::Bytes;
use futures::{Sink, SinkExt, Stream, StreamExt, stream::FuturesUnordered};
use tokio::time::Instant;
use uuid::Uuid;

use super::{
    protocol::{ClientFrame, PROTOCOL_VERSION, ServerFrame},
    socket::SharedSocket,
};
use crate::{
    accounts::Accounts,
    actors::{
        ChannelError, ChannelResult, ChatAuthor, Realtime,
        hub::{CloseSignal, ConnId, ConnSender, Queued, Subscriber, close, next_conn_id, outbox},
        stage::StageMsg,
    },
    domain::{AccountId, ChatText},
    store::Store,
};

/// How long a closing connection may take to deliver its close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(10);

/// Queued frames are written to the socket together up to about this many bytes: buffered,
/// then flushed once. (The websocket library keeps its write buffer at the largest size it
/// ever held, so a batch bound also bounds that per-connection memory.)
const MAX_BATCH_BYTES: usize = 16 * 1024;

/// Votes one connection may have waiting for their polls at once. A vote is answered once it
/// is stored, and a voter in several polls votes in each: handled one at a time, a connection
/// would wait for one store write after another. At the bound the loop stops reading the
/// client's frames until a vote is answered.
pub const MAX_VOTES_IN_FLIGHT: usize = 32;

/// A websocket message, independent of the websocket library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsMessage {
    Text(Bytes),
    Binary(Bytes),
    Ping(Bytes),
    Pong(Bytes),
    Close(Option<(u16, String)>),
    /// Bytes already framed: the end of a frame a sender began writing to the socket.
    Raw(Bytes),
}

/// Connection tunables.
#[derive(Debug, Clone)]
pub struct ConnectionSettings {
    /// Frames queued for a connection before it counts as a slow consumer.
    pub outbox_capacity: usize,
    /// Largest client frame accepted.
    pub max_frame_bytes: usize,
    /// Client frames allowed per second (burst of the same size).
    pub frames_per_sec: u32,
    /// A ping goes out this often; no pong for two periods closes the connection.
    pub ping_every: Duration,
}

impl Default for ConnectionSettings {
    fn default() -> Self {
        Self {
            outbox_capacity: 512,
            max_frame_bytes: 16 * 1024,
            frames_per_sec: 40,
            ping_every: Duration::from_secs(30),
        }
    }
}

/// What a connection needs from the service.
#[derive(Clone)]
pub struct GatewayDeps {
    pub accounts: Accounts,
    pub store: Arc<dyn Store>,
    pub realtime: Realtime,
    pub settings: ConnectionSettings,
    pub chat_tick_ms: u64,
}

struct Session {
    conn: ConnId,
    sender: ConnSender,
    user: Option<ChatAuthor>,
    /// When the signed-in identity's access token expires; an `auth` frame with a fresh token
    /// pushes it back, otherwise the connection closes with [`close::UNAUTHENTICATED`].
    auth_expires: Option<Instant>,
    subscriptions: HashSet<Uuid>,
}

impl Session {
    fn send(&self, frame: &ServerFrame) {
        self.sender.send(&frame.to_bytes());
    }

    fn error(&self, id: Option<u64>, code: &str, message: impl Into<String>) {
        self.send(&ServerFrame::Error {
            id,
            code: code.into(),
            message: message.into(),
        });
    }

    fn ack(&self, id: u64, result: serde_json::Value) {
        self.send(&ServerFrame::Ack { id, result });
    }

    fn answer_vote(&self, vote: &Vote, outcome: ChannelResult<()>) {
        match outcome {
            Ok(()) => self.ack(
                vote.id,
                serde_json::json!({ "poll_id": vote.poll_id, "option": vote.option }),
            ),
            Err(e) => self.channel_error(vote.id, &e),
        }
    }

    fn channel_error(&self, id: u64, e: &ChannelError) {
        let message = match e {
            ChannelError::Invalid(fields) => fields
                .0
                .iter()
                .map(|f| f.to_string())
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        };
        self.error(Some(id), e.code(), message);
    }
}

/// A vote on its way to its poll. The loop goes on reading while it waits.
struct Vote {
    id: u64,
    channel: AccountId,
    voter: AccountId,
    poll_id: Uuid,
    option: u32,
}

impl Vote {
    /// Asks the poll; the loop, which owns the session, sends the answer.
    async fn cast(self, realtime: &Realtime) -> (Self, ChannelResult<()>) {
        let outcome = realtime
            .vote(self.channel, self.voter, self.poll_id, self.option)
            .await;
        (self, outcome)
    }
}

/// Runs a connection until the client leaves, the server closes it, or shutdown.
///
/// With `socket`, frames sent to this connection may be written straight to it by their sender
/// (see [`crate::actors::hub`]); `sink` must then write to that same socket.
pub async fn run<S, R>(
    mut sink: S,
    mut stream: R,
    deps: GatewayDeps,
    initial_token: Option<String>,
    socket: Option<SharedSocket>,
) where
    S: Sink<WsMessage> + Unpin,
    R: Stream<Item = WsMessage> + Unpin,
{
    let conn = next_conn_id();
    let (tx, mut outbox) = outbox(deps.settings.outbox_capacity, socket);
    let mut batch = Vec::new();
    let closing = Arc::new(CloseSignal::default());
    let mut session = Session {
        conn,
        sender: ConnSender::new(conn, tx, closing.clone()),
        user: None,
        auth_expires: None,
        subscriptions: HashSet::new(),
    };
    let mut welcome_error = None;
    if let Some(token) = initial_token {
        match authenticate(&deps, &token).await {
            Ok((author, expires)) => {
                session.user = Some(author);
                session.auth_expires = Some(expires);
            }
            Err(()) => welcome_error = Some(()),
        }
    }
    session.send(&ServerFrame::Welcome {
        v: PROTOCOL_VERSION,
        user_id: session.user.as_ref().map(|u| u.id.0),
        chat_tick_ms: deps.chat_tick_ms,
    });
    if welcome_error.is_some() {
        session.error(
            None,
            "invalid_token",
            "the access token is invalid or expired; continuing anonymously",
        );
    }

    let mut ping = tokio::time::interval_at(
        Instant::now() + deps.settings.ping_every,
        deps.settings.ping_every,
    );
    let mut last_seen = Instant::now();
    // Token bucket for client frames.
    let rate = f64::from(deps.settings.frames_per_sec.max(1));
    let mut tokens = rate;
    let mut refilled = Instant::now();

    // One timer for the token's expiry, moved when an `auth` frame renews it: building a new
    // timer on every turn of the loop would register and cancel a timer entry per frame.
    let mut expiry_armed = session.auth_expires;
    let expiry = tokio::time::sleep_until(expiry_armed.unwrap_or_else(Instant::now));
    tokio::pin!(expiry);

    // Likewise one future for the close request, polled again on every turn instead of being
    // rebuilt (a new `Notified` and a mutex round trip per frame).
    let close_requested = closing.wait();
    tokio::pin!(close_requested);

    // Votes waiting for their polls. Created at the first vote and dropped when the last is
    // answered: even an empty set holds two allocations, one the size of a vote in flight, and
    // most connections are idle.
    let mut votes: Option<FuturesUnordered<_>> = None;

    let close_reason: Option<(u16, String)> = loop {
        tokio::select! {
            biased;
            reason = &mut close_requested => break Some(reason),
            () = outbox.next_batch(MAX_BATCH_BYTES, &mut batch) => {
                // Frames that queued up while this connection waited for its turn go out in
                // the same write: one syscall for the batch instead of one per frame.
                let write = async {
                    for item in batch.drain(..) {
                        sink.feed(match item {
                            Queued::Frame(payload) => WsMessage::Text(payload),
                            Queued::Raw(bytes) => WsMessage::Raw(bytes),
                        })
                        .await?;
                    }
                    sink.flush().await
                };
                // A client that stops reading blocks this write; the hub notices its full
                // outbox and asks to close, which must win over the stuck write. (The socket
                // then stays held: the goodbye continues the stream where this write stopped.)
                tokio::select! {
                    sent = write => {
                        if sent.is_err() { break None }
                        outbox.release();
                    }
                    reason = &mut close_requested => break Some(reason),
                }
            }
            Some((vote, outcome)) = async { votes.as_mut()?.next().await }, if votes.is_some() => {
                session.answer_vote(&vote, outcome);
                if votes.as_ref().is_some_and(FuturesUnordered::is_empty) {
                    votes = None;
                }
            }
            // Not polled while the votes in flight are at their bound: the client's frames wait
            // in the socket (backpressure). A vote ends within the call timeout, well inside the
            // keepalive's two periods.
            incoming = stream.next(), if votes.as_ref().map_or(0, FuturesUnordered::len) < MAX_VOTES_IN_FLIGHT => {
                let Some(message) = incoming else { break None };
                last_seen = Instant::now();
                match message {
                    WsMessage::Text(bytes) => {
                        let now = Instant::now();
                        tokens = (tokens + now.duration_since(refilled).as_secs_f64() * rate).min(rate);
                        refilled = now;
                        if tokens < 1.0 {
                            break Some((close::RATE_LIMITED, "too many frames".into()));
                        }
                        tokens -= 1.0;
                        if bytes.len() > deps.settings.max_frame_bytes {
                            break Some((close::PROTOCOL, "frame too large".into()));
                        }
                        match serde_json::from_slice::<ClientFrame>(&bytes) {
                            Ok(frame) => {
                                let start_vote = |vote: Vote| {
                                    votes
                                        .get_or_insert_with(FuturesUnordered::new)
                                        .push(vote.cast(&deps.realtime));
                                };
                                handle(&deps, &mut session, frame, start_vote).await;
                                if session.auth_expires != expiry_armed {
                                    expiry_armed = session.auth_expires;
                                    if let Some(at) = expiry_armed {
                                        expiry.as_mut().reset(at);
                                    }
                                }
                            }
                            Err(e) => session.error(None, "bad_frame", format!("unreadable frame: {e}")),
                        }
                    }
                    WsMessage::Binary(_) => break Some((close::PROTOCOL, "binary frames are not part of the protocol".into())),
                    WsMessage::Ping(payload) => {
                        outbox.hold();
                        if sink.send(WsMessage::Pong(payload)).await.is_err() {
                            break None;
                        }
                        outbox.release();
                    }
                    // `Raw` is only ever written.
                    WsMessage::Pong(_) | WsMessage::Raw(_) => {}
                    WsMessage::Close(_) => break None,
                }
            }
            () = &mut expiry, if expiry_armed.is_some() => {
                break Some((close::UNAUTHENTICATED, "access token expired; reconnect with a fresh one".into()));
            }
            _ = ping.tick() => {
                if last_seen.elapsed() > deps.settings.ping_every * 2 {
                    break Some((close::GOING_AWAY, "no answer to pings".into()));
                }
                outbox.hold();
                if sink.send(WsMessage::Ping(Bytes::new())).await.is_err() {
                    break None;
                }
                outbox.release();
            }
        }
    };

    // Votes still in flight are dropped unanswered: a poll that got one still counts it (the
    // client can see its choice in a `snapshot`).
    drop(votes);
    // From here on only this task writes to the socket.
    outbox.hold();
    for channel in session.subscriptions.drain() {
        deps.realtime.unsubscribe(AccountId(channel), conn);
    }
    if let Some((code, reason)) = close_reason {
        // Say why before closing, for clients that cannot read close reasons. A slow client
        // gets a while to drain what is queued before this.
        let goodbye = async {
            let error = ServerFrame::Error {
                id: None,
                code: close_code_name(code).into(),
                message: reason.clone(),
            };
            let _ = sink.send(WsMessage::Text(error.to_bytes())).await;
            let _ = sink.send(WsMessage::Close(Some((code, reason)))).await;
            let _ = sink.close().await;
        };
        let _ = tokio::time::timeout(CLOSE_GRACE, goodbye).await;
    } else {
        let _ = tokio::time::timeout(CLOSE_GRACE, sink.close()).await;
    }
}

fn close_code_name(code: u16) -> &'static str {
    match code {
        close::SLOW_CONSUMER => "slow_consumer",
        close::BANNED => "banned",
        close::RATE_LIMITED => "rate_limited",
        close::UNAUTHENTICATED => "unauthenticated",
        close::PROTOCOL => "protocol_error",
        _ => "going_away",
    }
}

async fn authenticate(deps: &GatewayDeps, token: &str) -> Result<(ChatAuthor, Instant), ()> {
    let user = deps.accounts.authenticate(token).await.map_err(|_| ())?;
    let left = (user.token_expires_at - chrono::Utc::now())
        .to_std()
        .unwrap_or_default();
    let author = ChatAuthor {
        id: user.account.id,
        username: user.account.username.to_string(),
        color: user.account.color,
    };
    Ok((author, Instant::now() + left))
}

/// Handles a request; a vote is only started (with `start_vote`), and the loop answers it.
async fn handle(
    deps: &GatewayDeps,
    session: &mut Session,
    frame: ClientFrame,
    start_vote: impl FnOnce(Vote),
) {
    let id = frame.id();
    let realtime = &deps.realtime;
    match frame {
        ClientFrame::Ping { id } => session.send(&ServerFrame::Pong { id }),
        ClientFrame::Auth { id, token } => match authenticate(deps, &token).await {
            Ok((author, expires)) => {
                if session.user.as_ref().is_some_and(|u| u.id != author.id) {
                    // Switching accounts mid-connection would leave subscriptions with the old
                    // identity; reconnect instead.
                    session.error(
                        Some(id),
                        "forbidden",
                        "already signed in as another user; reconnect",
                    );
                    return;
                }
                let user_id = author.id.0;
                session.user = Some(author);
                session.auth_expires = Some(expires);
                session.ack(id, serde_json::json!({ "user_id": user_id }));
            }
            Err(()) => session.error(
                Some(id),
                "invalid_token",
                "the access token is invalid or expired",
            ),
        },
        ClientFrame::Subscribe {
            id,
            channel,
            chat_offset,
        } => {
            let account = match deps
                .store
                .account_by_username(&channel.to_ascii_lowercase())
                .await
            {
                Ok(Some(a)) => a,
                Ok(None) => return session.error(Some(id), "not_found", "no such channel"),
                Err(e) => return session.error(Some(id), "unavailable", e.to_string()),
            };
            if session.subscriptions.contains(&account.id.0) {
                return session.error(
                    Some(id),
                    "already_subscribed",
                    "already subscribed to this channel",
                );
            }
            let subscriber = Subscriber {
                sender: session.sender.clone(),
                user: session.user.as_ref().map(|u| u.id),
            };
            match realtime
                .subscribe(account.id, subscriber, id, chat_offset)
                .await
            {
                Ok(()) => {
                    session.subscriptions.insert(account.id.0);
                }
                Err(e) => session.channel_error(id, &e),
            }
        }
        ClientFrame::Unsubscribe { id, channel } => {
            if session.subscriptions.remove(&channel) {
                realtime.unsubscribe(AccountId(channel), session.conn);
                session.ack(id, serde_json::Value::Null);
            } else {
                session.error(Some(id), "not_subscribed", "not subscribed to this channel");
            }
        }
        ClientFrame::Chat { id, channel, text } => {
            let Some(author) = session.user.clone() else {
                return session.channel_error(id, &ChannelError::SignInRequired);
            };
            let text = match ChatText::parse(&text) {
                Ok(t) => t,
                Err(e) => return session.channel_error(id, &ChannelError::Invalid(e.into())),
            };
            match realtime.send_chat(AccountId(channel), author, text).await {
                Ok(offset) => session.ack(id, serde_json::json!({ "offset": offset })),
                Err(e) => session.channel_error(id, &e),
            }
        }
        ClientFrame::DeleteChat {
            id,
            channel,
            offset,
        } => {
            let Some(user) = session.user.as_ref().map(|u| u.id) else {
                return session.channel_error(id, &ChannelError::SignInRequired);
            };
            match realtime.delete_chat(AccountId(channel), user, offset).await {
                Ok(()) => session.ack(id, serde_json::Value::Null),
                Err(e) => session.channel_error(id, &e),
            }
        }
        ClientFrame::Vote {
            id,
            channel,
            poll_id,
            option,
        } => {
            let Some(voter) = session.user.as_ref().map(|u| u.id) else {
                return session.channel_error(id, &ChannelError::SignInRequired);
            };
            start_vote(Vote {
                id,
                channel: AccountId(channel),
                voter,
                poll_id,
                option,
            });
        }
        ClientFrame::StageRequest { id, channel } => {
            let Some(author) = session.user.clone() else {
                return session.channel_error(id, &ChannelError::SignInRequired);
            };
            let outcome = realtime
                .stage(AccountId(channel), |reply| StageMsg::Request {
                    user: author.id,
                    username: author.username.clone(),
                    reply,
                })
                .await;
            match outcome {
                Ok(position) => session.ack(id, serde_json::json!({ "position": position })),
                Err(e) => session.error(Some(id), e.code(), e.to_string()),
            }
        }
        ClientFrame::StageRetract { id, channel } => {
            let Some(user) = session.user.as_ref().map(|u| u.id) else {
                return session.channel_error(id, &ChannelError::SignInRequired);
            };
            match realtime
                .stage(AccountId(channel), |reply| StageMsg::Retract {
                    user,
                    reply,
                })
                .await
            {
                Ok(()) => session.ack(id, serde_json::Value::Null),
                Err(e) => session.error(Some(id), e.code(), e.to_string()),
            }
        }
    }
    let _ = id;
}
