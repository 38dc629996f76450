//! Live state checked against the video service, for when IVS's events never arrive.
//!
//! A channel's live state follows its events, and EventBridge gives up on an event it cannot
//! deliver (its retries used up, or an API destination misconfigured for a while). A lost
//! "Stream End" would leave the channel listed as live for good; a lost "Stream Start" would
//! hide a broadcast from the directory until its end. So every so often the broadcasts on the
//! air (`Media::live_streams`, IVS `ListStreams`) are compared with the channels the store
//! holds live. What disagrees on two checks in a row is repaired with an event of Showrunner's
//! own, which the session's facts read like IVS's ([`SessionFacts`]):
//!
//! - a session held live that is not on the air (no stream on its channel, or a newer one)
//!   gets a "Stream Offline" at the second check's time, which ends it;
//! - a broadcast on the air on one of our channels, of which no event said it started (no
//!   session, or one that neither started nor ended), gets a "Stream Online" at the time IVS
//!   says it started, which makes it live. A session whose events say it ended is not
//!   restarted: events win over a listing that may lag behind them.
//!
//! Only where the video service knows what is broadcasting (AWS mode): locally, live state
//! comes from the simulator's events alone.
//!
//! [`SessionFacts`]: crate::domain::stream::SessionFacts

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};

use super::{StreamError, StreamHealth, StreamResult};
use crate::{
    domain::{
        AccountId,
        stream::{StreamEvent, StreamEventType, names},
    },
    media::LiveStream,
    store::Account,
};

/// A broadcast younger than this is not judged: in its first moments `ListStreams` may not show
/// it yet, and its events may still be on their way.
pub const SETTLE: TimeDelta = TimeDelta::minutes(2);

/// Upper bound on the live channels one check looks at.
const MAX_CHANNELS: usize = 100_000;

/// What one check saw and did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LiveCheck {
    /// Broadcasts on the air, on any channel of the account.
    pub on_air: usize,
    /// Channels held live that were judged.
    pub checked: usize,
    /// Disagreements seen for the first time: repaired at the next check if they last.
    pub suspected: usize,
    /// Channels whose session this check ended ("Stream Offline").
    pub ended: Vec<AccountId>,
    /// Channels whose broadcast this check made live ("Stream Online").
    pub started: Vec<AccountId>,
    /// Channels the store failed on: judged next time.
    pub failed: usize,
}

/// The stream ids one check found in disagreement, for the next check to confirm. Kept between
/// checks by their caller.
#[derive(Debug, Default)]
pub struct Suspects(HashSet<String>);

/// What one check found of one channel.
enum Seen {
    /// In agreement, or not to be judged (too young, not ours, ended by its events).
    Agreed,
    /// In disagreement for the first time: this stream id is confirmed or cleared next time.
    Suspect(String),
    Ended,
    Started,
}

impl StreamHealth {
    /// Compares the broadcasts on the air with the channels the store holds live, at `now`,
    /// and repairs what disagreed at this check and the one before (`suspects`). When the video
    /// service does not answer, nothing is judged and the suspects are kept for the next check.
    /// A channel the store fails on is logged, and the others are still checked.
    pub async fn check_live(
        &self,
        suspects: &mut Suspects,
        now: DateTime<Utc>,
    ) -> StreamResult<LiveCheck> {
        let streams = self.media.live_streams().await.map_err(|e| {
            StreamError::Unavailable(format!("the video service's broadcasts: {e}"))
        })?;
        let mut check = LiveCheck {
            on_air: streams.len(),
            ..LiveCheck::default()
        };
        let mut on_air: HashMap<String, LiveStream> = streams
            .into_iter()
            .map(|s| (s.channel_arn.clone(), s))
            .collect();
        let mut disagreed = HashSet::new();
        let mut tally = |check: &mut LiveCheck, account: AccountId, seen: StreamResult<Seen>| {
            match seen {
                Ok(Seen::Agreed) => {}
                Ok(Seen::Suspect(stream_id)) => {
                    check.suspected += 1;
                    disagreed.insert(stream_id);
                }
                Ok(Seen::Ended) => check.ended.push(account),
                Ok(Seen::Started) => check.started.push(account),
                Err(e) => {
                    tracing::warn!(channel = %account, error = %e, "live check failed for a channel");
                    check.failed += 1;
                }
            }
        };
        for account in self.store.live_channels(MAX_CHANNELS).await? {
            if account.live_since.is_none() {
                continue; // listed for its stage
            }
            let stream = on_air.remove(&account.channel.arn);
            check.checked += 1;
            let seen = self
                .check_held_live(&account, stream.as_ref(), suspects, now)
                .await;
            tally(&mut check, account.id, seen);
        }
        // What is left is on the air on channels not held live.
        for stream in on_air.into_values() {
            let account = match self.store.account_by_channel_arn(&stream.channel_arn).await {
                Ok(Some(account)) => account,
                Ok(None) => continue, // not one of ours
                Err(e) => {
                    tracing::warn!(channel_arn = stream.channel_arn, error = %e, "live check failed for a broadcast");
                    check.failed += 1;
                    continue;
                }
            };
            let seen = self.check_on_air(&account, &stream, suspects, now).await;
            tally(&mut check, account.id, seen);
        }
        suspects.0 = disagreed;
        Ok(check)
    }

