//! One configuration tree. `Config::default()` is the embedded local mode: it needs no file, no
//! cloud account and no environment.
//!
//! Layers, later ones winning: defaults → optional TOML file → `SHOWRUNNER__SECTION__KEY`
//! environment variables → command-line flags. Errors name the offending key.

use std::{net::SocketAddr, path::PathBuf};

use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use serde::{Deserialize, Serialize};

use crate::catalog::PaApiConfig;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the embedded store, uploaded assets and the mail outbox live.
    pub data_dir: PathBuf,
    /// Which adapters back the ports: `local` (embedded, the default) or `aws`.
    pub backend: Backend,
    pub http: HttpConfig,
    pub accounts: AccountsConfig,
    pub throttle: ThrottleConfig,
    pub mail: MailConfig,
    pub media: MediaConfig,
    pub realtime: RealtimeConfig,
    pub log: LogConfig,
    /// Stream health: the IVS event endpoint and where session metrics come from.
    pub streams: StreamsConfig,
    /// Product search for the "Amazon product" stream action (Amazon's Product Advertising API).
    /// Absent: product search is off and `GET /api/products` answers 404 `catalog_disabled`.
    pub catalog: Option<CatalogConfig>,
    /// AWS resources used with `backend = "aws"`.
    pub aws: AwsConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            backend: Backend::Local,
            http: HttpConfig::default(),
            accounts: AccountsConfig::default(),
            throttle: ThrottleConfig::default(),
            mail: MailConfig::default(),
            media: MediaConfig::default(),
            realtime: RealtimeConfig::default(),
            log: LogConfig::default(),
            streams: StreamsConfig::default(),
            catalog: None,
            aws: AwsConfig::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RealtimeConfig {
    /// A channel actor with no viewers, poll or action stops after this many seconds.
    pub idle_timeout_secs: u64,
    /// Chat messages kept per channel for replay.
    pub chat_history: usize,
    /// Chat messages within one tick (milliseconds) reach each viewer in one frame.
    pub chat_tick_ms: u64,
    /// Frames queued per connection before it is closed as a slow consumer.
    pub outbox_capacity: usize,
    /// How long a stage survives its host's disconnection, in seconds.
    pub stage_host_grace_secs: u64,
    /// Threads that write a burst of frames to a channel with 512 viewers or more; 0: one per
    /// core. While frames keep coming (a storm), its rounds take one thread. Fewer leaves cores
    /// to other work on the machine (see docs/performance.md).
    pub sweep_threads: usize,
}

