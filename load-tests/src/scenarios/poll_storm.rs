//! poll-storm: signed-in voters all vote over their websockets.
//!
//! 1. One poll: N voters subscribed to the channel vote within T seconds. Every vote must be
//!    acknowledged, the final tally must be exact, and `poll_tally` frames must come at most
//!    every 250 ms (the documented coalescing).
//! 2. Many polls: P channels each run a poll and every voter votes in each, sending its P votes
//!    together without waiting for their acks (matched by request id); voters start one after
//!    another, P votes every P / rate seconds, so the offered rate is the target rate. The
//!    sustained rate is acknowledged votes over the time from the first vote sent to the last
//!    ack.

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use serde_json::{Value, json};
use tokio::{sync::watch, time::Instant};

use super::{Ctx, rss_kb};
use crate::{
    api::Account,
    clock::now_us,
    report::{Latency, Report, progress, r2},
    server::CpuWindow,
    socket::Socket,
    ws::join_many,
};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Signed-in voters (accounts `ltv0…`, seeded over the API when missing).
    #[arg(long, default_value_t = 10_000)]
    pub voters: usize,
    /// Every voter votes within this many seconds in the one-poll phase.
    #[arg(long, default_value_t = 1.0)]
    pub window_secs: f64,
    /// Polls (channels `ltch0…`) in the many-polls phase; 0 skips it. At most 40: a voter
    /// sends its votes in all of them at once.
    #[arg(long, default_value_t = 10)]
    pub polls: usize,
    /// Votes per second to offer in the many-polls phase, in all.
    #[arg(long, default_value_t = 60_000.0)]
    pub rate: f64,
    #[arg(long, default_value_t = 256)]
    pub connect_parallel: usize,
}

const OPTIONS: usize = 4;

/// The server closes a connection that sends more than 40 frames at once (its per-connection
/// token bucket); a voter's votes in every poll go out together.
const MAX_POLLS: usize = 40;

struct Vote {
    at: Instant,
    id: u64,
    frame: String,
}

#[derive(Default)]
struct VoterOut {
    acks: u64,
    errors: Vec<String>,
    ack_us: Vec<u32>,
    first_sent_us: Option<u64>,
    last_ack_us: u64,
    tallies: Vec<u64>,
    poll_closed: Option<Value>,
    dropped: Option<String>,
}

/// Sends its votes at their times (those due together in one write, without waiting for
/// replies) and reads replies and events until `stop`.
async fn voter(
    mut ws: Socket,
    votes: Vec<Vote>,
    mut stop: watch::Receiver<bool>,
    acked: Arc<AtomicU64>,
) -> (Socket, VoterOut) {
    let mut out = VoterOut::default();
    let mut sent: HashMap<u64, u64> = HashMap::new();
    let mut next = 0;
    let far = Instant::now() + Duration::from_secs(86_400);
    loop {
        let at = votes.get(next).map_or(far, |v| v.at);
        tokio::select! {
            _ = async { let _ = stop.wait_for(|s| *s).await; } => break,
            _ = tokio::time::sleep_until(at), if next < votes.len() => {
                let t = now_us();
                out.first_sent_us.get_or_insert(t);
                let now = Instant::now();
                let due = votes[next..].iter().take_while(|v| v.at <= now).count();
                let batch = &votes[next..next + due];
                next += due;
                let frames: Vec<&str> = batch.iter().map(|v| v.frame.as_str()).collect();
                if let Err(e) = ws.send_texts(&frames).await {
                    out.dropped = Some(format!("send: {e}"));
                    break;
                }
                sent.extend(batch.iter().map(|v| (v.id, t)));
            }
            r = ws.read(|b| on_frame(b, &mut sent, &mut out, &acked)) => {
                if let Err(e) = r {
                    out.dropped = Some(e.to_string());
                    break;
                }
            }
        }
    }
    (ws, out)
}

/// Counts a reply to one of this voter's votes, or a tally or close of its poll.
fn on_frame(b: &[u8], sent: &mut HashMap<u64, u64>, out: &mut VoterOut, acked: &AtomicU64) {
    let now = now_us();
    if b.starts_with(br#"{"type":"ack""#) || b.starts_with(br#"{"type":"error""#) {
        let v: Value = serde_json::from_slice(b).unwrap_or_default();
        let Some(id) = v["id"].as_u64() else {
            out.errors.push(String::from_utf8_lossy(b).into_owned());
            return;
        };
        let Some(at) = sent.remove(&id) else { return };
        if v["type"] == "ack" {
            out.acks += 1;
            acked.fetch_add(1, Ordering::Relaxed);
            out.ack_us.push(now.saturating_sub(at) as u32);
            out.last_ack_us = out.last_ack_us.max(now);
        } else {
            out.errors
                .push(v["code"].as_str().unwrap_or("error").to_owned());
            acked.fetch_add(1, Ordering::Relaxed);
        }
    } else if b.starts_with(br#"{"type":"poll_tally""#) {
        out.tallies.push(now);
    } else if b.starts_with(br#"{"type":"poll_closed""#) {
        out.poll_closed = serde_json::from_slice(b).ok();
    }
}

