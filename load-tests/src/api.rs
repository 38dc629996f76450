//! The server's HTTP API, as far as the scenarios need it, and the seeding of accounts.
//!
//! Accounts are created through the API only: `POST /api/auth/register`, then
//! `POST /api/auth/login` for a token. Both hash a password with argon2id on the server (tens
//! of milliseconds of CPU each), so seeding is paced by the server's two cores; it runs a few
//! requests at a time (more only queue up in the server's blocking pool, each holding 19 MiB
//! of argon2 memory). Seeded accounts and their tokens are kept in a cache file, so a reused
//! data directory is seeded once.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use futures::{StreamExt, stream};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The password every seeded account gets (meets the server's password rules).
const PASSWORD: &str = "Load#Test1234";

#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

/// A signed-in account; its id is also its channel's id.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Account {
    pub username: String,
    pub id: String,
    pub token: String,
    /// Unix seconds when the token stops working.
    pub expires_unix: u64,
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

impl Api {
    /// A client of its own for the same server: its connections, and hyper's tasks that drive
    /// them, belong to the runtime that first uses it.
    pub fn fresh(&self) -> Self {
        Self::new(&self.base)
    }

    pub fn new(base: &str) -> Self {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .timeout(Duration::from_secs(60))
            .build()
            .expect("an HTTP client without TLS builds");
        Self {
            http,
            base: base.to_owned(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> anyhow::Result<(u16, Value)> {
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await?;
        let value = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&body)
                .unwrap_or(Value::String(String::from_utf8_lossy(&body).into_owned()))
        };
        Ok((status, value))
    }

    pub async fn post(
        &self,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let mut req = self.http.post(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        self.send(req).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> anyhow::Result<(u16, Value)> {
        let mut req = self.http.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.send(req).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> anyhow::Result<(u16, Value)> {
        let mut req = self.http.delete(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.send(req).await
    }

    /// Registers `username`; `false` when it was already taken (by an earlier run).
    pub async fn register(&self, username: &str) -> anyhow::Result<bool> {
        let body = json!({
            "username": username,
            "email": format!("{username}@load.test"),
            "password": PASSWORD,
        });
        let (status, value) = self.post("/api/auth/register", None, Some(body)).await?;
        match status {
            201 => Ok(true),
            409 => Ok(false),
            _ => bail!("register {username}: {status} {value}"),
        }
    }

    pub async fn login(&self, username: &str) -> anyhow::Result<Account> {
        let body = json!({ "login": username, "password": PASSWORD });
        let (status, value) = self.post("/api/auth/login", None, Some(body)).await?;
        if status != 200 {
            bail!("login {username}: {status} {value}");
        }
        let token = value["access_token"]
            .as_str()
            .context("login: no access_token")?
            .to_owned();
        let id = value["account"]["id"]
            .as_str()
            .context("login: no account id")?
            .to_owned();
        let ttl = value["expires_in"].as_u64().unwrap_or(900);
        Ok(Account {
            username: username.to_owned(),
            id,
            token,
            expires_unix: unix_now() + ttl,
        })
    }

    /// Starts a stream action as the channel owner; returns the action's id.
    pub async fn start_action(&self, owner: &Account, action: Value) -> anyhow::Result<String> {
        let path = format!("/api/channels/{}/actions", owner.username);
        let (status, value) = self.post(&path, Some(&owner.token), Some(action)).await?;
        if status != 201 {
            bail!("start action on {}: {status} {value}", owner.username);
        }
        Ok(value["id"].as_str().unwrap_or_default().to_owned())
    }

    pub async fn stop_action(&self, owner: &Account) -> anyhow::Result<u16> {
        let path = format!("/api/channels/{}/actions/current", owner.username);
        Ok(self.delete(&path, Some(&owner.token)).await?.0)
    }
}

/// Accounts seeded through the API, cached in a JSON file between runs.
pub struct Seeder {
    api: Api,
    cache: Option<PathBuf>,
    known: HashMap<String, Account>,
    /// Requests in flight while seeding.
    pub concurrency: usize,
}

/// How long seeding took, for the report.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct SeedStats {
    pub registered: usize,
    pub logged_in: usize,
    pub from_cache: usize,
    pub secs: f64,
}

impl Seeder {
    pub fn new(api: Api, cache: Option<PathBuf>) -> Self {
        let known = cache
            .as_deref()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|b| serde_json::from_slice::<Vec<Account>>(&b).ok())
            .unwrap_or_default()
            .into_iter()
            .map(|a| (a.username.clone(), a))
            .collect();
        Self {
            api,
            cache,
            known,
            concurrency: 4,
        }
    }

    pub fn cache_path(data_dir: Option<&Path>) -> Option<PathBuf> {
        data_dir.map(|d| d.join("load-tests-accounts.json"))
    }

    /// Signed-in accounts for `names`, registering and logging in whatever the cache lacks (or
    /// whose token expires within the hour).
    pub async fn accounts(
        &mut self,
        names: &[String],
        what: &str,
    ) -> anyhow::Result<(Vec<Account>, SeedStats)> {
        let started = Instant::now();
        let fresh_until = unix_now() + 3600;
        let missing: Vec<String> = names
            .iter()
            .filter(|n| {
                self.known
                    .get(*n)
                    .is_none_or(|a| a.expires_unix < fresh_until)
            })
            .cloned()
            .collect();
        let mut stats = SeedStats {
            from_cache: names.len() - missing.len(),
            ..SeedStats::default()
        };
        if !missing.is_empty() {
            let bar = crate::report::progress(missing.len() as u64, what);
            let api = Arc::new(self.api.clone());
            let results: Vec<anyhow::Result<(Account, bool)>> = stream::iter(missing)
                .map(|name| {
                    let api = api.clone();
                    let bar = bar.clone();
                    async move {
                        // Registering an existing name is refused before any hashing, so
                        // this costs one argon2 hash for new accounts and none for old ones.
                        let outcome = async {
                            let registered = api.register(&name).await?;
                            api.login(&name).await.map(|a| (a, registered))
                        }
                        .await;
                        bar.inc(1);
                        outcome
                    }
                })
                .buffer_unordered(self.concurrency)
                .collect()
                .await;
            bar.finish_and_clear();
            for r in results {
                let (account, registered) = r?;
                stats.logged_in += 1;
                stats.registered += usize::from(registered);
                self.known.insert(account.username.clone(), account);
            }
            self.save()?;
        }
        stats.secs = crate::report::r2(started.elapsed().as_secs_f64());
        let accounts = names
            .iter()
            .map(|n| self.known.get(n).cloned().context("seeded account"))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok((accounts, stats))
    }

    fn save(&self) -> anyhow::Result<()> {
        if let Some(p) = &self.cache {
            let all: Vec<&Account> = self.known.values().collect();
            std::fs::write(p, serde_json::to_vec(&all)?)?;
        }
        Ok(())
    }
}

/// `prefix` followed by 0..n, as valid usernames (4–20 characters).
pub fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}
