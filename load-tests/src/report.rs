//! What a scenario measured: latency summaries, checks, a human summary and a JSON file.

use std::{
    io::IsTerminal,
    path::{Path, PathBuf},
    time::Duration,
};

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use serde_json::{Value, json};

/// Percentiles of a set of latencies, in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Latency {
    pub count: usize,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

impl Latency {
    /// From latencies in microseconds (sorted in place).
    pub fn from_us(samples: &mut [u32]) -> Self {
        if samples.is_empty() {
            return Self::default();
        }
        samples.sort_unstable();
        let at = |q: f64| {
            let i = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1;
            f64::from(samples[i]) / 1000.0
        };
        let sum: u64 = samples.iter().map(|&s| u64::from(s)).sum();
        Self {
            count: samples.len(),
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            max: f64::from(samples[samples.len() - 1]) / 1000.0,
            mean: sum as f64 / samples.len() as f64 / 1000.0,
        }
    }

    /// The same numbers as multiples of the raw-socket floor.
    pub fn over_floor(&self, floor_ms: f64) -> Value {
        let x = |v: f64| (v / floor_ms * 100.0).round() / 100.0;
        json!({ "floor_ms": floor_ms, "p50": x(self.p50), "p90": x(self.p90), "p99": x(self.p99), "max": x(self.max) })
    }

    pub fn line(&self, floor_ms: Option<f64>) -> String {
        let mut s = format!(
            "p50 {:.1} ms · p90 {:.1} ms · p99 {:.1} ms · max {:.1} ms ({} samples)",
            self.p50, self.p90, self.p99, self.max, self.count
        );
        if let Some(f) = floor_ms {
            s.push_str(&format!(
                " = p50 {:.2}× · p99 {:.2}× · max {:.2}× the floor ({f:.1} ms)",
                self.p50 / f,
                self.p99 / f,
                self.max / f
            ));
        }
        s
    }
}

/// One pass/fail statement about a run.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
    /// A target from the issue (a number to reach) rather than an invariant (must always hold).
    pub target: bool,
}

/// A scenario's results, printed and written as JSON.
pub struct Report {
    pub scenario: String,
    pub params: Value,
    pub results: serde_json::Map<String, Value>,
    pub lines: Vec<String>,
    pub checks: Vec<Check>,
}

impl Report {
    pub fn new(scenario: &str, params: Value) -> Self {
        Self {
            scenario: scenario.into(),
            params,
            results: serde_json::Map::new(),
            lines: Vec::new(),
            checks: Vec::new(),
        }
    }

    pub fn set(&mut self, key: &str, value: impl Serialize) {
        self.results.insert(
            key.into(),
            serde_json::to_value(value).unwrap_or(Value::Null),
        );
    }

    /// A latency summary, with its multiples of the floor when the floor is known.
    pub fn latency(&mut self, key: &str, label: &str, lat: Latency, floor_ms: Option<f64>) {
        let mut value = serde_json::to_value(lat).unwrap_or(Value::Null);
        if let Some(f) = floor_ms {
            value["x_floor"] = lat.over_floor(f);
        }
        self.results.insert(key.into(), value);
        self.line(format!("{label}: {}", lat.line(floor_ms)));
    }

    pub fn line(&mut self, line: impl Into<String>) {
        self.lines.push(line.into());
    }

    /// An invariant: must hold on every run, smoke included.
    pub fn check(&mut self, name: &str, ok: bool, detail: impl Into<String>) {
        self.checks.push(Check {
            name: name.into(),
            ok,
            detail: detail.into(),
            target: false,
        });
    }

    /// A performance target: reported, and failing only the full-size runs that claim it.
    pub fn target(&mut self, name: &str, ok: bool, detail: impl Into<String>) {
        self.checks.push(Check {
            name: name.into(),
            ok,
            detail: detail.into(),
            target: true,
        });
    }

    /// Whether every invariant held.
    pub fn passed(&self) -> bool {
        self.checks.iter().filter(|c| !c.target).all(|c| c.ok)
    }

    pub fn print(&self) {
        println!("\n== {} ==", self.scenario);
        for line in &self.lines {
            println!("  {line}");
        }
        for c in &self.checks {
            let mark = match (c.ok, c.target) {
                (true, _) => "ok  ",
                (false, false) => "FAIL",
                (false, true) => "MISS",
            };
            let kind = if c.target { "target" } else { "check" };
            println!("  [{mark}] {kind} {}: {}", c.name, c.detail);
        }
    }

    /// Writes `<dir>/<scenario>-<unix time>.json` and `<dir>/<scenario>-latest.json`.
    pub fn write(&self, dir: &Path, server: Value) -> anyhow::Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        let when = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let doc = json!({
            "scenario": self.scenario,
            "finished_unix": when,
            "machine": machine(),
            "params": self.params,
            "results": self.results,
            "server": server,
            "checks": self.checks,
            "passed": self.passed(),
        });
        let text = serde_json::to_string_pretty(&doc)?;
        let path = dir.join(format!("{}-{when}.json", self.scenario));
        std::fs::write(&path, &text)?;
        std::fs::write(dir.join(format!("{}-latest.json", self.scenario)), &text)?;
        Ok(path)
    }
}

fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_default();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    json!({
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "cpu": cpu,
        "kernel": kernel.trim(),
    })
}

/// A progress bar on stderr when it is a terminal; hidden otherwise (CI, smoke runs).
pub fn progress(len: u64, what: &str) -> ProgressBar {
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::new(len)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{prefix:>14} [{bar:40}] {pos}/{len} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(what.to_owned());
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Rounds to two decimals, for JSON and summaries.
pub fn r2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_nearest_rank() {
        let mut samples: Vec<u32> = (1..=100).map(|ms| ms * 1000).collect();
        let lat = Latency::from_us(&mut samples);
        assert_eq!(lat.p50, 50.0);
        assert_eq!(lat.p99, 99.0);
        assert_eq!(lat.max, 100.0);
        assert_eq!(lat.count, 100);
    }
}
