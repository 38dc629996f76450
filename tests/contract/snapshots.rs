use std::sync::Arc;

use serde_json::json;
use showrunner::store::Store;

pub async fn a_snapshot_reads_back_as_it_was_put(store: Arc<dyn Store>) {
    let value =
        json!({"poll": {"options": ["a", "b"], "tally": [3, 4]}, "offset": 17, "ratio": 0.25});

    store.put_snapshot("channel:one", &value).await.unwrap();

    assert_eq!(store.snapshot("channel:one").await.unwrap(), Some(value));
    assert_eq!(store.snapshot("channel:two").await.unwrap(), None);
}

pub async fn putting_a_snapshot_again_replaces_it(store: Arc<dyn Store>) {
    store
        .put_snapshot("stage:one", &json!({"seats": 1}))
        .await
        .unwrap();

    store
        .put_snapshot("stage:one", &json!({"seats": 2}))
        .await
        .unwrap();

    assert_eq!(
        store.snapshot("stage:one").await.unwrap(),
        Some(json!({"seats": 2}))
    );
}

pub async fn deleting_a_snapshot_is_idempotent(store: Arc<dyn Store>) {
    store.put_snapshot("stage:one", &json!([1])).await.unwrap();
    store.put_snapshot("stage:two", &json!([2])).await.unwrap();

    store.delete_snapshot("stage:one").await.unwrap();
    store.delete_snapshot("stage:one").await.unwrap();
    store.delete_snapshot("never:put").await.unwrap();

    assert_eq!(store.snapshot("stage:one").await.unwrap(), None);
    assert_eq!(store.snapshot("stage:two").await.unwrap(), Some(json!([2])));
}
