//! Builds the application from a [`Config`]. This is the one place that chooses adapters.

use std::{future::Future, net::SocketAddr, path::Path, sync::Arc, time::Duration};

use anyhow::Context;
use tokio::net::TcpListener;

use crate::{
    accounts::{AccountSettings, Accounts},
    actors::{Realtime, RealtimeSettings, relay::Relay},
    assets::{AssetStore, LocalAssetStore},
    auth::{AccessTokens, Secret},
    aws::{
        dynamodb::DynamoStore,
        ivs::{ChannelSettings, IvsMedia},
        ivschat::IvsChatRooms,
        realtime::IvsStages,
        s3::S3AssetStore,
    },
    catalog::{DisabledCatalog, PaApiCatalog, ProductCatalog},
    chat_rooms::{ChatRooms, RoomDirectory},
    config::{Backend, ChatTransport, Config, MetricsSource},
    gateway::{
        ConnectionSettings, GatewayDeps,
        socket::{Peer, SocketListener},
    },
    http::{AppState, HttpMetrics},
    mail::{Mailer, OutboxMailer, SmtpMailer},
    media::{Media, local::LocalMedia},
    stages::{Stages, local::LocalStages},
    store::{Store, sqlite::SqliteStore},
    streams::{
        StreamHealth,
        live_check::Suspects,
        metrics::{LocalMetrics, Metrics},
    },
};

/// The adapters behind every port.
pub struct Backends {
    pub store: Arc<dyn Store>,
    pub media: Arc<dyn Media>,
    pub mailer: Arc<dyn Mailer>,
    pub assets: Arc<dyn AssetStore>,
    /// Set when assets are files this process serves itself.
    pub asset_dir: Option<std::path::PathBuf>,
    /// PA-API when `catalog` is configured; otherwise every search answers `Disabled`.
    pub catalog: Arc<dyn ProductCatalog>,
    /// Stream-session metrics: CloudWatch when `streams.metrics = "cloudwatch"`, otherwise what
    /// the stream simulator recorded in the store.
    pub metrics: Arc<dyn Metrics>,
    pub stages: Arc<dyn Stages>,
    /// IVS Chat rooms when `aws.chat = "ivs"`; `None`: built-in chat.
    pub chat_rooms: Option<Arc<dyn ChatRooms>>,
    /// Where stream actions also go as timed metadata: the video service in AWS mode; nowhere
    /// locally (nothing streams).
    pub timed_metadata: Option<Arc<dyn Media>>,
    /// How long a stage may sit idle before the periodic sweep deletes it; `None`: no sweep.
    pub stage_sweep: Option<Duration>,
    /// How often the channels held live are compared with the video service's broadcasts,
    /// repairing a live state whose event was lost (`streams::live_check`); `None`: never
    /// (locally, live state comes from the simulator's events alone).
    pub live_check: Option<Duration>,
    /// The embedded store, whose expired rows a periodic sweep deletes; `None` in AWS mode,
    /// where DynamoDB's TTL does that.
    pub expiring: Option<SqliteStore>,
}

