use std::sync::Arc;

use showrunner::domain::{AccountId, Avatar, AvatarPreset, Color, Email, Username};
use showrunner::store::{
    Account, ProfileChange, Rotation, Store, StoreError, TokenPurpose, UniqueField,
};

use crate::helpers::{at, create_account, new_account, new_session};

fn username(raw: &str) -> Username {
    Username::parse(raw).unwrap()
}

fn email(raw: &str) -> Email {
    Email::parse(raw).unwrap()
}

pub async fn a_created_account_reads_back_the_same_by_id_username_key_and_email(
    store: Arc<dyn Store>,
) {
    let new = new_account("Alice.B", "alice@example.com");

    let created = store.create_account(new.clone()).await.unwrap();

    let expected = Account {
        id: new.id,
        username: new.username,
        email: new.email,
        password_hash: new.password_hash,
        email_verified: false,
        color: new.color,
        avatar: Avatar::Preset(new.avatar),
        banner: None,
        created_at: new.created_at,
        channel: new.channel,
        live_since: None,
    };
    assert_eq!(created, expected);
    assert_eq!(store.account(new.id).await.unwrap(), Some(expected.clone()));
    assert_eq!(
        store.account_by_username("alice.b").await.unwrap(),
        Some(expected.clone())
    );
    assert_eq!(
        store
            .account_by_email(&email("alice@example.com"))
            .await
            .unwrap(),
        Some(expected)
    );
    assert_eq!(store.account(AccountId::new()).await.unwrap(), None);
    assert_eq!(store.account_by_username("nobody").await.unwrap(), None);
    assert_eq!(
        store
            .account_by_email(&email("nobody@example.com"))
            .await
            .unwrap(),
        None
    );
}

