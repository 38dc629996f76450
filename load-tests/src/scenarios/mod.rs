//! The scenarios, and what they share: the context (server, API, connector, seeded accounts)
//! and the audience that watches channels and times every marked frame.

pub mod baseline;
pub mod churn;
pub mod fanout;
pub mod many_channels;
pub mod poll_storm;
pub mod smoke;
pub mod soak;
pub mod stage_rush;

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use serde_json::json;
use tokio::{sync::watch, task::JoinHandle};

use crate::{
    api::{Account, Api, SeedStats, Seeder, names},
    clock::marker,
    report::{Latency, Report},
    server::Server,
    socket::Socket,
    ws::{self, Connector, Publisher, ViewerOutcome, Watch},
};

/// Everything a scenario needs.
pub struct Ctx {
    pub server: Server,
    pub api: Api,
    pub connector: Connector,
    pub seeder: Seeder,
    /// The raw-socket floor for one frame to 10,000 sockets, in ms, if known.
    pub floor_ms: Option<f64>,
    pub out: PathBuf,
}

impl Ctx {
    /// Seeds (or takes from the cache) accounts named `prefix0..prefix{n-1}`.
    pub async fn accounts(
        &mut self,
        prefix: &str,
        n: usize,
        report: &mut Report,
    ) -> anyhow::Result<Vec<Account>> {
        let (accounts, stats) = self
            .seeder
            .accounts(&names(prefix, n), &format!("seed {prefix}"))
            .await?;
        note_seeding(report, prefix, stats);
        Ok(accounts)
    }
}

fn note_seeding(report: &mut Report, prefix: &str, stats: SeedStats) {
    if stats.registered + stats.logged_in > 0 {
        let per = if stats.logged_in > 0 {
            stats.secs / stats.logged_in as f64 * 1000.0
        } else {
            0.0
        };
        report.line(format!(
            "seeded {prefix}*: {} registered, {} logged in, {} cached, in {:.1} s ({per:.1} ms per account, over the API)",
            stats.registered, stats.logged_in, stats.from_cache, stats.secs
        ));
    }
    report.set(&format!("seed_{prefix}"), stats);
}

/// Viewers reading until told to stop.
pub struct Audience {
    stop: watch::Sender<bool>,
    /// Markers received so far, by all viewers together.
    pub received: Arc<AtomicU64>,
    handles: Vec<JoinHandle<ViewerOutcome>>,
    /// Which channel (index) each viewer watches.
    pub channel_of: Vec<usize>,
}

impl Audience {
    /// `expected_each`: about how many markers each viewer will see (0 if not known).
    pub fn start(
        sockets: Vec<Socket>,
        channel_of: Vec<usize>,
        watch: Watch,
        expected_each: usize,
    ) -> Self {
        let (stop, rx) = watch::channel(false);
        let received = Arc::new(AtomicU64::new(0));
        let handles = sockets
            .into_iter()
            .map(|ws| ws::spawn_viewer(ws, rx.clone(), watch, received.clone(), expected_each))
            .collect();
        Self {
            stop,
            received,
            handles,
            channel_of,
        }
    }

