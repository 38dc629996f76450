//! `backend = "aws"` end to end: the real binary, `showrunner aws init` and then
//! `showrunner serve`, with the AWS SDK pointed at moto by `AWS_ENDPOINT_URL` (the store on
//! DynamoDB; the other ports are still local). The flows are those of local mode, and what they
//! stored is still there for a second server process on the same table.

use std::{path::Path, process::Stdio, time::Duration};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::{
    helpers::{PASSWORD, User},
    moto::{self, Moto},
    ws::WsClient,
};

/// Debug builds, a busy 2-core machine, a Python emulator.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// `showrunner <args>` against moto's DynamoDB, configured by the environment alone.
pub(crate) fn showrunner(moto: &Moto, table: &str, data_dir: &Path) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_showrunner"));
    // Only what is set here configures it, whatever the environment of the test run says.
    for (key, _) in std::env::vars_os() {
        let key_text = key.to_string_lossy();
        if key_text.starts_with("SHOWRUNNER") || key_text.starts_with("AWS_") {
            command.env_remove(key);
        }
    }
    command
        .envs(moto.env())
        .env("SHOWRUNNER__BACKEND", "aws")
        .env("SHOWRUNNER__AWS__DYNAMODB_TABLE", table)
        .arg("--data-dir")
        .arg(data_dir)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

/// A `showrunner serve` child on a port of its choosing. Killed when dropped.
pub(crate) struct AwsServer {
    pub(crate) base: String,
    pub(crate) client: reqwest::Client,
    child: tokio::process::Child,
}

impl AwsServer {
    async fn start(moto: &Moto, table: &str, data_dir: &Path) -> Self {
        Self::spawn(showrunner(moto, table, data_dir)).await
    }

