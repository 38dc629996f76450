//! Load tests for Showrunner. Talks to a running server only over HTTP and websockets, or
//! starts one itself (`--spawn-server target/release/showrunner`).
//!
//! ```text
//! main.rs            the command line; one server per run; results printed and written as JSON
//! clock.rs           the process clock and the publish-time marker carried inside frames
//! server.rs          spawning the server, raising RLIMIT_NOFILE, sampling /proc/<pid>
//! api.rs             the HTTP API and account seeding (through the API, cached per data dir)
//! ws.rs              websocket clients: source-address spreading, viewers, publishers
//! socket.rs          the hand-read websocket of viewers and voters (one recv per wake, no copies)
//! report.rs          percentiles, checks, the summary, the JSON file, progress bars
//! scenarios/         baseline, fanout, many-channels, poll-storm, churn, stage-rush, soak, smoke
//! ```

mod api;
mod clock;
mod report;
mod scenarios;
mod server;
mod socket;
mod ws;

use std::{path::PathBuf, process::ExitCode, time::Duration};

use anyhow::Context;
use clap::{Parser, Subcommand};
use serde_json::json;

use crate::{
    api::{Api, Seeder},
    report::Report,
    scenarios::{Ctx, baseline, churn, fanout, many_channels, poll_storm, smoke, soak, stage_rush},
    server::{Sampler, Server, SpawnOptions},
    ws::Connector,
};