impl Backends {
    /// The only `match` on the backend: everything else sees the ports.
    pub async fn from_config(config: &Config) -> anyhow::Result<Self> {
        let mailer: Arc<dyn Mailer> = match &config.mail.smtp {
            Some(smtp) => Arc::new(SmtpMailer::new(smtp, &config.mail.from).context("mail.smtp")?),
            None => Arc::new(
                OutboxMailer::new(config.data_dir.join("outbox"), &config.mail.from)
                    .context("mail outbox")?,
            ),
        };
        let catalog: Arc<dyn ProductCatalog> = match &config.catalog {
            Some(settings) => {
                let mut paapi = PaApiCatalog::new(settings.paapi()).context("catalog")?;
                if !settings.endpoint.is_empty() {
                    let base = url::Url::parse(&settings.endpoint).context("catalog.endpoint")?;
                    paapi = paapi.with_base_url(&base);
                }
                Arc::new(paapi)
            }
            None => Arc::new(DisabledCatalog),
        };
        let sdk = match config.backend {
            Backend::Local => None,
            Backend::Aws => Some(crate::aws::sdk_config(&config.aws).await),
        };
        let mut expiring = None;
        let store: Arc<dyn Store> = match &sdk {
            None => {
                let sqlite = SqliteStore::open(&config.data_dir.join("showrunner.db"))
                    .with_context(|| {
                        format!("opening the store in {}", config.data_dir.display())
                    })?;
                expiring = Some(sqlite.clone());
                Arc::new(sqlite)
            }
            Some(sdk) => {
                let store = DynamoStore::new(sdk, &config.aws.dynamodb_table)
                    .with_throttle_retention(config.throttle.retention());
                store
                    .check_table()
                    .await
                    .context("backend = \"aws\": the store's DynamoDB table")?;
                Arc::new(store)
            }
        };
        let metrics: Arc<dyn Metrics> = match config.streams.metrics {
            MetricsSource::Local => Arc::new(LocalMetrics::new(store.clone())),
            MetricsSource::Cloudwatch => {
                Arc::new(crate::aws::cloudwatch::CloudWatchMetrics::new(&config.aws))
            }
        };
        let asset_dir = config.data_dir.join("assets");
        let local_assets = Arc::new(LocalAssetStore::new(asset_dir.clone(), config.public_url()));
        let Some(sdk) = sdk else {
            return Ok(Self {
                store,
                metrics,
                media: Arc::new(LocalMedia::new(config.public_url())),
                mailer,
                assets: local_assets,
                asset_dir: Some(asset_dir),
                catalog,
                stages: Arc::new(LocalStages::new(&jwt_secret(config)?)),
                chat_rooms: None,
                timed_metadata: None,
                stage_sweep: None,
                live_check: None,
                expiring,
            });
        };
        let aws = &config.aws;
        let media: Arc<dyn Media> = Arc::new(IvsMedia::new(
            &sdk,
            ChannelSettings::from_config(&config.media, aws.tags()),
        ));
        let (assets, asset_dir): (Arc<dyn AssetStore>, _) = if aws.s3_bucket.is_empty() {
            tracing::warn!(
                "backend = \"aws\" without aws.s3_bucket: uploaded images stay in the data dir"
            );
            (local_assets, Some(asset_dir))
        } else {
            let s3 = S3AssetStore::new(
                &sdk,
                crate::aws::bucket_settings(aws, &sdk),
                aws.s3_path_style,
            );
            s3.check_bucket()
                .await
                .context("backend = \"aws\": the assets' S3 bucket (aws.s3_bucket)")?;
            (Arc::new(s3), None)
        };
        let chat_rooms: Option<Arc<dyn ChatRooms>> = match aws.chat {
            ChatTransport::Builtin => None,
            ChatTransport::Ivs => Some(Arc::new(IvsChatRooms::new(&sdk, aws.tags()))),
        };
        tracing::info!(
            table = %aws.dynamodb_table,
            bucket = %aws.s3_bucket,
            chat = ?aws.chat,
            "backend = \"aws\": store on DynamoDB, media on IVS, stages on IVS Real-Time"
        );
        Ok(Self {
            store,
            metrics,
            timed_metadata: Some(media.clone()),
            media,
            mailer,
            assets,
            asset_dir,
            catalog,
            stages: Arc::new(IvsStages::new(&sdk, aws.tags())),
            chat_rooms,
            stage_sweep: (aws.stage_sweep_idle_minutes > 0)
                .then(|| Duration::from_secs(aws.stage_sweep_idle_minutes * 60)),
            live_check: (aws.live_check_secs > 0).then(|| Duration::from_secs(aws.live_check_secs)),
            expiring: None,
        })
    }
}

/// How often idle stages are looked for, and when first after start (stages a crash left are
/// found soon; a restart loop does not sweep on every start).
const STAGE_SWEEP_EVERY: Duration = Duration::from_secs(600);
const STAGE_SWEEP_FIRST: Duration = Duration::from_secs(60);

/// Runs `job` every `every`, the first time `first` after start, until `stop` is dropped.
fn spawn_periodic<F, Fut>(
    first: Duration,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<()>,
    mut job: F,
) where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + first, every);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = stop.changed() => return,
            }
            job().await;
        }
    });
}

