//! `showrunner simulate`: a stand-in for an encoder and IVS, for trying stream health without
//! AWS.
//!
//! It drives one channel through a realistic session against a running server, over the same
//! path EventBridge uses (`POST /api/stream-events`, with the shared secret): "Session Created",
//! "Stream Start", an optional starvation episode ("Starvation Start" … "Starvation End"), then
//! "Stream End" and "Session Ended" — also when interrupted. Meanwhile it reports plausible,
//! noisy encoder metrics (bitrate, frame rate, keyframe interval, concurrent views) and the
//! encoder settings to the local-metrics endpoint, which is what CloudWatch would hold.

use std::{future::Future, time::Duration};

use anyhow::{Context, bail};
use chrono::{DateTime, SubsecRound, Utc};
use rand::{Rng, SeedableRng, distr::Alphanumeric, rngs::StdRng};
use serde_json::{Value, json};
use tokio::time::{Instant, sleep_until};

use crate::{
    domain::stream::{
        AudioConfiguration, IngestConfiguration, MetricSample, StreamEventType, VideoConfiguration,
        names,
    },
    streams::EVENTS_SECRET_HEADER,
};

/// What to simulate, and where.
#[derive(Debug, Clone)]
pub struct SimulatorOptions {
    /// The server's base URL, e.g. `http://127.0.0.1:8080`.
    pub server: String,
    /// The server's `streams.events_secret`.
    pub secret: String,
    /// The channel's username.
    pub channel: String,
    /// From "Session Created" to "Stream End".
    pub duration: Duration,
    /// When starvation starts, from "Session Created"; `None`: a healthy stream.
    pub starve_at: Option<Duration>,
    /// How long starvation lasts (cut short by the end).
    pub starve_for: Duration,
    /// Time between metric samples (IVS reports every 5 s).
    pub interval: Duration,
}

impl SimulatorOptions {
    pub fn new(server: &str, secret: &str, channel: &str) -> Self {
        Self {
            server: server.trim_end_matches('/').to_owned(),
            secret: secret.to_owned(),
            channel: channel.to_owned(),
            duration: Duration::from_secs(600),
            starve_at: None,
            starve_for: Duration::from_secs(20),
            interval: Duration::from_secs(5),
        }
    }
}

/// The session a run produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulatedSession {
    pub channel_arn: String,
    pub stream_id: String,
    pub events_sent: usize,
    pub samples_sent: usize,
    /// False if the server takes metrics from CloudWatch and refused local ones.
    pub metrics_recorded: bool,
}

