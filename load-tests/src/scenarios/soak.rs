//! soak: a steady audience with steady chat for a long time. The server's RSS and the latency
//! are reported per window; both must stay flat.

use std::time::Duration;

use serde_json::json;

use super::{Audience, ChatFeed, Ctx, publish_paced, report_delivery, rss_kb};
use crate::{
    report::{Latency, Report, progress, r2},
    ws::{Watch, join_many},
};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[arg(long, default_value_t = 5_000)]
    pub viewers: usize,
    #[arg(long, default_value_t = 10)]
    pub channels: usize,
    #[arg(long, default_value_t = 600)]
    pub duration_secs: u64,
    /// Chat messages per second in each channel.
    #[arg(long, default_value_t = 2.0)]
    pub rate_per_channel: f64,
    /// Length of one reporting window, in seconds.
    #[arg(long, default_value_t = 60)]
    pub window_secs: u64,
    #[arg(long, default_value_t = 200)]
    pub text_bytes: usize,
    #[arg(long, default_value_t = 256)]
    pub connect_parallel: usize,
}

pub async fn run(ctx: &mut Ctx, args: &Args) -> anyhow::Result<Report> {
    let mut report = Report::new(
        "soak",
        serde_json::to_value(json!({
            "viewers": args.viewers, "channels": args.channels, "duration_secs": args.duration_secs,
            "rate_per_channel": args.rate_per_channel, "window_secs": args.window_secs,
        }))?,
    );
    let channels = args.channels.max(1);
    let owners = ctx.accounts("ltch", channels, &mut report).await?;
    let mut feed = ChatFeed::open(
        &ctx.connector,
        &owners,
        args.rate_per_channel,
        args.text_bytes,
        args.viewers,
    )
    .await?;
    let joined = join_many(
        &ctx.connector,
        args.viewers,
        args.connect_parallel,
        "viewers",
        |i| (None, owners[i % channels].username.clone()),
    )
    .await?;
    let channel_of: Vec<usize> = (0..args.viewers).map(|i| i % channels).collect();
    let sockets = joined.into_iter().map(|(ws, _)| ws).collect();
    let audience = Audience::start(sockets, channel_of, Watch::default(), 0);

    // RSS every few seconds, from a task beside the publisher.
    let server_pid = ctx.server.pid;
    let sample_every = Duration::from_secs((args.window_secs / 6).clamp(1, 10));
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let sampler = tokio::spawn(async move {
        let mut rows: Vec<(f64, u64)> = Vec::new();
        let start = tokio::time::Instant::now();
        loop {
            if let Some(s) = server_pid.and_then(crate::server::ProcSample::read) {
                rows.push((start.elapsed().as_secs_f64(), s.rss_kb));
            }
            tokio::select! {
                _ = tokio::time::sleep(sample_every) => {}
                _ = async { let _ = stop_rx.wait_for(|s| *s).await; } => break,
            }
        }
        rows
    });

    let total = (args.rate_per_channel * channels as f64 * args.duration_secs as f64) as u64;
    let bar = progress(total, "soak");
    publish_paced(
        &mut feed,
        total,
        args.rate_per_channel * channels as f64,
        |sent| bar.set_position(sent),
    )
    .await;
    bar.finish_and_clear();
    let mut viewers_of = vec![0u64; channels];
    for &c in &audience.channel_of {
        viewers_of[c] += 1;
    }
    let expected_total: u64 = feed
        .published
        .iter()
        .zip(&viewers_of)
        .map(|(p, v)| p * v)
        .sum();
    audience
        .wait_for(expected_total, Duration::from_secs(15))
        .await;
    let _ = stop_tx.send(true);
    let rss_rows = sampler.await.unwrap_or_default();
    let published = feed.published.clone();
    let sent_at = feed.sent_at.clone();
    let channel_of = audience.channel_of.clone();
    let outcomes = audience.finish().await;
    let (_, errors, _) = feed.finish().await;
    let (delivered, expected, _, dropped) = report_delivery(
        &mut report,
        &outcomes,
        &channel_of,
        &published,
        ctx.floor_ms,
    );

    // Latency per window, by when each message was published.
    let t0 = sent_at
        .iter()
        .filter_map(|v| v.first())
        .min()
        .copied()
        .unwrap_or(0);
    let window_us = args.window_secs.max(1) * 1_000_000;
    let windows = (args.duration_secs.max(1)).div_ceil(args.window_secs.max(1)) as usize;
    let mut per_window: Vec<Vec<u32>> = vec![Vec::new(); windows.max(1)];
    for (o, &c) in outcomes.iter().zip(&channel_of) {
        for &(seq, lat) in &o.samples {
            if let Some(&at) = sent_at[c].get(seq as usize) {
                let w = (((at - t0) / window_us) as usize).min(per_window.len() - 1);
                per_window[w].push(lat);
            }
        }
    }
    let mut rows = Vec::new();
    for (w, mut lats) in per_window.into_iter().enumerate() {
        let lat = Latency::from_us(&mut lats);
        let from = (w as u64 * args.window_secs) as f64;
        let to = from + args.window_secs as f64;
        let rss: Vec<u64> = rss_rows
            .iter()
            .filter(|(t, _)| *t >= from && *t < to)
            .map(|(_, r)| *r)
            .collect();
        let rss_mean = if rss.is_empty() {
            0
        } else {
            rss.iter().sum::<u64>() / rss.len() as u64
        };
        report.line(format!(
            "window {w} ({from:.0}–{to:.0} s): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; server RSS {rss_mean} kB",
            lat.p50, lat.p99, lat.max
        ));
        rows.push(json!({ "window": w, "latency_ms": lat, "server_rss_kb": rss_mean }));
    }
    report.set("windows", &rows);
    report.set("server_rss_samples", &rss_rows);
    report.check(
        "100% delivered, no drops",
        delivered == expected && dropped == 0 && errors.is_empty(),
        format!(
            "{delivered}/{expected}, {dropped} dropped, {} publish errors",
            errors.len()
        ),
    );
    // Flat: the last window against the first (the first holds the warm-up).
    if rows.len() >= 2 {
        let rss = |r: &serde_json::Value| r["server_rss_kb"].as_f64().unwrap_or(0.0);
        let p99 = |r: &serde_json::Value| r["latency_ms"]["p99"].as_f64().unwrap_or(0.0);
        let (first, last) = (&rows[0], &rows[rows.len() - 1]);
        let rss_growth = if rss(first) > 0.0 {
            (rss(last) - rss(first)) / rss(first) * 100.0
        } else {
            0.0
        };
        report.set("rss_growth_pct", r2(rss_growth));
        report.check(
            "server RSS flat",
            rss_growth <= 10.0,
            format!("{rss_growth:+.1} % from the first window to the last (10 % allowed)"),
        );
        report.check(
            "latency flat",
            p99(last) <= (2.0 * p99(first)).max(p99(first) + 20.0),
            format!(
                "p99 {:.1} ms in the first window, {:.1} ms in the last (2× or +20 ms allowed)",
                p99(first),
                p99(last)
            ),
        );
    }
    report.set("server_rss_end_kb", rss_kb(&ctx.server));
    Ok(report)
}