/// Load scenarios against a Showrunner server (see README, "Load tests").
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Base URL of a running server (ignored with --spawn-server).
    #[arg(long, global = true, default_value = "http://127.0.0.1:8080")]
    server: String,
    /// Start this server binary for the run (e.g. target/release/showrunner) and stop it after.
    #[arg(long, global = true)]
    spawn_server: Option<PathBuf>,
    /// Data directory for the spawned server; reusing one keeps its seeded accounts.
    /// Default: a fresh temporary directory.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Extra server settings for --spawn-server, as KEY=VALUE (e.g.
    /// SHOWRUNNER__REALTIME__CHAT_TICK_MS=50); repeatable.
    #[arg(long = "server-env", global = true)]
    server_env: Vec<String>,
    /// Pid of an external server, to sample its memory and CPU.
    #[arg(long, global = true)]
    server_pid: Option<u32>,
    /// Cache of seeded accounts and tokens for an external server.
    #[arg(long, global = true)]
    accounts_cache: Option<PathBuf>,
    /// Where JSON results go.
    #[arg(long, global = true, default_value = "target/load-tests")]
    out: PathBuf,
    /// The raw-socket floor in ms; default: the last `baseline` result in --out.
    #[arg(long, global = true)]
    floor_ms: Option<f64>,
    /// Before measuring, wait (up to 10 min) until other processes use less than this % of
    /// a core: builds and browsers on the same two cores skew every number.
    #[arg(long, global = true)]
    wait_quiet: Option<f64>,
    /// Run this client and the spawned server at this nice level (e.g. -10, as root), so that
    /// builds sharing the machine yield the CPU to the measurement.
    #[arg(long, global = true, allow_hyphen_values = true)]
    nice: Option<i32>,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// The raw-socket floor: one frame to N loopback sockets (no server involved).
    Baseline(baseline::Args),
    /// N viewers on one channel; chat and stream actions at a rate; publish→receive latency.
    Fanout(fanout::Args),
    /// Viewers over many channels, held with chat; memory per idle connection.
    ManyChannels(many_channels::Args),
    /// Signed-in voters voting at once; acks, exact tallies, tally rate, votes/s.
    PollStorm(poll_storm::Args),
    /// Connect/subscribe/close at a rate; connects/s, errors, memory afterwards.
    Churn(churn::Args),
    /// Many viewers request the stage at once; the host accepts; never more than 12.
    StageRush(stage_rush::Args),
    /// A steady audience for a long time; RSS and latency must stay flat.
    Soak(soak::Args),
    /// Every scenario with tiny numbers; ends with `N passed, N failed`.
    Smoke,
    /// Creates the accounts the scenarios use, over the API (reuse with --data-dir).
    Seed {
        /// Voters (`ltv0…`).
        #[arg(long, default_value_t = 10_000)]
        voters: usize,
        /// Channel owners (`ltch0…`).
        #[arg(long, default_value_t = 200)]
        channels: usize,
        /// Registrations and logins in flight.
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
    },
    /// Internal: the writer process of `baseline`.
    #[command(hide = true)]
    BaselineWriter {
        conns: usize,
        bytes: usize,
        threads: usize,
        pin: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("load-tests: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<bool> {
    let nofile = server::raise_nofile_limit();
    if let Some(n) = cli.nice {
        // SAFETY: setpriority changes this thread's nice value; threads and children started
        // afterwards inherit it.
        if unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, n) } != 0 {
            eprintln!(
                "load-tests: could not set nice {n}: {}",
                std::io::Error::last_os_error()
            );
        }
    }
    match &cli.scenario {
        Scenario::BaselineWriter {
            conns,
            bytes,
            threads,
            pin,
        } => {
            baseline::writer_main(*conns, *bytes, *threads, pin == "pin")?;
            return Ok(true);
        }
        Scenario::Baseline(args) => {
            if let Some(pct) = cli.wait_quiet {
                server::wait_quiet(pct, Duration::from_secs(600));
            }
            let (report, floor) = baseline::run(args)?;
            report.print();
            println!("  floor: {floor:.1} ms");
            let path = report.write(&cli.out, json!({ "open_files_limit": nofile }))?;
            println!("  results: {}", path.display());
            return Ok(report.passed());
        }
        _ => {}
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let server = match &cli.spawn_server {
            Some(binary) => Server::spawn(SpawnOptions {
                binary,
                data_dir: cli.data_dir.as_deref(),
                env: &cli.server_env,
            })?,
            None => Server::external(&cli.server, cli.server_pid),
        };
        let cache = cli
            .accounts_cache
            .clone()
            .or_else(|| Seeder::cache_path(server.data_dir.as_deref()));
        let api = Api::new(&server.base);
        let connector = Connector::new(server.socket_addr()?, server.ws_url());
        let floor_ms = cli.floor_ms.or_else(|| last_floor(&cli.out));
        let mut ctx = Ctx {
            api: api.clone(),
            seeder: Seeder::new(api, cache),
            connector,
            floor_ms,
            out: cli.out.clone(),
            server,
        };
        println!(
            "server {} (pid {}), open-file limit {nofile}, floor {}",
            ctx.server.base,
            ctx.server
                .pid
                .map_or("unknown".to_owned(), |p| p.to_string()),
            ctx.floor_ms
                .map_or("unknown (run `baseline`)".to_owned(), |f| format!(
                    "{f:.1} ms"
                ))
        );
        if let Some(pct) = cli.wait_quiet {
            let busy = tokio::task::spawn_blocking(move || {
                server::wait_quiet(pct, Duration::from_secs(600))
            })
            .await?;
            println!("other processes use {busy:.0} % of a core as the run starts");
        }
        let sampler = Sampler::start(ctx.server.pid, Duration::from_secs(1));
        let outcome = match &cli.scenario {
            Scenario::Smoke => {
                let results = smoke::run(&mut ctx).await;
                let samples = sampler.finish();
                let (mut passed, mut failed) = (0, 0);
                for (name, r) in results {
                    match r {
                        Ok(report) => {
                            report.print();
                            let _ = report.write(&ctx.out.join("smoke"), json!({}));
                            if report.passed() {
                                passed += 1;
                            } else {
                                failed += 1;
                            }
                        }
                        Err(e) => {
                            println!("\n== {name} ==\n  [FAIL] error: {e:#}");
                            failed += 1;
                        }
                    }
                }
                let _ = samples;
                println!("\nsmoke: {passed} passed, {failed} failed");
                Ok(failed == 0)
            }
            Scenario::Seed {
                voters,
                channels,
                concurrency,
            } => {
                ctx.seeder.concurrency = *concurrency;
                let mut report = Report::new(
                    "seed",
                    json!({ "voters": voters, "channels": channels, "concurrency": concurrency }),
                );
                let r = async {
                    ctx.accounts("ltstream", 1, &mut report).await?;
                    ctx.accounts("ltstage", 1, &mut report).await?;
                    ctx.accounts("ltch", *channels, &mut report).await?;
                    ctx.accounts("ltv", *voters, &mut report).await?;
                    anyhow::Ok(())
                }
                .await;
                let samples = sampler.finish();
                r?;
                finish(&ctx, report, samples, nofile)
            }
            scenario => {
                let report = match scenario {
                    Scenario::Fanout(a) => fanout::run(&mut ctx, a).await,
                    Scenario::ManyChannels(a) => many_channels::run(&mut ctx, a).await,
                    Scenario::PollStorm(a) => poll_storm::run(&mut ctx, a).await,
                    Scenario::Churn(a) => churn::run(&mut ctx, a).await,
                    Scenario::StageRush(a) => stage_rush::run(&mut ctx, a).await,
                    Scenario::Soak(a) => soak::run(&mut ctx, a).await,
                    _ => unreachable!("handled above"),
                };
                let samples = sampler.finish();
                let report = report.context("scenario failed")?;
                finish(&ctx, report, samples, nofile)
            }
        };
        ctx.server.stop();
        outcome
    })
}

fn finish(
    ctx: &Ctx,
    report: Report,
    samples: Vec<serde_json::Value>,
    nofile: u64,
) -> anyhow::Result<bool> {
    report.print();
    let path = report.write(
        &ctx.out,
        json!({ "pid": ctx.server.pid, "open_files_limit": nofile, "samples": samples }),
    )?;
    println!("  results: {}", path.display());
    Ok(report.passed())
}

/// The floor from the last `baseline` run, if any.
fn last_floor(out: &std::path::Path) -> Option<f64> {
    let text = std::fs::read(out.join("baseline-latest.json")).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&text).ok()?;
    v["results"]["floor_ms"].as_f64()
}
