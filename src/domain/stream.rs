//! Stream sessions as IVS reports them: the events of one broadcast, and what those events say
//! about it (when it started and ended, whether it is live, healthy, or hit a limit).
//!
//! IVS delivers events at least once, late and out of order, so nothing here depends on the
//! order of arrival: a session's state is always derived from *all* of its events, ordered by
//! their own time ([`SessionFacts::from_events`]).

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The IVS event types (EventBridge `detail-type`) a session keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamEventType {
    StreamStateChange,
    StreamHealthChange,
    LimitBreach,
    RecordingStateChange,
}

impl StreamEventType {
    pub const ALL: [StreamEventType; 4] = [
        StreamEventType::StreamStateChange,
        StreamEventType::StreamHealthChange,
        StreamEventType::LimitBreach,
        StreamEventType::RecordingStateChange,
    ];

    /// The `detail-type` IVS gives events of this type.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamEventType::StreamStateChange => "IVS Stream State Change",
            StreamEventType::StreamHealthChange => "IVS Stream Health Change",
            StreamEventType::LimitBreach => "IVS Limit Breach",
            StreamEventType::RecordingStateChange => "IVS Recording State Change",
        }
    }

    /// `None` for every other `detail-type` (stage, composition and CloudTrail events…).
    pub fn parse(detail_type: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == detail_type)
    }
}

/// Event names IVS uses that change a session's state (`detail.event_name`).
pub mod names {
    pub const SESSION_CREATED: &str = "Session Created";
    pub const SESSION_ENDED: &str = "Session Ended";
    pub const STREAM_START: &str = "Stream Start";
    pub const STREAM_END: &str = "Stream End";
    pub const STREAM_FAILURE: &str = "Stream Failure";
    pub const STARVATION_START: &str = "Starvation Start";
    pub const STARVATION_END: &str = "Starvation End";
    /// Not from IVS: recorded by Showrunner when IVS reports no broadcast for a session whose
    /// events still say live (its end event was lost), at the time IVS was found offline.
    pub const STREAM_OFFLINE: &str = "Stream Offline";
    /// Not from IVS: recorded by Showrunner when IVS reports a broadcast of which no event said
    /// it started (its start event was lost), at the time IVS says it started.
    pub const STREAM_ONLINE: &str = "Stream Online";
}

/// One event of a stream session, as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEvent {
    /// EventBridge's event id: a redelivered event has the same id.
    pub id: String,
    pub event_type: StreamEventType,
    /// `event_name`, `limit_name` or `recording_status`, as IVS sent it.
    pub name: String,
    /// When it happened (EventBridge `time`), not when it arrived.
    pub at: DateTime<Utc>,
}

impl StreamEvent {
    /// Where the event falls among events of the same instant. EventBridge times have whole
    /// seconds, so a session's creation, start, end and closing often share one: they are taken
    /// in the order a broadcast goes through them.
    fn phase(&self) -> u8 {
        match (self.event_type, self.name.as_str()) {
            (StreamEventType::StreamStateChange, names::SESSION_CREATED) => 0,
            (StreamEventType::StreamStateChange, names::STREAM_START | names::STREAM_ONLINE) => 1,
            (
                StreamEventType::StreamStateChange,
                names::STREAM_END | names::STREAM_FAILURE | names::STREAM_OFFLINE,
            ) => 3,
            (StreamEventType::StreamStateChange, names::SESSION_ENDED) => 4,
            _ => 2,
        }
    }

    /// The order a session's events are read in: by time, then by phase, then by id (so that the
    /// order is total and every reader agrees on it).
    pub fn chronological(a: &StreamEvent, b: &StreamEvent) -> Ordering {
        a.at.cmp(&b.at)
            .then(a.phase().cmp(&b.phase()))
            .then_with(|| a.id.cmp(&b.id))
    }

    fn is(&self, event_type: StreamEventType, name: &str) -> bool {
        self.event_type == event_type && self.name == name
    }
}

/// What a session's events say about it, however they arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionFacts {
    /// Its "Session Created", or its earliest event while that has not arrived.
    pub started_at: DateTime<Utc>,
    /// When the stream last started, while it is live; `None` when it is not.
    pub live_since: Option<DateTime<Utc>>,
    /// "Session Ended", or failing that the "Stream End"/"Stream Failure" that followed the last
    /// start. `None` while the events say nothing of an end.
    pub ended_at: Option<DateTime<Utc>>,
    /// False when the last health event is a "Starvation Start".
    pub healthy: bool,
    /// True once any limit was breached.
    pub has_error: bool,
}

