//! many-channels: V viewers spread over M channels, held for a while with chat in every
//! channel; server memory per idle connection, drops, delivery and latency.

use std::time::Duration;

use serde_json::json;

use super::{Audience, ChatFeed, Ctx, publish_paced, report_delivery, rss_kb};
use crate::{
    report::{Report, progress, r2},
    server::CpuWindow,
    ws::{Watch, join_many},
};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Channels (each with its own owner account).
    #[arg(long, default_value_t = 200)]
    pub channels: usize,
    /// Viewers in all, spread evenly over the channels.
    #[arg(long, default_value_t = 19_000)]
    pub viewers: usize,
    /// How long to hold the audience with chat running, in seconds.
    #[arg(long, default_value_t = 300)]
    pub duration_secs: u64,
    /// Chat messages per second in each channel.
    #[arg(long, default_value_t = 1.0)]
    pub rate_per_channel: f64,
    #[arg(long, default_value_t = 200)]
    pub text_bytes: usize,
    #[arg(long, default_value_t = 256)]
    pub connect_parallel: usize,
}

pub async fn run(ctx: &mut Ctx, args: &Args) -> anyhow::Result<Report> {
    let mut report = Report::new(
        "many-channels",
        serde_json::to_value(json!({
            "channels": args.channels, "viewers": args.viewers, "duration_secs": args.duration_secs,
            "rate_per_channel": args.rate_per_channel, "text_bytes": args.text_bytes,
        }))?,
    );
    let owners = ctx.accounts("ltch", args.channels, &mut report).await?;

    // Publishers first, so the idle measurement counts viewers only.
    let mut feed = ChatFeed::open(
        &ctx.connector,
        &owners,
        args.rate_per_channel,
        args.text_bytes,
        args.viewers,
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_before = rss_kb(&ctx.server);
    let channels = args.channels.max(1);
    let joined = join_many(
        &ctx.connector,
        args.viewers,
        args.connect_parallel,
        "viewers",
        |i| (None, owners[i % channels].username.clone()),
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_idle = rss_kb(&ctx.server);
    let mut per_conn = None;
    if let (Some(b), Some(a)) = (rss_before, rss_idle) {
        let per = (a as f64 - b as f64) / args.viewers.max(1) as f64;
        per_conn = Some(per);
        report.set("server_rss_before_kb", b);
        report.set("server_rss_idle_kb", a);
        report.set("server_kb_per_idle_viewer", r2(per));
        report.line(format!(
            "server RSS {b} kB → {a} kB with {} idle viewers: {per:.2} kB each",
            args.viewers
        ));
    }

    let channel_of: Vec<usize> = (0..args.viewers).map(|i| i % channels).collect();
    let sockets = joined.into_iter().map(|(ws, _)| ws).collect();
    let total = (args.rate_per_channel * channels as f64 * args.duration_secs as f64) as u64;
    let audience = Audience::start(
        sockets,
        channel_of,
        Watch::default(),
        (total / channels.max(1) as u64) as usize,
    );
    let bar = progress(total, "chat");
    let cpu = CpuWindow::start(&ctx.server);
    let took = publish_paced(
        &mut feed,
        total,
        args.rate_per_channel * channels as f64,
        |sent| bar.set_position(sent),
    )
    .await;
    bar.finish_and_clear();
    let (server_cpu, client_cpu) = cpu.finish(&ctx.server);
    let others_cpu = cpu.others_pct(&ctx.server);
    report.set("others_cpu_pct", others_cpu);
    if let Some(o) = others_cpu {
        report.line(format!(
            "other processes on the machine used {o:.0} % of a core meanwhile"
        ));
    }
    let dropped_during = audience.dropped_so_far();
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
    let rss_end = rss_kb(&ctx.server);
    let published = feed.published.clone();
    let channel_of = audience.channel_of.clone();
    let outcomes = audience.finish().await;
    let (acked, errors, _) = feed.finish().await;

    report.line(format!(
        "held {} viewers on {channels} channels for {:.0} s; {} messages published ({acked} acked); server RSS at the end {} kB",
        args.viewers,
        took.as_secs_f64(),
        published.iter().sum::<u64>(),
        rss_end.unwrap_or(0)
    ));
    if let (Some(s), Some(c)) = (server_cpu, client_cpu) {
        report.line(format!(
            "CPU while held: server {s:.0} %, client {c:.0} % (of one core)"
        ));
    }
    report.set("server_cpu_pct", server_cpu);
    report.set("client_cpu_pct", client_cpu);
    report.set("server_rss_end_kb", rss_end);
    let (delivered, expected, _, dropped) =
        report_delivery(&mut report, &outcomes, &channel_of, &published, None);
    report.check(
        "no drops",
        dropped == 0 && dropped_during == 0,
        format!("{dropped} viewers dropped"),
    );
    report.check(
        "100% delivered",
        delivered == expected,
        format!("{delivered}/{expected}"),
    );
    report.check(
        "publishing succeeded",
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
    if args.viewers >= 19_000
        && let Some(per) = per_conn
    {
        report.target(
            "≤ 8 KB per idle connection",
            per <= 8.0,
            format!("{per:.2} KiB (/proc counts kB of 1,024 bytes)"),
        );
    }
    Ok(report)
}