    /// Waits until `expected` markers arrived in all, or `timeout` passed; true if they did.
    pub async fn wait_for(&self, expected: u64, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while tokio::time::Instant::now() < deadline {
            if self.received.load(Ordering::Relaxed) >= expected {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.received.load(Ordering::Relaxed) >= expected
    }

    /// Viewers whose connection already ended.
    pub fn dropped_so_far(&self) -> usize {
        self.handles.iter().filter(|h| h.is_finished()).count()
    }

    pub async fn finish(self) -> Vec<ViewerOutcome> {
        let _ = self.stop.send(true);
        let mut out = Vec::with_capacity(self.handles.len());
        for h in self.handles {
            out.push(h.await.unwrap_or_default());
        }
        out
    }
}

/// Delivery and latency over an audience: `published[c]` is how many marked messages went into
/// channel `c`. Returns (delivered, expected, latencies in µs, dropped viewers).
pub fn tally_delivery(
    outcomes: &[ViewerOutcome],
    channel_of: &[usize],
    published: &[u64],
) -> (u64, u64, Vec<u32>, Vec<String>) {
    let mut delivered = 0;
    let mut expected = 0;
    let mut latencies = Vec::new();
    let mut dropped = Vec::new();
    for (o, &c) in outcomes.iter().zip(channel_of) {
        expected += published[c];
        let mut seqs: Vec<u32> = o.samples.iter().map(|s| s.0).collect();
        seqs.sort_unstable();
        seqs.dedup();
        delivered += seqs.len() as u64;
        latencies.extend(o.samples.iter().map(|s| s.1));
        if let Some(d) = &o.dropped {
            dropped.push(d.clone());
        }
    }
    (delivered, expected, latencies, dropped)
}

/// Publishes chat into channels at a steady rate, through connections of each channel's owner.
/// A websocket takes at most 40 frames a second from one client, so a channel that gets more
/// than 25 messages a second is published through several connections.
pub struct ChatFeed {
    /// Per channel: its publisher connections, and its id.
    channels: Vec<(Vec<Publisher>, String)>,
    pub published: Vec<u64>,
    /// Publish time (µs) of every message, by channel and sequence number.
    pub sent_at: Vec<Vec<u64>>,
    pub text_bytes: usize,
}

/// Messages a second one publisher connection sends, safely under the 40 frames/s limit.
pub const PER_PUBLISHER: f64 = 25.0;

impl ChatFeed {
    pub async fn open(
        connector: &Connector,
        owners: &[Account],
        rate_per_channel: f64,
        text_bytes: usize,
        first_index: usize,
    ) -> anyhow::Result<Self> {
        let per_channel = (rate_per_channel / PER_PUBLISHER).ceil().max(1.0) as usize;
        let mut channels = Vec::new();
        let mut index = first_index;
        for owner in owners {
            let mut pubs = Vec::new();
            for _ in 0..per_channel {
                let mut ws = connector.connect(index, Some(&owner.token)).await?;
                index += 1;
                ws::expect(&mut ws, "welcome", None, Duration::from_secs(30)).await?;
                pubs.push(Publisher::spawn(ws));
            }
            channels.push((pubs, owner.id.clone()));
        }
        Ok(Self {
            published: vec![0; owners.len()],
            sent_at: vec![Vec::new(); owners.len()],
            channels,
            text_bytes,
        })
    }

    /// Sends the next chat message into channel `c`.
    pub fn send(&mut self, c: usize) {
        let seq = self.published[c];
        let (pubs, id) = &self.channels[c];
        let text = marker(seq, self.text_bytes);
        let publish_us = crate::clock::now_us();
        let frame = json!({"type":"chat","id":seq,"channel":id,"text":text}).to_string();
        pubs[seq as usize % pubs.len()].send(frame);
        self.published[c] += 1;
        self.sent_at[c].push(publish_us);
    }

    /// Reserves the next sequence number of channel `c` for a message published another way
    /// (a stream action over HTTP); the marker must be made right after this.
    pub fn take_seq(&mut self, c: usize) -> u64 {
        let seq = self.published[c];
        self.published[c] += 1;
        self.sent_at[c].push(crate::clock::now_us());
        seq
    }

    /// Waits for every reply; returns (acked, errors, send → reply in µs for each answered).
    pub async fn finish(self) -> (u64, Vec<String>, Vec<u32>) {
        let mut acked = 0;
        let mut errors = Vec::new();
        let mut reply_us = Vec::new();
        for (pubs, _) in self.channels {
            for p in pubs {
                let o = p.finish().await;
                acked += o.acked;
                errors.extend(o.errors);
                reply_us.extend(o.reply_us);
            }
        }
        (acked, errors, reply_us)
    }
}

/// Sends `total` messages spread evenly over the channels at `rate` messages a second in all,
/// calling `tick(sent)` after each. Returns how long it took.
pub async fn publish_paced(
    feed: &mut ChatFeed,
    total: u64,
    rate: f64,
    mut tick: impl FnMut(u64),
) -> Duration {
    let start = tokio::time::Instant::now();
    let channels = feed.channels.len().max(1);
    for i in 0..total {
        let at = start + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(at).await;
        feed.send(i as usize % channels);
        tick(i + 1);
    }
    start.elapsed()
}

/// The standard latency/delivery part of a report.
pub fn report_delivery(
    report: &mut Report,
    outcomes: &[ViewerOutcome],
    channel_of: &[usize],
    published: &[u64],
    floor_ms: Option<f64>,
) -> (u64, u64, Latency, usize) {
    let (delivered, expected, mut lat_us, dropped) =
        tally_delivery(outcomes, channel_of, published);
    let lat = Latency::from_us(&mut lat_us);
    report.latency("latency_ms", "publish→receive", lat, floor_ms);
    let pct = if expected > 0 {
        delivered as f64 / expected as f64 * 100.0
    } else {
        100.0
    };
    report.set("delivered", delivered);
    report.set("expected", expected);
    report.set("delivered_pct", crate::report::r2(pct));
    report.set("dropped_viewers", dropped.len());
    report.line(format!(
        "delivered {delivered}/{expected} ({pct:.3}%), viewers dropped: {}",
        dropped.len()
    ));
    if let Some(first) = dropped.first() {
        report.line(format!("first drop: {first}"));
    }
    let mut by_reason: HashMap<&str, usize> = HashMap::new();
    for d in &dropped {
        *by_reason.entry(d.as_str()).or_default() += 1;
    }
    report.set("drop_reasons", by_reason);
    (delivered, expected, lat, dropped.len())
}

/// Server RSS (kB) now, if the server's pid is known.
pub fn rss_kb(server: &Server) -> Option<u64> {
    server.sample().map(|s| s.rss_kb)
}
