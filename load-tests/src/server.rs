//! The server under test: either one already running (`--server URL`, `--server-pid PID`) or one
//! this tool starts (`--spawn-server BIN`) on a fresh or given data directory, and the sampling
//! of its memory and CPU from `/proc/<pid>`.

use std::{
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use serde::Serialize;
use serde_json::{Value, json};

/// Raises this process's open-file limit to its hard limit (children inherit it). Returns the
/// new soft limit. One websocket is one file descriptor on each side.
pub fn raise_nofile_limit() -> u64 {
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 0;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                return raised.rlim_cur;
            }
        }
        lim.rlim_cur
    }
}

/// How the server is reached and observed.
pub struct Server {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub pid: Option<u32>,
    child: Option<Child>,
    /// Kept so a temporary data directory lives as long as the server.
    _temp: Option<tempfile::TempDir>,
    pub data_dir: Option<PathBuf>,
}

pub struct SpawnOptions<'a> {
    pub binary: &'a Path,
    /// Reused across runs when given (seeded accounts survive); a temporary one otherwise.
    pub data_dir: Option<&'a Path>,
    /// Extra `SHOWRUNNER__…` settings, as `KEY=VALUE`.
    pub env: &'a [String],
}

impl Server {
    pub fn external(base: &str, pid: Option<u32>) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            pid,
            child: None,
            _temp: None,
            data_dir: None,
        }
    }

    /// Starts the server binary on 127.0.0.1 with a free port and waits until it serves.
    ///
    /// The configuration a load test needs, on top of the defaults: login throttling per
    /// client address lifted (every voter logs in from loopback), access tokens valid for a
    /// day (seeded tokens are reused across runs), and logging at `warn`.
    pub fn spawn(options: SpawnOptions<'_>) -> anyhow::Result<Self> {
        let (temp, dir) = match options.data_dir {
            Some(d) => {
                std::fs::create_dir_all(d)?;
                (None, d.to_path_buf())
            }
            None => {
                let t = tempfile::Builder::new()
                    .prefix("showrunner-load-")
                    .tempdir()?;
                let p = t.path().to_path_buf();
                (Some(t), p)
            }
        };
        let log_path = dir.join("server.log");
        let mut cmd = Command::new(options.binary);
        cmd.arg("--data-dir")
            .arg(&dir)
            .arg("--listen")
            .arg("127.0.0.1:0")
            .env("SHOWRUNNER__THROTTLE__LOGINS_PER_IP", "100000000")
            .env("SHOWRUNNER__ACCOUNTS__ACCESS_TOKEN_TTL_SECS", "86400")
            .env("SHOWRUNNER__LOG__FILTER", "warn")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for kv in options.env {
            let (k, v) = kv
                .split_once('=')
                .with_context(|| format!("--server-env {kv}: expected KEY=VALUE"))?;
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {}", options.binary.display()))?;
        let pid = child.id();
        let log = Arc::new(Mutex::new(std::fs::File::create(&log_path)?));
        if let Some(stderr) = child.stderr.take() {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    let _ = writeln!(log.lock().unwrap_or_else(|p| p.into_inner()), "{line}");
                }
            });
        }
        let stdout = child.stdout.take().context("server stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("Showrunner is serving on ")
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(url.trim().to_owned());
                }
                let _ = writeln!(log.lock().unwrap_or_else(|p| p.into_inner()), "{line}");
            }
        });
        let base = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                bail!("the server did not start within 60 s; its log:\n{log}");
            }
        };
        Ok(Self {
            base,
            pid: Some(pid),
            child: Some(child),
            _temp: temp,
            data_dir: Some(dir),
        })
    }

    pub fn ws_url(&self) -> String {
        format!("{}/ws", self.base.replacen("http://", "ws://", 1))
    }

    pub fn socket_addr(&self) -> anyhow::Result<std::net::SocketAddr> {
        let host = self
            .base
            .strip_prefix("http://")
            .context("only http:// servers")?;
        host.parse()
            .with_context(|| format!("{host}: need an IP:PORT address (loopback)"))
    }

    /// One sample of the server process, if its pid is known.
    pub fn sample(&self) -> Option<ProcSample> {
        self.pid.and_then(ProcSample::read)
    }

    /// Stops a spawned server: SIGTERM, then SIGKILL after 15 s.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // SAFETY: signalling our own child by its pid.
        unsafe {
            libc::kill(child.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Memory and CPU time of a process, from `/proc/<pid>/status` and `/proc/<pid>/stat`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ProcSample {
    pub rss_kb: u64,
    /// User + system CPU time so far, in seconds.
    pub cpu_secs: f64,
    pub threads: u64,
    #[serde(skip)]
    pub at: Instant,
}

impl ProcSample {
    pub fn read(pid: u32) -> Option<Self> {
        Self::read_path(&format!("/proc/{pid}"))
    }

    pub fn own() -> Option<Self> {
        Self::read_path("/proc/self")
    }

    fn read_path(dir: &str) -> Option<Self> {
        let status = std::fs::read_to_string(format!("{dir}/status")).ok()?;
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        };
        let stat = std::fs::read_to_string(format!("{dir}/stat")).ok()?;
        // Fields after the command name, which is in parentheses and may hold spaces.
        let after = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<&str> = after.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the name.
        let ticks: u64 =
            fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        // SAFETY: sysconf reads a constant.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        Some(Self {
            rss_kb: field("VmRSS:")?,
            cpu_secs: ticks as f64 / hz,
            threads: field("Threads:").unwrap_or(0),
            at: Instant::now(),
        })
    }

    /// CPU use between two samples, in percent of one core.
    pub fn cpu_pct_since(&self, earlier: &ProcSample) -> f64 {
        let wall = self.at.duration_since(earlier.at).as_secs_f64();
        if wall <= 0.0 {
            return 0.0;
        }
        (self.cpu_secs - earlier.cpu_secs) / wall * 100.0
    }
}

