//! Websocket clients: connecting from spread-out loopback source addresses, viewers that
//! subscribe and time every marked frame, and publishers that send chat.
//!
//! Source addresses: a TCP connection is named by (source ip, source port, server ip, server
//! port), and Linux hands out source ports from `net.ipv4.ip_local_port_range` (32768–60999
//! here: ~28k). Past that many connections to one server address — or past that many recently
//! closed ones, which sit in TIME_WAIT for 60 s — connects fail with `EADDRNOTAVAIL`. Every
//! 127.0.0.x address reaches the loopback interface, so the client binds each socket to one
//! of 127.0.0.1, 127.0.0.2, … before connecting.

use std::{
    net::{Ipv4Addr, SocketAddr},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use anyhow::{Context, bail};
use futures::{SinkExt, StreamExt};
use tokio::{
    net::{TcpSocket, TcpStream},
    sync::{mpsc, watch},
    task::JoinHandle,
};
use tokio_tungstenite::{
    WebSocketStream,
    tungstenite::{Message, protocol::WebSocketConfig},
};

use crate::{
    clock::{now_us, scan_markers},
    socket::{Ended, Socket},
};

pub type Ws = WebSocketStream<TcpStream>;

/// How connections pick their loopback source address.
#[derive(Debug, Clone, Copy)]
pub enum Sources {
    /// Connection `i` uses 127.0.0.(1 + i / n): n connections per address.
    Blocks(usize),
    /// Connection `i` uses 127.0.0.(1 + i % n): for churn, whose closed connections linger in
    /// TIME_WAIT.
    RoundRobin(usize),
}

impl Sources {
    pub fn ip(self, index: usize) -> Ipv4Addr {
        let n = match self {
            Sources::Blocks(per) => index / per.max(1),
            Sources::RoundRobin(count) => index % count.max(1),
        };
        Ipv4Addr::new(127, 0, (1 + n / 250) as u8, (1 + n % 250) as u8)
    }
}

/// Connections per source address by default: safely below the ~28k ephemeral ports.
pub const PER_SOURCE: usize = 20_000;

#[derive(Clone)]
pub struct Connector {
    pub addr: SocketAddr,
    url: String,
    pub sources: Sources,
}

impl Connector {
    pub fn new(addr: SocketAddr, url: String) -> Self {
        Self {
            addr,
            url,
            sources: Sources::Blocks(PER_SOURCE),
        }
    }

    /// The TCP connection of connection number `index`, and the URL it asks for.
    async fn tcp(&self, index: usize, token: Option<&str>) -> anyhow::Result<(TcpStream, String)> {
        let socket = TcpSocket::new_v4()?;
        socket.bind(SocketAddr::from((self.sources.ip(index), 0)))?;
        let stream = socket.connect(self.addr).await?;
        stream.set_nodelay(true)?;
        let url = match token {
            Some(t) => format!("{}?access_token={t}", self.url),
            None => self.url.clone(),
        };
        Ok((stream, url))
    }

    /// Opens connection number `index` with tokio-tungstenite, signed in with `token` if
    /// given: for publishers and churn.
    pub async fn connect(&self, index: usize, token: Option<&str>) -> anyhow::Result<Ws> {
        let (stream, url) = self.tcp(index, token).await?;
        // tungstenite zero-fills its whole read buffer before every read: a viewer woken for
        // a 200-byte frame would clear 16 KiB twice (the read and the one that finds nothing
        // more), ~11 % of this client's CPU in a fan-out. 4 KiB still takes a storm's batch in
        // one or two reads.
        let config = WebSocketConfig::default()
            .read_buffer_size(4 * 1024)
            .write_buffer_size(0);
        let (ws, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(config))
            .await
            .context("websocket handshake")?;
        Ok(ws)
    }

    /// Opens connection number `index` as a hand-read socket: for viewers and voters.
    pub async fn open(&self, index: usize, token: Option<&str>) -> anyhow::Result<Socket> {
        let (stream, url) = self.tcp(index, token).await?;
        Socket::handshake(stream, &url)
            .await
            .context("websocket handshake")
    }
}

/// Either kind of connection, read one text frame at a time.
pub trait TextFrames {
    fn next_text(
        &mut self,
        timeout: Duration,
    ) -> impl Future<Output = anyhow::Result<String>> + Send;
}

impl TextFrames for Ws {
    fn next_text(
        &mut self,
        timeout: Duration,
    ) -> impl Future<Output = anyhow::Result<String>> + Send {
        next_text(self, timeout)
    }
}

impl TextFrames for Socket {
    fn next_text(
        &mut self,
        timeout: Duration,
    ) -> impl Future<Output = anyhow::Result<String>> + Send {
        Socket::next_text(self, timeout)
    }
}

/// Sends a text frame.
pub async fn send(ws: &mut Ws, text: String) -> anyhow::Result<()> {
    ws.send(Message::Text(text.into())).await?;
    Ok(())
}

/// The next text frame, within `timeout`.
pub async fn next_text(ws: &mut Ws, timeout: Duration) -> anyhow::Result<String> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .context("timed out waiting for a frame")?;
        match msg {
            Some(Ok(Message::Text(t))) => return Ok(t.to_string()),
            Some(Ok(Message::Close(c))) => bail!("closed by the server: {c:?}"),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.into()),
            None => bail!("connection ended"),
        }
    }
}

