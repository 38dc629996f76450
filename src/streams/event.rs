//! IVS events as EventBridge delivers them to an API destination: the EventBridge envelope
//! (`id`, `detail-type`, `source`, `time`, `resources`, `detail`) around IVS's `detail`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::{
    FieldError, FieldErrors,
    stream::{StreamEvent, StreamEventType},
};

/// The longest event id, name or stream id kept (IVS's are far shorter).
const MAX_TEXT: usize = 128;

/// An EventBridge event. Fields EventBridge adds that nothing here needs (`version`,
/// `account`, `region`) are accepted and ignored.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EventEnvelope {
    /// Unique per event; a redelivery carries the same id.
    pub id: String,
    /// e.g. `IVS Stream State Change`.
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    /// `aws.ivs` for IVS events.
    #[serde(default)]
    pub source: String,
    /// When the event happened.
    pub time: DateTime<Utc>,
    /// The channel's ARN first, for channel events.
    #[serde(default)]
    pub resources: Vec<String>,
    #[serde(default)]
    pub detail: EventDetail,
}

/// The IVS part of the event. Other fields (`channel_name`, `limit_value`, `reason`,
/// `recording_*`…) are accepted and ignored.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct EventDetail {
    /// Stream state and health changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_name: Option<String>,
    /// Limit breaches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_name: Option<String>,
    /// Recording state changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording_status: Option<String>,
    /// The session (`st-…`); absent from account-wide events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_id: Option<String>,
}

/// An event of a channel's stream, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelEvent {
    pub channel_arn: String,
    pub stream_id: Option<String>,
    pub event: StreamEvent,
}

/// What an envelope turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Channel(ChannelEvent),
    /// Not about a channel's stream (CloudTrail, stages, compositions, account-wide limits):
    /// accepted and dropped, with the reason.
    Ignored(&'static str),
}

fn text(field: &'static str, value: &str) -> Result<String, FieldError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(FieldError::new(field, "required", "must not be empty"));
    }
    if value.chars().count() > MAX_TEXT || value.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "invalid",
            format!("must be at most {MAX_TEXT} printable characters"),
        ));
    }
    Ok(value.to_owned())
}

/// A stream id must be usable in a URL path as it is: IVS's are `st-` and 21 or so letters
/// and digits.
pub fn parse_stream_id(field: &'static str, value: &str) -> Result<String, FieldError> {
    let ok = !value.is_empty()
        && value.len() <= MAX_TEXT
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(value.to_owned())
    } else {
        Err(FieldError::new(
            field,
            "invalid",
            "must be 1–128 letters, digits, '-', '_' or '.'",
        ))
    }
}

