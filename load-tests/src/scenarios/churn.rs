//! churn: connections open at a steady rate, subscribe, get their snapshot and leave. Counts
//! connects per second and errors, and whether the server's memory returns to where it was.
//!
//! Closed connections sit in TIME_WAIT for a minute, each holding a source port; at 5,000 a
//! second one source address would run out of ports within seconds, so churn spreads its
//! connections round-robin over many 127.0.0.x addresses.

use std::{sync::Arc, time::Duration};

use futures::{SinkExt, StreamExt};
use serde_json::json;
use tokio::{sync::Semaphore, time::Instant};

use super::{Ctx, rss_kb};
use crate::{
    clock::now_us,
    report::{Latency, Report, progress, r2},
    server::CpuWindow,
    ws::{self, Sources},
};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Connections started per second.
    #[arg(long, default_value_t = 5_000.0)]
    pub rate: f64,
    /// How long to keep connecting, in seconds.
    #[arg(long, default_value_t = 20.0)]
    pub duration_secs: f64,
    /// Subscribe to a channel (and wait for its snapshot) before leaving.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub subscribe: bool,
    /// Connections in progress at most (file descriptors on both sides).
    #[arg(long, default_value_t = 4_000)]
    pub max_in_flight: usize,
    /// Loopback source addresses to spread over.
    #[arg(long, default_value_t = 100)]
    pub sources: usize,
    /// The channel to subscribe to (a username); default the fan-out channel `ltstream0`, whose
    /// snapshot carries a full chat history. `ltstage0` has none.
    #[arg(long)]
    pub channel: Option<String>,
    /// Rounds of churn in the same server: memory that grows in every round after the first
    /// is a leak (see [`least_growth`]).
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
}

