use std::sync::Arc;

use serde_json::json;
use showrunner::domain::{AccountId, Avatar, AvatarPreset, ChatSettings, Color, Email, Username};
use showrunner::store::{
    Account, ChatRecord, ProfileChange, Restriction, RestrictionKind, Rotation, Store, StoreError,
    TokenPurpose, UniqueField,
};

use crate::helpers::{
    at, chat_message, create_account, new_account, new_poll, new_preset, new_session, no_grace,
    restriction,
};

fn ids(accounts: &[Account]) -> Vec<AccountId> {
    accounts.iter().map(|a| a.id).collect()
}

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
        stage_since: None,
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
        ("set_stage", store.set_stage(ghost, Some(at(1))).await),
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
            .rotate_refresh_token("alice-refresh", "alice-next", at(10), at(7200), no_grace())
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

    assert_eq!(ids(&all), vec![late.id, middle.id, early.id]);
    assert!(!ids(&all).contains(&offline.id));
    assert_eq!(all[0].live_since, Some(at(30)));
    assert_eq!(ids(&first_two), vec![late.id, middle.id]);
}

pub async fn set_stage_marks_a_channel_staged_and_unstaged_again(store: Arc<dyn Store>) {
    let alice = create_account(&*store, "Alice").await;

    store.set_stage(alice.id, Some(at(60))).await.unwrap();
    let staged = store.account(alice.id).await.unwrap().unwrap();
    assert_eq!(
        staged,
        Account {
            stage_since: Some(at(60)),
            ..alice.clone()
        }
    );
    assert_eq!(store.live_channels(10).await.unwrap(), vec![staged]);

    store.set_stage(alice.id, None).await.unwrap();
    assert_eq!(store.account(alice.id).await.unwrap(), Some(alice));
    assert_eq!(store.live_channels(10).await.unwrap(), vec![]);
}

pub async fn live_channels_lists_live_channels_first_then_staged_ones(store: Arc<dyn Store>) {
    let offline = create_account(&*store, "Offline").await;
    let staged_old = create_account(&*store, "StagedOld").await;
    let live_early = create_account(&*store, "LiveEarly").await;
    let staged_new = create_account(&*store, "StagedNew").await;
    let live_late = create_account(&*store, "LiveLate").await;
    let both = create_account(&*store, "LiveAndStaged").await;
    store.set_live(live_early.id, Some(at(10))).await.unwrap();
    store.set_live(live_late.id, Some(at(30))).await.unwrap();
    store.set_live(both.id, Some(at(20))).await.unwrap();
    store.set_stage(staged_old.id, Some(at(5))).await.unwrap();
    store.set_stage(staged_new.id, Some(at(50))).await.unwrap();
    // The newest stage of all, but its channel is live, so it is listed (once) among the live.
    store.set_stage(both.id, Some(at(100))).await.unwrap();

    let directory = store.live_channels(10).await.unwrap();

    assert_eq!(
        ids(&directory),
        vec![
            live_late.id,
            both.id,
            live_early.id,
            staged_new.id,
            staged_old.id
        ]
    );
    assert!(!ids(&directory).contains(&offline.id));
    assert_eq!(directory[1].live_since, Some(at(20)));
    assert_eq!(directory[1].stage_since, Some(at(100)));
    assert_eq!(directory[3].live_since, None);
    assert_eq!(directory[3].stage_since, Some(at(50)));
}

pub async fn each_part_of_the_directory_is_limited_on_its_own(store: Arc<dyn Store>) {
    let live_only = create_account(&*store, "LiveOnly").await;
    let both = create_account(&*store, "LiveAndStaged").await;
    let live_old = create_account(&*store, "LiveOld").await;
    let staged_new = create_account(&*store, "StagedNew").await;
    let staged_old = create_account(&*store, "StagedOld").await;
    store.set_live(live_only.id, Some(at(30))).await.unwrap();
    store.set_live(both.id, Some(at(20))).await.unwrap();
    store.set_live(live_old.id, Some(at(10))).await.unwrap();
    store.set_stage(both.id, Some(at(100))).await.unwrap();
    store.set_stage(staged_new.id, Some(at(50))).await.unwrap();
    store.set_stage(staged_old.id, Some(at(40))).await.unwrap();

    let one_each = store.live_channels(1).await.unwrap();
    let two_each = store.live_channels(2).await.unwrap();
    let none = store.live_channels(0).await.unwrap();

    // A live channel's stage does not take a place among the staged ones.
    assert_eq!(ids(&one_each), vec![live_only.id, staged_new.id]);
    assert_eq!(
        ids(&two_each),
        vec![live_only.id, both.id, staged_new.id, staged_old.id]
    );
    assert_eq!(none, vec![]);
}

