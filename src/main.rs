//! The `showrunner` binary: parse flags, load config, start logging, run until a signal.

use std::{net::SocketAddr, path::PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand};
use serde::Serialize;
use showrunner::{
    config::Config,
    simulator::{self, SimulatorOptions},
    startup::App,
    telemetry,
};

/// Showrunner: accounts, channels, chat, overlays, stages and the live directory of a
/// live-streaming platform on Amazon IVS.
///
/// Configuration comes from built-in defaults (embedded local mode: SQLite in ./data, no cloud),
/// then the TOML file given with --config, then SHOWRUNNER__SECTION__KEY environment variables
/// (e.g. SHOWRUNNER__HTTP__LISTEN=0.0.0.0:8080), then these flags. `showrunner config` prints
/// every key with its effective value.
#[derive(Debug, Parser)]
#[command(version, about, long_about)]
struct Cli {
    /// A TOML configuration file.
    #[arg(long, global = true, env = "SHOWRUNNER_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on [config: http.listen; default 127.0.0.1:8080].
    #[arg(long, global = true)]
    listen: Option<SocketAddr>,
    /// Folder for the database, uploads and the mail outbox [config: data_dir; default ./data].
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Public base URL used in links [config: http.public_url; default http://<listen>].
    #[arg(long, global = true)]
    public_url: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API, the websocket gateway and the web client (the default).
    Serve,
    /// Print the effective configuration as TOML (secrets masked) and exit.
    Config,
    /// Drive a channel through a simulated IVS stream session against a running server: the
    /// events EventBridge would deliver, plus noisy encoder metrics. Needs the server's
    /// streams.events_secret (from the same configuration, or --secret).
    Simulate(SimulateArgs),
    /// AWS deployment tasks (for `backend = "aws"`).
    #[command(subcommand)]
    Aws(AwsCommand),
}

#[derive(Debug, Subcommand)]
enum AwsCommand {
    /// Create the DynamoDB table (with its indexes and TTL) unless it exists, and wait until it
    /// is active. Safe to run again. Credentials, region and endpoint come from the AWS SDK's
    /// usual environment (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, ...).
    Init,
}

#[derive(Debug, clap::Args)]
struct SimulateArgs {
    /// The channel's username.
    #[arg(long)]
    channel: String,
    /// From session start to stream end, e.g. 90s, 10m, 1h.
    #[arg(long, default_value = "10m", value_parser = showrunner::simulator::parse_duration)]
    duration: std::time::Duration,
    /// Starve the stream this long after the start (for 20 s, or until the end).
    #[arg(long, value_parser = showrunner::simulator::parse_duration)]
    starve_at: Option<std::time::Duration>,
    /// Time between metric samples.
    #[arg(long, default_value = "5s", value_parser = showrunner::simulator::parse_duration)]
    interval: std::time::Duration,
    /// The server's base URL [default: http.public_url of the configuration].
    #[arg(long, env = "SHOWRUNNER_SERVER")]
    server: Option<String>,
    /// The server's streams.events_secret [default: from the configuration].
    #[arg(long, env = "SHOWRUNNER_STREAM_EVENTS_SECRET", hide_env_values = true)]
    secret: Option<String>,
}

/// The flags, in the shape of the config tree, so they layer like any other source.
#[derive(Debug, Default, Serialize)]
struct FlagOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "HttpOverrides::is_empty")]
    http: HttpOverrides,
}

#[derive(Debug, Default, Serialize)]
struct HttpOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    public_url: Option<String>,
}

impl HttpOverrides {
    fn is_empty(&self) -> bool {
        self.listen.is_none() && self.public_url.is_none()
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let overrides = FlagOverrides {
        data_dir: cli.data_dir,
        http: HttpOverrides {
            listen: cli.listen,
            public_url: cli.public_url,
        },
    };
    let config = Config::load(cli.config.as_deref(), overrides)?;

    match cli.command.unwrap_or(Command::Serve) {
        Command::Aws(AwsCommand::Init) => {
            telemetry::init(&config.log);
            for line in showrunner::aws::init(&config.aws).await? {
                println!("{line}");
            }
            Ok(())
        }
        Command::Simulate(args) => {
            telemetry::init(&config.log);
            let server = args.server.unwrap_or_else(|| config.public_url());
            let secret = args.secret.unwrap_or(config.streams.events_secret);
            let mut options = SimulatorOptions::new(&server, &secret, &args.channel);
            options.duration = args.duration;
            options.starve_at = args.starve_at;
            options.interval = args.interval;
            let session = simulator::run(options, shutdown_signal()).await?;
            println!(
                "Simulated session {} of {}: {} events, {} metric samples",
                session.stream_id, args.channel, session.events_sent, session.samples_sent
            );
            Ok(())
        }
        Command::Config => {
            let mut shown = config.clone();
            if !shown.accounts.jwt_secret.is_empty() {
                shown.accounts.jwt_secret = "***".into();
            }
            if let Some(smtp) = shown.mail.smtp.as_mut()
                && !smtp.password.is_empty()
            {
                smtp.password = "***".into();
            }
            if let Some(catalog) = shown.catalog.as_mut()
                && !catalog.secret_key.is_empty()
            {
                catalog.secret_key = "***".into();
            }
            if !shown.streams.events_secret.is_empty() {
                shown.streams.events_secret = "***".into();
            }
            print!(
                "{}",
                toml::to_string_pretty(&shown).context("printing the configuration")?
            );
            Ok(())
        }
        Command::Serve => {
            telemetry::init(&config.log);
            let app = App::build(config).await?;
            tracing::info!(
                url = %format!("http://{}", app.local_addr()),
                data_dir = %app.state().config.data_dir.display(),
                "Showrunner is serving"
            );
            println!("Showrunner is serving on http://{}", app.local_addr());
            app.run_until_stopped(shutdown_signal()).await?;
            tracing::info!("stopped");
            Ok(())
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing requests in flight");
}
