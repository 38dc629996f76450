use std::sync::Arc;

use showrunner::store::Store;

use crate::helpers::at;

pub async fn hits_are_counted_per_key_and_per_window(store: Arc<dyn Store>) {
    let first_window = at(0);
    let next_window = at(60);

    let mut counts = Vec::new();
    for _ in 0..3 {
        counts.push(store.hit("login:alice", first_window).await.unwrap());
    }
    let other_key = store.hit("login:bobby", first_window).await.unwrap();
    let next = store.hit("login:alice", next_window).await.unwrap();

    assert_eq!(counts, vec![1, 2, 3]);
    assert_eq!(other_key, 1);
    assert_eq!(next, 1);
    assert_eq!(store.hits("login:alice", next_window).await.unwrap(), 1);
    assert_eq!(store.hits("login:bobby", first_window).await.unwrap(), 1);
}

pub async fn reading_hits_does_not_count_one(store: Arc<dyn Store>) {
    assert_eq!(store.hits("login:alice", at(0)).await.unwrap(), 0);
    store.hit("login:alice", at(0)).await.unwrap();

    let read_twice = [
        store.hits("login:alice", at(0)).await.unwrap(),
        store.hits("login:alice", at(0)).await.unwrap(),
    ];

    assert_eq!(read_twice, [1, 1]);
}