impl SessionFacts {
    /// Reads the events in their own time order ([`StreamEvent::chronological`]), whatever
    /// order they are given in. `None` without events.
    ///
    /// A stream is live from a "Stream Start" until a later "Stream End", "Stream Failure" or
    /// "Session Ended": an end that arrived before its start still ends it, so a session is never
    /// left live by out-of-order delivery. Nothing restarts a session after "Session Ended".
    /// A "Stream Offline" ends only a stream still live by then: it stands in for a lost end,
    /// so an end IVS did send, even one delivered after it, says when the stream ended. A
    /// "Stream Online" stands in for a lost start and counts as one.
    pub fn from_events(events: &[StreamEvent]) -> Option<Self> {
        let mut ordered: Vec<&StreamEvent> = events.iter().collect();
        ordered.sort_by(|a, b| StreamEvent::chronological(a, b));
        let first = ordered.first()?;
        let created = ordered
            .iter()
            .find(|e| e.is(StreamEventType::StreamStateChange, names::SESSION_CREATED));
        let mut facts = SessionFacts {
            started_at: created.map_or(first.at, |e| e.at),
            live_since: None,
            ended_at: None,
            healthy: true,
            has_error: false,
        };
        let mut closed = false;
        for event in ordered {
            match event.event_type {
                StreamEventType::StreamStateChange if !closed => match event.name.as_str() {
                    names::STREAM_START | names::STREAM_ONLINE => {
                        facts.live_since = Some(event.at);
                        facts.ended_at = None;
                    }
                    names::STREAM_END | names::STREAM_FAILURE => {
                        facts.live_since = None;
                        facts.ended_at = Some(event.at);
                    }
                    names::STREAM_OFFLINE if facts.live_since.is_some() => {
                        facts.live_since = None;
                        facts.ended_at = Some(event.at);
                    }
                    names::SESSION_ENDED => {
                        facts.live_since = None;
                        facts.ended_at = Some(event.at);
                        closed = true;
                    }
                    _ => {}
                },
                StreamEventType::StreamHealthChange => match event.name.as_str() {
                    names::STARVATION_START => facts.healthy = false,
                    names::STARVATION_END => facts.healthy = true,
                    _ => {}
                },
                StreamEventType::LimitBreach => facts.has_error = true,
                _ => {}
            }
        }
        Some(facts)
    }
}

