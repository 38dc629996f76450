use std::sync::Arc;

use showrunner::domain::AccountId;
use showrunner::store::{Rotation, Store};

use crate::helpers::{at, create_account, new_session};

const HOUR: i64 = 3600;

pub async fn rotating_the_current_refresh_token_extends_the_session(store: Arc<dyn Store>) {
    let alice = create_account(&*store, "Alice").await;
    let session = new_session(alice.id, "first", at(HOUR));
    store.create_session(session.clone()).await.unwrap();

    let rotation = store
        .rotate_refresh_token("first", "second", at(60), at(2 * HOUR))
        .await
        .unwrap();

    assert_eq!(
        rotation,
        Rotation::Rotated {
            session: session.id,
            account: alice.id,
        }
    );
    // Alive past the first expiry, dead at the new one.
    assert!(
        store
            .session_alive(session.id, alice.id, at(HOUR + 60))
            .await
            .unwrap()
    );
    assert!(
        !store
            .session_alive(session.id, alice.id, at(2 * HOUR))
            .await
            .unwrap()
    );
    // The new token is the current one now.
    assert!(matches!(
        store
            .rotate_refresh_token("second", "third", at(120), at(3 * HOUR))
            .await
            .unwrap(),
        Rotation::Rotated { .. }
    ));
}

pub async fn rotating_a_spent_refresh_token_revokes_the_session(store: Arc<dyn Store>) {
    let alice = create_account(&*store, "Alice").await;
    let session = new_session(alice.id, "first", at(HOUR));
    store.create_session(session.clone()).await.unwrap();
    store
        .rotate_refresh_token("first", "second", at(60), at(2 * HOUR))
        .await
        .unwrap();

    let replay = store
        .rotate_refresh_token("first", "stolen", at(120), at(2 * HOUR))
        .await
        .unwrap();

    assert_eq!(
        replay,
        Rotation::Reused {
            session: session.id,
            account: alice.id,
        }
    );
    assert!(
        !store
            .session_alive(session.id, alice.id, at(180))
            .await
            .unwrap()
    );
    // The legitimate holder's current token died with the session.
    assert_eq!(
        store
            .rotate_refresh_token("second", "third", at(180), at(2 * HOUR))
            .await
            .unwrap(),
        Rotation::Invalid
    );
}

pub async fn an_unknown_refresh_token_is_invalid(store: Arc<dyn Store>) {
    let alice = create_account(&*store, "Alice").await;
    store
        .create_session(new_session(alice.id, "first", at(HOUR)))
        .await
        .unwrap();

    let rotation = store
        .rotate_refresh_token("never-issued", "next", at(60), at(2 * HOUR))
        .await
        .unwrap();

    assert_eq!(rotation, Rotation::Invalid);
}

pub async fn a_session_expires_at_its_expiry_instant(store: Arc<dyn Store>) {
    let alice = create_account(&*store, "Alice").await;
    let session = new_session(alice.id, "first", at(HOUR));
    store.create_session(session.clone()).await.unwrap();

    let alive_just_before = store
        .session_alive(session.id, alice.id, at(HOUR - 1))
        .await
        .unwrap();
    let alive_at_expiry = store
        .session_alive(session.id, alice.id, at(HOUR))
        .await
        .unwrap();
    let rotation_at_expiry = store
        .rotate_refresh_token("first", "second", at(HOUR), at(2 * HOUR))
        .await
        .unwrap();

    assert!(alive_just_before);
    assert!(!alive_at_expiry);
    assert_eq!(rotation_at_expiry, Rotation::Invalid);
}

pub async fn two_concurrent_rotations_of_one_token_rotate_it_once(store: Arc<dyn Store>) {
    let alice = create_account(&*store, "Alice").await;
    store
        .create_session(new_session(alice.id, "first", at(HOUR)))
        .await
        .unwrap();
    let (one, other) = (Arc::clone(&store), Arc::clone(&store));

    let (first, second) = tokio::join!(
        one.rotate_refresh_token("first", "second-a", at(60), at(2 * HOUR)),
        other.rotate_refresh_token("first", "second-b", at(60), at(2 * HOUR)),
    );

    let outcomes = [first.unwrap(), second.unwrap()];
    let rotated = outcomes
        .iter()
        .filter(|r| matches!(r, Rotation::Rotated { .. }))
        .count();
    assert_eq!(rotated, 1, "{outcomes:?}");
}

pub async fn a_session_is_alive_only_for_its_own_account(store: Arc<dyn Store>) {
    let alice = create_account(&*store, "Alice").await;
    let bobby = create_account(&*store, "Bobby").await;
    let session = new_session(alice.id, "first", at(HOUR));
    store.create_session(session.clone()).await.unwrap();

    assert!(
        store
            .session_alive(session.id, alice.id, at(60))
            .await
            .unwrap()
    );
    assert!(
        !store
            .session_alive(session.id, bobby.id, at(60))
            .await
            .unwrap()
    );
    assert!(
        !store
            .session_alive(uuid::Uuid::now_v7(), alice.id, at(60))
            .await
            .unwrap()
    );
}

pub async fn revoking_a_session_is_idempotent_and_invalidates_its_token(store: Arc<dyn Store>) {
    let alice = create_account(&*store, "Alice").await;
    let session = new_session(alice.id, "first", at(HOUR));
    store.create_session(session.clone()).await.unwrap();

    store.revoke_session(session.id).await.unwrap();
    store.revoke_session(session.id).await.unwrap();

    assert!(
        !store
            .session_alive(session.id, alice.id, at(60))
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .rotate_refresh_token("first", "second", at(60), at(2 * HOUR))
            .await
            .unwrap(),
        Rotation::Invalid
    );
}

pub async fn revoking_all_sessions_of_an_account_can_keep_one(store: Arc<dyn Store>) {
    let alice = create_account(&*store, "Alice").await;
    let bobby = create_account(&*store, "Bobby").await;
    let current = new_session(alice.id, "alice-laptop", at(HOUR));
    let phone = new_session(alice.id, "alice-phone", at(HOUR));
    let tablet = new_session(alice.id, "alice-tablet", at(HOUR));
    let bobbys = new_session(bobby.id, "bobby-laptop", at(HOUR));
    for session in [&current, &phone, &tablet, &bobbys] {
        store.create_session(session.clone()).await.unwrap();
    }
    let alive = |id, account: AccountId| {
        let store = Arc::clone(&store);
        async move { store.session_alive(id, account, at(60)).await.unwrap() }
    };

    let revoked_others = store
        .revoke_sessions(alice.id, Some(current.id))
        .await
        .unwrap();

    assert_eq!(revoked_others, 2);
    assert!(alive(current.id, alice.id).await);
    assert!(!alive(phone.id, alice.id).await);
    assert!(!alive(tablet.id, alice.id).await);
    assert!(alive(bobbys.id, bobby.id).await);

    let revoked_rest = store.revoke_sessions(alice.id, None).await.unwrap();

    assert_eq!(revoked_rest, 1);
    assert!(!alive(current.id, alice.id).await);
    assert!(alive(bobbys.id, bobby.id).await);
}