pub async fn deleting_an_account_removes_its_restrictions_and_moderator_roles_both_ways(
    store: Arc<dyn Store>,
) {
    let alice = create_account(&*store, "Alice").await;
    let bobby = create_account(&*store, "Bobby").await;
    let carol = create_account(&*store, "Carol").await;
    let in_alices_channel = restriction(
        alice.id,
        bobby.id,
        RestrictionKind::Ban,
        None,
        alice.id,
        at(1),
    );
    let of_alice = restriction(
        bobby.id,
        alice.id,
        RestrictionKind::Ban,
        None,
        bobby.id,
        at(2),
    );
    let unrelated = restriction(
        bobby.id,
        carol.id,
        RestrictionKind::Timeout,
        Some(at(3600)),
        bobby.id,
        at(3),
    );
    for r in [&in_alices_channel, &of_alice, &unrelated] {
        store.restrict(r.clone()).await.unwrap();
    }
    store.add_moderator(alice.id, bobby.id).await.unwrap();
    store.add_moderator(bobby.id, alice.id).await.unwrap();
    store.add_moderator(bobby.id, carol.id).await.unwrap();

    store.delete_account(alice.id).await.unwrap();

    assert_eq!(store.restrictions(alice.id, at(10)).await.unwrap(), vec![]);
    assert_eq!(
        store.restrictions(bobby.id, at(10)).await.unwrap(),
        vec![unrelated]
    );
    assert_eq!(
        store
            .restrictions_of(bobby.id, alice.id, at(10))
            .await
            .unwrap(),
        vec![]
    );
    assert_eq!(store.moderators(alice.id).await.unwrap(), vec![]);
    assert_eq!(store.moderators(bobby.id).await.unwrap(), vec![carol.id]);
}

pub async fn deleting_a_moderator_keeps_their_bans_in_force_in_the_channels_name(
    store: Arc<dyn Store>,
) {
    let channel = create_account(&*store, "Streamer").await;
    let moderator = create_account(&*store, "Modder").await;
    let troll = create_account(&*store, "Troll").await;
    store.add_moderator(channel.id, moderator.id).await.unwrap();
    let ban = restriction(
        channel.id,
        troll.id,
        RestrictionKind::Ban,
        None,
        moderator.id,
        at(1),
    );
    store.restrict(ban.clone()).await.unwrap();

    store.delete_account(moderator.id).await.unwrap();

    assert_eq!(
        store.restrictions(channel.id, at(10)).await.unwrap(),
        vec![Restriction {
            by: channel.id,
            ..ban
        }]
    );
    assert_eq!(store.moderators(channel.id).await.unwrap(), vec![]);
}