/// Runs one phase: every voter gets its votes; waits for every reply (or `timeout`).
async fn phase(
    sockets: Vec<Socket>,
    mut plans: Vec<Vec<Vote>>,
    expected: u64,
    timeout: Duration,
    what: &str,
    end: Option<(&crate::api::Api, &Account)>,
) -> (Vec<Socket>, Vec<VoterOut>) {
    let acked = Arc::new(AtomicU64::new(0));
    let (stop, rx) = watch::channel(false);
    let handles: Vec<_> = sockets
        .into_iter()
        .zip(plans.drain(..))
        .map(|(ws, votes)| tokio::spawn(voter(ws, votes, rx.clone(), acked.clone())))
        .collect();
    let bar = progress(expected, what);
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline && acked.load(Ordering::Relaxed) < expected {
        bar.set_position(acked.load(Ordering::Relaxed));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    bar.finish_and_clear();
    // Let the last tally (≤ 250 ms later) arrive; then end the poll while voters still read,
    // so they see its `poll_closed`.
    tokio::time::sleep(Duration::from_millis(600)).await;
    if let Some((api, owner)) = end {
        let _ = api.stop_action(owner).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let _ = stop.send(true);
    let mut sockets = Vec::new();
    let mut outs = Vec::new();
    for h in handles {
        if let Ok((ws, out)) = h.await {
            sockets.push(ws);
            outs.push(out);
        }
    }
    (sockets, outs)
}

fn vote_frame(id: u64, channel: &str, poll: &str, option: usize) -> String {
    json!({"type":"vote","id":id,"channel":channel,"poll_id":poll,"option":option}).to_string()
}

async fn start_poll(ctx: &Ctx, owner: &Account, duration_secs: u64) -> anyhow::Result<String> {
    ctx.api
        .start_action(
            owner,
            json!({
                "type": "poll", "question": "Which one?",
                "options": ["a", "b", "c", "d"],
                "duration_secs": duration_secs.clamp(10, 1800),
            }),
        )
        .await
}

/// The newest poll of a channel's history: (tally, closed).
async fn final_tally(ctx: &Ctx, owner: &Account) -> anyhow::Result<(Vec<u64>, bool)> {
    let (_, v) = ctx
        .api
        .get(
            &format!("/api/channels/{}/polls?limit=1", owner.username),
            None,
        )
        .await?;
    let poll = &v["polls"][0];
    let tally = poll["tally"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    Ok((tally, poll["closed"].as_bool().unwrap_or(false)))
}

pub async fn run(ctx: &mut Ctx, args: &Args) -> anyhow::Result<Report> {
    let mut report = Report::new(
        "poll-storm",
        serde_json::to_value(json!({
            "voters": args.voters, "window_secs": args.window_secs, "polls": args.polls,
            "rate": args.rate,
        }))?,
    );
    anyhow::ensure!(
        args.polls <= MAX_POLLS,
        "--polls {} is more than {MAX_POLLS}, the frames a voter may send at once",
        args.polls
    );
    let owner = ctx.accounts("ltstream", 1, &mut report).await?.remove(0);
    let voters = ctx.accounts("ltv", args.voters, &mut report).await?;
    let owners = if args.polls > 0 {
        ctx.accounts("ltch", args.polls, &mut report).await?
    } else {
        Vec::new()
    };
    // A poll left running by an interrupted run would refuse nothing but skew the tally.
    ctx.api.stop_action(&owner).await?;
    for o in &owners {
        ctx.api.stop_action(o).await?;
    }

    let joined = join_many(
        &ctx.connector,
        args.voters,
        args.connect_parallel,
        "voters",
        |i| (Some(voters[i].token.clone()), owner.username.clone()),
    )
    .await?;
    let sockets: Vec<Socket> = joined.into_iter().map(|(ws, _)| ws).collect();
    let rss = rss_kb(&ctx.server);

    // Phase 1: one poll, every voter within the window.
    let poll = start_poll(ctx, &owner, args.window_secs as u64 + 300).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let n = args.voters;
    let start = Instant::now() + Duration::from_millis(100);
    let plans: Vec<Vec<Vote>> = (0..n)
        .map(|i| {
            vec![Vote {
                at: start + Duration::from_secs_f64(args.window_secs * i as f64 / n as f64),
                id: 1000,
                frame: vote_frame(1000, &owner.id, &poll, i % OPTIONS),
            }]
        })
        .collect();
    let cpu = CpuWindow::start(&ctx.server);
    let (sockets, outs) = phase(
        sockets,
        plans,
        n as u64,
        Duration::from_secs(60),
        "one poll",
        Some((&ctx.api, &owner)),
    )
    .await;
    let (server_cpu, _) = cpu.finish(&ctx.server);
    let others_cpu = cpu.others_pct(&ctx.server);
    report.set("others_cpu_pct", others_cpu);
    if let Some(o) = others_cpu {
        report.line(format!(
            "other processes on the machine used {o:.0} % of a core meanwhile"
        ));
    }
    let acks: u64 = outs.iter().map(|o| o.acks).sum();
    let errors: Vec<&String> = outs.iter().flat_map(|o| &o.errors).collect();
    let mut ack_us: Vec<u32> = outs.iter().flat_map(|o| o.ack_us.iter().copied()).collect();
    let first = outs
        .iter()
        .filter_map(|o| o.first_sent_us)
        .min()
        .unwrap_or(0);
    let last = outs.iter().map(|o| o.last_ack_us).max().unwrap_or(0);
    let span = (last.saturating_sub(first)) as f64 / 1e6;
    let mut expected = vec![0u64; OPTIONS];
    for i in 0..n {
        expected[i % OPTIONS] += 1;
    }
    let (tally, closed) = final_tally(ctx, &owner).await?;
    let lat = Latency::from_us(&mut ack_us);
    report.latency("one_poll_ack_ms", "one poll: vote→ack", lat, None);
    report.line(format!(
        "one poll: {acks}/{n} votes acknowledged, {} refused, first vote → last ack {span:.2} s ({:.0} votes/s); server CPU {:.0} %",
        errors.len(),
        acks as f64 / span.max(1e-9),
        server_cpu.unwrap_or(0.0)
    ));
    report.set("one_poll_acked", acks);
    report.set("one_poll_span_secs", r2(span));
    report.set("one_poll_tally", &tally);
    report.set("one_poll_expected", &expected);
    report.check(
        "every vote acknowledged",
        acks == n as u64 && errors.is_empty(),
        format!(
            "{acks}/{n}{}",
            errors
                .first()
                .map(|e| format!(", first refusal: {e}"))
                .unwrap_or_default()
        ),
    );
    report.check(
        "final tally exact",
        tally == expected && closed,
        format!("tally {tally:?}, expected {expected:?}, closed {closed}"),
    );
    // The poll_closed frame that subscribers got carries the same final count.
    let seen_closed = outs
        .iter()
        .filter_map(|o| o.poll_closed.as_ref())
        .filter(|v| {
            v["poll"]["tally"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_u64).collect::<Vec<_>>())
                == Some(expected.clone())
        })
        .count();
    report.set("poll_closed_frames_exact", seen_closed);
    // Tally coalescing, as one voter saw it.
    let tallies = &outs.first().map(|o| o.tallies.clone()).unwrap_or_default();
    let min_gap_ms = tallies
        .windows(2)
        .map(|w| (w[1] - w[0]) as f64 / 1000.0)
        .fold(f64::INFINITY, f64::min);
    let tally_span = match (tallies.first(), tallies.last()) {
        (Some(a), Some(b)) if b > a => (b - a) as f64 / 1e6,
        _ => 0.0,
    };
    report.line(format!(
        "tally frames seen by one voter: {} over {tally_span:.2} s, smallest gap {:.0} ms; {seen_closed}/{n} voters got an exact poll_closed",
        tallies.len(),
        if min_gap_ms.is_finite() { min_gap_ms } else { 0.0 }
    ));
    report.set("tally_frames", tallies.len());
    report.set(
        "tally_min_gap_ms",
        if min_gap_ms.is_finite() {
            r2(min_gap_ms)
        } else {
            0.0
        },
    );
    // The server spaces reports 250 ms apart; delivery jitter can bring two closer at the
    // client, so the check counts frames over the span rather than trusting single gaps.
    let allowed = (tally_span / 0.25).floor() as usize + 2;
    report.check(
        "tallies at most four a second",
        tallies.len() <= allowed,
        format!(
            "{} poll_tally frames over {tally_span:.2} s ({allowed} allowed at one per 250 ms, plus the first)",
            tallies.len()
        ),
    );
    if n >= 10_000 && args.window_secs <= 1.0 {
        report.target(
            "10,000 votes within 1 s all acknowledged",
            acks == n as u64,
            format!("{acks}/{n}, last ack {span:.2} s after the first vote"),
        );
    }
    let dropped = outs.iter().filter(|o| o.dropped.is_some()).count();

    // Phase 2: many polls, sustained rate.
    if args.polls > 0 {
        let mut polls = Vec::new();
        let total = (n * args.polls) as u64;
        let secs = total as f64 / args.rate;
        for o in &owners {
            polls.push(start_poll(ctx, o, secs as u64 + 300).await?);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let start = Instant::now() + Duration::from_millis(100);
        let plans: Vec<Vec<Vote>> = (0..n)
            .map(|v| {
                let at = start + Duration::from_secs_f64((v * args.polls) as f64 / args.rate);
                (0..args.polls)
                    .map(|p| Vote {
                        at,
                        id: 2000 + p as u64,
                        frame: vote_frame(
                            2000 + p as u64,
                            &owners[p].id,
                            &polls[p],
                            (v + p) % OPTIONS,
                        ),
                    })
                    .collect()
            })
            .collect();
        let cpu = CpuWindow::start(&ctx.server);
        let (_sockets, outs2) = phase(
            sockets,
            plans,
            total,
            Duration::from_secs_f64(secs + 60.0),
            "many polls",
            None,
        )
        .await;
        let (server_cpu, client_cpu) = cpu.finish(&ctx.server);
        let others_cpu = cpu.others_pct(&ctx.server);
        report.set("others_cpu_pct", others_cpu);
        if let Some(o) = others_cpu {
            report.line(format!(
                "other processes on the machine used {o:.0} % of a core meanwhile"
            ));
        }
        let acks: u64 = outs2.iter().map(|o| o.acks).sum();
        let errors: Vec<&String> = outs2.iter().flat_map(|o| &o.errors).collect();
        let first = outs2
            .iter()
            .filter_map(|o| o.first_sent_us)
            .min()
            .unwrap_or(0);
        let last = outs2.iter().map(|o| o.last_ack_us).max().unwrap_or(0);
        let span = (last.saturating_sub(first)) as f64 / 1e6;
        let rate = acks as f64 / span.max(1e-9);
        let mut ack_us: Vec<u32> = outs2
            .iter()
            .flat_map(|o| o.ack_us.iter().copied())
            .collect();
        let lat = Latency::from_us(&mut ack_us);
        report.latency("many_polls_ack_ms", "many polls: vote→ack", lat, None);
        report.line(format!(
            "many polls: {acks}/{total} votes in {} polls acknowledged in {span:.2} s = {rate:.0} votes/s sustained (offered {:.0}/s); server CPU {:.0} %, client {:.0} %",
            args.polls,
            args.rate,
            server_cpu.unwrap_or(0.0),
            client_cpu.unwrap_or(0.0)
        ));
        report.set("many_polls_acked", acks);
        report.set("votes_per_sec", r2(rate));
        report.set("many_polls_server_cpu_pct", server_cpu);
        let mut exact = 0;
        for (p, o) in owners.iter().enumerate() {
            ctx.api.stop_action(o).await?;
            let mut expected = vec![0u64; OPTIONS];
            for v in 0..n {
                expected[(v + p) % OPTIONS] += 1;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            let (tally, _) = final_tally(ctx, o).await?;
            if tally == expected {
                exact += 1;
            }
        }
        report.check(
            "every vote acknowledged (many polls)",
            acks == total && errors.is_empty(),
            format!(
                "{acks}/{total}{}",
                errors
                    .first()
                    .map(|e| format!(", first refusal: {e}"))
                    .unwrap_or_default()
            ),
        );
        report.check(
            "every poll's tally exact",
            exact == args.polls,
            format!("{exact}/{} polls", args.polls),
        );
        if n >= 10_000 {
            report.target(
                "≥ 50,000 votes/s sustained",
                rate >= 50_000.0,
                format!("{rate:.0} votes/s"),
            );
        }
    }
    report.set("server_rss_kb", rss);
    report.check(
        "no voter dropped",
        dropped == 0,
        format!("{dropped} dropped"),
    );
    Ok(report)
}
