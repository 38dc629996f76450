//! The adapter against the SDK's mock interceptor: the real client, its serialisation skipped,
//! so the typed requests the adapter sends are checked exactly.

use std::sync::{Arc, Mutex};

use aws_sdk_cloudwatch::{
    config::retry::RetryConfig,
    error::ErrorMetadata,
    operation::get_metric_data::{GetMetricDataError, GetMetricDataInput, GetMetricDataOutput},
    types::{MetricDataResult, StatusCode},
};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use chrono::TimeDelta;

use super::*;
use crate::streams::metrics::MetricWindow;

const ARN: &str = "arn:aws:ivs:us-west-2:123456789012:channel/AbCdef1G2hij";

fn window() -> MetricWindow {
    let start = DateTime::parse_from_rfc3339("2026-03-01T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    MetricWindow {
        period: 5,
        start,
        end: start + TimeDelta::seconds(30),
    }
}

fn query(window: MetricWindow) -> MetricsQuery<'static> {
    MetricsQuery {
        channel: AccountId::new(),
        channel_arn: ARN,
        stream_id: "st-1A2b3c4D5e6F78ghij9Klmn",
        window,
    }
}

fn at(seconds: i64) -> AwsDateTime {
    to_aws(window().start + TimeDelta::seconds(seconds))
}

fn result(id: &str, points: &[(i64, f64)]) -> MetricDataResult {
    let mut builder = MetricDataResult::builder()
        .id(id)
        .status_code(StatusCode::Complete);
    for (seconds, value) in points {
        builder = builder.timestamps(at(*seconds)).values(*value);
    }
    builder.build()
}

#[tokio::test]
async fn the_four_ivs_metrics_of_the_channel_are_asked_for_in_one_call_over_the_window() {
    let sent: Arc<Mutex<Vec<GetMetricDataInput>>> = Arc::default();
    let seen = sent.clone();
    let rule = mock!(Client::get_metric_data).then_compute_output(move |input| {
        seen.lock().unwrap().push(input.clone());
        GetMetricDataOutput::builder()
            .metric_data_results(result("ingestvideobitrate", &[(0, 3.5e6), (5, 3.4e6)]))
            .metric_data_results(result("concurrentviews", &[(5, 12.0)]))
            .build()
    });
    let client = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&rule]);
    let adapter = CloudWatchMetrics::with_client(client);

    let fetched = adapter.fetch(&query(window())).await.unwrap();

    let sent = sent.lock().unwrap();
    assert_eq!(sent.len(), 1);
    let input = &sent[0];
    assert_eq!(input.start_time(), Some(&to_aws(window().start)));
    assert_eq!(input.end_time(), Some(&to_aws(window().end)));
    assert_eq!(input.scan_by(), Some(&ScanBy::TimestampAscending));
    assert_eq!(input.next_token(), None);
    let asked: Vec<_> = input
        .metric_data_queries()
        .iter()
        .map(|q| {
            let stat = q.metric_stat().unwrap();
            let metric = stat.metric().unwrap();
            let dimensions: Vec<_> = metric
                .dimensions()
                .iter()
                .map(|d| (d.name().unwrap(), d.value().unwrap()))
                .collect();
            (
                q.id().unwrap(),
                metric.namespace().unwrap(),
                metric.metric_name().unwrap(),
                dimensions,
                stat.period(),
                stat.stat().unwrap(),
                q.return_data(),
            )
        })
        .collect();
    let expected = |id, name| {
        (
            id,
            "AWS/IVS",
            name,
            vec![("Channel", "AbCdef1G2hij")],
            Some(5),
            "Average",
            Some(true),
        )
    };
    assert_eq!(
        asked,
        [
            expected("ingestvideobitrate", "IngestVideoBitrate"),
            expected("ingestframerate", "IngestFramerate"),
            expected("keyframeinterval", "KeyframeInterval"),
            expected("concurrentviews", "ConcurrentViews"),
        ]
    );
    let t = |s| window().start + TimeDelta::seconds(s);
    assert_eq!(
        fetched,
        [
            MetricPoints {
                name: MetricName::IngestVideoBitrate,
                points: vec![(t(0), 3.5e6), (t(5), 3.4e6)],
            },
            MetricPoints {
                name: MetricName::ConcurrentViews,
                points: vec![(t(5), 12.0)],
            },
        ]
    );
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn a_window_at_a_coarser_period_asks_for_that_period() {
    let sent: Arc<Mutex<Vec<GetMetricDataInput>>> = Arc::default();
    let seen = sent.clone();
    let rule = mock!(Client::get_metric_data).then_compute_output(move |input| {
        seen.lock().unwrap().push(input.clone());
        GetMetricDataOutput::builder().build()
    });
    let client = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&rule]);
    let hourly = MetricWindow {
        period: 3600,
        start: window().start,
        end: window().start + TimeDelta::hours(2),
    };

    let fetched = CloudWatchMetrics::with_client(client)
        .fetch(&query(hourly))
        .await
        .unwrap();

    assert!(fetched.is_empty());
    let sent = sent.lock().unwrap();
    let periods: Vec<_> = sent[0]
        .metric_data_queries()
        .iter()
        .map(|q| q.metric_stat().unwrap().period())
        .collect();
    assert_eq!(periods, [Some(3600); 4]);
    assert_eq!(sent[0].end_time(), Some(&to_aws(hourly.end)));
}

