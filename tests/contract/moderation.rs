use std::sync::Arc;

use showrunner::domain::{AccountId, ChatSettings};
use showrunner::store::{RestrictionKind, Store};

use crate::helpers::{at, create_account, restriction};

pub async fn a_timeout_is_in_force_until_the_instant_it_ends(store: Arc<dyn Store>) {
    let channel = create_account(&*store, "Streamer").await;
    let viewer = create_account(&*store, "Viewer").await;
    let timeout = restriction(
        channel.id,
        viewer.id,
        RestrictionKind::Timeout,
        Some(at(60)),
        channel.id,
        at(0),
    );

    store.restrict(timeout.clone()).await.unwrap();

    assert_eq!(
        store
            .restrictions_of(channel.id, viewer.id, at(59))
            .await
            .unwrap(),
        vec![timeout.clone()]
    );
    assert_eq!(
        store.restrictions(channel.id, at(59)).await.unwrap(),
        vec![timeout]
    );
    assert_eq!(
        store
            .restrictions_of(channel.id, viewer.id, at(60))
            .await
            .unwrap(),
        vec![]
    );
    assert_eq!(
        store.restrictions(channel.id, at(60)).await.unwrap(),
        vec![]
    );
}

pub async fn a_ban_without_an_end_is_in_force_until_lifted(store: Arc<dyn Store>) {
    let channel = create_account(&*store, "Streamer").await;
    let viewer = create_account(&*store, "Viewer").await;
    let ban = restriction(
        channel.id,
        viewer.id,
        RestrictionKind::Ban,
        None,
        channel.id,
        at(0),
    );
    store.restrict(ban.clone()).await.unwrap();

    let years_later = store
        .restrictions_of(channel.id, viewer.id, at(10 * 365 * 24 * 3600))
        .await
        .unwrap();
    let lifted = store
        .lift(channel.id, viewer.id, RestrictionKind::Ban)
        .await
        .unwrap();

    assert_eq!(years_later, vec![ban]);
    assert!(lifted);
    assert_eq!(
        store
            .restrictions_of(channel.id, viewer.id, at(1))
            .await
            .unwrap(),
        vec![]
    );
}

pub async fn restricting_again_replaces_the_restriction_of_that_kind(store: Arc<dyn Store>) {
    let channel = create_account(&*store, "Streamer").await;
    let moderator = create_account(&*store, "Modder").await;
    let viewer = create_account(&*store, "Viewer").await;
    let short = restriction(
        channel.id,
        viewer.id,
        RestrictionKind::Timeout,
        Some(at(60)),
        channel.id,
        at(0),
    );
    let longer = restriction(
        channel.id,
        viewer.id,
        RestrictionKind::Timeout,
        Some(at(600)),
        moderator.id,
        at(30),
    );
    let shortened = restriction(
        channel.id,
        viewer.id,
        RestrictionKind::Timeout,
        Some(at(40)),
        channel.id,
        at(35),
    );

    store.restrict(short).await.unwrap();
    store.restrict(longer.clone()).await.unwrap();

    assert_eq!(
        store.restrictions(channel.id, at(120)).await.unwrap(),
        vec![longer]
    );

    store.restrict(shortened.clone()).await.unwrap();

    assert_eq!(
        store.restrictions(channel.id, at(39)).await.unwrap(),
        vec![shortened]
    );
    assert_eq!(
        store.restrictions(channel.id, at(40)).await.unwrap(),
        vec![]
    );
}

pub async fn a_ban_and_a_timeout_of_one_user_are_kept_apart(store: Arc<dyn Store>) {
    let channel = create_account(&*store, "Streamer").await;
    let viewer = create_account(&*store, "Viewer").await;
    let timeout = restriction(
        channel.id,
        viewer.id,
        RestrictionKind::Timeout,
        Some(at(600)),
        channel.id,
        at(1),
    );
    let ban = restriction(
        channel.id,
        viewer.id,
        RestrictionKind::Ban,
        None,
        channel.id,
        at(2),
    );
    store.restrict(timeout.clone()).await.unwrap();
    store.restrict(ban.clone()).await.unwrap();

    let both = store
        .restrictions_of(channel.id, viewer.id, at(3))
        .await
        .unwrap();
    store
        .lift(channel.id, viewer.id, RestrictionKind::Ban)
        .await
        .unwrap();
    let after_unban = store
        .restrictions_of(channel.id, viewer.id, at(3))
        .await
        .unwrap();

    assert_eq!(both, vec![ban, timeout.clone()]);
    assert_eq!(after_unban, vec![timeout]);
}

pub async fn lifting_returns_whether_there_was_a_restriction_to_lift(store: Arc<dyn Store>) {
    let channel = create_account(&*store, "Streamer").await;
    let viewer = create_account(&*store, "Viewer").await;
    let never = store
        .lift(channel.id, viewer.id, RestrictionKind::Ban)
        .await
        .unwrap();
    store
        .restrict(restriction(
            channel.id,
            viewer.id,
            RestrictionKind::Ban,
            None,
            channel.id,
            at(0),
        ))
        .await
        .unwrap();

    let other_kind = store
        .lift(channel.id, viewer.id, RestrictionKind::Timeout)
        .await
        .unwrap();
    let first = store
        .lift(channel.id, viewer.id, RestrictionKind::Ban)
        .await
        .unwrap();
    let second = store
        .lift(channel.id, viewer.id, RestrictionKind::Ban)
        .await
        .unwrap();

    assert!(!never);
    assert!(!other_kind);
    assert!(first);
    assert!(!second);
}