/// Sweeps idle stages every [`STAGE_SWEEP_EVERY`] until `stop` is dropped.
fn spawn_stage_sweep(
    stages: Arc<dyn Stages>,
    store: Arc<dyn Store>,
    idle_for: Duration,
    stop: tokio::sync::watch::Receiver<()>,
) {
    spawn_periodic(STAGE_SWEEP_FIRST, STAGE_SWEEP_EVERY, stop, move || {
        let (stages, store) = (stages.clone(), store.clone());
        async move {
            match crate::stages::sweep_idle_stages(&*stages, &*store, idle_for).await {
                Ok(deleted) if !deleted.is_empty() => {
                    tracing::info!(count = deleted.len(), ?deleted, "idle stages deleted")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "idle-stage sweep failed"),
            }
        }
    });
}

/// How often the embedded store's expired rows are deleted, and when first after start.
const EXPIRY_SWEEP_EVERY: Duration = Duration::from_secs(3600);
const EXPIRY_SWEEP_FIRST: Duration = Duration::from_secs(60);

/// Deletes the embedded store's expired rows every [`EXPIRY_SWEEP_EVERY`] until `stop` is
/// dropped. Throttle windows are kept for `throttle_retention` after they start, as the
/// DynamoDB store's TTL keeps them.
fn spawn_expiry_sweep(
    store: SqliteStore,
    throttle_retention: Duration,
    stop: tokio::sync::watch::Receiver<()>,
) {
    let retention = chrono::Duration::from_std(throttle_retention).unwrap_or(chrono::Duration::MAX);
    spawn_periodic(EXPIRY_SWEEP_FIRST, EXPIRY_SWEEP_EVERY, stop, move || {
        let store = store.clone();
        async move {
            let now = chrono::Utc::now();
            let throttle_before = now
                .checked_sub_signed(retention)
                .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
            match store.delete_expired(now, throttle_before).await {
                Ok(expired) if expired.total() > 0 => tracing::info!(
                    sessions = expired.sessions,
                    mail_tokens = expired.mail_tokens,
                    throttle_windows = expired.throttle_windows,
                    "expired rows deleted"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "expiry sweep failed"),
            }
        }
    });
}

/// Compares the channels held live with the video service's broadcasts every `every` (the first
/// time one period after start) until `stop` is dropped, repairing what disagrees.
fn spawn_live_check(
    streams: StreamHealth,
    every: Duration,
    stop: tokio::sync::watch::Receiver<()>,
) {
    // Only one check runs at a time (the loop awaits each), so this lock is never contended.
    let suspects = Arc::new(tokio::sync::Mutex::new(Suspects::default()));
    spawn_periodic(every, every, stop, move || {
        let (streams, suspects) = (streams.clone(), suspects.clone());
        async move {
            let mut suspects = suspects.lock().await;
            match streams.check_live(&mut suspects, chrono::Utc::now()).await {
                Ok(check)
                    if !check.ended.is_empty() || !check.started.is_empty() || check.failed > 0 =>
                {
                    tracing::info!(
                        on_air = check.on_air,
                        checked = check.checked,
                        ended = ?check.ended,
                        started = ?check.started,
                        failed = check.failed,
                        "live channels checked with the video service"
                    )
                }
                Ok(check) => tracing::debug!(?check, "live channels checked"),
                Err(e) => tracing::warn!(error = %e, "live check failed"),
            }
        }
    });
}

/// The access-token key: the configured one, or one made once and kept in the data dir so that
/// sessions survive restarts.
fn jwt_secret(config: &Config) -> anyhow::Result<Vec<u8>> {
    if !config.accounts.jwt_secret.is_empty() {
        return Ok(config.accounts.jwt_secret.as_bytes().to_vec());
    }
    let path = config.data_dir.join("jwt-secret");
    match std::fs::read_to_string(&path) {
        Ok(secret) if secret.trim().len() >= 32 => Ok(secret.trim().as_bytes().to_vec()),
        _ => {
            let secret = Secret::generate();
            write_private(&path, secret.expose())
                .with_context(|| format!("writing {}", path.display()))?;
            Ok(secret.expose().as_bytes().to_vec())
        }
    }
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    options.open(path)?.write_all(contents.as_bytes())
}

