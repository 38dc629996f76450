use std::sync::Arc;

use showrunner::domain::AccountId;
use showrunner::store::{NewSession, Rotation, Store};

use crate::helpers::{at, create_account, new_session, no_grace};

const HOUR: i64 = 3600;

/// A session of `account` made with the token `first` (expiring in an hour), then rotated from
/// `first` to `second` at 60 s (expiring in two), without grace.
async fn rotated_once(
    store: &dyn Store,
    account: AccountId,
    first: &str,
    second: &str,
) -> NewSession {
    let session = new_session(account, first, at(HOUR));
    store.create_session(session.clone()).await.unwrap();
    store
        .rotate_refresh_token(first, second, at(60), at(2 * HOUR), no_grace())
        .await
        .unwrap();
    session
}

pub async fn rotating_the_current_refresh_token_extends_the_session(store: Arc<dyn Store>) {
    let alice = create_account(&*store, "Alice").await;
    let session = new_session(alice.id, "first", at(HOUR));
    store.create_session(session.clone()).await.unwrap();

    let rotation = store
        .rotate_refresh_token("first", "second", at(60), at(2 * HOUR), no_grace())
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
            .rotate_refresh_token("second", "third", at(120), at(3 * HOUR), no_grace())
            .await
            .unwrap(),
        Rotation::Rotated { .. }
    ));
}

pub async fn rotating_a_spent_refresh_token_revokes_the_session(store: Arc<dyn Store>) {
    let alice = create_account(&*store, "Alice").await;
    let session = rotated_once(&*store, alice.id, "first", "second").await;

    let replay = store
        .rotate_refresh_token("first", "stolen", at(120), at(2 * HOUR), no_grace())
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
            .rotate_refresh_token("second", "third", at(180), at(2 * HOUR), no_grace())
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
        .rotate_refresh_token("never-issued", "next", at(60), at(2 * HOUR), no_grace())
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
        .rotate_refresh_token("first", "second", at(HOUR), at(2 * HOUR), no_grace())
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
        one.rotate_refresh_token("first", "second-a", at(60), at(2 * HOUR), no_grace()),
        other.rotate_refresh_token("first", "second-b", at(60), at(2 * HOUR), no_grace()),
    );

    let outcomes = [first.unwrap(), second.unwrap()];
    let rotated = outcomes
        .iter()
        .filter(|r| matches!(r, Rotation::Rotated { .. }))
        .count();
    assert_eq!(rotated, 1, "{outcomes:?}");
}

pub async fn the_token_last_spent_presented_within_the_grace_rotates_again_and_only_the_newest_works(
    store: Arc<dyn Store>,
) {
    let alice = create_account(&*store, "Alice").await;
    let session = rotated_once(&*store, alice.id, "first", "second").await;

    // The answer carrying "second" was lost; "first" comes again 10 s later, grace 30 s.
    let retry = store
        .rotate_refresh_token("first", "third", at(70), at(3 * HOUR), at(40))
        .await
        .unwrap();

    assert_eq!(
        retry,
        Rotation::Rotated {
            session: session.id,
            account: alice.id,
        }
    );
    // The retry extended the session as a rotation does.
    assert!(
        store
            .session_alive(session.id, alice.id, at(2 * HOUR + 60))
            .await
            .unwrap()
    );
    // "third" is current; "second", which the lost answer carried, is spent: presenting it is a
    // replay, and revokes the session with everything in it.
    assert!(matches!(
        store
            .rotate_refresh_token("third", "fourth", at(80), at(3 * HOUR), at(50))
            .await
            .unwrap(),
        Rotation::Rotated { .. }
    ));
    assert_eq!(
        store
            .rotate_refresh_token("second", "stolen", at(90), at(3 * HOUR), at(60))
            .await
            .unwrap(),
        Rotation::Reused {
            session: session.id,
            account: alice.id,
        }
    );
    assert_eq!(
        store
            .rotate_refresh_token("fourth", "fifth", at(100), at(3 * HOUR), at(70))
            .await
            .unwrap(),
        Rotation::Invalid
    );
}

pub async fn the_grace_forgives_only_the_latest_rotations_token_and_only_within_its_time(
    store: Arc<dyn Store>,
) {
    let alice = create_account(&*store, "Alice").await;
    // Rotated twice: "first" is no longer the token the latest rotation spent.
    let twice = rotated_once(&*store, alice.id, "first", "second").await;
    store
        .rotate_refresh_token("second", "third", at(65), at(2 * HOUR), no_grace())
        .await
        .unwrap();
    // Rotated once, 40 s before "first" comes again, with a 30 s grace.
    let late = rotated_once(&*store, alice.id, "late-1", "late-2").await;

    let older = store
        .rotate_refresh_token("first", "x", at(70), at(2 * HOUR), at(40))
        .await
        .unwrap();
    let too_late = store
        .rotate_refresh_token("late-1", "y", at(100), at(2 * HOUR), at(70))
        .await
        .unwrap();

    assert_eq!(
        older,
        Rotation::Reused {
            session: twice.id,
            account: alice.id,
        }
    );
    assert_eq!(
        too_late,
        Rotation::Reused {
            session: late.id,
            account: alice.id,
        }
    );
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
            .rotate_refresh_token("first", "second", at(60), at(2 * HOUR), no_grace())
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