pub async fn a_channels_restrictions_in_force_are_listed_newest_first(store: Arc<dyn Store>) {
    let channel = create_account(&*store, "Streamer").await;
    let elsewhere = create_account(&*store, "Elsewhere").await;
    let early = create_account(&*store, "Early").await;
    let late = create_account(&*store, "Late").await;
    let expired = create_account(&*store, "Expired").await;
    let early_ban = restriction(
        channel.id,
        early.id,
        RestrictionKind::Ban,
        None,
        channel.id,
        at(10),
    );
    let late_timeout = restriction(
        channel.id,
        late.id,
        RestrictionKind::Timeout,
        Some(at(1000)),
        channel.id,
        at(30),
    );
    let expired_timeout = restriction(
        channel.id,
        expired.id,
        RestrictionKind::Timeout,
        Some(at(50)),
        channel.id,
        at(20),
    );
    let other_channels = restriction(
        elsewhere.id,
        late.id,
        RestrictionKind::Ban,
        None,
        elsewhere.id,
        at(40),
    );
    for r in [&late_timeout, &early_ban, &expired_timeout, &other_channels] {
        store.restrict(r.clone()).await.unwrap();
    }

    let listed = store.restrictions(channel.id, at(100)).await.unwrap();
    let of_late = store
        .restrictions_of(channel.id, late.id, at(100))
        .await
        .unwrap();

    assert_eq!(listed, vec![late_timeout.clone(), early_ban]);
    assert_eq!(of_late, vec![late_timeout]);
    assert_eq!(
        store
            .restrictions_of(channel.id, expired.id, at(100))
            .await
            .unwrap(),
        vec![]
    );
}

pub async fn adding_a_moderator_is_idempotent(store: Arc<dyn Store>) {
    let channel = create_account(&*store, "Streamer").await;
    let helper = create_account(&*store, "Helper").await;

    let first = store.add_moderator(channel.id, helper.id).await.unwrap();
    let second = store.add_moderator(channel.id, helper.id).await.unwrap();

    assert!(first);
    assert!(!second);
    assert_eq!(store.moderators(channel.id).await.unwrap(), vec![helper.id]);
}

pub async fn removing_a_moderator_is_idempotent(store: Arc<dyn Store>) {
    let channel = create_account(&*store, "Streamer").await;
    let helper = create_account(&*store, "Helper").await;
    let never = store.remove_moderator(channel.id, helper.id).await.unwrap();
    store.add_moderator(channel.id, helper.id).await.unwrap();

    let first = store.remove_moderator(channel.id, helper.id).await.unwrap();
    let second = store.remove_moderator(channel.id, helper.id).await.unwrap();

    assert!(!never);
    assert!(first);
    assert!(!second);
    assert_eq!(store.moderators(channel.id).await.unwrap(), vec![]);
}

pub async fn moderators_are_listed_per_channel(store: Arc<dyn Store>) {
    let channel = create_account(&*store, "Streamer").await;
    let other = create_account(&*store, "Other").await;
    let helper = create_account(&*store, "Helper").await;
    let second_helper = create_account(&*store, "Second").await;
    store.add_moderator(channel.id, helper.id).await.unwrap();
    store
        .add_moderator(channel.id, second_helper.id)
        .await
        .unwrap();
    store.add_moderator(other.id, helper.id).await.unwrap();

    // The order is not part of the contract.
    let mut of_channel = store.moderators(channel.id).await.unwrap();
    of_channel.sort();
    let of_other = store.moderators(other.id).await.unwrap();

    let mut expected: Vec<AccountId> = vec![helper.id, second_helper.id];
    expected.sort();
    assert_eq!(of_channel, expected);
    assert_eq!(of_other, vec![helper.id]);
    assert_eq!(store.moderators(helper.id).await.unwrap(), vec![]);
}

pub async fn chat_settings_are_the_defaults_until_saved(store: Arc<dyn Store>) {
    let channel = create_account(&*store, "Streamer").await;

    let settings = store.chat_settings(channel.id).await.unwrap();

    assert_eq!(settings, ChatSettings::default());
}

pub async fn saved_chat_settings_read_back_and_are_replaced_whole(store: Arc<dyn Store>) {
    let channel = create_account(&*store, "Streamer").await;
    let other = create_account(&*store, "Other").await;
    let strict = ChatSettings {
        slow_mode_secs: 30,
        followers_only_minutes: Some(10),
        banned_words: vec!["spoiler".to_owned(), "rude phrase".to_owned()],
    };
    let relaxed = ChatSettings {
        slow_mode_secs: 5,
        followers_only_minutes: None,
        banned_words: vec![],
    };

    store.set_chat_settings(channel.id, &strict).await.unwrap();
    let saved = store.chat_settings(channel.id).await.unwrap();
    store.set_chat_settings(channel.id, &relaxed).await.unwrap();
    let replaced = store.chat_settings(channel.id).await.unwrap();

    assert_eq!(saved, strict);
    assert_eq!(replaced, relaxed);
    assert_eq!(
        store.chat_settings(other.id).await.unwrap(),
        ChatSettings::default()
    );
}
