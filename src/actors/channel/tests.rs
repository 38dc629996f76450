//! Channel actor tests through the typed [`Realtime`] handle, on a real SQLite store, with
//! tokio's clock paused.
//!
//! Two clocks meet in the channel actor. Its timers (action expiry, the presence/idle tick, the
//! chat tick) and its slow mode and rate limit run on tokio time, which these tests move by hand;
//! action expiry *stamps* and moderation timeouts are wall-clock (`Utc::now()`), which barely
//! moves while a test runs. So the tests assert when, in tokio time, the actor acts, and never
//! compare wall-clock stamps with tokio time (moderation timeouts, wall-clock only, are covered
//! over HTTP with a short real duration).
//!
//! Store calls run on `spawn_blocking`. On this current-thread runtime tokio does not
//! auto-advance a paused clock while one is in flight, and [`advance`] moves the clock in small
//! steps, letting everything settle after each, so a slow disk cannot make time jump past what a
//! test means to observe.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use tokio::time::Instant;

use crate::{
    actors::stage::StageMsg,
    actors::{
        ChannelError, ChatAuthor, Moderation, Realtime, RealtimeSettings,
        hub::{CloseSignal, ConnId, ConnSender, Outbox, Subscriber, next_conn_id, outbox},
    },
    domain::{
        AccountId, ActionInput, AvatarPreset, ChatSettings, ChatText, Color, Email, StreamAction,
        Username,
    },
    gateway::protocol::{ChatHistory, ChatLine, ServerFrame, ViewerRole},
    stages::local::LocalStages,
    store::{ChannelResources, NewAccount, Store, sqlite::SqliteStore},
};

struct Fixture {
    realtime: Realtime,
    store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

impl Fixture {
    async fn start(settings: RealtimeSettings) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&dir.path().join("showrunner.db")).unwrap());
        let stages = Arc::new(LocalStages::new(b"channel actor tests"));
        let realtime = Realtime::start(store.clone(), stages, settings)
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
                color: Color::Blue,
                avatar: AvatarPreset::Bear,
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

    /// Subscribes an in-memory connection and reads past its snapshot.
    async fn viewer(&self, channel: AccountId, user: Option<AccountId>) -> Viewer {
        let (tx, mut rx) = outbox(256, None);
        let conn = next_conn_id();
        let sender = ConnSender::new(conn, tx, Arc::new(CloseSignal::default()));
        self.realtime
            .subscribe(channel, Subscriber { sender, user }, 1, None)
            .await
            .unwrap();
        let snapshot = rx.try_recv().expect("the snapshot comes first");
        Viewer {
            conn,
            rx,
            snapshot: serde_json::from_slice(&snapshot).unwrap(),
        }
    }
}

/// A snapshot exactly as a newcomer gets it on the wire; the newcomer leaves at once.
async fn newcomers_snapshot(
    fx: &Fixture,
    channel: AccountId,
    user: Option<AccountId>,
    chat_offset: Option<u64>,
) -> String {
    let (tx, mut rx) = outbox(256, None);
    let conn = next_conn_id();
    let sender = ConnSender::new(conn, tx, Arc::new(CloseSignal::default()));
    fx.realtime
        .subscribe(channel, Subscriber { sender, user }, 1, chat_offset)
        .await
        .unwrap();
    fx.realtime.unsubscribe(channel, conn);
    let snapshot = rx.try_recv().expect("the snapshot comes first");
    String::from_utf8(snapshot.to_vec()).unwrap()
}

/// One subscribed connection's outbox.
struct Viewer {
    conn: ConnId,
    rx: Outbox,
    snapshot: ServerFrame,
}

impl Viewer {
    /// The frames queued so far.
    fn frames(&mut self) -> Vec<ServerFrame> {
        let mut frames = Vec::new();
        while let Some(bytes) = self.rx.try_recv() {
            frames.push(serde_json::from_slice(&bytes).expect("server frames parse"));
        }
        frames
    }
}

/// Lets every task finish what it can: a paused clock moves (by this 1 ms) only once all tasks
/// are idle and no blocking store call is in flight.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(1)).await;
}

