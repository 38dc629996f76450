//! Builds the application from a [`Config`]. This is the one place that chooses adapters.

use std::{future::Future, net::SocketAddr, path::Path, sync::Arc, time::Duration};

use anyhow::Context;
use tokio::net::TcpListener;

use crate::{
    accounts::{AccountSettings, Accounts},
    actors::{Realtime, RealtimeSettings},
    assets::{AssetStore, LocalAssetStore},
    auth::{AccessTokens, Secret},
    aws::dynamodb::DynamoStore,
    catalog::{DisabledCatalog, PaApiCatalog, ProductCatalog},
    config::{Backend, Config, MetricsSource},
    gateway::{ConnectionSettings, GatewayDeps},
    http::{AppState, HttpMetrics},
    mail::{Mailer, OutboxMailer, SmtpMailer},
    media::{Media, local::LocalMedia},
    stages::local::LocalStages,
    store::{Store, sqlite::SqliteStore},
    streams::{
        StreamHealth,
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
        let store: Arc<dyn Store> = match config.backend {
            Backend::Local => Arc::new(
                SqliteStore::open(&config.data_dir.join("showrunner.db")).with_context(|| {
                    format!("opening the store in {}", config.data_dir.display())
                })?,
            ),
            Backend::Aws => {
                let sdk = crate::aws::sdk_config(&config.aws).await;
                let store = DynamoStore::new(&sdk, &config.aws.dynamodb_table)
                    .with_throttle_retention(Duration::from_secs(
                        config.throttle.window_secs.saturating_mul(2),
                    ));
                store
                    .check_table()
                    .await
                    .context("backend = \"aws\": the store's DynamoDB table")?;
                tracing::warn!(
                    table = %config.aws.dynamodb_table,
                    "backend = \"aws\": the store is on DynamoDB, but media (IVS), assets (S3), \
                     chat (IVS Chat) and stages (IVS Real-Time) still use their local adapters"
                );
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
        let assets = LocalAssetStore::new(asset_dir.clone(), config.public_url());
        Ok(Self {
            store,
            metrics,
            media: Arc::new(LocalMedia::new(config.public_url())),
            mailer,
            assets: Arc::new(assets),
            asset_dir: Some(asset_dir),
            catalog,
        })
    }
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
}

impl App {
    /// Opens the backends and binds the listener (port 0 picks a free port).
    pub async fn build(mut config: Config) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating data_dir {}", config.data_dir.display()))?;
        let listener = TcpListener::bind(config.http.listen)
            .await
            .with_context(|| format!("binding http.listen {}", config.http.listen))?;
        // With port 0, links and URLs must name the port actually bound.
        config.http.listen = listener.local_addr()?;
        let backends = Backends::from_config(&config).await?;
        let tokens =
            AccessTokens::new(&jwt_secret(&config)?, config.accounts.access_token_ttl_secs);
        let jwt_secret = jwt_secret(&config)?;
        let realtime = Realtime::start(
            backends.store.clone(),
            Arc::new(LocalStages::new(&jwt_secret)),
            RealtimeSettings {
                idle_timeout: Duration::from_secs(config.realtime.idle_timeout_secs),
                chat_history: config.realtime.chat_history,
                chat_tick: Duration::from_millis(config.realtime.chat_tick_ms),
                stage_host_grace: Duration::from_secs(config.realtime.stage_host_grace_secs),
                ..RealtimeSettings::default()
            },
        )
        .await
        .context("starting the realtime core")?;
        let accounts = Accounts::new(
            backends.store.clone(),
            backends.media,
            backends.mailer,
            backends.assets,
            tokens,
            AccountSettings::from_config(&config),
        );
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
            &config.streams.events_secret,
            &jwt_secret,
        );
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
        Ok(Self { listener, state })
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
            self.listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
    }
}
