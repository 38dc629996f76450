use std::sync::Arc;

use showrunner::store::{Store, TokenPurpose};

use crate::helpers::{at, create_account};

const HOUR: i64 = 3600;

pub async fn a_mailed_token_can_be_taken_once(store: Arc<dyn Store>) {
    let alice = create_account(&*store, "Alice").await;
    store
        .put_token(TokenPurpose::VerifyEmail, "mailed", alice.id, at(HOUR))
        .await
        .unwrap();

    let first = store
        .take_token(TokenPurpose::VerifyEmail, "mailed", at(60))
        .await
        .unwrap();
    let second = store
        .take_token(TokenPurpose::VerifyEmail, "mailed", at(61))
        .await
        .unwrap();

    assert_eq!(first, Some(alice.id));
    assert_eq!(second, None);
}

pub async fn two_concurrent_takes_of_one_token_succeed_once(store: Arc<dyn Store>) {
    let alice = create_account(&*store, "Alice").await;
    store
        .put_token(TokenPurpose::ResetPassword, "mailed", alice.id, at(HOUR))
        .await
        .unwrap();
    let (one, other) = (Arc::clone(&store), Arc::clone(&store));

    let (first, second) = tokio::join!(
        one.take_token(TokenPurpose::ResetPassword, "mailed", at(60)),
        other.take_token(TokenPurpose::ResetPassword, "mailed", at(60)),
    );

    let mut outcomes = [first.unwrap(), second.unwrap()];
    outcomes.sort();
    assert_eq!(outcomes, [None, Some(alice.id)]);
}

pub async fn an_expired_token_is_not_taken(store: Arc<dyn Store>) {
    let alice = create_account(&*store, "Alice").await;
    store
        .put_token(TokenPurpose::ResetPassword, "mailed", alice.id, at(HOUR))
        .await
        .unwrap();

    let at_expiry = store
        .take_token(TokenPurpose::ResetPassword, "mailed", at(HOUR))
        .await
        .unwrap();

    assert_eq!(at_expiry, None);
}

pub async fn a_token_is_not_taken_for_another_purpose(store: Arc<dyn Store>) {
    let alice = create_account(&*store, "Alice").await;
    store
        .put_token(TokenPurpose::VerifyEmail, "mailed", alice.id, at(HOUR))
        .await
        .unwrap();

    let as_reset = store
        .take_token(TokenPurpose::ResetPassword, "mailed", at(60))
        .await
        .unwrap();
    let as_verification = store
        .take_token(TokenPurpose::VerifyEmail, "mailed", at(60))
        .await
        .unwrap();

    assert_eq!(as_reset, None);
    assert_eq!(
        as_verification,
        Some(alice.id),
        "the wrong try must not use it up"
    );
}

pub async fn dropping_tokens_removes_only_that_purpose_of_that_account(store: Arc<dyn Store>) {
    let alice = create_account(&*store, "Alice").await;
    let bobby = create_account(&*store, "Bobby").await;
    let put = |purpose, hash: &'static str, account| {
        let store = Arc::clone(&store);
        async move {
            store
                .put_token(purpose, hash, account, at(HOUR))
                .await
                .unwrap()
        }
    };
    put(TokenPurpose::ResetPassword, "alice-reset-1", alice.id).await;
    put(TokenPurpose::ResetPassword, "alice-reset-2", alice.id).await;
    put(TokenPurpose::VerifyEmail, "alice-verify", alice.id).await;
    put(TokenPurpose::ResetPassword, "bobby-reset", bobby.id).await;

    store
        .drop_tokens(TokenPurpose::ResetPassword, alice.id)
        .await
        .unwrap();

    let take = |purpose, hash| store.take_token(purpose, hash, at(60));
    assert_eq!(
        take(TokenPurpose::ResetPassword, "alice-reset-1")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        take(TokenPurpose::ResetPassword, "alice-reset-2")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        take(TokenPurpose::VerifyEmail, "alice-verify")
            .await
            .unwrap(),
        Some(alice.id)
    );
    assert_eq!(
        take(TokenPurpose::ResetPassword, "bobby-reset")
            .await
            .unwrap(),
        Some(bobby.id)
    );
}