#[tokio::test]
async fn every_page_is_read_and_the_pages_are_joined_in_time_order() {
    let first_page = mock!(Client::get_metric_data)
        .match_requests(|input| input.next_token().is_none())
        .then_output(|| {
            GetMetricDataOutput::builder()
                .metric_data_results(result("ingestframerate", &[(0, 30.0), (5, 29.0)]))
                .next_token("page-2")
                .build()
        });
    let second_page = mock!(Client::get_metric_data)
        .match_requests(|input| input.next_token() == Some("page-2"))
        .then_output(|| {
            GetMetricDataOutput::builder()
                .metric_data_results(result("ingestframerate", &[(10, 28.0)]))
                .build()
        });
    let client = mock_client!(
        aws_sdk_cloudwatch,
        RuleMode::MatchAny,
        [&first_page, &second_page]
    );

    let fetched = CloudWatchMetrics::with_client(client)
        .fetch(&query(window()))
        .await
        .unwrap();

    let t = |s| window().start + TimeDelta::seconds(s);
    assert_eq!(
        fetched,
        [MetricPoints {
            name: MetricName::IngestFramerate,
            points: vec![(t(0), 30.0), (t(5), 29.0), (t(10), 28.0)],
        }]
    );
    assert_eq!((first_page.num_calls(), second_page.num_calls()), (1, 1));
}

#[tokio::test]
async fn a_result_whose_times_and_values_do_not_pair_up_is_skipped() {
    let rule = mock!(Client::get_metric_data).then_output(|| {
        GetMetricDataOutput::builder()
            .metric_data_results(
                MetricDataResult::builder()
                    .id("keyframeinterval")
                    .timestamps(at(0))
                    .timestamps(at(5))
                    .values(2.0)
                    .build(),
            )
            .metric_data_results(result("ingestframerate", &[(0, 30.0)]))
            .build()
    });
    let client = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&rule]);

    let fetched = CloudWatchMetrics::with_client(client)
        .fetch(&query(window()))
        .await
        .unwrap();

    let names: Vec<_> = fetched.iter().map(|p| p.name).collect();
    assert_eq!(names, [MetricName::IngestFramerate]);
}

#[tokio::test]
async fn throttling_and_other_failures_map_to_the_ports_errors() {
    let throttled = mock!(Client::get_metric_data).then_error(|| {
        GetMetricDataError::generic(
            ErrorMetadata::builder()
                .code("Throttling")
                .message("Rate exceeded")
                .build(),
        )
    });
    // Without retries: the SDK's own retrying of throttled calls is not this adapter's.
    let client = mock_client!(
        aws_sdk_cloudwatch,
        RuleMode::MatchAny,
        [&throttled],
        |config| config.retry_config(RetryConfig::disabled())
    );
    let error = CloudWatchMetrics::with_client(client)
        .fetch(&query(window()))
        .await
        .unwrap_err();
    assert!(matches!(error, MetricsError::Throttled), "{error:?}");

    let denied = mock!(Client::get_metric_data).then_error(|| {
        GetMetricDataError::generic(ErrorMetadata::builder().code("AccessDenied").build())
    });
    let client = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&denied]);
    let error = CloudWatchMetrics::with_client(client)
        .fetch(&query(window()))
        .await
        .unwrap_err();
    assert!(matches!(error, MetricsError::Unavailable(_)), "{error:?}");
}

#[tokio::test]
async fn an_empty_window_asks_nothing_and_samples_are_not_recorded_here() {
    let rule =
        mock!(Client::get_metric_data).then_output(|| GetMetricDataOutput::builder().build());
    let client = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&rule]);
    let adapter = CloudWatchMetrics::with_client(client);
    let empty = MetricWindow {
        end: window().start,
        ..window()
    };

    assert!(adapter.fetch(&query(empty)).await.unwrap().is_empty());
    assert_eq!(rule.num_calls(), 0);
    let recorded = adapter.record(AccountId::new(), "st-1", &[]).await;
    assert!(matches!(recorded, Err(MetricsError::Unsupported)));
}

#[test]
fn the_channel_dimension_is_the_last_part_of_the_arn() {
    assert_eq!(channel_resource_id(ARN), "AbCdef1G2hij");
    assert_eq!(
        channel_resource_id("arn:showrunner:local:channel/0193abcd"),
        "0193abcd"
    );
}