/// Samples the server (and this client) every `every` in the background, for the JSON report.
pub struct Sampler {
    samples: Arc<Mutex<Vec<Value>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Sampler {
    pub fn start(pid: Option<u32>, every: Duration) -> Self {
        let samples = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let handle = {
            let samples = samples.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let start = Instant::now();
                let mut prev_server = pid.and_then(ProcSample::read);
                let mut prev_client = ProcSample::own();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    std::thread::sleep(every);
                    let server = pid.and_then(ProcSample::read);
                    let client = ProcSample::own();
                    let pct =
                        |now: &Option<ProcSample>, prev: &Option<ProcSample>| match (now, prev) {
                            (Some(n), Some(p)) => Some(crate::report::r2(n.cpu_pct_since(p))),
                            _ => None,
                        };
                    let row = json!({
                        "t_s": crate::report::r2(start.elapsed().as_secs_f64()),
                        "server_rss_kb": server.map(|s| s.rss_kb),
                        "server_cpu_pct": pct(&server, &prev_server),
                        "client_rss_kb": client.map(|s| s.rss_kb),
                        "client_cpu_pct": pct(&client, &prev_client),
                    });
                    samples.lock().unwrap_or_else(|p| p.into_inner()).push(row);
                    prev_server = server;
                    prev_client = client;
                }
            })
        };
        Self {
            samples,
            stop,
            handle: Some(handle),
        }
    }

    pub fn finish(mut self) -> Vec<Value> {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        std::mem::take(&mut *self.samples.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// CPU time the whole machine has spent busy (all cores, all processes), in seconds, from
/// the first line of `/proc/stat`.
pub fn machine_busy_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal …
    let busy: u64 = v.iter().take(8).sum::<u64>() - v.get(3)? - v.get(4)?;
    // SAFETY: sysconf reads a constant.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Some(busy as f64 / hz)
}

/// Waits until other processes leave the machine quiet (below `max_pct` of one core over a
/// 2 s window), for at most `timeout`. Returns the last busy percentage seen.
pub fn wait_quiet(max_pct: f64, timeout: Duration) -> f64 {
    let deadline = Instant::now() + timeout;
    loop {
        let (Some(a), t0) = (machine_busy_secs(), Instant::now()) else {
            return 0.0;
        };
        std::thread::sleep(Duration::from_secs(2));
        let b = machine_busy_secs().unwrap_or(a);
        let pct = (b - a) / t0.elapsed().as_secs_f64() * 100.0;
        if pct <= max_pct || Instant::now() > deadline {
            return pct;
        }
        eprintln!("waiting for a quiet machine: other processes use {pct:.0} % of a core");
    }
}

/// Measures CPU use of the server, of this client and of everything else across a phase.
pub struct CpuWindow {
    server: Option<ProcSample>,
    client: Option<ProcSample>,
    machine: Option<(f64, Instant)>,
}

impl CpuWindow {
    pub fn start(server: &Server) -> Self {
        Self {
            server: server.sample(),
            client: ProcSample::own(),
            machine: machine_busy_secs().map(|b| (b, Instant::now())),
        }
    }

    /// CPU used by other processes (builds, browsers) during the window, in % of one core.
    pub fn others_pct(&self, server: &Server) -> Option<f64> {
        let (before, at) = self.machine?;
        let wall = at.elapsed().as_secs_f64();
        let machine = (machine_busy_secs()? - before) / wall * 100.0;
        let (s, c) = self.finish(server);
        Some(crate::report::r2(
            (machine - s.unwrap_or(0.0) - c.unwrap_or(0.0)).max(0.0),
        ))
    }

    /// (server %, client %) of one core since `start`.
    pub fn finish(&self, server: &Server) -> (Option<f64>, Option<f64>) {
        let s = match (server.sample(), &self.server) {
            (Some(now), Some(then)) => Some(crate::report::r2(now.cpu_pct_since(then))),
            _ => None,
        };
        let c = match (ProcSample::own(), &self.client) {
            (Some(now), Some(then)) => Some(crate::report::r2(now.cpu_pct_since(then))),
            _ => None,
        };
        (s, c)
    }
}
