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
}

pub async fn run(ctx: &mut Ctx, args: &Args) -> anyhow::Result<Report> {
    let mut report = Report::new(
        "churn",
        serde_json::to_value(json!({
            "rate": args.rate, "duration_secs": args.duration_secs, "subscribe": args.subscribe,
            "max_in_flight": args.max_in_flight, "sources": args.sources,
        }))?,
    );
    let owner = ctx.accounts("ltstream", 1, &mut report).await?.remove(0);
    let mut connector = ctx.connector.clone();
    connector.sources = Sources::RoundRobin(args.sources);
    let connector = Arc::new(connector);
    let rss_before = rss_kb(&ctx.server);

    let total = (args.rate * args.duration_secs) as usize;
    let gate = Arc::new(Semaphore::new(args.max_in_flight));
    let bar = progress(total as u64, "connects");
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
        let channel = owner.username.clone();
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
    let mut lat_us = Vec::with_capacity(total);
    let mut errors = Vec::new();
    for t in tasks {
        match t.await {
            Ok(Ok(us)) => lat_us.push(us as u32),
            Ok(Err(e)) => errors.push(e),
            Err(e) => errors.push(e.to_string()),
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let (server_cpu, client_cpu) = cpu.finish(&ctx.server);
    let others_cpu = cpu.others_pct(&ctx.server);
    report.set("others_cpu_pct", others_cpu);
    if let Some(o) = others_cpu {
        report.line(format!(
            "other processes on the machine used {o:.0} % of a core meanwhile"
        ));
    }
    let rss_end = rss_kb(&ctx.server);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let rss_settled = rss_kb(&ctx.server);

    let done = lat_us.len();
    let rate = done as f64 / elapsed;
    let lat = Latency::from_us(&mut lat_us);
    report.latency("connect_ms", "connect→welcome→snapshot", lat, None);
    report.line(format!(
        "{done}/{total} connect-subscribe-close cycles in {elapsed:.2} s = {rate:.0} connects/s (offered {:.0}/s over {offered_secs:.1} s; {late} waited for a free slot); {} errors; server CPU {:.0} %, client {:.0} %",
        args.rate,
        errors.len(),
        server_cpu.unwrap_or(0.0),
        client_cpu.unwrap_or(0.0)
    ));
    report.set("connects", done);
    report.set("connects_per_sec", r2(rate));
    report.set("errors", errors.len());
    report.set("first_errors", errors.iter().take(5).collect::<Vec<_>>());
    report.set("server_cpu_pct", server_cpu);
    report.set("client_cpu_pct", client_cpu);
    if let (Some(b), Some(e), Some(s)) = (rss_before, rss_end, rss_settled) {
        report.set("server_rss_before_kb", b);
        report.set("server_rss_end_kb", e);
        report.set("server_rss_settled_kb", s);
        let grew = s as f64 - b as f64;
        report.line(format!(
            "server RSS {b} kB before, {e} kB at the end, {s} kB 5 s later ({grew:+.0} kB)"
        ));
        // Allocator pages kept for reuse are not a leak; a leak grows with the connection
        // count. Allowed: 10 % of the baseline, or 100 bytes per connection made.
        let per_conn = grew / total.max(1) as f64;
        let allowed = (b as f64 * 0.10).max(total as f64 * 100.0 / 1024.0);
        report.set("server_rss_growth_per_connect_bytes", r2(per_conn * 1024.0));
        report.check(
            "memory returns to baseline",
            grew <= allowed,
            format!(
                "{grew:+.0} kB kept ({:+.1} bytes per connection made; {allowed:.0} kB allowed)",
                per_conn * 1024.0
            ),
        );
    }
    report.check(
        "no errors",
        errors.is_empty(),
        format!(
            "{} errors{}",
            errors.len(),
            errors
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
