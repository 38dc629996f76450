//! `spawn_app()`: a real server on a random loopback port with a fresh data dir, and a client
//! that talks to it over HTTP. Its store is the one the test binary names in `crate::STORE`:
//! SQLite (`tests/api/`) or DynamoDB on moto (`tests/api_dynamodb/`, the same flows again).

use std::{path::PathBuf, sync::Arc};

use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use showrunner::{
    aws::dynamodb::DynamoStore,
    config::{Config, MetricsSource},
    http::AppState,
    startup::App,
    streams::metrics::LocalMetrics,
};
use tokio::sync::oneshot;

pub const PASSWORD: &str = "Sup3r#Secret";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub data_dir: PathBuf,
    /// Keeps the data dir alive for the test; `None` when the caller owns the dir.
    _temp: Option<tempfile::TempDir>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

/// Logs only when `TEST_LOG` is set.
fn init_logs() {
    if std::env::var_os("TEST_LOG").is_some() {
        showrunner::telemetry::init(&Default::default());
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let temp = tempfile::tempdir().expect("temp dir");
    let mut app = spawn_app_in(temp.path().to_path_buf(), adjust).await;
    app._temp = Some(temp);
    app
}

/// Starts an app on an existing data dir (to test restarts).
pub async fn spawn_app_in(data_dir: PathBuf, adjust: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_with_backends(data_dir, adjust, |_| {}).await
}

/// The store an in-process server runs on, chosen per test binary by its `crate::STORE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(dead_code)] // each binary names one
pub enum TestStore {
    /// What `Backends::from_config` opens in local mode, in the data dir.
    Sqlite,
    /// DynamoDB on the process's moto server, a table per data dir (see [`dynamo_store`]).
    DynamoDb,
}

/// The DynamoDB store of the app on `data_dir`: a table of its own, made on first use by the
/// same code as `showrunner aws init`, and named in the data dir so that a restart on that dir
/// finds what the first server stored.
pub async fn dynamo_store(data_dir: &std::path::Path) -> Arc<DynamoStore> {
    let file = data_dir.join("dynamodb-table");
    let table = match std::fs::read_to_string(&file) {
        Ok(table) => table,
        Err(_) => {
            let table = crate::moto::table_name();
            std::fs::create_dir_all(data_dir).expect("data dir");
            std::fs::write(&file, &table).expect("table name written");
            table
        }
    };
    let store = DynamoStore::new(&crate::moto::Moto::shared().sdk_config().await, &table);
    store
        .create_table()
        .await
        .unwrap_or_else(|e| panic!("creating table {table} on moto: {e:#}"));
    Arc::new(store)
}

/// Starts an app whose adapters `backends` adjusts (to put an SDK test client in), on the store
/// of this test binary.
pub async fn spawn_app_with_backends(
    data_dir: PathBuf,
    adjust: impl FnOnce(&mut Config),
    backends: impl FnOnce(&mut showrunner::startup::Backends),
) -> TestApp {
    init_logs();
    let dynamo = match crate::STORE {
        TestStore::Sqlite => None,
        TestStore::DynamoDb => Some(dynamo_store(&data_dir).await),
    };
    let mut config = Config {
        data_dir: data_dir.clone(),
        ..Config::default()
    };
    config.http.listen = "127.0.0.1:0".parse().unwrap();
    adjust(&mut config);
    let local_metrics = config.streams.metrics == MetricsSource::Local;
    let app = App::build_with(config, |chosen| {
        if let Some(store) = dynamo {
            if local_metrics {
                chosen.metrics = Arc::new(LocalMetrics::new(store.clone()));
            }
            chosen.store = store;
        }
        backends(chosen)
    })
    .await
    .expect("app builds");
    let base = format!("http://{}", app.local_addr());
    let state = app.state().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        app.run_until_stopped(async {
            let _ = stopped.await;
        })
        .await
        .expect("server runs");
    });
    TestApp {
        base,
        client: reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap(),
        state,
        data_dir,
        _temp: None,
        stop: Some(stop),
        server: Some(server),
    }
}

/// Puts `store` behind every port that reads the store (the store itself, and the stream
/// metrics the simulator records there, as with `streams.metrics = "local"`).
pub fn use_store(backends: &mut showrunner::startup::Backends, store: Arc<DynamoStore>) {
    backends.metrics = Arc::new(LocalMetrics::new(store.clone()));
    backends.store = store;
}

