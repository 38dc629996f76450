//! Poll actor tests through the typed [`Realtime`] handle, on a real SQLite store, with tokio's
//! clock paused.
//!
//! Two clocks meet in a poll. Its deadline and `closed_at` are wall-clock (`Utc::now()`), which
//! barely moves while a test runs; its timers (the close, tally spacing) run on tokio time, which
//! these tests move by hand. The poll actor arms its close timer for the deadline's remaining
//! wall-clock time when it starts, so what the tests can honestly assert is *when, in tokio
//! time, the actor closes the poll*: not before `duration - (wall-clock time the test itself
//! took to get there)`, and by `duration`. They never compare wall-clock stamps with tokio time,
//! and they do not test the vote-time deadline check (`Utc::now() >= deadline`), which a paused
//! clock cannot reach; the websocket tests cover it with real time.
//!
//! Store calls run on `spawn_blocking`. On this current-thread runtime tokio does not
//! auto-advance a paused clock while one is in flight, and [`advance_to`] moves the clock in
//! small steps, letting everything settle after each, so a slow disk cannot make time jump past
//! what a test means to observe.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use tokio::time::Instant;
use uuid::Uuid;

use super::TALLY_EVERY;
use crate::{
    actors::{
        ChannelError, Realtime, RealtimeSettings,
        hub::{CloseSignal, ConnSender, Outbox, Subscriber, next_conn_id, outbox},
    },
    domain::{
        AccountId, ActionInput, AvatarPreset, Color, Email, PollSpec, StreamAction, Username,
    },
    gateway::protocol::{PollView, ServerFrame},
    stages::local::LocalStages,
    store::{ChannelResources, NewAccount, Store, sqlite::SqliteStore},
};

struct Fixture {
    realtime: Realtime,
    store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

impl Fixture {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&dir.path().join("showrunner.db")).unwrap());
        let stages = Arc::new(LocalStages::new(b"poll actor tests"));
        let realtime = Realtime::start(store.clone(), stages, RealtimeSettings::default())
            .await
            .unwrap();
        Self {
            realtime,
            store,
            _dir: dir,
        }
    }

    async fn account(&self, name: &str) -> AccountId {
        let account = self
            .store
            .create_account(NewAccount {
                id: AccountId::new(),
                username: Username::parse(name).unwrap(),
                email: Email::parse(&format!("{name}@example.com")).unwrap(),
                password_hash: "not a hash".into(),
                email_verified: true,
                color: Color::Green,
                avatar: AvatarPreset::Dog,
                created_at: Utc::now(),
                channel: ChannelResources {
                    arn: "arn".into(),
                    ingest_endpoint: "ingest".into(),
                    stream_key: "key".into(),
                    playback_url: "playback".into(),
                },
            })
            .await
            .unwrap();
        account.id
    }

    /// Subscribes an in-memory connection; returns its outbox, snapshot already read.
    async fn viewer(&self, channel: AccountId) -> Outbox {
        let (tx, mut rx) = outbox(1024, None);
        let sender = ConnSender::new(next_conn_id(), tx, Arc::new(CloseSignal::default()));
        self.realtime
            .subscribe(channel, Subscriber { sender, user: None }, 1, None)
            .await
            .unwrap();
        rx.try_recv().expect("the snapshot comes first");
        rx
    }

    /// Votes, trying again while the poll says it is restarting (as clients are told to).
    async fn vote(&self, channel: AccountId, voter: AccountId, poll: Uuid, option: u32) {
        for _ in 0..100 {
            match self.realtime.vote(channel, voter, poll, option).await {
                Err(ChannelError::Unavailable(_)) => settle().await,
                outcome => return outcome.unwrap(),
            }
        }
        panic!("the poll stayed unavailable");
    }
}

