//! The relay with recording stand-ins for the two ports it feeds (the AWS adapters behind
//! them are tested in `aws::*`), on a real SQLite store.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use async_trait::async_trait;
use chrono::Utc;
use tokio::sync::{Notify, mpsc};
use uuid::Uuid;

use super::*;
use crate::{
    chat_rooms::{ChatCapability, ChatRoomError, ChatRooms, ChatToken},
    domain::{AvatarPreset, Celebration, Color, Email, StreamAction, Username, stream},
    gateway::protocol::{ActiveActionView, PollView},
    media::LiveStream,
    store::{ChannelResources, NewAccount, Store, sqlite::SqliteStore},
};

const ARN: &str = "arn:aws:ivs:us-east-1:123456789012:channel/AbCdef1G2hij";

/// Records what reached the video service; can hold the first call until released, and can
/// answer "not broadcasting" first.
struct Video {
    sent: mpsc::UnboundedSender<(String, String)>,
    hold_first: Option<Arc<Notify>>,
    started: Arc<Notify>,
    offline_first: std::sync::atomic::AtomicBool,
    calls: std::sync::atomic::AtomicUsize,
}

#[async_trait]
impl Media for Video {
    async fn create_channel(&self, _: AccountId, _: &str) -> Result<ChannelResources, MediaError> {
        unreachable!()
    }
    async fn reset_stream_key(&self, _: &str) -> Result<String, MediaError> {
        unreachable!()
    }
    async fn delete_channel(&self, _: &str) -> Result<(), MediaError> {
        unreachable!()
    }
    async fn stop_stream(&self, _: &str) -> Result<bool, MediaError> {
        unreachable!()
    }
    async fn live_streams(&self) -> Result<Vec<LiveStream>, MediaError> {
        unreachable!()
    }
    async fn ingest_configuration(
        &self,
        _: &str,
        _: &str,
    ) -> Result<Option<stream::IngestConfiguration>, MediaError> {
        unreachable!()
    }
    async fn put_metadata(&self, channel_arn: &str, payload: &str) -> Result<(), MediaError> {
        let call = self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if call == 0 {
            self.started.notify_one();
            if let Some(hold) = &self.hold_first {
                hold.notified().await;
            }
            if self.offline_first.load(std::sync::atomic::Ordering::SeqCst) {
                return Err(MediaError::NotBroadcasting);
            }
        }
        let _ = self.sent.send((channel_arn.to_owned(), payload.to_owned()));
        Ok(())
    }
}

/// Records what reached the chat room.
struct Room {
    calls: mpsc::UnboundedSender<String>,
}

#[async_trait]
impl ChatRooms for Room {
    fn messaging_url(&self) -> String {
        "wss://test".into()
    }
    async fn create_room(&self, _: AccountId, _: &str) -> Result<String, ChatRoomError> {
        Ok("room-1".into())
    }
    async fn delete_room(&self, _: &str) -> Result<(), ChatRoomError> {
        Ok(())
    }
    async fn token(
        &self,
        _: &str,
        _: &str,
        _: &[ChatCapability],
        _: BTreeMap<String, String>,
        _: Duration,
    ) -> Result<ChatToken, ChatRoomError> {
        unreachable!()
    }
    async fn delete_message(&self, _: &str, _: &str, _: &str) -> Result<(), ChatRoomError> {
        unreachable!()
    }
    async fn disconnect_user(
        &self,
        room: &str,
        user_id: &str,
        reason: &str,
    ) -> Result<(), ChatRoomError> {
        let _ = self
            .calls
            .send(format!("disconnect {room} {user_id} ({reason})"));
        Ok(())
    }
    async fn send_event(
        &self,
        room: &str,
        name: &str,
        attributes: BTreeMap<String, String>,
    ) -> Result<(), ChatRoomError> {
        let frame: serde_json::Value =
            serde_json::from_str(&attributes[EVENT_ATTRIBUTE]).expect("the payload is JSON");
        assert_eq!(frame["type"], name);
        let _ = self.calls.send(format!("event {room} {name}"));
        Ok(())
    }
}

struct Fixture {
    store: Arc<dyn Store>,
    channel: AccountId,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("showrunner.db")).unwrap());
    let account = store
        .create_account(NewAccount {
            id: AccountId::new(),
            username: Username::parse("anna").unwrap(),
            email: Email::parse("anna@example.com").unwrap(),
            password_hash: "not a hash".into(),
            email_verified: true,
            color: Color::Blue,
            avatar: AvatarPreset::Bear,
            created_at: Utc::now(),
            channel: ChannelResources {
                arn: ARN.into(),
                ingest_endpoint: "ingest".into(),
                stream_key: "key".into(),
                playback_url: "playback".into(),
            },
        })
        .await
        .unwrap();
    Fixture {
        store,
        channel: account.id,
        _dir: dir,
    }
}

fn video(
    hold_first: Option<Arc<Notify>>,
    offline_first: bool,
) -> (Arc<Video>, mpsc::UnboundedReceiver<(String, String)>) {
    let (sent, received) = mpsc::unbounded_channel();
    let video = Arc::new(Video {
        sent,
        hold_first,
        started: Arc::new(Notify::new()),
        offline_first: offline_first.into(),
        calls: 0.into(),
    });
    (video, received)
}

fn started(channel: AccountId, n: u128) -> ServerFrame {
    ServerFrame::ActionStarted {
        channel: channel.0,
        action: ActiveActionView {
            id: Uuid::from_u128(n),
            action: StreamAction::Celebration(Celebration {}),
            started_at: Utc::now(),
            expires_at: None,
        },
    }
}

