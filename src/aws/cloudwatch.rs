//! The [`Metrics`] port on CloudWatch: IVS publishes its channel metrics to the `AWS/IVS`
//! namespace, per channel (dimension `Channel` = the channel's resource id, the last part of its
//! ARN), and `GetMetricData` reads the four a health page charts in one call.
//!
//! Period, alignment, gap filling and caching are the port's shared rules
//! ([`crate::streams::metrics`]); this adapter asks for exactly the window it is given and
//! returns CloudWatch's averages per period as they are.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_cloudwatch::{
    Client,
    error::{DisplayErrorContext, ProvideErrorMetadata, SdkError},
    primitives::DateTime as AwsDateTime,
    types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy},
};
use chrono::{DateTime, Utc};
use tokio::sync::OnceCell;

use crate::{
    config::AwsConfig,
    domain::{AccountId, stream::MetricSample},
    streams::metrics::{MetricName, MetricPoints, Metrics, MetricsError, MetricsQuery},
};

/// The namespace IVS publishes channel metrics to.
pub const NAMESPACE: &str = "AWS/IVS";
/// The dimension naming the channel.
pub const CHANNEL_DIMENSION: &str = "Channel";
/// Each data point is the average of the period.
pub const STAT: &str = "Average";

/// Reads IVS channel metrics from CloudWatch.
pub struct CloudWatchMetrics {
    /// Built on first use: the SDK's configuration chain is async, and the choice of adapters
    /// at startup is not.
    client: OnceCell<Client>,
    config: AwsConfig,
}

impl CloudWatchMetrics {
    /// A client configured from the SDK's default chain (and `aws.region`) when first needed.
    pub fn new(config: &AwsConfig) -> Self {
        Self {
            client: OnceCell::new(),
            config: config.clone(),
        }
    }

    /// Over a ready client (tests, or a caller that already has one).
    pub fn with_client(client: Client) -> Self {
        Self {
            client: OnceCell::new_with(Some(client)),
            config: AwsConfig::default(),
        }
    }

    async fn client(&self) -> &Client {
        self.client
            .get_or_init(|| async { Client::new(&super::sdk_config(&self.config).await) })
            .await
    }
}

/// The `Channel` dimension of a channel ARN (`arn:aws:ivs:<region>:<account>:channel/<id>`).
pub fn channel_resource_id(arn: &str) -> &str {
    arn.rsplit_once('/').map_or(arn, |(_, id)| id)
}

/// Query ids must start with a lower-case letter; the metric's name in lower case does.
fn query_id(name: MetricName) -> String {
    name.as_str().to_ascii_lowercase()
}

fn to_aws(t: DateTime<Utc>) -> AwsDateTime {
    AwsDateTime::from_millis(t.timestamp_millis())
}

fn from_aws(t: &AwsDateTime) -> Option<DateTime<Utc>> {
    t.to_millis().ok().and_then(DateTime::from_timestamp_millis)
}

/// The four queries of one channel at one period.
pub fn queries(channel_id: &str, period: u32) -> Vec<MetricDataQuery> {
    let period = i32::try_from(period).unwrap_or(i32::MAX);
    MetricName::ALL
        .into_iter()
        .map(|name| {
            let metric = Metric::builder()
                .namespace(NAMESPACE)
                .metric_name(name.as_str())
                .dimensions(
                    Dimension::builder()
                        .name(CHANNEL_DIMENSION)
                        .value(channel_id)
                        .build(),
                )
                .build();
            MetricDataQuery::builder()
                .id(query_id(name))
                .metric_stat(
                    MetricStat::builder()
                        .metric(metric)
                        .period(period)
                        .stat(STAT)
                        .build(),
                )
                .return_data(true)
                .build()
        })
        .collect()
}

fn sdk_error<E: ProvideErrorMetadata + std::error::Error + 'static>(
    error: SdkError<E>,
) -> MetricsError {
    let throttled = matches!(
        error.code(),
        Some("Throttling" | "ThrottlingException" | "TooManyRequestsException")
    );
    if throttled {
        MetricsError::Throttled
    } else {
        MetricsError::Unavailable(DisplayErrorContext(&error).to_string())
    }
}

#[async_trait]
impl Metrics for CloudWatchMetrics {
    async fn fetch(&self, query: &MetricsQuery<'_>) -> Result<Vec<MetricPoints>, MetricsError> {
        let window = query.window;
        if window.start >= window.end {
            return Ok(Vec::new());
        }
        let client = self.client().await;
        let channel_id = channel_resource_id(query.channel_arn);
        let mut points: HashMap<String, Vec<(DateTime<Utc>, f64)>> = HashMap::new();
        let mut next_token: Option<String> = None;
        // A long window at a fine period can take more than one page.
        loop {
            let output = client
                .get_metric_data()
                .set_metric_data_queries(Some(queries(channel_id, window.period)))
                .start_time(to_aws(window.start))
                .end_time(to_aws(window.end))
                .scan_by(ScanBy::TimestampAscending)
                .set_next_token(next_token.take())
                .send()
                .await
                .map_err(sdk_error)?;
            for result in output.metric_data_results() {
                let (Some(id), timestamps, values) =
                    (result.id(), result.timestamps(), result.values())
                else {
                    continue;
                };
                // A result whose times and values do not pair up cannot be placed.
                if timestamps.len() != values.len() {
                    tracing::warn!(id, "CloudWatch result with unpaired timestamps and values");
                    continue;
                }
                let series = points.entry(id.to_owned()).or_default();
                series.extend(
                    timestamps
                        .iter()
                        .zip(values)
                        .filter_map(|(t, v)| Some((from_aws(t)?, *v))),
                );
            }
            match output.next_token() {
                Some(token) if !token.is_empty() => next_token = Some(token.to_owned()),
                _ => break,
            }
        }
        Ok(MetricName::ALL
            .into_iter()
            .filter_map(|name| {
                let mut series = points.remove(&query_id(name))?;
                series.sort_by_key(|(t, _)| *t);
                Some(MetricPoints {
                    name,
                    points: series,
                })
            })
            .filter(|p| !p.points.is_empty())
            .collect())
    }

    async fn record(&self, _: AccountId, _: &str, _: &[MetricSample]) -> Result<(), MetricsError> {
        // IVS publishes these metrics itself.
        Err(MetricsError::Unsupported)
    }
}

#[cfg(test)]
mod tests;