/// Reads frames until one whose `type` is `kind` (and, for replies, whose `id` is `id`);
/// returns its text. Frames are told apart by their first bytes (the server writes `type`
/// first and a reply's `id` second), so a large snapshot is not parsed by this client.
pub async fn expect(
    ws: &mut impl TextFrames,
    kind: &str,
    id: Option<u64>,
    timeout: Duration,
) -> anyhow::Result<String> {
    let deadline = tokio::time::Instant::now() + timeout;
    let wanted = match id {
        Some(id) => format!(r#"{{"type":"{kind}","id":{id}"#),
        None => format!(r#"{{"type":"{kind}""#),
    };
    let refused = id.map(|id| format!(r#"{{"type":"error","id":{id},"#));
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let text = ws.next_text(left).await?;
        if let Some(r) = &refused
            && text.starts_with(r.as_str())
        {
            let v: serde_json::Value = serde_json::from_str(&text)?;
            bail!("{kind} refused: {}", v["code"]);
        }
        if text.starts_with(&wanted)
            && (id.is_none() || matches!(text.as_bytes().get(wanted.len()), Some(b',' | b'}')))
        {
            return Ok(text);
        }
    }
}

/// Connects, subscribes to `channel` (a username) and waits for the snapshot; returns the
/// socket and the snapshot's text.
pub async fn join(
    connector: &Connector,
    index: usize,
    token: Option<&str>,
    channel: &str,
) -> anyhow::Result<(Socket, String)> {
    let mut ws = connector.open(index, token).await?;
    expect(&mut ws, "welcome", None, Duration::from_secs(30)).await?;
    let sub = serde_json::json!({"type":"subscribe","id":1,"channel":channel}).to_string();
    ws.send_text(&sub).await?;
    let snapshot = expect(&mut ws, "snapshot", Some(1), Duration::from_secs(30)).await?;
    Ok((ws, snapshot))
}

/// What one viewer saw.
#[derive(Debug, Default)]
pub struct ViewerOutcome {
    /// (message sequence number, latency in µs) for every marker received.
    pub samples: Vec<(u32, u32)>,
    pub frames: u64,
    /// When each `poll_tally` frame arrived (µs on the process clock).
    pub tallies: Vec<u64>,
    /// The final `poll_closed` frame, if one came.
    pub poll_closed: Option<serde_json::Value>,
    /// The most publishers any `stage` frame showed.
    pub max_publishers: usize,
    /// `notice` frames (e.g. a join request accepted).
    pub notices: Vec<serde_json::Value>,
    /// Why the connection ended before it was told to stop.
    pub dropped: Option<String>,
}

/// Which frames a viewer looks into beyond markers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Watch {
    pub polls: bool,
    pub stage: bool,
}

/// Reads frames until `stop` turns true, timing every marker; then closes. `expected` is
/// how many markers it will likely see, so that their samples are not copied as they grow.
pub fn spawn_viewer(
    mut ws: Socket,
    mut stop: watch::Receiver<bool>,
    watch: Watch,
    received: Arc<AtomicU64>,
    expected: usize,
) -> JoinHandle<ViewerOutcome> {
    let mut out = ViewerOutcome {
        samples: Vec::with_capacity(expected),
        ..Default::default()
    };
    // Its pages touched now, before anything is published: faulted in while frames arrive,
    // they cost the measurement.
    out.samples.resize(expected, (0, 0));
    out.samples.clear();
    tokio::spawn(async move {
        // Built once: a new `wait_for` per frame registers and drops a waiter every time.
        let stopped = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        tokio::pin!(stopped);
        loop {
            let before = out.samples.len();
            let read = {
                let mut on_text = |t: &[u8]| {
                    out.frames += 1;
                    observe(&mut out, t, watch);
                };
                tokio::select! {
                    () = &mut stopped => None,
                    r = ws.read(&mut on_text) => Some(r),
                }
            };
            match read {
                None => break,
                Some(Ok(())) => {}
                Some(Err(e)) => {
                    out.dropped = Some(match e {
                        Ended::Closed(..) => e.to_string(),
                        Ended::Broken(e) => format!("error: {e}"),
                    });
                    break;
                }
            }
            let got = out.samples.len() - before;
            if got > 0 {
                received.fetch_add(got as u64, Ordering::Relaxed);
            }
        }
        if out.dropped.is_none() {
            ws.close(Duration::from_secs(5)).await;
        }
        out
    })
}

fn observe(out: &mut ViewerOutcome, frame: &[u8], watch: Watch) {
    let now = now_us();
    if frame.starts_with(br#"{"type":"snapshot""#) {
        return;
    }
    scan_markers(frame, |seq, published| {
        out.samples
            .push((seq as u32, now.saturating_sub(published) as u32));
    });
    if watch.polls {
        if frame.starts_with(br#"{"type":"poll_tally""#) {
            out.tallies.push(now);
        } else if frame.starts_with(br#"{"type":"poll_closed""#) {
            out.poll_closed = serde_json::from_slice(frame).ok();
        }
    }
    if watch.stage {
        if frame.starts_with(br#"{"type":"stage""#) {
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(frame)
                && let Some(p) = v["event"]["stage"]["publishers"].as_array()
            {
                out.max_publishers = out.max_publishers.max(p.len());
            }
        } else if frame.starts_with(br#"{"type":"notice""#)
            && let Ok(v) = serde_json::from_slice(frame)
        {
            out.notices.push(v);
        }
    }
}

/// What a publisher connection saw of its own frames.
#[derive(Debug, Default)]
pub struct PublisherOutcome {
    pub sent: u64,
    pub acked: u64,
    pub errors: Vec<String>,
    /// Send → reply, in µs, for every frame answered (replies come in order on a connection).
    pub reply_us: Vec<u32>,
}

/// A connection that sends the frames it is given and counts their replies.
pub struct Publisher {
    tx: mpsc::UnboundedSender<String>,
    handle: JoinHandle<PublisherOutcome>,
}

/// Where publishers run: a runtime of their own, on its own thread. On the viewers' runtime a
/// publisher's task waited in line behind thousands of viewer tasks woken by a storm, so a
/// message stamped "published" reached its socket up to hundreds of milliseconds later: the
/// client's own delay, counted against the server. (Their sockets stay registered with the
/// main runtime's reactor, which wakes them here.)
pub fn publisher_runtime() -> &'static tokio::runtime::Handle {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Handle> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for publishers");
        let handle = runtime.handle().clone();
        std::thread::Builder::new()
            .name("publishers".into())
            .spawn(move || runtime.block_on(std::future::pending::<()>()))
            .expect("the publishers' thread");
        handle
    })
}