    /// Serves with `command` (from [`showrunner`], maybe with more environment).
    pub(crate) async fn spawn(mut command: tokio::process::Command) -> Self {
        command
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped());
        if std::env::var_os("TEST_LOG").is_none() {
            command.stderr(Stdio::null());
        }
        let mut child = command.spawn().expect("the showrunner binary starts");
        // Logs go to stdout too, so it is read to the end, and the address taken from the line
        // `main` prints once it serves.
        let mut lines = BufReader::new(child.stdout.take().expect("its stdout")).lines();
        let (found, serving) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let mut found = Some(found);
            while let Ok(Some(line)) = lines.next_line().await {
                if std::env::var_os("TEST_LOG").is_some() {
                    eprintln!("showrunner: {line}");
                }
                if let Some(base) = line.strip_prefix("Showrunner is serving on ")
                    && let Some(found) = found.take()
                {
                    let _ = found.send(base.trim().to_owned());
                }
            }
        });
        let base = match tokio::time::timeout(START_TIMEOUT, serving).await {
            Ok(Ok(base)) => base,
            _ => {
                let status = child.try_wait().expect("child status");
                panic!(
                    "showrunner did not serve in AWS mode (exit: {status:?}; TEST_LOG=1 shows why)"
                )
            }
        };
        Self {
            base,
            client: reqwest::Client::new(),
            child,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    async fn login(&self, login: &str) -> User {
        let response = self
            .client
            .post(self.url("/api/auth/login"))
            .json(&json!({"login": login, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "login of {login}");
        let session: Value = response.json().await.unwrap();
        User {
            token: session["access_token"].as_str().unwrap().into(),
            refresh: session["refresh_token"].as_str().unwrap().into(),
        }
    }

    pub(crate) async fn register(&self, username: &str) -> User {
        let response = self
            .client
            .post(self.url("/api/auth/register"))
            .json(&json!({
                "username": username,
                "email": format!("{}@example.com", username.to_lowercase()),
                "password": PASSWORD,
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "{}",
            response.text().await.unwrap()
        );
        self.login(username).await
    }

    /// SIGKILL: whatever was acknowledged must already be in DynamoDB.
    async fn kill(mut self) {
        self.child.kill().await.expect("the child can be killed");
    }
}

#[tokio::test]
async fn aws_init_creates_the_table_once_and_can_be_run_again() {
    let moto = Moto::shared();
    let table = moto::table_name();
    let data = tempfile::tempdir().unwrap();

    let mut outputs = Vec::new();
    for _ in 0..2 {
        let output = showrunner(moto, &table, data.path())
            .args(["aws", "init"])
            .output()
            .await
            .unwrap();
        assert!(
            output.status.success(),
            "aws init failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        outputs.push(String::from_utf8(output.stdout).unwrap());
    }

    assert!(
        outputs[0].contains(&table) && outputs[0].contains("created"),
        "{}",
        outputs[0]
    );
    assert!(outputs[1].contains("already there"), "{}", outputs[1]);
}

#[tokio::test]
async fn serve_refuses_to_start_without_its_table() {
    let moto = Moto::shared();
    let data = tempfile::tempdir().unwrap();

    let output = showrunner(moto, &moto::table_name(), data.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .await
        .unwrap();

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("showrunner aws init"), "{stderr}");
}

#[tokio::test]
async fn the_server_in_aws_mode_serves_accounts_follows_chat_and_polls_from_dynamodb() {
    // Arrange: a table made by `aws init`, and a server on it.
    let moto = Moto::shared();
    let table = moto::table_name();
    let data = tempfile::tempdir().unwrap();
    let init = showrunner(moto, &table, data.path())
        .args(["aws", "init"])
        .output()
        .await
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let server = AwsServer::start(moto, &table, data.path()).await;

    // Accounts: registration with case-insensitive unique names, login by email, rotation.
    let streamer = server.register("AwsStreamer").await;
    let fan = server.register("awsfan").await;
    let clash = server
        .client
        .post(server.url("/api/auth/register"))
        .json(
            &json!({"username": "AWSSTREAMER", "email": "other@example.com", "password": PASSWORD}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(clash.status(), StatusCode::CONFLICT);
    server.login("awsfan@example.com").await;
    let refreshed = server
        .client
        .post(server.url("/api/auth/refresh"))
        .json(&json!({"refresh_token": fan.refresh}))
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), StatusCode::OK);

    // Follows.
    let r = server
        .send(
            Method::PUT,
            "/api/me/following/awsstreamer",
            &fan.token,
            None,
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let following: Value = server
        .send(Method::GET, "/api/me/following", &fan.token, None)
        .await
        .json()
        .await
        .unwrap();
    assert!(following.to_string().contains("AwsStreamer"), "{following}");

    // Chat over websockets, seen by an anonymous viewer.
    let mut viewer = WsClient::connect_to(&server.base, None).await;
    let channel = viewer.subscribe("awsstreamer").await["channel"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut fan_ws = WsClient::connect_to(&server.base, Some(&fan.token)).await;
    fan_ws.subscribe("awsstreamer").await;
    let ack = fan_ws
        .request(json!({"type": "chat", "channel": channel, "text": "hello from DynamoDB"}))
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let lines = viewer.chat_lines(1).await;
    assert_eq!(lines[0]["text"], "hello from DynamoDB");

    // A poll, voted on over HTTP.
    let r = server
        .send(
            Method::POST,
            "/api/channels/awsstreamer/actions",
            &streamer.token,
            Some(json!({"type": "poll", "question": "Which cloud?", "options": ["Yes", "No"], "duration_secs": 60})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let poll: Value = r.json().await.unwrap();
    let poll_id = poll["id"].as_str().unwrap().to_owned();
    let path = format!("/api/channels/awsstreamer/polls/{poll_id}/votes");
    let vote = server
        .send(Method::POST, &path, &fan.token, Some(json!({"option": 1})))
        .await;
    assert!(vote.status().is_success(), "{}", vote.status());
    let again = server
        .send(Method::POST, &path, &fan.token, Some(json!({"option": 0})))
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);

    // Act: the process dies; another one starts on the same table.
    drop((viewer, fan_ws));
    server.kill().await;
    let server = AwsServer::start(moto, &table, data.path()).await;

    // Assert: sessions, follows, chat history and votes came back from DynamoDB.
    let following: Value = server
        .send(Method::GET, "/api/me/following", &fan.token, None)
        .await
        .json()
        .await
        .unwrap();
    assert!(following.to_string().contains("AwsStreamer"), "{following}");
    let mut viewer = WsClient::connect_to(&server.base, None).await;
    let snapshot = viewer.subscribe("awsstreamer").await;
    let texts: Vec<&str> = snapshot["chat"]["messages"]
        .as_array()
        .unwrap_or_else(|| panic!("{snapshot}"))
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["hello from DynamoDB"]);
    let again = server
        .send(Method::POST, &path, &fan.token, Some(json!({"option": 0})))
        .await;
    assert_eq!(
        again.status(),
        StatusCode::CONFLICT,
        "one vote per account, across restarts"
    );

    // And an account deleted in AWS mode is gone, name and all.
    let r = server
        .send(
            Method::DELETE,
            "/api/me",
            &fan.token,
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = server
        .client
        .post(server.url("/api/auth/login"))
        .json(&json!({"login": "awsfan", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    server.register("AWSFAN").await;
}
