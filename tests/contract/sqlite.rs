//! The contract against the embedded SQLite store, plus what only a file-backed store can show.

use std::sync::Arc;

use showrunner::store::sqlite::SqliteStore;
use showrunner::store::{AccountStore, FollowStore, Store};
use tempfile::TempDir;

use crate::helpers::{at, create_account};

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