/// The encoder settings of a session when it went live (IVS `IngestConfiguration`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IngestConfiguration {
    pub video: VideoConfiguration,
    pub audio: AudioConfiguration,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VideoConfiguration {
    /// e.g. `4.2`.
    pub avc_level: String,
    /// e.g. `Baseline`, `Main`, `High`.
    pub avc_profile: String,
    /// e.g. `avc1.42C020`.
    pub codec: String,
    /// The software or hardware encoder, as it names itself.
    pub encoder: String,
    /// Bits per second.
    pub target_bitrate: u64,
    /// Frames per second.
    pub target_framerate: u32,
    pub video_height: u32,
    pub video_width: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AudioConfiguration {
    pub channels: u32,
    /// e.g. `mp4a.40.2`.
    pub codec: String,
    /// Hertz.
    pub sample_rate: u32,
    /// Bits per second.
    pub target_bitrate: u64,
}

/// One reading of a session's stream metrics, as the local stand-in for CloudWatch keeps them.
/// A metric that was not measured is `None`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MetricSample {
    pub at: DateTime<Utc>,
    /// Bits per second.
    pub ingest_video_bitrate: Option<f64>,
    /// Frames per second.
    pub ingest_framerate: Option<f64>,
    /// Seconds.
    pub keyframe_interval: Option<f64>,
    pub concurrent_views: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_767_225_600 + seconds, 0).unwrap()
    }

    fn state(id: &str, name: &str, seconds: i64) -> StreamEvent {
        event(id, StreamEventType::StreamStateChange, name, seconds)
    }

    fn event(id: &str, event_type: StreamEventType, name: &str, seconds: i64) -> StreamEvent {
        StreamEvent {
            id: id.into(),
            event_type,
            name: name.into(),
            at: at(seconds),
        }
    }

    #[test]
    fn detail_types_round_trip_and_others_are_not_kept() {
        for t in StreamEventType::ALL {
            assert_eq!(StreamEventType::parse(t.as_str()), Some(t));
        }
        assert_eq!(StreamEventType::parse("IVS Stage Update"), None);
        assert_eq!(StreamEventType::parse("AWS API Call via CloudTrail"), None);
    }

    #[test]
    fn a_started_stream_is_live_from_its_start_until_its_end() {
        let created = state("1", names::SESSION_CREATED, 0);
        let start = state("2", names::STREAM_START, 3);
        let end = state("3", names::STREAM_END, 60);
        let ended = state("4", names::SESSION_ENDED, 61);

        let live = SessionFacts::from_events(&[created.clone(), start.clone()]).unwrap();
        let over = SessionFacts::from_events(&[created, start, end, ended]).unwrap();

        assert_eq!(live.started_at, at(0));
        assert_eq!(live.live_since, Some(at(3)));
        assert_eq!(live.ended_at, None);
        assert_eq!(over.live_since, None);
        assert_eq!(over.ended_at, Some(at(61)));
    }

    #[test]
    fn an_end_that_arrives_before_its_start_still_ends_the_stream() {
        let end = state("3", names::STREAM_END, 60);
        let start = state("2", names::STREAM_START, 3);

        let facts = SessionFacts::from_events(&[end, start]).unwrap();

        assert_eq!(facts.live_since, None);
        assert_eq!(facts.ended_at, Some(at(60)));
        // No "Session Created" yet: the earliest event stands in for it.
        assert_eq!(facts.started_at, at(3));
    }

    #[test]
    fn a_stream_found_offline_ends_unless_an_end_from_ivs_came_before_it() {
        let start = state("1", names::STREAM_START, 3);
        let offline = state("offline", names::STREAM_OFFLINE, 600);
        let late_end = state("2", names::STREAM_END, 60);
        let restart = state("3", names::STREAM_START, 700);

        let lost = SessionFacts::from_events(&[start.clone(), offline.clone()]).unwrap();
        let found = SessionFacts::from_events(&[offline.clone(), late_end, start.clone()]).unwrap();
        let again = SessionFacts::from_events(&[start, offline, restart]).unwrap();

        assert_eq!((lost.live_since, lost.ended_at), (None, Some(at(600))));
        // The end IVS sent, delivered after the check, says when the stream ended.
        assert_eq!((found.live_since, found.ended_at), (None, Some(at(60))));
        // It closes nothing: a later start is live again.
        assert_eq!((again.live_since, again.ended_at), (Some(at(700)), None));
    }

    #[test]
    fn a_stream_found_online_is_live_from_then_until_its_end() {
        let online = state("online", names::STREAM_ONLINE, 3);
        let end = state("2", names::STREAM_END, 60);

        let live = SessionFacts::from_events(std::slice::from_ref(&online)).unwrap();
        let over = SessionFacts::from_events(&[end, online]).unwrap();

        assert_eq!((live.started_at, live.live_since), (at(3), Some(at(3))));
        assert_eq!((over.live_since, over.ended_at), (None, Some(at(60))));
    }

    #[test]
    fn events_of_one_second_are_taken_in_broadcast_order() {
        // Delivered backwards, all stamped with the same second.
        let events = [
            state("d", names::SESSION_ENDED, 5),
            state("c", names::STREAM_END, 5),
            state("b", names::STREAM_START, 5),
            state("a", names::SESSION_CREATED, 5),
        ];
        let facts = SessionFacts::from_events(&events).unwrap();
        assert_eq!(facts.live_since, None);
        assert_eq!(facts.ended_at, Some(at(5)));

        let starting = [
            state("b", names::STREAM_START, 5),
            state("a", names::SESSION_CREATED, 5),
        ];
        assert_eq!(
            SessionFacts::from_events(&starting).unwrap().live_since,
            Some(at(5))
        );
    }

    #[test]
    fn nothing_restarts_a_session_after_it_ended() {
        let events = [
            state("a", names::STREAM_START, 1),
            state("b", names::SESSION_ENDED, 10),
            state("c", names::STREAM_START, 20),
        ];
        let facts = SessionFacts::from_events(&events).unwrap();
        assert_eq!(facts.live_since, None);
        assert_eq!(facts.ended_at, Some(at(10)));
    }

    #[test]
    fn health_follows_the_last_starvation_event_and_a_breach_is_an_error() {
        let health = StreamEventType::StreamHealthChange;
        let starving = [
            state("a", names::STREAM_START, 1),
            event("c", health, names::STARVATION_END, 30),
            event("b", health, names::STARVATION_START, 20),
            event("d", health, names::STARVATION_START, 40),
        ];
        let recovered = &starving[..3];
        let breach = [
            state("a", names::STREAM_START, 1),
            event("e", StreamEventType::LimitBreach, "Ingest Bitrate", 5),
        ];

        assert!(!SessionFacts::from_events(&starving).unwrap().healthy);
        assert!(SessionFacts::from_events(recovered).unwrap().healthy);
        assert!(!SessionFacts::from_events(recovered).unwrap().has_error);
        let facts = SessionFacts::from_events(&breach).unwrap();
        assert!(facts.has_error);
        assert!(facts.healthy);
    }

    #[test]
    fn no_events_say_nothing() {
        assert_eq!(SessionFacts::from_events(&[]), None);
    }

    #[test]
    fn a_restart_within_a_session_is_live_from_the_new_start() {
        let events = [
            state("a", names::STREAM_START, 1),
            state("b", names::STREAM_FAILURE, 10),
            state("c", names::STREAM_START, 12),
        ];
        let facts = SessionFacts::from_events(&events).unwrap();
        assert_eq!(facts.live_since, Some(at(12)));
        assert_eq!(facts.ended_at, None);
    }
}
