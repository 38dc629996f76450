//! stage-rush: a host opens a stage; many signed-in viewers ask to join at the same moment;
//! the host accepts more of them than fit. Never more than 12 publishers (the host included):
//! not in the stage's view over HTTP, not in any `stage` frame any viewer sees.

use std::{sync::Arc, time::Duration};

use serde_json::{Value, json};
use tokio::sync::Barrier;

use super::{Audience, Ctx};
use crate::{
    clock::now_us,
    report::{Latency, Report, r2},
    ws::{self, Watch, join_many},
};

/// The stage's publisher cap, host included (documented in `docs/protocol.md`).
const MAX_PUBLISHERS: usize = 12;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Viewers who ask to join at once (accounts `ltv0…`).
    #[arg(long, default_value_t = 1_000)]
    pub requesters: usize,
    /// Requests the host then accepts, all at once (more than fit).
    #[arg(long, default_value_t = 30)]
    pub accept: usize,
    #[arg(long, default_value_t = 256)]
    pub connect_parallel: usize,
}

pub async fn run(ctx: &mut Ctx, args: &Args) -> anyhow::Result<Report> {
    let mut report = Report::new(
        "stage-rush",
        serde_json::to_value(json!({
            "requesters": args.requesters, "accept": args.accept,
        }))?,
    );
    let host = ctx.accounts("ltstage", 1, &mut report).await?.remove(0);
    let viewers = ctx.accounts("ltv", args.requesters, &mut report).await?;
    let stage_path = format!("/api/channels/{}/stage", host.username);
    // A stage left by an interrupted run is ended first.
    ctx.api.delete(&stage_path, Some(&host.token)).await?;
    let (status, body) = ctx.api.post(&stage_path, Some(&host.token), None).await?;
    anyhow::ensure!(status == 201, "starting the stage: {status} {body}");
    let (mut host_ws, _) = ws::join(&ctx.connector, 0, Some(&host.token), &host.username).await?;

    let joined = join_many(
        &ctx.connector,
        args.requesters,
        args.connect_parallel,
        "requesters",
        |i| (Some(viewers[i].token.clone()), host.username.clone()),
    )
    .await?;
    let channel_id = host.id.clone();

    // Everyone asks at once.
    let barrier = Arc::new(Barrier::new(args.requesters));
    let mut tasks = Vec::new();
    for (ws, _) in joined {
        let barrier = barrier.clone();
        let frame = json!({"type":"stage_request","id":77,"channel":channel_id}).to_string();
        tasks.push(tokio::spawn(async move {
            let mut ws = ws;
            barrier.wait().await;
            let t0 = now_us();
            ws.send_text(&frame).await?;
            let reply = ws::expect(&mut ws, "ack", Some(77), Duration::from_secs(60)).await;
            let took = now_us() - t0;
            anyhow::Ok((ws, reply.map(|_| took).map_err(|e| e.to_string())))
        }));
    }
    let mut sockets = Vec::new();
    let mut acked_us = Vec::new();
    let mut refusals = Vec::new();
    for t in tasks {
        let (ws, r) = t.await??;
        sockets.push(ws);
        match r {
            Ok(us) => acked_us.push(us as u32),
            Err(e) => refusals.push(e),
        }
    }
    let lat = Latency::from_us(&mut acked_us);
    report.latency("request_ack_ms", "stage_request→ack", lat, None);
    report.line(format!(
        "{} requests queued, {} refused",
        lat.count,
        refusals.len()
    ));
    report.check(
        "every request queued",
        refusals.is_empty(),
        format!(
            "{} refused{}",
            refusals.len(),
            refusals
                .first()
                .map(|e| format!(" (first: {e})"))
                .unwrap_or_default()
        ),
    );

    // Viewers now watch the stage frames while the host accepts.
    let n = sockets.len();
    let audience = Audience::start(
        sockets,
        vec![0; n],
        Watch {
            polls: false,
            stage: true,
        },
        0,
    );
    let (_, queue) = ctx
        .api
        .get(&format!("{stage_path}/requests"), Some(&host.token))
        .await?;
    let queued: Vec<String> = queue["requests"]
        .as_array()
        .or(queue["queue"].as_array())
        .or(queue.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|r| r["username"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    report.set("queue_length", queued.len());
    let started = now_us();
    let mut accepts = Vec::new();
    for name in queued.iter().take(args.accept) {
        let api = ctx.api.clone();
        let token = host.token.clone();
        let path = format!("{stage_path}/requests/{name}/accept");
        accepts.push(tokio::spawn(async move {
            api.post(&path, Some(&token), None).await
        }));
    }
    let (mut ok, mut full, mut other) = (0usize, 0usize, Vec::new());
    for a in accepts {
        match a.await? {
            Ok((204, _)) => ok += 1,
            Ok((409, v)) if v["error"]["code"] == "stage_full" => full += 1,
            Ok((s, v)) => other.push(format!("{s} {v}")),
            Err(e) => other.push(e.to_string()),
        }
    }
    let accept_ms = (now_us() - started) as f64 / 1000.0;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (_, view) = ctx.api.get(&stage_path, None).await?;
    let publishers = view["publishers"].as_array().map_or(0, Vec::len);
    let outcomes = audience.finish().await;
    let max_seen = outcomes.iter().map(|o| o.max_publishers).max().unwrap_or(0);
    let accepted_notices = outcomes
        .iter()
        .flat_map(|o| &o.notices)
        .filter(|v: &&Value| v["event"]["kind"] == "join_accepted")
        .count();
    host_ws.close(Duration::from_millis(200)).await;
    ctx.api.delete(&stage_path, Some(&host.token)).await?;

    let fit = (MAX_PUBLISHERS - 1).min(queued.len()).min(args.accept);
    report.line(format!(
        "host accepted {} at once in {accept_ms:.0} ms: {ok} accepted, {full} refused as full, {} other; publishers now {publishers}, most in any stage frame {max_seen}; {accepted_notices} join_accepted notices",
        queued.len().min(args.accept),
        other.len()
    ));
    report.set("accepted", ok);
    report.set("refused_full", full);
    report.set("publishers", publishers);
    report.set("max_publishers_seen", max_seen);
    report.set("accept_ms", r2(accept_ms));
    report.check(
        "never more than 12 publishers",
        publishers <= MAX_PUBLISHERS && max_seen <= MAX_PUBLISHERS,
        format!("stage view {publishers}, most in any frame {max_seen}"),
    );
    report.check(
        "the stage fills exactly",
        ok == fit && publishers == fit + 1 && other.is_empty(),
        format!(
            "{ok} accepted (expected {fit}), {publishers} publishers{}",
            other
                .first()
                .map(|e| format!("; unexpected: {e}"))
                .unwrap_or_default()
        ),
    );
    report.check(
        "each accepted requester told",
        accepted_notices == ok,
        format!("{accepted_notices} notices for {ok} accepted"),
    );
    Ok(report)
}