/// Moves tokio time to `until` in steps of at most 100 ms, settling after each.
async fn advance_to(until: Instant) {
    while Instant::now() < until {
        let step = (until - Instant::now()).min(Duration::from_millis(100));
        tokio::time::advance(step).await;
        settle().await;
    }
}

fn author(id: AccountId, name: &str) -> ChatAuthor {
    ChatAuthor {
        id,
        username: name.into(),
        color: Color::Blue,
    }
}

fn text(s: &str) -> ChatText {
    ChatText::parse(s).unwrap()
}

fn quiz(duration_secs: u32) -> StreamAction {
    ActionInput::Quiz {
        question: "2 + 2?".into(),
        answers: vec!["3".into(), "4".into(), "5".into()],
        correct_index: 1,
        duration_secs,
    }
    .parse()
    .unwrap()
}

fn product() -> StreamAction {
    ActionInput::Product {
        title: "Mug".into(),
        price: "9.99".into(),
        image_url: "https://example.com/mug.png".into(),
        description: String::new(),
    }
    .parse()
    .unwrap()
}

fn poll(duration_secs: u32) -> StreamAction {
    ActionInput::Poll {
        question: "Tea or coffee?".into(),
        options: vec!["Tea".into(), "Coffee".into()],
        duration_secs,
    }
    .parse()
    .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_quiz_expires_on_the_server_when_its_time_is_up() {
    // Arrange
    let fx = Fixture::start(RealtimeSettings::default()).await;
    let owner = fx.account("quizowner").await;
    let mut viewer = fx.viewer(owner, None).await;

    // Act
    let started = fx
        .realtime
        .start_action(owner, owner, quiz(5))
        .await
        .unwrap();
    let t0 = Instant::now();
    advance_to(t0 + Duration::from_millis(4900)).await;
    let before = fx.realtime.state(owner).await.unwrap();
    let frames_before = viewer.frames();
    advance_to(t0 + Duration::from_secs(5)).await;
    let after = fx.realtime.state(owner).await.unwrap();
    let frames_after = viewer.frames();

    // Assert: on the timer, not a moment before.
    let ended = |frames: &[ServerFrame]| {
        frames
            .iter()
            .filter_map(|f| match f {
                ServerFrame::ActionEnded {
                    action_id, reason, ..
                } => Some((*action_id, reason.clone())),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(before.action.map(|a| a.id), Some(started.id));
    assert!(
        frames_before.iter().any(
            |f| matches!(f, ServerFrame::ActionStarted { action, .. } if action.id == started.id)
        ),
        "{frames_before:?}"
    );
    assert_eq!(ended(&frames_before), []);
    assert_eq!(after.action, None);
    assert_eq!(ended(&frames_after), [(started.id, "expired".to_owned())]);
    // A newcomer sees nothing left over.
    let late = fx.viewer(owner, None).await;
    assert!(
        matches!(&late.snapshot, ServerFrame::Snapshot { action: None, .. }),
        "{:?}",
        late.snapshot
    );
}

#[tokio::test(start_paused = true)]
async fn an_idle_channel_actor_stops_after_the_idle_timeout_but_not_while_someone_watches() {
    // Arrange
    let idle = Duration::from_secs(30);
    let fx = Fixture::start(RealtimeSettings {
        idle_timeout: idle,
        ..RealtimeSettings::default()
    })
    .await;
    let owner = fx.account("idleowner").await;
    let watched = fx.account("watchedone").await;

    // Act: one channel nobody watches, one watched for two minutes and then left.
    fx.realtime.state(owner).await.unwrap();
    let viewer = fx.viewer(watched, None).await;
    let t0 = Instant::now();
    assert_eq!(fx.realtime.active_channels(), 2);
    // The idle check runs on a one-second tick, so allow it two ticks either side.
    advance_to(t0 + idle - Duration::from_secs(2)).await;
    let before_timeout = fx.realtime.active_channels();
    advance_to(t0 + idle + Duration::from_secs(2)).await;
    let after_timeout = fx.realtime.active_channels();
    advance_to(t0 + Duration::from_secs(120)).await;
    let still_watched = fx.realtime.active_channels();
    fx.realtime.unsubscribe(watched, viewer.conn);
    let t1 = Instant::now();
    advance_to(t1 + idle - Duration::from_secs(2)).await;
    let left_recently = fx.realtime.active_channels();
    advance_to(t1 + idle + Duration::from_secs(2)).await;
    let left_long_ago = fx.realtime.active_channels();

    // Assert
    assert_eq!(before_timeout, 2);
    assert_eq!(after_timeout, 1, "the unwatched channel stopped");
    assert_eq!(still_watched, 1, "a viewer keeps a channel running");
    assert_eq!(left_recently, 1);
    assert_eq!(left_long_ago, 0);
    // A stopped channel starts again on demand.
    assert!(fx.realtime.state(owner).await.is_ok());
    assert_eq!(fx.realtime.active_channels(), 1);
}

#[tokio::test(start_paused = true)]
async fn slow_mode_holds_back_a_second_message_until_the_interval_has_passed() {
    // Arrange
    let fx = Fixture::start(RealtimeSettings::default()).await;
    let owner = fx.account("slowowner").await;
    let fan = fx.account("slowfan").await;
    let settings = ChatSettings {
        slow_mode_secs: 10,
        ..ChatSettings::default()
    };
    fx.realtime
        .moderate(owner, owner, Moderation::Settings(settings))
        .await
        .unwrap();
    let say = |who: AccountId, name: &'static str, what: &'static str| {
        fx.realtime.send_chat(owner, author(who, name), text(what))
    };

    // Act
    let first = say(fan, "slowfan", "one").await;
    let t0 = Instant::now();
    advance_to(t0 + Duration::from_secs(4)).await;
    let at_4s = say(fan, "slowfan", "two").await;
    advance_to(t0 + Duration::from_millis(9900)).await;
    let at_9_9s = say(fan, "slowfan", "two").await;
    advance_to(t0 + Duration::from_secs(10)).await;
    let at_10s = say(fan, "slowfan", "two").await;
    let owner_twice = (
        say(owner, "slowowner", "a").await,
        say(owner, "slowowner", "b").await,
    );

    // Assert: refused with the whole seconds left, rounded up; moderators exempt.
    assert!(first.is_ok(), "{first:?}");
    assert_eq!(at_4s, Err(ChannelError::SlowMode(6)));
    assert_eq!(at_9_9s, Err(ChannelError::SlowMode(1)));
    assert!(at_10s.is_ok(), "{at_10s:?}");
    assert!(
        owner_twice.0.is_ok() && owner_twice.1.is_ok(),
        "{owner_twice:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_rate_limit_admits_twenty_messages_in_thirty_seconds() {
    // Arrange
    let fx = Fixture::start(RealtimeSettings::default()).await;
    let owner = fx.account("rateowner").await;
    let fan = fx.account("ratefan").await;
    let say = || {
        fx.realtime
            .send_chat(owner, author(fan, "ratefan"), text("hi"))
    };

    // Act
    let t0 = Instant::now();
    let mut burst = Vec::new();
    for _ in 0..20 {
        burst.push(say().await);
    }
    let twenty_first = say().await;
    advance_to(t0 + Duration::from_secs(29)).await;
    let at_29s = say().await;
    advance_to(t0 + Duration::from_millis(30_100)).await;
    let after_window = say().await;

    // Assert
    assert!(burst.iter().all(Result::is_ok), "{burst:?}");
    assert_eq!(twenty_first, Err(ChannelError::RateLimited(30)));
    assert_eq!(at_29s, Err(ChannelError::RateLimited(1)));
    assert!(after_window.is_ok(), "{after_window:?}");
}

#[tokio::test(start_paused = true)]
async fn a_crashed_channel_actor_comes_back_with_its_viewers_its_action_and_its_chat() {
    // Arrange
    let fx = Fixture::start(RealtimeSettings::default()).await;
    let owner = fx.account("phoenix").await;
    let mut viewer = fx.viewer(owner, None).await;
    let action = fx
        .realtime
        .start_action(owner, owner, product())
        .await
        .unwrap();
    let before = fx
        .realtime
        .send_chat(owner, author(owner, "phoenix"), text("before"))
        .await
        .unwrap();
    settle().await;
    viewer.frames();

    // Act
    fx.realtime.crash_channel(owner).await;
    settle().await;
    let after = fx
        .realtime
        .send_chat(owner, author(owner, "phoenix"), text("after"))
        .await;
    settle().await;
    let state = fx.realtime.state(owner).await.unwrap();

    // Assert: the same connection still gets the channel's events; nothing was forgotten.
    assert_eq!(after, Ok(before + 1));
    let chat: Vec<String> = viewer
        .frames()
        .into_iter()
        .filter_map(|f| match f {
            ServerFrame::Chat { messages, .. } => Some(messages),
            _ => None,
        })
        .flatten()
        .map(|m| m.text)
        .collect();
    assert_eq!(chat, ["after"]);
    assert_eq!(state.action.map(|a| a.id), Some(action.id));
    assert_eq!(state.viewers, 1);
    assert_eq!(fx.realtime.active_channels(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_restarted_channel_reports_the_poll_times_it_announced() {
    // Arrange
    let fx = Fixture::start(RealtimeSettings::default()).await;
    let owner = fx.account("precise").await;
    let announced = fx
        .realtime
        .start_action(owner, owner, poll(60))
        .await
        .unwrap();

    // Act
    fx.realtime.crash_channel(owner).await;
    settle().await;
    let state = fx.realtime.state(owner).await.unwrap();

    // Assert: the poll and its action agree with what viewers were first told.
    let poll = state.poll.expect("the poll is still running");
    let action = state.action.expect("the poll action is still active");
    assert_eq!(action.expires_at, announced.expires_at);
    assert_eq!(Some(poll.deadline), announced.expires_at, "deadline");
    assert_eq!(poll.started_at, announced.started_at, "started_at");
}

/// A viewer who watches from the start, and the chat it has seen: every `chat` frame less every
/// `chat_deleted`, the newest `keep` of them.
struct Watcher {
    viewer: Viewer,
    keep: usize,
    lines: Vec<ChatLine>,
    last_offset: Option<u64>,
}

impl Watcher {
    fn follow(&mut self) {
        for frame in self.viewer.frames() {
            match frame {
                ServerFrame::Chat { messages, .. } => {
                    self.last_offset = messages.last().map(|m| m.offset).or(self.last_offset);
                    self.lines.extend(messages);
                }
                ServerFrame::ChatDeleted { offset, .. } => {
                    self.lines.retain(|m| m.offset != offset)
                }
                _ => {}
            }
        }
        let excess = self.lines.len().saturating_sub(self.keep);
        self.lines.drain(..excess);
    }
}

/// Whatever changed, an anonymous newcomer's snapshot is the channel's public state (as HTTP
/// readers get it) and the chat the watcher saw, byte for byte as the derived frame writes it.
async fn assert_snapshot_is_current(
    fx: &Fixture,
    (channel, username): (AccountId, &str),
    watcher: &mut Watcher,
    step: &str,
) {
    // Past the chat tick, so that held-back messages have reached the watcher.
    advance_to(Instant::now() + Duration::from_millis(300)).await;
    watcher.follow();
    let state = fx.realtime.state(channel).await.unwrap();
    let expected = ServerFrame::Snapshot {
        id: 1,
        channel: channel.0,
        username: username.into(),
        viewers: state.viewers + 1,
        live: state.live_since.is_some(),
        live_since: state.live_since,
        action: state.action,
        poll: state.poll,
        stage: state.stage.map(|v| serde_json::to_value(v).unwrap()),
        chat: ChatHistory {
            messages: watcher.lines.clone(),
            last_offset: watcher.last_offset,
            history_lost: false,
        },
        settings: state.settings,
        you: ViewerRole::default(),
    };
    let expected = String::from_utf8(expected.to_bytes().to_vec()).unwrap();
    let got = newcomers_snapshot(fx, channel, None, None).await;
    assert_eq!(got, expected, "after: {step}");
}

#[tokio::test(start_paused = true)]
async fn a_newcomers_snapshot_is_the_channels_state_after_every_kind_of_change() {
    // Arrange: a short history, so that old lines age out.
    let keep = 3;
    let fx = Fixture::start(RealtimeSettings {
        chat_history: keep,
        ..RealtimeSettings::default()
    })
    .await;
    let owner = fx.account("snapowner").await;
    let fan = fx.account("snapfan").await;
    let channel = (owner, "snapowner");
    let mut watcher = Watcher {
        viewer: fx.viewer(owner, None).await,
        keep,
        lines: Vec::new(),
        last_offset: None,
    };
    let realtime = &fx.realtime;
    let say = |what: &'static str| async move {
        realtime
            .send_chat(owner, author(owner, "snapowner"), text(what))
            .await
            .unwrap()
    };

    // Act and assert, change by change.
    assert_snapshot_is_current(&fx, channel, &mut watcher, "nothing yet").await;
    say("one").await;
    say("two").await;
    assert_snapshot_is_current(&fx, channel, &mut watcher, "new chat").await;
    say("three").await;
    let four = say("four").await;
    say("five").await;
    assert_snapshot_is_current(&fx, channel, &mut watcher, "chat beyond what is kept").await;
    realtime.delete_chat(owner, owner, four).await.unwrap();
    assert_snapshot_is_current(&fx, channel, &mut watcher, "a deleted message").await;
    realtime
        .start_action(owner, owner, product())
        .await
        .unwrap();
    assert_snapshot_is_current(&fx, channel, &mut watcher, "an action started").await;
    realtime.stop_action(owner, owner).await.unwrap();
    assert_snapshot_is_current(&fx, channel, &mut watcher, "the action stopped").await;
    let started = realtime.start_action(owner, owner, poll(60)).await.unwrap();
    assert_snapshot_is_current(&fx, channel, &mut watcher, "a poll started").await;
    realtime.vote(owner, fan, started.id, 1).await.unwrap();
    assert_snapshot_is_current(&fx, channel, &mut watcher, "a vote tallied").await;
    realtime.stop_action(owner, owner).await.unwrap();
    assert_snapshot_is_current(&fx, channel, &mut watcher, "the poll ended").await;
    let settings = ChatSettings::parse(5, Some(10), vec!["spoiler".into()]).unwrap();
    realtime
        .moderate(owner, owner, Moderation::Settings(settings))
        .await
        .unwrap();
    assert_snapshot_is_current(&fx, channel, &mut watcher, "new chat settings").await;
    realtime.set_live(
        owner,
        Some(chrono::SubsecRound::trunc_subsecs(Utc::now(), 3)),
    );
    assert_snapshot_is_current(&fx, channel, &mut watcher, "gone live").await;
    realtime.start_stage(owner, owner).await.unwrap();
    assert_snapshot_is_current(&fx, channel, &mut watcher, "a stage started").await;
    realtime
        .stage(owner, |reply| StageMsg::Request {
            user: fan,
            username: "snapfan".into(),
            reply,
        })
        .await
        .unwrap();
    assert_snapshot_is_current(&fx, channel, &mut watcher, "a stage join request").await;
    say("six").await;
    assert_snapshot_is_current(&fx, channel, &mut watcher, "chat during a stage").await;

    // Assert: replays from an offset; only the host sees who waits for the stage.
    let replay = |json: String| match serde_json::from_str(&json).unwrap() {
        ServerFrame::Snapshot { chat, .. } => (
            chat.messages
                .into_iter()
                .map(|m| m.text)
                .collect::<Vec<_>>(),
            chat.history_lost,
        ),
        other => panic!("not a snapshot: {other:?}"),
    };
    let three = watcher.lines[0].offset;
    assert_eq!(
        replay(newcomers_snapshot(&fx, owner, None, Some(three)).await),
        (vec!["five".to_owned(), "six".to_owned()], false)
    );
    assert_eq!(
        replay(newcomers_snapshot(&fx, owner, None, Some(1)).await),
        (
            vec!["three".to_owned(), "five".to_owned(), "six".to_owned()],
            true
        )
    );
    let host: serde_json::Value =
        serde_json::from_str(&newcomers_snapshot(&fx, owner, Some(owner), None).await).unwrap();
    assert_eq!(host["stage"]["queue"][0]["user_id"], fan.0.to_string());
    assert_eq!(host["you"]["owner"], true);
    let anonymous: serde_json::Value =
        serde_json::from_str(&newcomers_snapshot(&fx, owner, None, None).await).unwrap();
    assert_eq!(anonymous["stage"].get("queue"), None);
}