/// The poll frames queued on a viewer's outbox.
fn poll_frames(rx: &mut Outbox) -> Vec<ServerFrame> {
    let mut frames = Vec::new();
    while let Some(bytes) = rx.try_recv() {
        let frame: ServerFrame = serde_json::from_slice(&bytes).unwrap();
        if matches!(
            frame,
            ServerFrame::PollTally { .. } | ServerFrame::PollClosed { .. }
        ) {
            frames.push(frame);
        }
    }
    frames
}

fn closed(frames: &[ServerFrame]) -> Vec<PollView> {
    frames
        .iter()
        .filter_map(|f| match f {
            ServerFrame::PollClosed { poll, .. } => Some(poll.clone()),
            _ => None,
        })
        .collect()
}

/// Lets every task finish what it can: a paused clock moves (by this 1 ms) only once all tasks
/// are idle and no blocking store call is in flight.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(1)).await;
}

/// Moves tokio time to `until` in steps of at most 50 ms, settling after each.
async fn advance_to(until: Instant) {
    while Instant::now() < until {
        let step = (until - Instant::now()).min(Duration::from_millis(50));
        tokio::time::advance(step).await;
        settle().await;
    }
}

fn poll(duration_secs: u32) -> StreamAction {
    ActionInput::Poll {
        question: "Tea or coffee?".into(),
        options: vec!["Tea".into(), "Coffee".into(), "Water".into()],
        duration_secs,
    }
    .parse()
    .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_vote_is_acknowledged_once_stored_and_counted_once() {
    // Arrange
    let fx = Fixture::start().await;
    let owner = fx.account("pollowner").await;
    let fan = fx.account("pollfan").await;
    let poll_id = fx
        .realtime
        .start_action(owner, owner, poll(60))
        .await
        .unwrap()
        .id;

    // Act
    let first = fx.realtime.vote(owner, fan, poll_id, 1).await;
    let stored = fx.store.votes(poll_id).await.unwrap();
    let repeat = fx.realtime.vote(owner, fan, poll_id, 2).await;
    let out_of_range = fx.realtime.vote(owner, owner, poll_id, 3).await;
    let wrong_poll = fx.realtime.vote(owner, owner, Uuid::now_v7(), 0).await;

    // Assert
    assert_eq!(first, Ok(()));
    assert_eq!(stored, [(fan, 1)], "stored before the acknowledgement");
    assert_eq!(repeat, Err(ChannelError::AlreadyVoted));
    assert_eq!(out_of_range, Err(ChannelError::InvalidOption));
    assert_eq!(wrong_poll, Err(ChannelError::NoPoll));
    assert_eq!(
        fx.store.poll(poll_id).await.unwrap().unwrap().tally,
        [0, 1, 0]
    );
}

#[tokio::test(start_paused = true)]
async fn a_poll_closes_at_its_deadline_with_every_vote_it_acknowledged() {
    // Arrange
    let fx = Fixture::start().await;
    let owner = fx.account("deadliner").await;
    let fans = [fx.account("deadfan1").await, fx.account("deadfan2").await];
    let mut viewer = fx.viewer(owner).await;
    let poll_id = fx
        .realtime
        .start_action(owner, owner, poll(10))
        .await
        .unwrap()
        .id;
    let t0 = Instant::now();
    fx.vote(owner, fans[0], poll_id, 2).await;
    fx.vote(owner, fans[1], poll_id, 0).await;

    // Act
    advance_to(t0 + Duration::from_millis(9500)).await;
    let before = fx.realtime.state(owner).await.unwrap();
    let frames_before = poll_frames(&mut viewer);
    advance_to(t0 + Duration::from_secs(10)).await;
    let after = fx.realtime.state(owner).await.unwrap();
    let frames_after = poll_frames(&mut viewer);
    let late_vote = fx.realtime.vote(owner, owner, poll_id, 1).await;

    // Assert
    assert!(before.poll.is_some_and(|p| !p.closed));
    assert_eq!(closed(&frames_before), []);
    let results = closed(&frames_after);
    assert_eq!(results.len(), 1, "{frames_after:?}");
    assert!(results[0].closed);
    assert_eq!(results[0].tally, [1, 0, 1]);
    assert_eq!(after.poll, None);
    assert_eq!(after.action, None, "the poll's action ended with it");
    let stored = fx.store.poll(poll_id).await.unwrap().unwrap();
    assert!(stored.closed_at.is_some());
    assert_eq!(stored.tally, [1, 0, 1]);
    assert!(
        matches!(
            late_vote,
            Err(ChannelError::NoPoll | ChannelError::PollClosed)
        ),
        "{late_vote:?}"
    );
}

/// In real time, with a poll shorter than the 10 s the edge allows: a restarted poll actor
/// re-arms its close timer from the stored wall-clock deadline, which a paused clock leaves
/// where it was, so only real time can show that it keeps the original deadline.
#[tokio::test]
async fn a_crashed_poll_actor_restarts_from_the_store_and_closes_at_its_original_deadline() {
    // Arrange
    let fx = Fixture::start().await;
    let owner = fx.account("crashowner").await;
    let fans = [
        fx.account("crashfan1").await,
        fx.account("crashfan2").await,
        fx.account("crashfan3").await,
    ];
    let mut viewer = fx.viewer(owner).await;
    let short = StreamAction::Poll(PollSpec {
        question: "Quick?".into(),
        options: vec!["Yes".into(), "No".into(), "Maybe".into()],
        duration: Duration::from_secs(2),
    });
    let started = fx.realtime.start_action(owner, owner, short).await.unwrap();
    let poll_id = started.id;
    fx.vote(owner, fans[0], poll_id, 0).await;
    fx.vote(owner, fans[1], poll_id, 1).await;
    tokio::time::sleep(Duration::from_millis(700)).await;

    // Act
    fx.realtime.crash_poll(owner).await;
    let repeat = loop {
        match fx.realtime.vote(owner, fans[0], poll_id, 2).await {
            Err(ChannelError::Unavailable(_)) => settle().await,
            outcome => break outcome,
        }
    };
    fx.vote(owner, fans[2], poll_id, 1).await;
    let mut frames = Vec::new();
    let results = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let bytes = viewer.recv().await.expect("still subscribed");
            match serde_json::from_slice::<ServerFrame>(&bytes).unwrap() {
                ServerFrame::PollClosed { poll, .. } => break (Utc::now(), poll),
                other => frames.push(other),
            }
        }
    })
    .await
    .expect("the poll closes");
    let stored = fx.store.poll(poll_id).await.unwrap().unwrap();

    // Assert: the restarted actor knew who had voted, re-announced the tally, and kept the
    // original deadline.
    assert_eq!(repeat, Err(ChannelError::AlreadyVoted));
    assert!(
        frames
            .iter()
            .any(|f| matches!(f, ServerFrame::PollTally { tally, .. } if tally == &[1, 1, 0])),
        "the tally is re-announced: {frames:?}"
    );
    let (received_at, poll) = results;
    assert_eq!(poll.tally, [1, 2, 0]);
    let deadline = started.expires_at.unwrap();
    let closed_at = stored.closed_at.expect("stored as closed");
    // The store keeps milliseconds (see the channel tests on announced times).
    assert!(
        closed_at >= stored.deadline,
        "closed {}",
        stored.deadline - closed_at
    );
    assert!(
        received_at <= deadline + chrono::TimeDelta::milliseconds(500),
        "closed {} late",
        received_at - deadline
    );
    assert_eq!(stored.tally, [1, 2, 0]);
}

