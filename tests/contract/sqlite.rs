//! The contract against the embedded SQLite store, plus what only a file-backed store can show.

use std::sync::Arc;

use serde_json::json;
use showrunner::store::sqlite::SqliteStore;
use showrunner::store::{AccountStore, ChatStore, FollowStore, PollStore, SnapshotStore, Store};
use tempfile::TempDir;

use crate::helpers::{at, chat_message, create_account, new_poll};

/// A store in a fresh database file; the directory goes when the test ends.
async fn open_store() -> (Arc<dyn Store>, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("showrunner.db")).unwrap();
    (Arc::new(store), dir)
}

store_contract!(open_store);

#[tokio::test]
async fn data_survives_closing_and_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("showrunner.db");
    let store = SqliteStore::open(&path).unwrap();
    let alice = create_account(&store, "Alice").await;
    let bobby = create_account(&store, "Bobby").await;
    store.follow(alice.id, bobby.id, at(5)).await.unwrap();
    drop(store);

    let reopened = SqliteStore::open(&path).unwrap();

    assert_eq!(
        reopened.account(alice.id).await.unwrap(),
        Some(alice.clone())
    );
    assert!(reopened.is_following(alice.id, bobby.id).await.unwrap());
}

#[tokio::test]
async fn votes_chat_history_and_snapshots_survive_closing_and_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("showrunner.db");
    let store = SqliteStore::open(&path).unwrap();
    let streamer = create_account(&store, "Streamer").await;
    let viewer = create_account(&store, "Viewer").await;
    let poll = new_poll(streamer.id, &["Yes", "No"], at(10));
    store.create_poll(&poll).await.unwrap();
    store
        .record_votes(poll.id, &[(viewer.id, 1)], at(11))
        .await
        .unwrap();
    let message = chat_message(streamer.id, 7, &viewer);
    store.append_chat(&message, 10).await.unwrap();
    store
        .append_chat(&chat_message(streamer.id, 8, &viewer), 10)
        .await
        .unwrap();
    store.delete_chat(streamer.id, 8).await.unwrap();
    store
        .put_snapshot("stage:one", &json!({"seats": 2}))
        .await
        .unwrap();
    drop(store);

    let reopened = SqliteStore::open(&path).unwrap();

    assert_eq!(
        reopened.poll(poll.id).await.unwrap().unwrap().tally,
        vec![0, 1]
    );
    assert_eq!(
        reopened.recent_chat(streamer.id, 10).await.unwrap(),
        vec![message]
    );
    assert_eq!(
        reopened.last_chat_offset(streamer.id).await.unwrap(),
        Some(8)
    );
    assert_eq!(
        reopened.snapshot("stage:one").await.unwrap(),
        Some(json!({"seats": 2}))
    );
}