fn ended(channel: AccountId, n: u128) -> ServerFrame {
    ServerFrame::ActionEnded {
        channel: channel.0,
        action_id: Uuid::from_u128(n),
        reason: "stopped".into(),
    }
}

async fn next<T>(received: &mut mpsc::UnboundedReceiver<T>) -> T {
    tokio::time::timeout(Duration::from_secs(5), received.recv())
        .await
        .expect("relayed in time")
        .expect("still open")
}

#[tokio::test]
async fn an_action_reaches_the_video_of_its_channel_as_its_websocket_frame() {
    let f = fixture().await;
    let (media, mut sent) = video(None, false);
    let relay = Relay::new(f.store.clone(), Some(media), None);
    let frame = started(f.channel, 1);

    relay.forward(f.channel, &frame);

    let (arn, payload) = next(&mut sent).await;
    assert_eq!(arn, ARN);
    assert_eq!(payload, serde_json::to_string(&frame).unwrap());
}

#[tokio::test]
async fn frames_that_do_not_ride_with_the_video_are_not_sent() {
    let f = fixture().await;
    let (media, mut sent) = video(None, false);
    let relay = Relay::new(f.store.clone(), Some(media), None);

    relay.forward(
        f.channel,
        &ServerFrame::Presence {
            channel: f.channel.0,
            viewers: 3,
        },
    );
    relay.forward(f.channel, &ended(f.channel, 1));

    let (_, payload) = next(&mut sent).await;
    assert!(payload.contains("action_ended"), "{payload}");
}

#[tokio::test]
async fn while_a_call_waits_only_the_newest_pending_event_follows_it() {
    let f = fixture().await;
    let hold = Arc::new(Notify::new());
    let (media, mut sent) = video(Some(hold.clone()), false);
    let relay = Relay::new(f.store.clone(), Some(media.clone()), None);

    relay.forward(f.channel, &started(f.channel, 1));
    media.started.notified().await;
    relay.forward(f.channel, &ended(f.channel, 1));
    relay.forward(f.channel, &started(f.channel, 2));
    hold.notify_one();

    let first = next(&mut sent).await.1;
    let second = next(&mut sent).await.1;
    assert!(first.contains(&Uuid::from_u128(1).to_string()), "{first}");
    assert!(second.contains("action_started"), "{second}");
    assert!(second.contains(&Uuid::from_u128(2).to_string()), "{second}");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(sent.try_recv().is_err(), "the replaced event was not sent");
}

#[tokio::test]
async fn a_channel_that_is_not_broadcasting_loses_that_cue_and_nothing_else() {
    let f = fixture().await;
    let (media, mut sent) = video(None, true);
    let relay = Relay::new(f.store.clone(), Some(media.clone()), None);

    relay.forward(f.channel, &started(f.channel, 1));
    media.started.notified().await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    relay.forward(f.channel, &ended(f.channel, 1));

    let (_, payload) = next(&mut sent).await;
    assert!(payload.contains("action_ended"), "{payload}");
}

fn poll(channel: AccountId) -> PollView {
    let _ = channel;
    PollView {
        id: Uuid::from_u128(5),
        question: "Tea?".into(),
        options: vec!["Yes".into(), "No".into()],
        tally: vec![0, 0],
        total: 0,
        started_at: Utc::now(),
        deadline: Utc::now(),
        closed: false,
    }
}

#[tokio::test]
async fn the_room_gets_poll_events_in_order_with_tallies_spaced_and_banned_users_disconnected() {
    let f = fixture().await;
    let (calls, mut received) = mpsc::unbounded_channel();
    let rooms = RoomDirectory::new(Arc::new(Room { calls }), f.store.clone());
    rooms.open(f.channel, "anna").await.unwrap();
    let relay = Relay::new(f.store.clone(), None, Some(rooms));
    let tally = |n| ServerFrame::PollTally {
        channel: f.channel.0,
        poll_id: Uuid::from_u128(5),
        tally: vec![n, 0],
        total: n,
    };
    let banned = Uuid::from_u128(77);

    relay.forward(
        f.channel,
        &ServerFrame::PollStarted {
            channel: f.channel.0,
            poll: poll(f.channel),
        },
    );
    relay.forward(f.channel, &tally(1));
    relay.forward(f.channel, &tally(2)); // within a second of the first: not sent
    relay.forward(
        f.channel,
        &ServerFrame::Moderation {
            channel: f.channel.0,
            event: ModerationEvent::Banned {
                user_id: banned,
                username: "troll".into(),
            },
        },
    );
    relay.forward(
        f.channel,
        &ServerFrame::PollClosed {
            channel: f.channel.0,
            poll: poll(f.channel),
        },
    );

    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(next(&mut received).await);
    }
    assert_eq!(
        seen,
        [
            "event room-1 poll_started".to_owned(),
            "event room-1 poll_tally".to_owned(),
            format!("disconnect room-1 {banned} (banned)"),
            "event room-1 poll_closed".to_owned(),
        ]
    );
}

#[tokio::test]
async fn a_channel_without_a_room_tells_no_room() {
    let f = fixture().await;
    let (calls, mut received) = mpsc::unbounded_channel();
    let rooms = RoomDirectory::new(Arc::new(Room { calls }), f.store.clone());
    let relay = Relay::new(f.store.clone(), None, Some(rooms));

    relay.forward(f.channel, &started(f.channel, 1));

    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(received.try_recv().is_err());
}

#[test]
fn a_relay_with_no_outlets_is_none() {
    let relay = Relay::none();
    assert!(relay.outlets.is_none());
}