impl Default for RealtimeConfig {
    fn default() -> Self {
        Self {
            idle_timeout_secs: 60,
            chat_history: 200,
            chat_tick_ms: 25,
            outbox_capacity: 512,
            stage_host_grace_secs: 180,
            sweep_threads: 0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Local,
    Aws,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Address the HTTP and websocket server binds.
    pub listen: SocketAddr,
    /// The URL people reach the service at; links in emails and asset URLs start with it.
    /// Empty means `http://<listen>`.
    pub public_url: String,
    /// Origins allowed to call the API from another site. Empty: same origin only.
    pub cors_origins: Vec<String>,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy you run).
    pub trust_forwarded_for: bool,
    /// Folder of the built web client to serve at `/`. Empty: `web/dist` if it exists.
    pub web_dir: Option<PathBuf>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: String::new(),
            cors_origins: Vec::new(),
            trust_forwarded_for: false,
            web_dir: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VerificationMode {
    /// Accounts are verified at registration.
    Auto,
    /// A link is mailed; login waits until it is followed.
    Required,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccountsConfig {
    /// If not empty, only emails at these domains may register.
    pub signup_email_domains: Vec<String>,
    pub email_verification: VerificationMode,
    /// Lifetime of an access token (JWT), in seconds.
    pub access_token_ttl_secs: u64,
    /// Lifetime of a refresh token, in seconds; each use rotates it.
    pub refresh_token_ttl_secs: u64,
    /// For this many seconds after a rotation, the token it spent may be presented once more
    /// (its holder lost the answer: a page reloaded mid-refresh) without revoking the session.
    pub refresh_grace_secs: u64,
    /// HMAC secret for access tokens. Empty: a random one is created once and kept in the data dir.
    pub jwt_secret: String,
}

impl Default for AccountsConfig {
    fn default() -> Self {
        Self {
            signup_email_domains: Vec::new(),
            email_verification: VerificationMode::Auto,
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            refresh_grace_secs: 30,
            jwt_secret: String::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThrottleConfig {
    /// Length of a rate-limit window, in seconds.
    pub window_secs: u64,
    /// Failed logins per account in one window.
    pub login_failures_per_account: u32,
    /// Login attempts per client address in one window.
    pub logins_per_ip: u32,
    /// Password-reset and verification mails per account in one window.
    pub mails_per_account: u32,
    /// Password-reset and verification requests per client address in one window.
    pub mail_requests_per_ip: u32,
}

impl ThrottleConfig {
    /// How long a window's counter must be kept after the window starts: two windows, longer
    /// than any check reads back. The embedded store's expiry sweep deletes it after this; the
    /// DynamoDB store's TTL keeps it at least a day.
    pub fn retention(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.window_secs.saturating_mul(2))
    }
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self {
            window_secs: 15 * 60,
            login_failures_per_account: 10,
            logins_per_ip: 100,
            mails_per_account: 5,
            mail_requests_per_ip: 30,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    /// The From: address of outgoing mail.
    pub from: String,
    /// SMTP relay. Without it, mail goes to the log and to `<data_dir>/outbox`.
    pub smtp: Option<SmtpConfig>,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            from: "Showrunner <no-reply@showrunner.invalid>".into(),
            smtp: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    #[serde(default = "SmtpConfig::default_port")]
    pub port: u16,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
    /// `none` (plain, for a relay on loopback), `starttls` or `tls`.
    #[serde(default)]
    pub security: SmtpSecurity,
}

impl SmtpConfig {
    fn default_port() -> u16 {
        587
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    None,
    #[default]
    Starttls,
    Tls,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ChannelType {
    Basic,
    Standard,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MediaConfig {
    /// IVS channel type for new channels.
    pub channel_type: ChannelType,
    pub multitrack: MultitrackConfig,
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self {
            channel_type: ChannelType::Standard,
            multitrack: MultitrackConfig::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MultitrackConfig {
    pub enabled: bool,
    /// `SD`, `HD` or `FULL_HD`.
    pub maximum_resolution: String,
    /// `ALLOW` or `REQUIRE`.
    pub policy: String,
}

impl Default for MultitrackConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            maximum_resolution: "FULL_HD".into(),
            policy: "ALLOW".into(),
        }
    }
}

/// Partner credentials for PA-API 5 and the marketplace to search. Each marketplace has its own
/// host and signing region (Amazon's "Locale Reference"); the defaults are the US store's.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CatalogConfig {
    pub access_key: String,
    /// Masked by `showrunner config`, never logged.
    pub secret_key: String,
    /// The Associates tracking id (`name-20`) that product links carry.
    pub partner_tag: String,
    /// `webservices.amazon.<tld>`.
    pub host: String,
    /// The SigV4 signing region of `host`, e.g. `us-east-1` or `eu-west-1`.
    pub region: String,
    /// `www.amazon.<tld>`.
    pub marketplace: String,
    /// Where requests go instead of `https://<host>` (a proxy, or a local fake in tests), as a
    /// base URL like `http://127.0.0.1:4000`. Empty: `https://<host>`.
    pub endpoint: String,
}

impl Default for CatalogConfig {
    fn default() -> Self {
        let paapi = PaApiConfig::default();
        Self {
            access_key: paapi.access_key,
            secret_key: paapi.secret_key,
            partner_tag: paapi.partner_tag,
            host: paapi.host,
            region: paapi.region,
            marketplace: paapi.marketplace,
            endpoint: String::new(),
        }
    }
}

impl CatalogConfig {
    /// The settings of the PA-API adapter (all but `endpoint`).
    pub fn paapi(&self) -> PaApiConfig {
        PaApiConfig {
            access_key: self.access_key.clone(),
            secret_key: self.secret_key.clone(),
            partner_tag: self.partner_tag.clone(),
            host: self.host.clone(),
            region: self.region.clone(),
            marketplace: self.marketplace.clone(),
        }
    }
}

/// Keeps the secret key out of logs.
impl std::fmt::Debug for CatalogConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CatalogConfig")
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .field("partner_tag", &self.partner_tag)
            .field("host", &self.host)
            .field("region", &self.region)
            .field("marketplace", &self.marketplace)
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

/// AWS settings for `backend = "aws"`. Credentials and endpoints are not configured here: they
/// come from the SDK's default chain (environment, profile, instance or task role), and endpoints
/// can be overridden the standard way (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_DYNAMODB`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AwsConfig {
    /// The AWS region. Empty: the SDK's default chain (`AWS_REGION`, the profile, ...).
    pub region: String,
    /// The DynamoDB table that holds everything the store keeps (`showrunner aws init` creates
    /// it).
    pub dynamodb_table: String,
    /// Tagged `project=<this>` on every IVS channel, chat room and stage Showrunner creates;
    /// the idle-stage sweep only touches stages with this tag.
    pub project: String,
    /// `builtin`: chat over the Showrunner websocket. `ivs`: an IVS Chat room per channel,
    /// clients connect to it with tokens this server vends.
    pub chat: ChatTransport,
    /// The S3 bucket for avatars and banners. Empty: they stay in the data dir, served by
    /// this process.
    pub s3_bucket: String,
    /// Prepended to every object key, e.g. `assets/`.
    pub s3_prefix: String,
    /// The public URL of the bucket's root (e.g. a CloudFront distribution,
    /// `https://d111111abcdef8.cloudfront.net`). Empty: the bucket's own S3 URL.
    pub assets_base_url: String,
    /// Address the bucket by path (`<endpoint>/<bucket>/<key>`) rather than by host name; for
    /// S3-compatible stores and emulators.
    pub s3_path_style: bool,
    /// Stages of this project with no session for this many minutes are deleted by a sweep
    /// every ten minutes (stages a stage actor still holds are kept). 0: no sweep.
    pub stage_sweep_idle_minutes: u64,
    /// Every this many seconds, the broadcasts on the air (IVS `ListStreams`) are compared with
    /// the channels held live, and what disagrees on two checks in a row is repaired, as the
    /// lost "Stream End" or "Stream Start" would have (`streams::live_check`). 0: no check. At
    /// least 10 otherwise.
    pub live_check_secs: u64,
}

impl Default for AwsConfig {
    fn default() -> Self {
        Self {
            region: String::new(),
            dynamodb_table: "showrunner".into(),
            project: "showrunner".into(),
            chat: ChatTransport::Builtin,
            s3_bucket: String::new(),
            s3_prefix: String::new(),
            assets_base_url: String::new(),
            s3_path_style: false,
            stage_sweep_idle_minutes: 60,
            live_check_secs: 60,
        }
    }
}

impl AwsConfig {
    /// The tags Showrunner puts on what it creates in AWS.
    pub fn tags(&self) -> std::collections::BTreeMap<String, String> {
        std::collections::BTreeMap::from([("project".to_owned(), self.project.clone())])
    }
}

/// Who carries chat messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatTransport {
    Builtin,
    Ivs,
}

/// Stream health.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StreamsConfig {
    /// The shared secret EventBridge presents in the `x-stream-events-secret` header when it
    /// delivers IVS events (and the stream simulator too). Empty: the stream-event endpoints are
    /// off (503). Masked by `showrunner config`, never logged.
    pub events_secret: String,
    /// Where session metrics come from: `local` (what the stream simulator records) or
    /// `cloudwatch` (IVS's own metrics; AWS credentials and region from the SDK's chain and
    /// `aws.region`).
    pub metrics: MetricsSource,
}

impl Default for StreamsConfig {
    fn default() -> Self {
        Self {
            events_secret: String::new(),
            metrics: MetricsSource::Local,
        }
    }
}

/// Keeps the secret out of logs.
impl std::fmt::Debug for StreamsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamsConfig")
            .field("events_secret", &"<redacted>")
            .field("metrics", &self.metrics)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricsSource {
    Local,
    Cloudwatch,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: LogFormat,
    /// A tracing filter, e.g. `info,showrunner=debug`. `RUST_LOG` wins when set.
    pub filter: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            filter: "info".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// A configuration that cannot be used, with the key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(#[from] Box<figment::Error>),
    #[error("configuration key `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
}

impl Config {
    /// Reads the layers. `overrides` are the command-line flags, already in config shape.
    pub fn load(
        file: Option<&std::path::Path>,
        overrides: impl Serialize,
    ) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::Invalid {
                    key: "--config",
                    message: format!("file {} does not exist", path.display()),
                });
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        let config: Config = figment
            .merge(Env::prefixed("SHOWRUNNER__").split("__"))
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(Box::new)?;
        config.validate()?;
        Ok(config)
    }

    /// Rules serde cannot express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, message: String| Err(ConfigError::Invalid { key, message });
        if !self.http.public_url.is_empty() {
            let url = self.http.public_url.as_str();
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return invalid(
                    "http.public_url",
                    format!("`{url}` must start with http:// or https://"),
                );
            }
        }
        for origin in &self.http.cors_origins {
            if !(origin.starts_with("http://") || origin.starts_with("https://"))
                || origin.trim_end_matches('/').matches('/').count() != 2
            {
                return invalid(
                    "http.cors_origins",
                    format!("`{origin}` is not an origin like https://example.com"),
                );
            }
        }
        for domain in &self.accounts.signup_email_domains {
            if domain.is_empty() || domain.contains('@') || !domain.contains('.') {
                return invalid(
                    "accounts.signup_email_domains",
                    format!("`{domain}` is not a domain like example.com"),
                );
            }
        }
        if self.accounts.access_token_ttl_secs < 30 {
            return invalid(
                "accounts.access_token_ttl_secs",
                "must be at least 30".into(),
            );
        }
        if self.accounts.refresh_token_ttl_secs < self.accounts.access_token_ttl_secs {
            return invalid(
                "accounts.refresh_token_ttl_secs",
                "must be at least accounts.access_token_ttl_secs".into(),
            );
        }
        if self.accounts.refresh_grace_secs > 300 {
            return invalid(
                "accounts.refresh_grace_secs",
                "must be at most 300: a spent token accepted for longer is a replay risk".into(),
            );
        }
        if !self.accounts.jwt_secret.is_empty() && self.accounts.jwt_secret.len() < 32 {
            return invalid(
                "accounts.jwt_secret",
                "must be at least 32 bytes long".into(),
            );
        }
        if self.realtime.chat_history == 0 || self.realtime.chat_history > 10_000 {
            return invalid("realtime.chat_history", "must be 1–10000".into());
        }
        if self.realtime.chat_tick_ms > 1000 {
            return invalid("realtime.chat_tick_ms", "must be at most 1000".into());
        }
        if self.realtime.sweep_threads > 256 {
            return invalid("realtime.sweep_threads", "must be at most 256".into());
        }
        if self.realtime.outbox_capacity < 16 {
            return invalid("realtime.outbox_capacity", "must be at least 16".into());
        }
        if (1..10).contains(&self.aws.live_check_secs) {
            return invalid(
                "aws.live_check_secs",
                "must be 0 (no check) or at least 10: every check lists what IVS has on the air"
                    .into(),
            );
        }
        if self.throttle.window_secs == 0 {
            return invalid("throttle.window_secs", "must be positive".into());
        }
        if !["SD", "HD", "FULL_HD"].contains(&self.media.multitrack.maximum_resolution.as_str()) {
            return invalid(
                "media.multitrack.maximum_resolution",
                "must be SD, HD or FULL_HD".into(),
            );
        }
        if !["ALLOW", "REQUIRE"].contains(&self.media.multitrack.policy.as_str()) {
            return invalid("media.multitrack.policy", "must be ALLOW or REQUIRE".into());
        }
        if let Some(smtp) = &self.mail.smtp
            && smtp.host.is_empty()
        {
            return invalid("mail.smtp.host", "must not be empty".into());
        }
        if let Some(catalog) = &self.catalog {
            for (key, value) in [
                ("catalog.access_key", &catalog.access_key),
                ("catalog.secret_key", &catalog.secret_key),
                ("catalog.partner_tag", &catalog.partner_tag),
                ("catalog.host", &catalog.host),
                ("catalog.region", &catalog.region),
                ("catalog.marketplace", &catalog.marketplace),
            ] {
                if value.trim().is_empty() {
                    return invalid(key, "must not be empty when [catalog] is set".into());
                }
            }
            let endpoint = catalog.endpoint.as_str();
            if !endpoint.is_empty()
                && !url::Url::parse(endpoint)
                    .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
            {
                return invalid(
                    "catalog.endpoint",
                    format!("`{endpoint}` is not a base URL like https://example.com"),
                );
            }
        }
        let table = self.aws.dynamodb_table.as_str();
        if !(3..=255).contains(&table.len())
            || !table
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            return invalid(
                "aws.dynamodb_table",
                format!("`{table}` is not a DynamoDB table name (3–255 of A-Z a-z 0-9 _ - .)"),
            );
        }
        let project = self.aws.project.as_str();
        if project.is_empty()
            || project.len() > 128
            || !project
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '/'))
        {
            return invalid(
                "aws.project",
                format!("`{project}` is not a tag value (1–128 of A-Z a-z 0-9 _ - . : /)"),
            );
        }
        if self.aws.chat == ChatTransport::Ivs && self.backend != Backend::Aws {
            return invalid("aws.chat", "`ivs` needs backend = \"aws\"".into());
        }
        let bucket = self.aws.s3_bucket.as_str();
        if !bucket.is_empty()
            && (!(3..=63).contains(&bucket.len())
                || !bucket.chars().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.')
                }))
        {
            return invalid(
                "aws.s3_bucket",
                format!("`{bucket}` is not an S3 bucket name (3–63 of a-z 0-9 - .)"),
            );
        }
        if self.aws.s3_prefix.starts_with('/') {
            return invalid("aws.s3_prefix", "must not start with /".into());
        }
        let base = self.aws.assets_base_url.as_str();
        if !base.is_empty()
            && !url::Url::parse(base)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
        {
            return invalid(
                "aws.assets_base_url",
                format!("`{base}` is not a base URL like https://d111111abcdef8.cloudfront.net"),
            );
        }
        if !self.streams.events_secret.is_empty() && self.streams.events_secret.len() < 16 {
            return invalid(
                "streams.events_secret",
                "must be at least 16 bytes long (or empty to turn stream events off)".into(),
            );
        }
        if self.mail.from.parse::<lettre::message::Mailbox>().is_err() {
            return invalid(
                "mail.from",
                format!("`{}` is not a mailbox", self.mail.from),
            );
        }
        Ok(())
    }

    /// The public base URL without a trailing slash.
    pub fn public_url(&self) -> String {
        if self.http.public_url.is_empty() {
            format!("http://{}", self.http.listen)
        } else {
            self.http.public_url.trim_end_matches('/').to_owned()
        }
    }
}