    /// A channel the store holds live, and what is on the air on it.
    async fn check_held_live(
        &self,
        account: &Account,
        stream: Option<&LiveStream>,
        suspects: &Suspects,
        now: DateTime<Utc>,
    ) -> StreamResult<Seen> {
        let newest = self.store.stream_sessions(account.id, None, 1).await?;
        let Some(session) = newest.into_iter().next() else {
            return Ok(Seen::Agreed);
        };
        let judged = session
            .live_since
            .is_some_and(|since| now.signed_duration_since(since) >= SETTLE);
        if !judged || stream.is_some_and(|s| s.stream_id == session.stream_id) {
            return Ok(Seen::Agreed);
        }
        // At the second check's time: the stream ended before it, how long before is unknown.
        let offline = own_event(
            format!(
                "showrunner-offline-{}-{}",
                session.stream_id,
                now.timestamp()
            ),
            names::STREAM_OFFLINE,
            now,
        );
        self.repair_if_confirmed(account, &session.stream_id, suspects, &offline, Seen::Ended)
            .await
    }

    /// A broadcast on the air on one of our channels that the store does not hold live.
    async fn check_on_air(
        &self,
        account: &Account,
        stream: &LiveStream,
        suspects: &Suspects,
        now: DateTime<Utc>,
    ) -> StreamResult<Seen> {
        let Some(started_at) = stream.started_at else {
            return Ok(Seen::Agreed);
        };
        if now.signed_duration_since(started_at) < SETTLE {
            return Ok(Seen::Agreed);
        }
        let session = self
            .store
            .stream_session(account.id, &stream.stream_id)
            .await?;
        if session.is_some_and(|s| s.live_since.is_some() || s.ended_at.is_some()) {
            return Ok(Seen::Agreed);
        }
        let online = own_event(
            format!("showrunner-online-{}", stream.stream_id),
            names::STREAM_ONLINE,
            started_at,
        );
        self.repair_if_confirmed(account, &stream.stream_id, suspects, &online, Seen::Started)
            .await
    }

    /// When the check before also disagreed about `stream_id`, records `event` (of Showrunner's
    /// own), brings the channel's live state in line as an event from IVS would, and answers
    /// `repaired`; otherwise changes nothing and answers that `stream_id` is a suspect.
    async fn repair_if_confirmed(
        &self,
        account: &Account,
        stream_id: &str,
        suspects: &Suspects,
        event: &StreamEvent,
        repaired: Seen,
    ) -> StreamResult<Seen> {
        if !suspects.0.contains(stream_id) {
            return Ok(Seen::Suspect(stream_id.to_owned()));
        }
        let _one_at_a_time = self.ingest.lock().await;
        self.store
            .record_stream_event(account.id, Some(stream_id), event)
            .await?;
        self.sync_live(account.id).await?;
        tracing::warn!(
            channel = %account.id,
            stream_id,
            event = event.name,
            "IVS disagreed with the live state on two checks (an event was lost): repaired"
        );
        Ok(repaired)
    }
}

/// A stream state event of Showrunner's own: its id is never an EventBridge id, and its time
/// has whole seconds, as EventBridge's have.
fn own_event(id: String, name: &str, at: DateTime<Utc>) -> StreamEvent {
    StreamEvent {
        id,
        event_type: StreamEventType::StreamStateChange,
        name: name.into(),
        at: at.trunc_subsecs(0),
    }
}