impl EventEnvelope {
    /// Checks the envelope and keeps what a session needs. IVS event types other than the four
    /// a session keeps, and events naming no channel, are `Ignored`.
    pub fn parse(self) -> Result<Parsed, FieldErrors> {
        let mut errors = FieldErrors::default();
        let id = errors.check(text("id", &self.id));
        let Some(event_type) = StreamEventType::parse(&self.detail_type) else {
            errors.into_result()?;
            return Ok(Parsed::Ignored("not a stream event type"));
        };
        if self.source != "aws.ivs" {
            errors.check::<()>(Err(FieldError::new(
                "source",
                "invalid",
                "must be aws.ivs for IVS events",
            )));
        }
        let name = match event_type {
            StreamEventType::StreamStateChange | StreamEventType::StreamHealthChange => {
                ("detail.event_name", &self.detail.event_name)
            }
            StreamEventType::LimitBreach => ("detail.limit_name", &self.detail.limit_name),
            StreamEventType::RecordingStateChange => {
                ("detail.recording_status", &self.detail.recording_status)
            }
        };
        let name = errors.check(text(name.0, name.1.as_deref().unwrap_or_default()));
        let stream_id = self
            .detail
            .stream_id
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| parse_stream_id("detail.stream_id", s))
            .transpose();
        let stream_id = errors.check(stream_id);
        let (Some(id), Some(name), Some(stream_id), true) =
            (id, name, stream_id, errors.0.is_empty())
        else {
            return Err(errors);
        };
        // Account-wide limits (concurrent broadcasts or viewers) name no channel.
        let Some(channel_arn) = self.resources.first().filter(|r| !r.trim().is_empty()) else {
            return Ok(Parsed::Ignored("names no channel"));
        };
        Ok(Parsed::Channel(ChannelEvent {
            channel_arn: channel_arn.trim().to_owned(),
            stream_id,
            event: StreamEvent {
                id,
                event_type,
                name,
                at: self.time,
            },
        }))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn envelope(value: serde_json::Value) -> EventEnvelope {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_stream_state_change_names_its_channel_session_and_event() {
        // As the IVS user guide shows it.
        let parsed = envelope(json!({
            "version": "0",
            "id": "aa5b7a40-36cf-8dc4-5554-32d70e047215",
            "detail-type": "IVS Stream State Change",
            "source": "aws.ivs",
            "account": "535011710559",
            "time": "2024-09-09T16:17:26Z",
            "region": "us-east-1",
            "resources": ["arn:aws:ivs:us-west-2:535011710559:channel/UCGaMPGLCbcE"],
            "detail": {
                "event_name": "Session Created",
                "channel_name": "",
                "stream_id": "st-1AuTyMDASvHUTSb8p5PvbsO"
            }
        }))
        .parse()
        .unwrap();

        let Parsed::Channel(event) = parsed else {
            panic!("{parsed:?}")
        };
        assert_eq!(
            event.channel_arn,
            "arn:aws:ivs:us-west-2:535011710559:channel/UCGaMPGLCbcE"
        );
        assert_eq!(
            event.stream_id.as_deref(),
            Some("st-1AuTyMDASvHUTSb8p5PvbsO")
        );
        assert_eq!(event.event.event_type, StreamEventType::StreamStateChange);
        assert_eq!(event.event.name, "Session Created");
        assert_eq!(event.event.at.to_rfc3339(), "2024-09-09T16:17:26+00:00");
    }

    #[test]
    fn limit_breaches_and_recordings_are_named_by_their_own_fields() {
        let breach = envelope(json!({
            "id": "1", "detail-type": "IVS Limit Breach", "source": "aws.ivs",
            "time": "2017-06-12T10:23:43Z", "resources": ["arn:aws:ivs:us-east-1:1:channel/x"],
            "detail": {"limit_name": "Ingest Bitrate", "limit_value": 1234, "exceeded_by": 3,
                       "limit_unit": "bits per second", "stream_id": "st-1"}
        }));
        let recording = envelope(json!({
            "id": "2", "detail-type": "IVS Recording State Change", "source": "aws.ivs",
            "time": "2020-06-23T20:12:36Z", "resources": ["arn:aws:ivs:us-east-1:1:channel/x"],
            "detail": {"recording_status": "Recording Start", "stream_id": "st-1",
                       "recording_duration_ms": 0}
        }));

        for (envelope, name) in [(breach, "Ingest Bitrate"), (recording, "Recording Start")] {
            match envelope.parse().unwrap() {
                Parsed::Channel(e) => assert_eq!(e.event.name, name),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn events_not_about_a_channel_stream_are_ignored() {
        let stage = envelope(json!({
            "id": "1", "detail-type": "IVS Stage Update", "source": "aws.ivs",
            "time": "2024-01-01T00:00:00Z", "resources": ["arn:aws:ivs:us-east-1:1:stage/x"],
            "detail": {"event_name": "Participant Published"}
        }));
        let account_wide = envelope(json!({
            "id": "2", "detail-type": "IVS Limit Breach", "source": "aws.ivs",
            "time": "2017-06-12T10:23:43Z", "resources": [],
            "detail": {"limit_name": "Concurrent Viewers", "limit_value": 10, "exceeded_by": 11}
        }));

        assert!(matches!(stage.parse(), Ok(Parsed::Ignored(_))));
        assert!(matches!(account_wide.parse(), Ok(Parsed::Ignored(_))));
    }

    #[test]
    fn a_stream_event_without_its_name_or_with_a_bad_stream_id_is_refused_by_field() {
        let refused = envelope(json!({
            "id": " ", "detail-type": "IVS Stream State Change", "source": "aws.ivs",
            "time": "2024-01-01T00:00:00Z", "resources": ["arn:aws:ivs:us-east-1:1:channel/x"],
            "detail": {"stream_id": "st-1/../../x"}
        }))
        .parse()
        .unwrap_err();

        let fields: Vec<_> = refused.0.iter().map(|e| e.field.to_string()).collect();
        assert_eq!(fields, ["id", "detail.event_name", "detail.stream_id"]);
    }
}
