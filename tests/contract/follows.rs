use std::sync::Arc;

use showrunner::domain::AccountId;
use showrunner::store::{Followed, Store, StoreError};

use crate::helpers::{at, create_account};

fn followed_ids(list: &[Followed]) -> Vec<AccountId> {
    list.iter().map(|f| f.account.id).collect()
}

pub async fn following_twice_keeps_the_first_follow(store: Arc<dyn Store>) {
    let alice = create_account(&*store, "Alice").await;
    let bobby = create_account(&*store, "Bobby").await;

    let first = store.follow(alice.id, bobby.id, at(10)).await.unwrap();
    let second = store.follow(alice.id, bobby.id, at(20)).await.unwrap();

    assert!(first);
    assert!(!second);
    assert!(store.is_following(alice.id, bobby.id).await.unwrap());
    assert!(!store.is_following(bobby.id, alice.id).await.unwrap());
    assert_eq!(
        store.follow_since(alice.id, bobby.id).await.unwrap(),
        Some(at(10))
    );
    assert_eq!(store.follow_since(bobby.id, alice.id).await.unwrap(), None);
    assert_eq!(
        store.following(alice.id, 10).await.unwrap(),
        vec![Followed {
            account: bobby,
            followed_at: at(10),
        }]
    );
}

pub async fn unfollowing_is_idempotent(store: Arc<dyn Store>) {
    let alice = create_account(&*store, "Alice").await;
    let bobby = create_account(&*store, "Bobby").await;
    store.follow(alice.id, bobby.id, at(10)).await.unwrap();

    let first = store.unfollow(alice.id, bobby.id).await.unwrap();
    let second = store.unfollow(alice.id, bobby.id).await.unwrap();

    assert!(first);
    assert!(!second);
    assert!(!store.is_following(alice.id, bobby.id).await.unwrap());
    assert_eq!(store.following(alice.id, 10).await.unwrap(), vec![]);
}

pub async fn following_a_missing_account_is_not_found(store: Arc<dyn Store>) {
    let alice = create_account(&*store, "Alice").await;
    let ghost = AccountId::new();

    let to_ghost = store.follow(alice.id, ghost, at(10)).await;
    let from_ghost = store.follow(ghost, alice.id, at(10)).await;

    assert!(
        matches!(to_ghost, Err(StoreError::NotFound)),
        "{to_ghost:?}"
    );
    assert!(
        matches!(from_ghost, Err(StoreError::NotFound)),
        "{from_ghost:?}"
    );
    assert_eq!(store.following(alice.id, 10).await.unwrap(), vec![]);
}

pub async fn following_lists_live_channels_first_then_the_most_recently_followed(
    store: Arc<dyn Store>,
) {
    let viewer = create_account(&*store, "Viewer").await;
    let offline_old = create_account(&*store, "OfflineOld").await;
    let live_early = create_account(&*store, "LiveEarly").await;
    let offline_new = create_account(&*store, "OfflineNew").await;
    let live_late = create_account(&*store, "LiveLate").await;
    let unfollowed = create_account(&*store, "Stranger").await;
    // Follow order is deliberately unrelated to the expected order.
    store.follow(viewer.id, live_late.id, at(1)).await.unwrap();
    store
        .follow(viewer.id, offline_old.id, at(2))
        .await
        .unwrap();
    store.follow(viewer.id, live_early.id, at(3)).await.unwrap();
    store
        .follow(viewer.id, offline_new.id, at(4))
        .await
        .unwrap();
    store.set_live(live_early.id, Some(at(100))).await.unwrap();
    store.set_live(live_late.id, Some(at(200))).await.unwrap();
    store.set_live(unfollowed.id, Some(at(300))).await.unwrap();

    let list = store.following(viewer.id, 10).await.unwrap();

    assert_eq!(
        followed_ids(&list),
        vec![live_late.id, live_early.id, offline_new.id, offline_old.id]
    );
    assert_eq!(list[0].followed_at, at(1));
    assert_eq!(list[0].account.live_since, Some(at(200)));
    assert_eq!(list[3].followed_at, at(2));
    assert_eq!(list[3].account, offline_old);
}

pub async fn the_following_list_is_cut_at_the_limit_after_ordering(store: Arc<dyn Store>) {
    let viewer = create_account(&*store, "Viewer").await;
    let offline_new = create_account(&*store, "OfflineNew").await;
    let offline_old = create_account(&*store, "OfflineOld").await;
    let live = create_account(&*store, "LiveNow").await;
    store.follow(viewer.id, live.id, at(1)).await.unwrap();
    store
        .follow(viewer.id, offline_old.id, at(2))
        .await
        .unwrap();
    store
        .follow(viewer.id, offline_new.id, at(3))
        .await
        .unwrap();
    store.set_live(live.id, Some(at(100))).await.unwrap();

    let two = store.following(viewer.id, 2).await.unwrap();
    let none = store.following(viewer.id, 0).await.unwrap();

    assert_eq!(followed_ids(&two), vec![live.id, offline_new.id]);
    assert_eq!(none, vec![]);
}