pub async fn run(ctx: &mut Ctx, args: &Args) -> anyhow::Result<Report> {
    let mut report = Report::new(
        "churn",
        serde_json::to_value(json!({
            "rate": args.rate, "duration_secs": args.duration_secs, "subscribe": args.subscribe,
            "max_in_flight": args.max_in_flight, "sources": args.sources, "rounds": args.rounds,
        }))?,
    );
    let owner = ctx.accounts("ltstream", 1, &mut report).await?.remove(0);
    let mut connector = ctx.connector.clone();
    connector.sources = Sources::RoundRobin(args.sources);
    let connector = Arc::new(connector);
    let rss_before = rss_kb(&ctx.server);

    let channel_name = args.channel.clone().unwrap_or(owner.username.clone());
    report.set("channel", &channel_name);
    let total = (args.rate * args.duration_secs) as usize;
    let mut settled = Vec::new();
    let mut rates = Vec::new();
    let mut all_errors: Vec<String> = Vec::new();
    let mut lat_us = Vec::with_capacity(total);
    for round in 0..args.rounds.max(1) {
        let gate = Arc::new(Semaphore::new(args.max_in_flight));
        let bar = progress(total as u64, &format!("connects {}", round + 1));
        let cpu = CpuWindow::start(&ctx.server);
        let start = Instant::now();
        let mut tasks = Vec::with_capacity(total);
        let mut late = 0u64;
        for i in 0..total {
            let at = start + Duration::from_secs_f64(i as f64 / args.rate);
            tokio::time::sleep_until(at).await;
            let permit = match gate.clone().try_acquire_owned() {
                Ok(p) => p,
                Err(_) => {
                    late += 1;
                    gate.clone().acquire_owned().await?
                }
            };
            let connector = connector.clone();
            let channel = channel_name.clone();
            let subscribe = args.subscribe;
            let bar = bar.clone();
            tasks.push(tokio::spawn(async move {
                let t0 = now_us();
                let r = async {
                    let mut w = connector.connect(i, None).await?;
                    ws::expect(&mut w, "welcome", None, Duration::from_secs(30)).await?;
                    if subscribe {
                        let sub = json!({"type":"subscribe","id":1,"channel":channel}).to_string();
                        ws::send(&mut w, sub).await?;
                        ws::expect(&mut w, "snapshot", Some(1), Duration::from_secs(30)).await?;
                    }
                    let ready = now_us();
                    // A clean close: ours, then the server's answer.
                    w.send(tokio_tungstenite::tungstenite::Message::Close(None))
                        .await?;
                    let _ = tokio::time::timeout(Duration::from_secs(10), async {
                        while let Some(Ok(_)) = w.next().await {}
                    })
                    .await;
                    anyhow::Ok(ready - t0)
                }
                .await;
                drop(permit);
                bar.inc(1);
                r.map_err(|e| e.to_string())
            }));
        }
        let offered_secs = start.elapsed().as_secs_f64();
        let mut done = 0usize;
        let mut errors = 0usize;
        for t in tasks {
            match t.await {
                Ok(Ok(us)) => {
                    lat_us.push(us as u32);
                    done += 1;
                }
                Ok(Err(e)) => {
                    errors += 1;
                    all_errors.push(e);
                }
                Err(e) => {
                    errors += 1;
                    all_errors.push(e.to_string());
                }
            }
        }
        let elapsed = start.elapsed().as_secs_f64();
        bar.finish_and_clear();
        let (server_cpu, client_cpu) = cpu.finish(&ctx.server);
        let others = cpu.others_pct(&ctx.server);
        let rate = done as f64 / elapsed;
        rates.push(rate);
        tokio::time::sleep(Duration::from_secs(5)).await;
        let rss = rss_kb(&ctx.server);
        settled.push(rss);
        report.line(format!(
            "round {}: {done}/{total} connect-subscribe-close cycles in {elapsed:.2} s = {rate:.0} connects/s (offered {:.0}/s over {offered_secs:.1} s; {late} waited for a free slot); {errors} errors; server CPU {:.0} %, client {:.0} %, others {:.0} %; server RSS 5 s later {} kB",
            round + 1,
            args.rate,
            server_cpu.unwrap_or(0.0),
            client_cpu.unwrap_or(0.0),
            others.unwrap_or(0.0),
            rss.unwrap_or(0)
        ));
        report.set("others_cpu_pct", others);
        report.set(&format!("round{}_server_cpu_pct", round + 1), server_cpu);
        report.set(&format!("round{}_client_cpu_pct", round + 1), client_cpu);
    }
    let rate = rates.iter().copied().fold(0.0, f64::max);
    let lat = Latency::from_us(&mut lat_us);
    report.latency("connect_ms", "connect→welcome→snapshot", lat, None);
    report.set("connects_per_sec", r2(rate));
    report.set(
        "connects_per_sec_by_round",
        rates.iter().map(|&r| r2(r)).collect::<Vec<_>>(),
    );
    report.set("errors", all_errors.len());
    report.set(
        "first_errors",
        all_errors.iter().take(5).collect::<Vec<_>>(),
    );
    report.set("server_rss_before_kb", rss_before);
    report.set("server_rss_settled_kb_by_round", &settled);
    if let (Some(b), Some(Some(first)), Some(Some(last))) =
        (rss_before, settled.first(), settled.last())
    {
        report.line(format!(
            "server RSS {b} kB before, {first} kB after round 1, {last} kB after the last round"
        ));
        let settled: Option<Vec<u64>> = settled.iter().copied().collect();
        if let Some(per_conn) = settled.as_deref().and_then(|s| least_growth(s, total)) {
            report.set("server_rss_least_growth_bytes_per_connect", r2(per_conn));
            report.check(
                "memory does not grow round after round",
                per_conn < 100.0,
                format!(
                    "{per_conn:+.1} bytes per connection in the round after round 1 that grew least (100 allowed)"
                ),
            );
        }
    }
    report.check(
        "no errors",
        all_errors.is_empty(),
        format!(
            "{} errors{}",
            all_errors.len(),
            all_errors
                .first()
                .map(|e| format!(" (first: {e})"))
                .unwrap_or_default()
        ),
    );
    if args.rate >= 5_000.0 {
        report.target(
            "≥ 5,000 connects/s",
            rate >= 5_000.0,
            format!("{rate:.0}/s"),
        );
    }
    Ok(report)
}

/// The least RSS growth (bytes per connection made) from one round to the next, after the
/// first round; `None` with fewer than two rounds.
///
/// The first round raises the allocator's high-water mark: RSS it keeps for reuse. A later
/// round raises it again only if it reaches a higher peak of connections open at once (the
/// client fell behind more), and then it stays. A leak grows with every round, so it shows in
/// the round that grew least; a new peak does not.
fn least_growth(settled_kb: &[u64], per_round: usize) -> Option<f64> {
    settled_kb
        .windows(2)
        .map(|w| (w[1] as f64 - w[0] as f64) * 1024.0 / per_round.max(1) as f64)
        .reduce(f64::min)
}

#[cfg(test)]
mod tests {
    use super::least_growth;

    #[test]
    fn a_leak_shows_in_every_round_and_a_new_peak_in_one() {
        // 100,000 connections a round; 1,000 kB is ~10 bytes per connection.
        let leak = [40_000, 70_000, 100_000];
        assert!(least_growth(&leak, 100_000).unwrap() > 300.0);
        let new_peak_then_flat = [40_000, 75_000, 74_500];
        assert!(least_growth(&new_peak_then_flat, 100_000).unwrap() < 0.0);
        assert_eq!(least_growth(&[40_000], 100_000), None);
        assert_eq!(least_growth(&[40_000, 41_000], 100_000), Some(10.24));
    }
}
