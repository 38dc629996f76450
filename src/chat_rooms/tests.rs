//! The room directory over a real SQLite store, with a counting stand-in for the chat service
//! (the IVS Chat adapter itself is tested in `aws::ivschat`).

use std::sync::{
    Mutex,
    atomic::{AtomicUsize, Ordering},
};

use super::*;
use crate::{
    domain::{AvatarPreset, Color, Email, Username},
    store::{ChannelResources, NewAccount, sqlite::SqliteStore},
};

#[derive(Default)]
struct Service {
    created: AtomicUsize,
    deleted: Mutex<Vec<String>>,
}

#[async_trait]
impl ChatRooms for Service {
    fn messaging_url(&self) -> String {
        "wss://test".into()
    }
    async fn create_room(&self, channel: AccountId, _: &str) -> Result<String, ChatRoomError> {
        let n = self.created.fetch_add(1, Ordering::SeqCst);
        // Slow enough for concurrent first uses to overlap.
        tokio::time::sleep(Duration::from_millis(20)).await;
        Ok(format!("room-{channel}-{n}"))
    }
    async fn delete_room(&self, room: &str) -> Result<(), ChatRoomError> {
        self.deleted.lock().unwrap().push(room.to_owned());
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
    async fn disconnect_user(&self, _: &str, _: &str, _: &str) -> Result<(), ChatRoomError> {
        unreachable!()
    }
    async fn send_event(
        &self,
        _: &str,
        _: &str,
        _: BTreeMap<String, String>,
    ) -> Result<(), ChatRoomError> {
        unreachable!()
    }
}

async fn store_with_channel() -> (Arc<dyn Store>, AccountId, tempfile::TempDir) {
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
                arn: "arn".into(),
                ingest_endpoint: "ingest".into(),
                stream_key: "key".into(),
                playback_url: "playback".into(),
            },
        })
        .await
        .unwrap();
    (store, account.id, dir)
}

#[tokio::test]
async fn a_channel_gets_one_room_which_a_restarted_process_finds_again() {
    let (store, channel, _dir) = store_with_channel().await;
    let service = Arc::new(Service::default());
    let rooms = RoomDirectory::new(service.clone(), store.clone());

    let room = rooms.open(channel, "anna").await.unwrap();
    let again = rooms.open(channel, "anna").await.unwrap();
    let restarted = RoomDirectory::new(service.clone(), store.clone());

    assert_eq!(room, again);
    assert_eq!(restarted.room_of(channel).await.unwrap(), Some(room));
    assert_eq!(service.created.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn first_uses_at_the_same_time_make_one_room() {
    let (store, channel, _dir) = store_with_channel().await;
    let service = Arc::new(Service::default());
    let rooms = RoomDirectory::new(service.clone(), store);

    let opened = futures::future::join_all((0..5).map(|_| rooms.open(channel, "anna"))).await;

    let first = opened[0].as_ref().unwrap();
    assert!(opened.iter().all(|r| r.as_ref().unwrap() == first));
    assert_eq!(service.created.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn closing_deletes_the_room_and_forgets_it_and_is_idempotent() {
    let (store, channel, _dir) = store_with_channel().await;
    let service = Arc::new(Service::default());
    let rooms = RoomDirectory::new(service.clone(), store.clone());
    let room = rooms.open(channel, "anna").await.unwrap();

    rooms.close(channel).await.unwrap();
    rooms.close(channel).await.unwrap();

    assert_eq!(*service.deleted.lock().unwrap(), [room]);
    assert_eq!(rooms.room_of(channel).await.unwrap(), None);
    assert_eq!(
        RoomDirectory::new(service, store)
            .room_of(channel)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn the_room_record_goes_with_the_account() {
    let (store, channel, _dir) = store_with_channel().await;
    let rooms = RoomDirectory::new(Arc::new(Service::default()), store.clone());
    rooms.open(channel, "anna").await.unwrap();

    store.delete_account(channel).await.unwrap();

    assert_eq!(
        RoomDirectory::new(Arc::new(Service::default()), store)
            .room_of(channel)
            .await
            .unwrap(),
        None
    );
}