/// A bound, ready-to-serve application.
pub struct App {
    listener: TcpListener,
    state: AppState,
    /// Background loops (the idle-stage sweep) end when this is dropped, with the app.
    _stop_background: tokio::sync::watch::Sender<()>,
}

impl App {
    /// Opens the backends and binds the listener (port 0 picks a free port).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with(config, |_| {}).await
    }

    /// As [`Self::build`], with the adapters `Backends::from_config` chose adjusted before
    /// anything uses them (tests put SDK test clients in).
    pub async fn build_with(
        mut config: Config,
        adjust: impl FnOnce(&mut Backends),
    ) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating data_dir {}", config.data_dir.display()))?;
        let listener = TcpListener::bind(config.http.listen)
            .await
            .with_context(|| format!("binding http.listen {}", config.http.listen))?;
        // With port 0, links and URLs must name the port actually bound.
        config.http.listen = listener.local_addr()?;
        let mut backends = Backends::from_config(&config).await?;
        adjust(&mut backends);
        let tokens =
            AccessTokens::new(&jwt_secret(&config)?, config.accounts.access_token_ttl_secs);
        let jwt_secret = jwt_secret(&config)?;
        let rooms = backends
            .chat_rooms
            .map(|rooms| RoomDirectory::new(rooms, backends.store.clone()));
        let relay = Relay::new(
            backends.store.clone(),
            backends.timed_metadata,
            rooms.clone(),
        );
        let realtime = Realtime::start_with(
            backends.store.clone(),
            backends.stages.clone(),
            relay,
            RealtimeSettings {
                idle_timeout: Duration::from_secs(config.realtime.idle_timeout_secs),
                chat_history: config.realtime.chat_history,
                chat_tick: Duration::from_millis(config.realtime.chat_tick_ms),
                stage_host_grace: Duration::from_secs(config.realtime.stage_host_grace_secs),
                sweep_threads: config.realtime.sweep_threads,
                ..RealtimeSettings::default()
            },
        )
        .await
        .context("starting the realtime core")?;
        let accounts = Accounts::new(
            backends.store.clone(),
            backends.media.clone(),
            backends.mailer,
            backends.assets,
            tokens,
            AccountSettings::from_config(&config),
        )
        .with_chat_rooms(rooms);
        let (stop_background, stopped) = tokio::sync::watch::channel(());
        if let Some(sqlite) = backends.expiring {
            spawn_expiry_sweep(sqlite, config.throttle.retention(), stopped.clone());
        }
        if let Some(idle_for) = backends.stage_sweep {
            spawn_stage_sweep(
                backends.stages,
                backends.store.clone(),
                idle_for,
                stopped.clone(),
            );
        }
        let gateway = GatewayDeps {
            accounts: accounts.clone(),
            store: backends.store.clone(),
            realtime: realtime.clone(),
            settings: ConnectionSettings {
                outbox_capacity: config.realtime.outbox_capacity,
                ..ConnectionSettings::default()
            },
            chat_tick_ms: config.realtime.chat_tick_ms,
        };
        let streams = StreamHealth::new(
            backends.store.clone(),
            realtime.clone(),
            backends.metrics,
            backends.media,
            &config.streams.events_secret,
            &jwt_secret,
        );
        if let Some(every) = backends.live_check {
            spawn_live_check(streams.clone(), every, stopped);
        }
        let state = AppState {
            streams,
            accounts,
            realtime,
            gateway,
            store: backends.store,
            metrics: Arc::new(HttpMetrics::default()),
            config: Arc::new(config),
            asset_dir: backends.asset_dir,
            catalog: backends.catalog,
        };
        Ok(Self {
            listener,
            state,
            _stop_background: stop_background,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.state.config.http.listen
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then stops accepting and lets requests in flight finish.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let realtime = self.state.realtime.clone();
        let router = crate::http::router(self.state);
        // On shutdown: stop the actors first (they flush and close every websocket with
        // "going away"), so the server's graceful drain is not held open by live sockets.
        let shutdown = async move {
            shutdown.await;
            realtime.shutdown().await;
        };
        axum::serve(
            SocketListener(self.listener),
            router.into_make_service_with_connect_info::<Peer>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
    }
}