pub async fn deleting_an_account_removes_its_channels_chat_history_and_settings(
    store: Arc<dyn Store>,
) {
    let alice = create_account(&*store, "Alice").await;
    let bobby = create_account(&*store, "Bobby").await;
    for offset in 1..=3 {
        store
            .append_chat(&chat_message(alice.id, offset, &bobby), 100)
            .await
            .unwrap();
    }
    let in_bobbys_channel: Vec<ChatRecord> = (1..=2)
        .map(|offset| chat_message(bobby.id, offset, &bobby))
        .collect();
    for message in &in_bobbys_channel {
        store.append_chat(message, 100).await.unwrap();
    }
    let settings = ChatSettings {
        slow_mode_secs: 10,
        ..Default::default()
    };
    store.set_chat_settings(alice.id, &settings).await.unwrap();
    store.set_chat_settings(bobby.id, &settings).await.unwrap();

    store.delete_account(alice.id).await.unwrap();

    assert_eq!(store.recent_chat(alice.id, 10).await.unwrap(), vec![]);
    assert_eq!(store.last_chat_offset(alice.id).await.unwrap(), None);
    assert_eq!(
        store.chat_settings(alice.id).await.unwrap(),
        ChatSettings::default()
    );
    assert_eq!(
        store.recent_chat(bobby.id, 10).await.unwrap(),
        in_bobbys_channel
    );
    assert_eq!(store.last_chat_offset(bobby.id).await.unwrap(), Some(2));
    assert_eq!(store.chat_settings(bobby.id).await.unwrap(), settings);
}

pub async fn deleting_an_account_removes_its_polls_and_no_vote_names_it(store: Arc<dyn Store>) {
    let alice = create_account(&*store, "Alice").await;
    let bobby = create_account(&*store, "Bobby").await;
    let carol = create_account(&*store, "Carol").await;
    let alices_poll = new_poll(alice.id, &["Yes", "No"], at(10));
    let bobbys_poll = new_poll(bobby.id, &["Yes", "No"], at(20));
    store.create_poll(&alices_poll).await.unwrap();
    store.create_poll(&bobbys_poll).await.unwrap();
    store
        .record_votes(alices_poll.id, &[(alice.id, 0), (bobby.id, 1)], at(11))
        .await
        .unwrap();
    store
        .record_votes(bobbys_poll.id, &[(alice.id, 0), (carol.id, 1)], at(21))
        .await
        .unwrap();

    store.delete_account(alice.id).await.unwrap();

    assert_eq!(store.poll(alices_poll.id).await.unwrap(), None);
    assert_eq!(store.votes(alices_poll.id).await.unwrap(), vec![]);
    assert_eq!(store.channel_polls(alice.id, 10).await.unwrap(), vec![]);
    let open = store.open_polls().await.unwrap();
    assert_eq!(
        open.iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![bobbys_poll.id]
    );
    // Whether Alice's vote still counts in Bobby's poll is the backend's choice; naming her is not.
    let votes = store.votes(bobbys_poll.id).await.unwrap();
    assert!(
        votes.iter().all(|(voter, _)| *voter != alice.id),
        "{votes:?}"
    );
    assert!(votes.contains(&(carol.id, 1)), "{votes:?}");
}

pub async fn deleting_an_account_removes_its_presets_and_its_channels_snapshots(
    store: Arc<dyn Store>,
) {
    let alice = create_account(&*store, "Alice").await;
    let bobby = create_account(&*store, "Bobby").await;
    store
        .put_preset(new_preset(alice.id, "Intro", json!({})))
        .await
        .unwrap();
    let bobbys_preset = new_preset(bobby.id, "Intro", json!({}));
    store.put_preset(bobbys_preset.clone()).await.unwrap();
    let alices_keys = [
        format!("channel:{}", alice.id.0.hyphenated()),
        format!("channel:{}:poll", alice.id.0.hyphenated()),
        format!("stage:{}", alice.id.0.hyphenated()),
    ];
    let other_keys = [
        format!("channel:{}", bobby.id.0.hyphenated()),
        format!("stage:{}", bobby.id.0.hyphenated()),
        "directory".to_owned(),
    ];
    for key in alices_keys.iter().chain(&other_keys) {
        store.put_snapshot(key, &json!({"key": key})).await.unwrap();
    }

    store.delete_account(alice.id).await.unwrap();

    assert_eq!(store.presets(alice.id).await.unwrap(), vec![]);
    assert_eq!(store.presets(bobby.id).await.unwrap(), vec![bobbys_preset]);
    for key in &alices_keys {
        assert_eq!(store.snapshot(key).await.unwrap(), None, "{key}");
    }
    for key in &other_keys {
        assert_eq!(
            store.snapshot(key).await.unwrap(),
            Some(json!({"key": key})),
            "{key}"
        );
    }
}