pub async fn username_uniqueness_ignores_case(store: Arc<dyn Store>) {
    let alice = create_account(&*store, "Alice").await;

    let clash = store
        .create_account(new_account("aLICE", "other@example.com"))
        .await;

    assert!(
        matches!(clash, Err(StoreError::Conflict(UniqueField::Username))),
        "{clash:?}"
    );
    assert_eq!(
        store
            .account_by_email(&email("other@example.com"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.account_by_username("alice").await.unwrap(),
        Some(alice)
    );
}

pub async fn a_taken_email_is_a_conflict_and_creates_nothing(store: Arc<dyn Store>) {
    let alice = create_account(&*store, "Alice").await;

    let clash = store
        .create_account(new_account("Bobby", "alice@example.com"))
        .await;

    assert!(
        matches!(clash, Err(StoreError::Conflict(UniqueField::Email))),
        "{clash:?}"
    );
    assert_eq!(store.account_by_username("bobby").await.unwrap(), None);
    assert_eq!(
        store
            .account_by_email(&email("alice@example.com"))
            .await
            .unwrap(),
        Some(alice)
    );
}

pub async fn a_clash_on_both_username_and_email_names_the_username(store: Arc<dyn Store>) {
    create_account(&*store, "Alice").await;

    let clash = store
        .create_account(new_account("ALICE", "alice@example.com"))
        .await;

    assert!(
        matches!(clash, Err(StoreError::Conflict(UniqueField::Username))),
        "{clash:?}"
    );
}

pub async fn renaming_to_a_name_taken_in_any_case_is_a_conflict(store: Arc<dyn Store>) {
    create_account(&*store, "Alice").await;
    let bobby = create_account(&*store, "Bobby").await;

    let clash = store.rename(bobby.id, &username("ALICE")).await;

    assert!(
        matches!(clash, Err(StoreError::Conflict(UniqueField::Username))),
        "{clash:?}"
    );
    assert_eq!(store.account(bobby.id).await.unwrap(), Some(bobby));
}

pub async fn renaming_to_another_spelling_of_ones_own_name_is_allowed(store: Arc<dyn Store>) {
    let alice = create_account(&*store, "alice").await;

    store.rename(alice.id, &username("AlIcE")).await.unwrap();

    let renamed = store.account_by_username("alice").await.unwrap().unwrap();
    assert_eq!(renamed.id, alice.id);
    assert_eq!(renamed.username.as_str(), "AlIcE");
}

pub async fn a_renamed_account_is_found_by_its_new_name_and_its_old_name_is_free(
    store: Arc<dyn Store>,
) {
    let alice = create_account(&*store, "Alice").await;

    store.rename(alice.id, &username("Alicia")).await.unwrap();

    let renamed = store.account_by_username("alicia").await.unwrap().unwrap();
    assert_eq!(renamed.id, alice.id);
    assert_eq!(renamed.username.as_str(), "Alicia");
    assert_eq!(store.account_by_username("alice").await.unwrap(), None);
    let newcomer = store
        .create_account(new_account("ALICE", "newcomer@example.com"))
        .await
        .unwrap();
    assert_eq!(
        store
            .account_by_username("alice")
            .await
            .unwrap()
            .map(|a| a.id),
        Some(newcomer.id)
    );
}

pub async fn a_profile_change_writes_only_the_fields_it_names(store: Arc<dyn Store>) {
    let alice = create_account(&*store, "Alice").await;

    let recolored = store
        .update_profile(
            alice.id,
            ProfileChange {
                color: Some(Color::Salmon),
                ..ProfileChange::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        recolored,
        Account {
            color: Color::Salmon,
            ..alice.clone()
        }
    );

    let decorated = store
        .update_profile(
            alice.id,
            ProfileChange {
                avatar: Some(Avatar::Uploaded("avatars/alice-1.webp".to_owned())),
                banner: Some(Some("banners/alice-1.webp".to_owned())),
                ..ProfileChange::default()
            },
        )
        .await
        .unwrap();
    let expected = Account {
        avatar: Avatar::Uploaded("avatars/alice-1.webp".to_owned()),
        banner: Some("banners/alice-1.webp".to_owned()),
        ..recolored
    };
    assert_eq!(decorated, expected);
    assert_eq!(
        store.account(alice.id).await.unwrap(),
        Some(expected.clone())
    );

    let unchanged = store
        .update_profile(alice.id, ProfileChange::default())
        .await
        .unwrap();
    assert_eq!(unchanged, expected);

    let plain = store
        .update_profile(
            alice.id,
            ProfileChange {
                avatar: Some(Avatar::Preset(AvatarPreset::Jellyfish)),
                banner: Some(None),
                ..ProfileChange::default()
            },
        )
        .await
        .unwrap();
    let expected = Account {
        avatar: Avatar::Preset(AvatarPreset::Jellyfish),
        banner: None,
        ..expected
    };
    assert_eq!(plain, expected);
    assert_eq!(store.account(alice.id).await.unwrap(), Some(expected));
}

pub async fn each_setter_changes_only_its_own_field(store: Arc<dyn Store>) {
    let alice = create_account(&*store, "Alice").await;

    store.set_stream_key(alice.id, "sk_rotated").await.unwrap();
    let mut expected = alice.clone();
    expected.channel.stream_key = "sk_rotated".to_owned();
    assert_eq!(
        store.account(alice.id).await.unwrap(),
        Some(expected.clone())
    );

    store.set_email_verified(alice.id).await.unwrap();
    expected.email_verified = true;
    assert_eq!(
        store.account(alice.id).await.unwrap(),
        Some(expected.clone())
    );

    store
        .set_password_hash(alice.id, "$argon2id$new")
        .await
        .unwrap();
    expected.password_hash = "$argon2id$new".to_owned();
    assert_eq!(store.account(alice.id).await.unwrap(), Some(expected));
}

pub async fn set_live_marks_a_channel_live_and_offline_again(store: Arc<dyn Store>) {
    let alice = create_account(&*store, "Alice").await;

    store.set_live(alice.id, Some(at(60))).await.unwrap();
    let live = store.account(alice.id).await.unwrap().unwrap();
    assert_eq!(live.live_since, Some(at(60)));
    assert_eq!(store.live_channels(10).await.unwrap(), vec![live]);

    store.set_live(alice.id, None).await.unwrap();
    assert_eq!(store.account(alice.id).await.unwrap(), Some(alice));
    assert_eq!(store.live_channels(10).await.unwrap(), vec![]);
}

pub async fn writes_to_a_missing_account_are_not_found(store: Arc<dyn Store>) {
    let ghost = AccountId::new();

    let outcomes = [
        ("set_email_verified", store.set_email_verified(ghost).await),
        (
            "set_password_hash",
            store.set_password_hash(ghost, "h").await,
        ),
        ("rename", store.rename(ghost, &username("Ghost")).await),
        (
            "update_profile",
            store
                .update_profile(ghost, ProfileChange::default())
                .await
                .map(drop),
        ),
        ("set_stream_key", store.set_stream_key(ghost, "sk").await),
        ("set_live", store.set_live(ghost, Some(at(1))).await),
        ("delete_account", store.delete_account(ghost).await),
    ];

    for (write, outcome) in outcomes {
        assert!(
            matches!(outcome, Err(StoreError::NotFound)),
            "{write}: {outcome:?}"
        );
    }
}

pub async fn deleting_an_account_removes_its_follows_sessions_and_tokens(store: Arc<dyn Store>) {
    let alice = create_account(&*store, "Alice").await;
    let bobby = create_account(&*store, "Bobby").await;
    store.follow(alice.id, bobby.id, at(1)).await.unwrap();
    store.follow(bobby.id, alice.id, at(2)).await.unwrap();
    let alices_session = new_session(alice.id, "alice-refresh", at(3600));
    store.create_session(alices_session.clone()).await.unwrap();
    let bobbys_session = new_session(bobby.id, "bobby-refresh", at(3600));
    store.create_session(bobbys_session.clone()).await.unwrap();
    store
        .put_token(TokenPurpose::VerifyEmail, "alice-mail", alice.id, at(3600))
        .await
        .unwrap();

    store.delete_account(alice.id).await.unwrap();

    assert_eq!(store.account(alice.id).await.unwrap(), None);
    assert_eq!(store.account_by_username("alice").await.unwrap(), None);
    assert!(!store.is_following(alice.id, bobby.id).await.unwrap());
    assert!(!store.is_following(bobby.id, alice.id).await.unwrap());
    assert_eq!(store.following(bobby.id, 10).await.unwrap(), vec![]);
    assert!(
        !store
            .session_alive(alices_session.id, alice.id, at(10))
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .rotate_refresh_token("alice-refresh", "alice-next", at(10), at(7200))
            .await
            .unwrap(),
        Rotation::Invalid
    );
    assert_eq!(
        store
            .take_token(TokenPurpose::VerifyEmail, "alice-mail", at(10))
            .await
            .unwrap(),
        None
    );
    // Nothing of anyone else's went with it.
    assert_eq!(store.account(bobby.id).await.unwrap(), Some(bobby.clone()));
    assert!(
        store
            .session_alive(bobbys_session.id, bobby.id, at(10))
            .await
            .unwrap()
    );
}

pub async fn deleting_an_account_twice_is_not_found(store: Arc<dyn Store>) {
    let alice = create_account(&*store, "Alice").await;
    store.delete_account(alice.id).await.unwrap();

    let again = store.delete_account(alice.id).await;

    assert!(matches!(again, Err(StoreError::NotFound)), "{again:?}");
}

pub async fn live_channels_lists_the_most_recently_started_first_up_to_the_limit(
    store: Arc<dyn Store>,
) {
    let early = create_account(&*store, "Early").await;
    let offline = create_account(&*store, "Offline").await;
    let late = create_account(&*store, "Latest").await;
    let middle = create_account(&*store, "Middle").await;
    store.set_live(early.id, Some(at(10))).await.unwrap();
    store.set_live(late.id, Some(at(30))).await.unwrap();
    store.set_live(middle.id, Some(at(20))).await.unwrap();

    let all = store.live_channels(10).await.unwrap();
    let first_two = store.live_channels(2).await.unwrap();

    let ids = |accounts: &[Account]| accounts.iter().map(|a| a.id).collect::<Vec<_>>();
    assert_eq!(ids(&all), vec![late.id, middle.id, early.id]);
    assert!(!ids(&all).contains(&offline.id));
    assert_eq!(all[0].live_since, Some(at(30)));
    assert_eq!(ids(&first_two), vec![late.id, middle.id]);
}