impl Publisher {
    pub fn spawn(mut ws: Ws) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<String>();
        let handle = publisher_runtime().spawn(async move {
            let mut out = PublisherOutcome::default();
            let mut open = true;
            // Replies are awaited only while some are outstanding: an idle publisher hears
            // nothing but the server's pings (every 30 s).
            let mut last_reply = tokio::time::Instant::now();
            let mut sent_at = std::collections::VecDeque::new();
            loop {
                let outstanding = out.sent > out.acked + out.errors.len() as u64;
                if !open && !outstanding {
                    break;
                }
                tokio::select! {
                    frame = rx.recv(), if open => match frame {
                        Some(f) => {
                            if !outstanding {
                                last_reply = tokio::time::Instant::now();
                            }
                            out.sent += 1;
                            sent_at.push_back(now_us());
                            if let Err(e) = ws.send(Message::Text(f.into())).await {
                                out.errors.push(format!("send: {e}"));
                                break;
                            }
                        }
                        None => open = false,
                    },
                    msg = ws.next() => match msg {
                        Some(Ok(Message::Text(t))) => {
                            let reply = t.starts_with(r#"{"type":"ack""#) || t.starts_with(r#"{"type":"error""#);
                            if reply && let Some(at) = sent_at.pop_front() {
                                out.reply_us.push(now_us().saturating_sub(at) as u32);
                            }
                            if t.starts_with(r#"{"type":"ack""#) {
                                out.acked += 1;
                                last_reply = tokio::time::Instant::now();
                            } else if t.starts_with(r#"{"type":"error""#) {
                                out.errors.push(t.to_string());
                                last_reply = tokio::time::Instant::now();
                            }
                        }
                        Some(Ok(_)) => {}
                        Some(Err(e)) => { out.errors.push(format!("read: {e}")); break; }
                        None => { out.errors.push("publisher connection ended".into()); break; }
                    },
                    _ = tokio::time::sleep_until(last_reply + Duration::from_secs(60)), if outstanding => {
                        out.errors.push("no reply within 60 s".into());
                        break;
                    }
                }
            }
            let _ = tokio::time::timeout(Duration::from_secs(5), ws.close(None)).await;
            out
        });
        Self { tx, handle }
    }