#[tokio::test(start_paused = true)]
async fn tallies_go_out_at_most_every_quarter_second_and_the_last_one_is_final() {
    // Arrange: forty fans vote one after another, 50 ms apart.
    let fx = Fixture::start().await;
    let owner = fx.account("tallyowner").await;
    let mut fans = Vec::new();
    for i in 0..40 {
        fans.push(fx.account(&format!("tallyfan{i}")).await);
    }
    let mut viewer = fx.viewer(owner).await;
    let poll_id = fx
        .realtime
        .start_action(owner, owner, poll(60))
        .await
        .unwrap()
        .id;
    let t0 = Instant::now();

    // Act: note when each tally shows up (to the 50 ms step it arrived in).
    let mut tallies = Vec::new();
    for (i, fan) in fans.iter().enumerate() {
        fx.vote(owner, *fan, poll_id, (i % 3) as u32).await;
        advance_to(t0 + Duration::from_millis(50) * (i as u32 + 1)).await;
        for frame in poll_frames(&mut viewer) {
            if let ServerFrame::PollTally { total, .. } = frame {
                tallies.push((Instant::now(), total));
            }
        }
    }
    advance_to(Instant::now() + TALLY_EVERY * 2).await;
    for frame in poll_frames(&mut viewer) {
        if let ServerFrame::PollTally { total, .. } = frame {
            tallies.push((Instant::now(), total));
        }
    }

    // Assert: spaced by at least `TALLY_EVERY` (up to one 50 ms observation step), never more
    // than four in a second, and the last one counts every vote.
    let gaps: Vec<Duration> = tallies.windows(2).map(|w| w[1].0 - w[0].0).collect();
    assert!(tallies.len() >= 8, "{tallies:?}");
    assert!(
        gaps.iter()
            .all(|g| *g >= TALLY_EVERY - Duration::from_millis(50)),
        "{gaps:?}"
    );
    assert!(
        tallies
            .windows(5)
            .all(|w| w[4].0 - w[0].0 >= Duration::from_millis(950)),
        "{gaps:?}"
    );
    assert_eq!(tallies.last().map(|t| t.1), Some(40));
}