#[cfg(test)]
// figment's Jail API fixes the closure's error type; its size is not ours to choose.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct NoOverrides {}

    #[test]
    fn default_is_embedded_local_mode_on_loopback() {
        let c = Config::default();
        assert_eq!(c.backend, Backend::Local);
        assert_eq!(c.http.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.public_url(), "http://127.0.0.1:8080");
        c.validate().unwrap();
    }

    #[test]
    fn layers_apply_file_then_env() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "sr.toml",
                "data_dir = \"/tmp/x\"\n[accounts]\nemail_verification = \"required\"\n[http]\nlisten = \"127.0.0.1:9000\"\n",
            )?;
            jail.set_env("SHOWRUNNER__HTTP__LISTEN", "127.0.0.1:9100");
            let c = Config::load(Some("sr.toml".as_ref()), NoOverrides {}).unwrap();
            assert_eq!(c.data_dir, PathBuf::from("/tmp/x"));
            assert_eq!(c.accounts.email_verification, VerificationMode::Required);
            assert_eq!(c.http.listen.port(), 9100);
            Ok(())
        });
    }

    #[test]
    fn a_bad_value_names_its_key() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("SHOWRUNNER__ACCOUNTS__EMAIL_VERIFICATION", "sometimes");
            let err = Config::load(None, NoOverrides {}).unwrap_err().to_string();
            assert!(
                err.to_lowercase().contains("accounts.email_verification"),
                "{err}"
            );
            Ok(())
        });
        figment::Jail::expect_with(|jail| {
            jail.set_env("SHOWRUNNER__HTTP__PUBLIC_URL", "example.com");
            let err = Config::load(None, NoOverrides {}).unwrap_err().to_string();
            assert!(err.contains("http.public_url"), "{err}");
            Ok(())
        });
        figment::Jail::expect_with(|jail| {
            jail.set_env("SHOWRUNNER__REALTIME__SWEEP_THREADS", "1000");
            let err = Config::load(None, NoOverrides {}).unwrap_err().to_string();
            assert!(err.contains("realtime.sweep_threads"), "{err}");
            jail.set_env("SHOWRUNNER__REALTIME__SWEEP_THREADS", "1");
            let c = Config::load(None, NoOverrides {}).unwrap();
            assert_eq!(c.realtime.sweep_threads, 1);
            Ok(())
        });
        figment::Jail::expect_with(|jail| {
            jail.set_env("SHOWRUNNER__ACCOUNTS__REFRESH_GRACE_SECS", "301");
            let err = Config::load(None, NoOverrides {}).unwrap_err().to_string();
            assert!(err.contains("accounts.refresh_grace_secs"), "{err}");
            jail.set_env("SHOWRUNNER__ACCOUNTS__REFRESH_GRACE_SECS", "0");
            let c = Config::load(None, NoOverrides {}).unwrap();
            assert_eq!(c.accounts.refresh_grace_secs, 0);
            Ok(())
        });
    }

    #[test]
    fn a_catalog_needs_its_credentials_and_a_usable_endpoint() {
        let mut c = Config {
            catalog: Some(CatalogConfig {
                access_key: "AK".into(),
                secret_key: "SK".into(),
                partner_tag: "tag-20".into(),
                ..CatalogConfig::default()
            }),
            ..Config::default()
        };
        c.validate().unwrap();
        assert!(!format!("{c:?}").contains("\"SK\""));
        c.catalog.as_mut().unwrap().endpoint = "127.0.0.1:4000".into();
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains("catalog.endpoint"), "{err}");
        c.catalog.as_mut().unwrap().endpoint = "http://127.0.0.1:4000".into();
        c.catalog.as_mut().unwrap().partner_tag = " ".into();
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains("catalog.partner_tag"), "{err}");
    }

    #[test]
    fn the_dynamodb_table_name_is_checked() {
        let mut c = Config::default();
        assert_eq!(c.aws.dynamodb_table, "showrunner");
        c.aws.dynamodb_table = "prod.showrunner-1".into();
        c.validate().unwrap();
        c.aws.dynamodb_table = "my table".into();
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains("aws.dynamodb_table"), "{err}");
    }

    #[test]
    fn aws_settings_are_checked_and_name_their_key() {
        let mut c = Config::default();
        assert_eq!(c.aws.chat, ChatTransport::Builtin);
        assert_eq!(c.aws.tags()["project"], "showrunner");
        c.aws.chat = ChatTransport::Ivs;
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains("aws.chat"), "{err}");
        c.backend = Backend::Aws;
        c.validate().unwrap();
        for (key, bad) in [
            ("aws.s3_bucket", "My_Bucket"),
            ("aws.s3_prefix", "/assets/"),
            ("aws.assets_base_url", "cdn.example.com"),
            ("aws.project", "a project"),
            ("aws.live_check_secs", "5"),
        ] {
            let mut c = c.clone();
            match key {
                "aws.s3_bucket" => c.aws.s3_bucket = bad.into(),
                "aws.s3_prefix" => c.aws.s3_prefix = bad.into(),
                "aws.assets_base_url" => c.aws.assets_base_url = bad.into(),
                "aws.live_check_secs" => c.aws.live_check_secs = bad.parse().unwrap(),
                _ => c.aws.project = bad.into(),
            }
            let err = c.validate().unwrap_err().to_string();
            assert!(err.contains(key), "{err}");
        }
        for off_or_enough in [0, 10] {
            c.aws.live_check_secs = off_or_enough;
            c.validate().unwrap();
        }
    }

    #[test]
    fn an_unknown_key_is_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("sr.toml", "[http]\nlisten_on = \"1.2.3.4:1\"\n")?;
            let err = Config::load(Some("sr.toml".as_ref()), NoOverrides {})
                .unwrap_err()
                .to_string();
            assert!(err.contains("listen_on"), "{err}");
            Ok(())
        });
    }
}
