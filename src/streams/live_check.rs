//! Live state checked against the video service, for when IVS's end event never arrives.
//!
//! A channel's live state follows its events, and EventBridge gives up on an event it cannot
//! deliver (24 hours of retries, or an API destination that was misconfigured for a while).
//! A lost "Stream End" would leave the channel in the directory as live for good. So every so
//! often each channel that the store says is live is looked up with the video service
//! (`Media::live_stream`, IVS `GetStream`). A session IVS no longer broadcasts, on two checks
//! in a row, gets a "Stream Offline" event stamped with the time of the second check, which
//! ends it as a "Stream End" would ([`SessionFacts`]).
//!
//! Only where the video service knows what is broadcasting (AWS mode): locally, live state
//! comes from the simulator's events alone.
//!
//! [`SessionFacts`]: crate::domain::stream::SessionFacts

use std::collections::HashSet;

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};

use super::{StreamHealth, StreamResult};
use crate::{
    domain::{
        AccountId,
        stream::{StreamEvent, StreamEventType, names},
    },
    store::Account,
};

/// A stream live for less than this is not looked up: in its first moments `GetStream` may not
/// show it yet, and its events may still be on their way.
pub const SETTLE: TimeDelta = TimeDelta::minutes(2);

/// Upper bound on the live channels one check looks at.
const MAX_CHANNELS: usize = 100_000;

/// What one check saw and did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LiveCheck {
    /// Live channels looked up with the video service.
    pub checked: usize,
    /// Sessions the video service did not broadcast for the first time: ended at the next check
    /// if it still does not.
    pub suspected: usize,
    /// Channels whose session this check ended.
    pub ended: Vec<AccountId>,
    /// Lookups that failed (the video service throttled or was down): judged next time.
    pub failed: usize,
}

/// The sessions one check found not broadcast, for the next check to confirm. Kept between
/// checks by their caller.
#[derive(Debug, Default)]
pub struct Suspects(HashSet<String>);

/// What one check found of one channel.
enum Seen {
    /// Live for too short a time to judge (or its newest session is not live after all).
    Skipped,
    Broadcast,
    /// Not broadcast, for the first time: this stream id is confirmed or cleared next time.
    Suspect(String),
    Ended,
    /// The video service did not answer; a suspicion of this stream id carries over.
    Unanswered(Option<String>),
}

impl StreamHealth {
    /// Looks up every channel the store says is live, at `now`, and ends each session the video
    /// service did not broadcast at this check and the one before (`suspects`). A session is
    /// not broadcast when the service has no stream on its channel, or a stream with another id
    /// (a newer broadcast whose start may not have arrived yet either). A channel that fails
    /// is logged and the others are still checked.
    pub async fn check_live(
        &self,
        suspects: &mut Suspects,
        now: DateTime<Utc>,
    ) -> StreamResult<LiveCheck> {
        let mut check = LiveCheck::default();
        let mut not_broadcast = HashSet::new();
        for account in self.store.live_channels(MAX_CHANNELS).await? {
            if account.live_since.is_none() {
                continue; // listed for its stage
            }
            let seen = match self.check_channel(&account, suspects, now).await {
                Ok(seen) => seen,
                Err(e) => {
                    tracing::warn!(channel = %account.id, error = %e, "live check failed for a channel");
                    check.failed += 1;
                    continue;
                }
            };
            match seen {
                Seen::Skipped => continue,
                Seen::Broadcast => {}
                Seen::Suspect(stream_id) => {
                    check.suspected += 1;
                    not_broadcast.insert(stream_id);
                }
                Seen::Ended => check.ended.push(account.id),
                Seen::Unanswered(kept) => {
                    check.failed += 1;
                    not_broadcast.extend(kept);
                }
            }
            check.checked += 1;
        }
        suspects.0 = not_broadcast;
        Ok(check)
    }

    async fn check_channel(
        &self,
        account: &Account,
        suspects: &Suspects,
        now: DateTime<Utc>,
    ) -> StreamResult<Seen> {
        let newest = self.store.stream_sessions(account.id, None, 1).await?;
        let Some(session) = newest.into_iter().next() else {
            return Ok(Seen::Skipped);
        };
        match session.live_since {
            Some(since) if now.signed_duration_since(since) >= SETTLE => {}
            _ => return Ok(Seen::Skipped),
        }
        let suspected = suspects.0.contains(&session.stream_id);
        match self.media.live_stream(&account.channel.arn).await {
            Ok(Some(stream)) if stream.stream_id == session.stream_id => Ok(Seen::Broadcast),
            Ok(_) if suspected => {
                self.end_unreported(account, &session.stream_id, now)
                    .await?;
                Ok(Seen::Ended)
            }
            Ok(_) => Ok(Seen::Suspect(session.stream_id)),
            Err(e) => {
                tracing::warn!(channel = %account.id, error = %e, "live check: the video service did not answer");
                Ok(Seen::Unanswered(suspected.then_some(session.stream_id)))
            }
        }
    }

    /// Records the "Stream Offline" that ends the session, and brings the channel's live state
    /// in line, as an event from IVS would.
    async fn end_unreported(
        &self,
        account: &Account,
        stream_id: &str,
        now: DateTime<Utc>,
    ) -> StreamResult<()> {
        // Whole seconds, as EventBridge stamps events.
        let at = now.trunc_subsecs(0);
        let event = StreamEvent {
            // Ours, so never an EventBridge id; one per check, so a session that went live again
            // can be ended again.
            id: format!("showrunner-offline-{stream_id}-{}", at.timestamp()),
            event_type: StreamEventType::StreamStateChange,
            name: names::STREAM_OFFLINE.into(),
            at,
        };
        let _one_at_a_time = self.ingest.lock().await;
        self.store
            .record_stream_event(account.id, Some(stream_id), &event)
            .await?;
        self.sync_live(account.id).await?;
        tracing::warn!(
            channel = %account.id,
            stream_id,
            "the video service broadcasts nothing for a session still live and no end event came: session ended"
        );
        Ok(())
    }
}
