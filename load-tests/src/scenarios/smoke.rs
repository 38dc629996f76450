//! smoke: every scenario once with tiny numbers, so they keep working. Part of `scripts/test`;
//! ends with a plain `N passed, N failed` line.

use super::{Ctx, baseline, churn, fanout, many_channels, poll_storm, soak, stage_rush};
use crate::report::Report;

pub async fn run(ctx: &mut Ctx) -> Vec<(String, anyhow::Result<Report>)> {
    let mut results = Vec::new();
    let base = baseline::Args {
        conns: 200,
        bytes: 200,
        rounds: 3,
    };
    let floor = tokio::task::spawn_blocking(move || baseline::run(&base))
        .await
        .map_err(anyhow::Error::from)
        .and_then(|r| r);
    results.push((
        "baseline".to_owned(),
        floor.map(|(report, floor)| {
            ctx.floor_ms.get_or_insert(floor);
            report
        }),
    ));
    let fan = fanout::Args {
        viewers: 50,
        rate: 50.0,
        messages: 20,
        text_bytes: 200,
        actions_every: 5,
        connect_parallel: 32,
        tail_secs: 10,
    };
    results.push(("fanout".into(), fanout::run(ctx, &fan).await));
    let many = many_channels::Args {
        channels: 3,
        viewers: 30,
        duration_secs: 2,
        rate_per_channel: 5.0,
        text_bytes: 100,
        connect_parallel: 32,
    };
    results.push(("many-channels".into(), many_channels::run(ctx, &many).await));
    let polls = poll_storm::Args {
        voters: 20,
        window_secs: 0.5,
        polls: 2,
        rate: 400.0,
        connect_parallel: 20,
    };
    results.push(("poll-storm".into(), poll_storm::run(ctx, &polls).await));
    let ch = churn::Args {
        rate: 200.0,
        duration_secs: 0.5,
        subscribe: true,
        max_in_flight: 100,
        sources: 4,
        channel: None,
        rounds: 3,
    };
    results.push(("churn".into(), churn::run(ctx, &ch).await));
    let stage = stage_rush::Args {
        requesters: 15,
        accept: 14,
        connect_parallel: 15,
    };
    results.push(("stage-rush".into(), stage_rush::run(ctx, &stage).await));
    let so = soak::Args {
        viewers: 20,
        channels: 2,
        duration_secs: 4,
        rate_per_channel: 5.0,
        window_secs: 2,
        text_bytes: 100,
        connect_parallel: 20,
    };
    results.push(("soak".into(), soak::run(ctx, &so).await));
    results
}
