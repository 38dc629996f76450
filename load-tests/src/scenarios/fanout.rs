//! fanout: N anonymous viewers on one channel; its owner publishes chat (and every k-th time a
//! stream action) at a steady rate; every viewer times every message.
//!
//! With `--rate 200 --messages 2000 --actions-every 0` it is the chat storm.

use std::time::Duration;

use serde_json::json;

use super::{Audience, ChatFeed, Ctx, report_delivery, rss_kb};
use crate::{
    clock::marker,
    report::{Latency, Report, progress, r2},
    server::CpuWindow,
    ws::{ViewerOutcome, Watch, join_many, publisher_runtime},
};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Viewers on the channel.
    #[arg(long, default_value_t = 10_000)]
    pub viewers: usize,
    /// Messages published per second.
    #[arg(long, default_value_t = 2.0)]
    pub rate: f64,
    /// Messages published in all.
    #[arg(long, default_value_t = 20)]
    pub messages: u64,
    /// Length of each chat text (the marker padded).
    #[arg(long, default_value_t = 200)]
    pub text_bytes: usize,
    /// Every k-th message is a stream action (a notice overlay over HTTP) instead of chat;
    /// 0: chat only.
    #[arg(long, default_value_t = 5)]
    pub actions_every: u64,
    /// Connections opened at once while the audience arrives.
    #[arg(long, default_value_t = 256)]
    pub connect_parallel: usize,
    /// How long to wait for the last deliveries, in seconds.
    #[arg(long, default_value_t = 15)]
    pub tail_secs: u64,
}