/// A registered, logged-in user.
#[derive(Debug, Clone)]
pub struct User {
    pub token: String,
    pub refresh: String,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops the server and waits until it has.
    pub async fn stop(mut self) -> Option<tempfile::TempDir> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task ends");
        }
        self._temp.take()
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_as(&self, path: &str, token: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn send_as(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Response {
        let mut request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    pub async fn register_raw(&self, username: &str, email: &str, password: &str) -> Response {
        self.post(
            "/api/auth/register",
            json!({"username": username, "email": email, "password": password}),
        )
        .await
    }

    pub async fn login_raw(&self, login: &str, password: &str) -> Response {
        self.post(
            "/api/auth/login",
            json!({"login": login, "password": password}),
        )
        .await
    }

    /// Registers and logs in (auto verification mode).
    pub async fn user(&self, username: &str) -> User {
        user_at(&self.client, &self.base, username).await
    }

    /// Registers and logs in `{prefix}{i}` for `i` in `0..count`, [`USERS_AT_ONCE`] at a time
    /// (password hashing dominates; more at once only queues on the blocking pool). Mind the
    /// login throttle: raise `throttle.logins_per_ip` for more than 100.
    pub async fn users(&self, prefix: &str, count: usize) -> Vec<User> {
        users_at(&self.client, &self.base, prefix, count).await
    }

    pub async fn login_ok(&self, login: &str, password: &str) -> Value {
        let response = self.login_raw(login, password).await;
        assert_eq!(response.status(), StatusCode::OK, "login of {login}");
        response.json().await.unwrap()
    }

    /// The mails written to the outbox, oldest first.
    pub fn outbox(&self) -> Vec<String> {
        let dir = self.data_dir.join("outbox");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .map(|entries| entries.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "eml"));
        files.sort();
        files
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }
}

/// The token of the first `/<page>?token=` link in a mail.
pub fn link_token(mail: &str, page: &str) -> String {
    // Mail bodies may be quoted-printable, where `=` is written `=3D` and long lines break.
    let unfolded = mail
        .replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=");
    let marker = format!("/{page}?token=");
    let start = unfolded
        .find(&marker)
        .unwrap_or_else(|| panic!("no {marker} link in mail:\n{mail}"))
        + marker.len();
    unfolded[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// Asserts the API error shape and returns the body.
pub async fn assert_error(response: Response, status: StatusCode, code: &str) -> Value {
    let actual = response.status();
    let retry_after = response.headers().get("retry-after").cloned();
    let body: Value = response.json().await.expect("error body is JSON");
    assert_eq!(actual, status, "body: {body}");
    assert_eq!(body["error"]["code"], code, "body: {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    if status == StatusCode::TOO_MANY_REQUESTS {
        assert!(retry_after.is_some(), "429 without Retry-After");
    }
    body
}

/// The field names of a validation error.
pub fn error_fields(body: &Value) -> Vec<String> {
    body["error"]["fields"]
        .as_array()
        .map(|fields| {
            fields
                .iter()
                .map(|f| f["field"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// How many registrations [`TestApp::users`] runs at once.
pub const USERS_AT_ONCE: usize = 16;

/// Registers `username` at the server at `base` and logs in.
async fn user_at(client: &reqwest::Client, base: &str, username: &str) -> User {
    let email = format!("{}@example.com", username.to_lowercase());
    let response = client
        .post(format!("{base}/api/auth/register"))
        .json(&json!({"username": username, "email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "{}",
        response.text().await.unwrap()
    );
    let response = client
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"login": username, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "login of {username}");
    let session: Value = response.json().await.unwrap();
    User {
        token: session["access_token"].as_str().unwrap().into(),
        refresh: session["refresh_token"].as_str().unwrap().into(),
    }
}

async fn users_at(client: &reqwest::Client, base: &str, prefix: &str, count: usize) -> Vec<User> {
    use futures::StreamExt;
    futures::stream::iter((0..count).map(|i| {
        let name = format!("{prefix}{i}");
        async move { user_at(client, base, &name).await }
    }))
    .buffered(USERS_AT_ONCE)
    .collect()
    .await
}

/// The real `showrunner` binary serving a data dir on a free loopback port, for tests that
/// kill the process. Killed when dropped.
pub struct ServerProcess {
    pub base: String,
    pub client: reqwest::Client,
    child: tokio::process::Child,
}

impl ServerProcess {
    /// Starts `showrunner serve` on `data_dir` and waits until it answers `/healthz`.
    pub async fn start(data_dir: &std::path::Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_showrunner"));
        command
            .arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true);
        if std::env::var_os("TEST_LOG").is_none() {
            command.stderr(std::process::Stdio::null());
        }
        // Only the flags configure it, whatever the environment of the test run says.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("SHOWRUNNER") {
                command.env_remove(key);
            }
        }
        let mut child = command.spawn().expect("the showrunner binary starts");
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            if let Ok(r) = client.get(format!("{base}/healthz")).send().await
                && r.status() == StatusCode::OK
            {
                break;
            }
            if let Some(status) = child.try_wait().expect("child status") {
                panic!("showrunner exited before serving: {status}");
            }
            assert!(
                std::time::Instant::now() < deadline,
                "showrunner did not answer /healthz within 30 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        Self {
            base,
            client,
            child,
        }
    }

    /// SIGKILL: no shutdown, no flush; whatever was not durable is gone.
    pub async fn kill(mut self) {
        self.child.kill().await.expect("the child can be killed");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn user(&self, username: &str) -> User {
        user_at(&self.client, &self.base, username).await
    }

    pub async fn users(&self, prefix: &str, count: usize) -> Vec<User> {
        users_at(&self.client, &self.base, prefix, count).await
    }
}