/// Parses `500ms`, `45s`, `10m`, `2h`, or a bare number of seconds.
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let split = raw
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(raw.len());
    let (number, unit) = raw.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{raw}` is not a duration like 90s, 10m or 1h"))?;
    let seconds = match unit.trim() {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        other => return Err(format!("unknown unit `{other}` (use ms, s, m or h)")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| e.to_string())
}

/// The encoder the simulator pretends to be.
fn ingest_configuration() -> IngestConfiguration {
    IngestConfiguration {
        video: VideoConfiguration {
            avc_level: "4.1".into(),
            avc_profile: "High".into(),
            codec: "avc1.640029".into(),
            encoder: "showrunner-simulate".into(),
            target_bitrate: 3_500_000,
            target_framerate: 30,
            video_height: 720,
            video_width: 1280,
        },
        audio: AudioConfiguration {
            channels: 2,
            codec: "mp4a.40.2".into(),
            sample_rate: 48_000,
            target_bitrate: 160_000,
        },
    }
}

/// Talks to the server the way EventBridge and an encoder would.
struct Client {
    http: reqwest::Client,
    options: SimulatorOptions,
    channel_arn: String,
    stream_id: String,
    region: String,
    account: String,
}

impl Client {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.options.server)
    }

    /// POSTs with a few retries on connection failures and 5xx, like EventBridge.
    async fn post(&self, path: &str, body: &Value) -> anyhow::Result<reqwest::Response> {
        let mut delay = Duration::from_millis(200);
        for attempt in 1..=4 {
            let result = self
                .http
                .post(self.url(path))
                .header(EVENTS_SECRET_HEADER, &self.options.secret)
                .json(body)
                .send()
                .await;
            match result {
                Ok(r) if !r.status().is_server_error() => return Ok(r),
                Ok(r) if attempt == 4 => return Ok(r),
                Err(e) if attempt == 4 => {
                    return Err(e).with_context(|| format!("POST {}", self.url(path)));
                }
                _ => {
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
            }
        }
        unreachable!("the last attempt returns")
    }

    /// Sends one IVS event shaped exactly as EventBridge delivers it.
    async fn event(
        &self,
        event_type: StreamEventType,
        name: &str,
        at: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let name_field = match event_type {
            StreamEventType::LimitBreach => "limit_name",
            StreamEventType::RecordingStateChange => "recording_status",
            _ => "event_name",
        };
        let envelope = json!({
            "version": "0",
            "id": uuid::Uuid::new_v4().to_string(),
            "detail-type": event_type.as_str(),
            "source": "aws.ivs",
            "account": self.account,
            // EventBridge times have whole seconds.
            "time": at.trunc_subsecs(0).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "region": self.region,
            "resources": [self.channel_arn],
            "detail": {
                name_field: name,
                "channel_name": self.options.channel,
                "stream_id": self.stream_id,
            },
        });
        let response = self.post("/api/stream-events", &envelope).await?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            bail!("the server refused the `{name}` event ({status}): {text}");
        }
        tracing::info!(stream_id = %self.stream_id, event = name, "sent");
        Ok(())
    }

    /// Reports samples (and the encoder settings); `false` if the server does not take local
    /// metrics.
    async fn metrics(
        &self,
        samples: &[MetricSample],
        configuration: Option<&IngestConfiguration>,
    ) -> anyhow::Result<bool> {
        let mut body = json!({
            "channel_arn": self.channel_arn,
            "stream_id": self.stream_id,
            "samples": samples,
        });
        if let Some(configuration) = configuration {
            body["ingest_configuration"] = serde_json::to_value(configuration)?;
        }
        let response = self.post("/api/stream-events/local-metrics", &body).await?;
        match response.status() {
            s if s.is_success() => Ok(true),
            reqwest::StatusCode::NOT_FOUND => Ok(false),
            s => {
                let text = response.text().await.unwrap_or_default();
                bail!("the server refused metrics ({s}): {text}")
            }
        }
    }
}

/// Finds the channel's ARN; fails with a useful message when the server is not ready for the
/// simulator.
async fn channel_arn(http: &reqwest::Client, options: &SimulatorOptions) -> anyhow::Result<String> {
    let url = format!(
        "{}/api/stream-events/channels/{}",
        options.server, options.channel
    );
    let response = http
        .get(&url)
        .header(EVENTS_SECRET_HEADER, &options.secret)
        .send()
        .await
        .with_context(|| format!("reaching the server at {}", options.server))?;
    match response.status() {
        s if s.is_success() => {
            let body: Value = response.json().await.context("reading the channel")?;
            body["channel_arn"]
                .as_str()
                .map(str::to_owned)
                .context("the server's answer has no channel_arn")
        }
        reqwest::StatusCode::UNAUTHORIZED => {
            bail!("the server refused the secret: pass the server's streams.events_secret")
        }
        reqwest::StatusCode::NOT_FOUND => bail!("the server has no channel `{}`", options.channel),
        reqwest::StatusCode::SERVICE_UNAVAILABLE => bail!(
            "stream events are off on the server: set its streams.events_secret (e.g. \
             SHOWRUNNER__STREAMS__EVENTS_SECRET) and pass the same secret here"
        ),
        s => bail!("the server answered {s} for {url}"),
    }
}

/// A noisy encoder and audience.
struct Signal {
    rng: StdRng,
    viewers: f64,
}

impl Signal {
    fn sample(&mut self, at: DateTime<Utc>, starving: bool) -> MetricSample {
        let target = ingest_configuration().video;
        // Audiences grow early and drift.
        self.viewers = (self.viewers + self.rng.random_range(-1.5..3.0)).max(0.0);
        let (bitrate, framerate) = if starving {
            (
                self.rng.random_range(0.0..80_000.0),
                self.rng.random_range(0.0..2.0),
            )
        } else {
            let target_bitrate = target.target_bitrate as f64;
            (
                target_bitrate * self.rng.random_range(0.93..1.04),
                f64::from(target.target_framerate) - self.rng.random_range(0.0..0.6),
            )
        };
        MetricSample {
            at,
            ingest_video_bitrate: Some(bitrate.round()),
            ingest_framerate: Some((framerate * 100.0).round() / 100.0),
            keyframe_interval: Some(if self.rng.random_bool(0.95) { 2.0 } else { 2.5 }),
            concurrent_views: Some(self.viewers.round()),
        }
    }
}

/// Runs one session to its end (or until `stop` resolves, then ends it cleanly).
pub async fn run(
    options: SimulatorOptions,
    stop: impl Future<Output = ()>,
) -> anyhow::Result<SimulatedSession> {
    if options.interval.is_zero() {
        bail!("the sample interval must be positive");
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let channel_arn = channel_arn(&http, &options).await?;
    // `arn:aws:ivs:<region>:<account>:channel/<id>`; local ARNs have neither.
    let parts: Vec<&str> = channel_arn.split(':').collect();
    let (region, account) = match parts.as_slice() {
        ["arn", "aws", "ivs", region, account, ..] => ((*region).to_owned(), (*account).to_owned()),
        _ => ("local".to_owned(), "000000000000".to_owned()),
    };
    let mut rng = StdRng::from_os_rng();
    let stream_id: String = format!(
        "st-{}",
        (&mut rng)
            .sample_iter(Alphanumeric)
            .take(21)
            .map(char::from)
            .collect::<String>()
    );
    let client = Client {
        http,
        options: options.clone(),
        channel_arn: channel_arn.clone(),
        stream_id: stream_id.clone(),
        region,
        account,
    };
    let mut signal = Signal { rng, viewers: 0.0 };

    let begun = Instant::now();
    let wall_start = Utc::now();
    let wall = |instant: Instant| wall_start + (instant - begun);
    // The stream starts shortly after the session is created, as with a real encoder.
    let start_after = (options.duration / 10).min(Duration::from_secs(2));
    let end_at = begun + options.duration;
    let starvation = options
        .starve_at
        .filter(|at| *at < options.duration)
        .map(|at| {
            let from = begun + at.max(start_after);
            (from, (from + options.starve_for).min(end_at))
        });

    let mut events_sent = 0;
    let mut samples_sent = 0;
    let mut metrics_recorded = true;
    client
        .event(
            StreamEventType::StreamStateChange,
            names::SESSION_CREATED,
            wall(begun),
        )
        .await?;
    events_sent += 1;

    tokio::pin!(stop);
    let mut started = false;
    let mut starving = false;
    let mut configuration_sent = false;
    let mut next_sample = begun + start_after;
    let start_at = begun + start_after;
    loop {
        // The next thing due: the start, a starvation edge, a sample, or the end.
        let mut due = end_at.min(next_sample);
        if !started {
            due = due.min(start_at);
        }
        if let Some((from, to)) = starvation {
            if !starving && Instant::now() < from {
                due = due.min(from);
            } else if starving {
                due = due.min(to);
            }
        }
        tokio::select! {
            () = sleep_until(due) => {}
            () = &mut stop => {
                tracing::info!("interrupted: ending the session");
                break;
            }
        }
        let now = Instant::now();
        if now >= end_at {
            break;
        }
        if !started && now >= start_at {
            client
                .event(
                    StreamEventType::StreamStateChange,
                    names::STREAM_START,
                    wall(now),
                )
                .await?;
            events_sent += 1;
            started = true;
        }
        if let Some((from, to)) = starvation {
            if !starving && now >= from && now < to {
                client
                    .event(
                        StreamEventType::StreamHealthChange,
                        names::STARVATION_START,
                        wall(now),
                    )
                    .await?;
                events_sent += 1;
                starving = true;
            } else if starving && now >= to {
                client
                    .event(
                        StreamEventType::StreamHealthChange,
                        names::STARVATION_END,
                        wall(now),
                    )
                    .await?;
                events_sent += 1;
                starving = false;
            }
        }
        if started && metrics_recorded && now >= next_sample {
            let sample = signal.sample(wall(now), starving);
            let configuration = (!configuration_sent).then(ingest_configuration);
            metrics_recorded = client.metrics(&[sample], configuration.as_ref()).await?;
            if metrics_recorded {
                samples_sent += 1;
                configuration_sent = true;
            } else {
                tracing::warn!("the server takes metrics from CloudWatch; sending events only");
            }
        }
        while next_sample <= now {
            next_sample += options.interval;
        }
    }

    // A clean end, also when interrupted.
    let now = Instant::now();
    if starving {
        client
            .event(
                StreamEventType::StreamHealthChange,
                names::STARVATION_END,
                wall(now),
            )
            .await?;
        events_sent += 1;
    }
    if started {
        client
            .event(
                StreamEventType::StreamStateChange,
                names::STREAM_END,
                wall(now),
            )
            .await?;
        events_sent += 1;
    }
    client
        .event(
            StreamEventType::StreamStateChange,
            names::SESSION_ENDED,
            wall(now),
        )
        .await?;
    events_sent += 1;
    Ok(SimulatedSession {
        channel_arn,
        stream_id,
        events_sent,
        samples_sent,
        metrics_recorded,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_people_write_them() {
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5m"), Ok(Duration::from_secs(90)));
        assert!(parse_duration("10 minutes").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("-3s").is_err());
    }

    #[test]
    fn a_starving_encoder_sends_almost_nothing() {
        let mut signal = Signal {
            rng: StdRng::seed_from_u64(7),
            viewers: 10.0,
        };
        let healthy = signal.sample(Utc::now(), false);
        let starving = signal.sample(Utc::now(), true);
        assert!(healthy.ingest_video_bitrate.unwrap() > 3_000_000.0);
        assert!(healthy.ingest_framerate.unwrap() > 29.0);
        assert!(starving.ingest_video_bitrate.unwrap() < 100_000.0);
        assert!(starving.ingest_framerate.unwrap() < 2.0);
    }
}