pub async fn run(ctx: &mut Ctx, args: &Args) -> anyhow::Result<Report> {
    let mut report = Report::new(
        "fanout",
        serde_json::to_value(json!({
            "viewers": args.viewers, "rate": args.rate, "messages": args.messages,
            "text_bytes": args.text_bytes, "actions_every": args.actions_every,
        }))?,
    );
    let owner = ctx.accounts("ltstream", 1, &mut report).await?.remove(0);

    let rss_before = rss_kb(&ctx.server);
    let joined = join_many(
        &ctx.connector,
        args.viewers,
        args.connect_parallel,
        "viewers",
        |_| (None, owner.username.clone()),
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_idle = rss_kb(&ctx.server);
    if let (Some(b), Some(a)) = (rss_before, rss_idle) {
        let per = (a as f64 - b as f64) / args.viewers.max(1) as f64;
        report.set("server_rss_before_kb", b);
        report.set("server_rss_idle_kb", a);
        report.set("server_kb_per_idle_viewer", r2(per));
        report.line(format!(
            "server RSS {b} kB → {a} kB with {} idle viewers: {per:.2} kB each",
            args.viewers
        ));
    }

    let sockets = joined.into_iter().map(|(ws, _)| ws).collect();
    let audience = Audience::start(
        sockets,
        vec![0; args.viewers],
        Watch::default(),
        args.messages as usize,
    );
    let mut feed = ChatFeed::open(
        &ctx.connector,
        std::slice::from_ref(&owner),
        args.rate,
        args.text_bytes,
        args.viewers,
    )
    .await?;

    // Overlays go over HTTP from the publishers' runtime, with a client whose connection (and
    // hyper's task for it) lives there: on the viewers' runtime an overlay's request waited
    // behind thousands of woken viewers after its marker had been stamped.
    let actions_api = ctx.api.fresh();
    let warm = actions_api.clone();
    publisher_runtime()
        .spawn(async move { warm.get("/readyz", None).await })
        .await??;

    let cpu = CpuWindow::start(&ctx.server);
    let bar = progress(args.messages, "publishing");
    let start = tokio::time::Instant::now();
    let mut actions = Vec::new();
    for i in 0..args.messages {
        tokio::time::sleep_until(start + Duration::from_secs_f64(i as f64 / args.rate)).await;
        if args.actions_every > 0 && (i + 1) % args.actions_every == 0 {
            let seq = feed.take_seq(0);
            let action = json!({
                "type": "notice", "title": "load test",
                "message": marker(seq, args.text_bytes.min(256)), "duration_secs": 30,
            });
            let api = actions_api.clone();
            let owner = owner.clone();
            actions.push(
                publisher_runtime().spawn(async move { api.start_action(&owner, action).await }),
            );
        } else {
            feed.send(0);
        }
        bar.inc(1);
    }
    let publish_secs = start.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let expected_total = feed.published[0] * args.viewers as u64;
    let all = audience
        .wait_for(expected_total, Duration::from_secs(args.tail_secs))
        .await;
    let (server_cpu, client_cpu) = cpu.finish(&ctx.server);
    let others_cpu = cpu.others_pct(&ctx.server);
    report.set("others_cpu_pct", others_cpu);
    if let Some(o) = others_cpu {
        report.line(format!(
            "other processes on the machine used {o:.0} % of a core meanwhile"
        ));
    }
    let mut action_errors = Vec::new();
    let actions_started = actions.len();
    for a in actions {
        if let Ok(Err(e)) | Err(e) = a.await.map_err(anyhow::Error::from) {
            action_errors.push(e.to_string());
        }
    }
    let published = feed.published.clone();
    let channel_of = audience.channel_of.clone();
    let outcomes = audience.finish().await;
    let (acked, chat_errors, mut reply_us) = feed.finish().await;

    let action_count = actions_started;
    report.line(format!(
        "published {} messages in {publish_secs:.1} s ({acked} chat acked, {action_count} actions); all delivered in time: {all}",
        published[0],
    ));
    if let (Some(s), Some(c)) = (server_cpu, client_cpu) {
        report.line(format!(
            "CPU while publishing: server {s:.0} %, client {c:.0} % (of one core; 200 % = both)"
        ));
    }
    report.set("server_cpu_pct", server_cpu);
    report.set("client_cpu_pct", client_cpu);
    let (delivered, expected, lat, dropped) = report_delivery(
        &mut report,
        &outcomes,
        &channel_of,
        &published,
        ctx.floor_ms,
    );
    per_message(&mut report, &outcomes, args.actions_every);
    // How long the server took to take a chat message in (send → ack): the part of the
    // latency spent before the fan-out.
    report.latency(
        "chat_ack_ms",
        "chat send→ack",
        Latency::from_us(&mut reply_us),
        None,
    );
    report.check(
        "100% delivered",
        delivered == expected && dropped == 0,
        format!("{delivered}/{expected}, {dropped} viewers dropped"),
    );
    report.check(
        "publishing succeeded",
        chat_errors.is_empty() && action_errors.is_empty(),
        format!(
            "{} chat errors, {} action errors{}",
            chat_errors.len(),
            action_errors.len(),
            chat_errors
                .first()
                .or(action_errors.first())
                .map(|e| format!(" (first: {e})"))
                .unwrap_or_default()
        ),
    );
    if args.viewers >= 10_000 {
        if args.rate >= 100.0 {
            report.target(
                "chat storm p99 ≤ 250 ms",
                lat.p99 <= 250.0,
                format!("p99 {:.1} ms", lat.p99),
            );
        } else if let Some(f) = ctx.floor_ms {
            report.target(
                "p99 ≤ 1.5× the floor",
                lat.p99 <= 1.5 * f,
                format!(
                    "p99 {:.1} ms = {:.2}× the {f:.1} ms floor",
                    lat.p99,
                    lat.p99 / f
                ),
            );
        }
    }
    Ok(report)
}

/// Latency per message (p50 and max over its viewers), slowest first: whether the tail is a few
/// slow messages (and which kind) or every message's last viewers.
fn per_message(report: &mut Report, outcomes: &[ViewerOutcome], actions_every: u64) {
    let mut by_seq: std::collections::BTreeMap<u32, Vec<u32>> = Default::default();
    for o in outcomes {
        for &(seq, us) in &o.samples {
            by_seq.entry(seq).or_default().push(us);
        }
    }
    let mut rows: Vec<serde_json::Value> = Vec::new();
    for (seq, mut us) in by_seq {
        let lat = Latency::from_us(&mut us);
        let action = actions_every > 0 && (u64::from(seq) + 1) % actions_every == 0;
        rows.push(json!({
            "seq": seq, "kind": if action { "action" } else { "chat" },
            "p50_ms": lat.p50, "p99_ms": lat.p99, "max_ms": lat.max,
        }));
    }
    rows.sort_by(|a, b| {
        b["max_ms"]
            .as_f64()
            .partial_cmp(&a["max_ms"].as_f64())
            .unwrap()
    });
    let slowest: Vec<String> = rows
        .iter()
        .take(5)
        .map(|r| {
            format!(
                "#{} {} max {:.0} ms",
                r["seq"],
                r["kind"].as_str().unwrap_or(""),
                r["max_ms"].as_f64().unwrap_or(0.0)
            )
        })
        .collect();
    report.line(format!("slowest messages: {}", slowest.join(", ")));
    report.set("per_message", rows);
}