/// In real time, with a one-second poll: votes still on their way when the poll closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn votes_arriving_as_the_poll_closes_get_a_plain_answer() {
    // Arrange: twenty fans who voted, and who keep trying again across the deadline.
    let fx = Fixture::start().await;
    let owner = fx.account("closingowner").await;
    let mut fans = Vec::new();
    for i in 0..20 {
        fans.push(fx.account(&format!("closingfan{i}")).await);
    }
    let short = StreamAction::Poll(PollSpec {
        question: "Now?".into(),
        options: vec!["Yes".into(), "No".into()],
        duration: Duration::from_secs(1),
    });
    let started = fx.realtime.start_action(owner, owner, short).await.unwrap();
    for fan in &fans {
        fx.vote(owner, *fan, started.id, 0).await;
    }
    let until = tokio::time::Instant::now() + Duration::from_millis(1500);

    // Act
    let tasks: Vec<_> = fans
        .iter()
        .map(|fan| {
            let (realtime, fan, poll) = (fx.realtime.clone(), *fan, started.id);
            tokio::spawn(async move {
                let mut answers = Vec::new();
                while tokio::time::Instant::now() < until {
                    answers.push(realtime.vote(owner, fan, poll, 1).await);
                }
                answers
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.extend(task.await.unwrap());
    }

    // Assert: "already voted" until the close, then "closed" or "no poll"; never "try again".
    let odd: Vec<_> = answers
        .iter()
        .filter(|a| {
            !matches!(
                a,
                Err(ChannelError::AlreadyVoted | ChannelError::PollClosed | ChannelError::NoPoll)
            )
        })
        .collect();
    assert!(
        odd.is_empty(),
        "{} of {}: {odd:?}",
        odd.len(),
        answers.len()
    );
    assert!(answers.contains(&Err(ChannelError::AlreadyVoted)));
    assert!(
        answers
            .iter()
            .any(|a| matches!(a, Err(ChannelError::PollClosed | ChannelError::NoPoll)))
    );
}