    pub fn send(&self, frame: String) {
        let _ = self.tx.send(frame);
    }

    pub async fn finish(self) -> PublisherOutcome {
        drop(self.tx);
        self.handle.await.unwrap_or_default()
    }
}

/// Opens `n` viewers at most `parallel` at a time; `make(i)` gives viewer `i`'s token and
/// channel. Fails on the first viewer that cannot join.
pub async fn join_many<F>(
    connector: &Connector,
    n: usize,
    parallel: usize,
    what: &str,
    make: F,
) -> anyhow::Result<Vec<(Socket, String)>>
where
    F: Fn(usize) -> (Option<String>, String),
{
    let bar = crate::report::progress(n as u64, what);
    let connector = Arc::new(connector.clone());
    let specs: Vec<(usize, Option<String>, String)> = (0..n)
        .map(|i| {
            let (t, c) = make(i);
            (i, t, c)
        })
        .collect();
    let results: Vec<anyhow::Result<(usize, Socket, String)>> = futures::stream::iter(specs)
        .map(|(i, token, channel)| {
            let connector = connector.clone();
            let bar = bar.clone();
            async move {
                let r = join(&connector, i, token.as_deref(), &channel)
                    .await
                    .with_context(|| format!("viewer {i} joining {channel}"));
                bar.inc(1);
                r.map(|(ws, snap)| (i, ws, snap))
            }
        })
        .buffer_unordered(parallel)
        .collect()
        .await;
    bar.finish_and_clear();
    let mut joined = results.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    joined.sort_by_key(|(i, _, _)| *i);
    Ok(joined.into_iter().map(|(_, ws, s)| (ws, s)).collect())
}
