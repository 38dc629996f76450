//! What only the SQLite file itself can show, and the choices this backend makes beyond the
//! contract; the contract itself is covered by `tests/contract/`.

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::SqliteStore;
use crate::domain::{AccountId, AvatarPreset, ChatSettings, Color, Email, Username};
use crate::store::{
    AccountStore, ChannelResources, ChatRecord, ChatStore, FollowStore, ModerationStore,
    NewAccount, NewSession, PollRecord, PollStore, Preset, PresetStore, Restriction,
    RestrictionKind, SessionStore, SnapshotStore, StoreError, ThrottleStore, TokenPurpose,
    TokenStore,
};

fn pragma(path: &std::path::Path, name: &str) -> String {
    let connection = Connection::open(path).unwrap();
    connection
        .pragma_query_value(None, name, |row| row.get::<_, rusqlite::types::Value>(0))
        .map(|value| match value {
            rusqlite::types::Value::Integer(i) => i.to_string(),
            rusqlite::types::Value::Text(t) => t,
            other => format!("{other:?}"),
        })
        .unwrap()
}

#[test]
fn opening_creates_missing_parent_directories() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/deeper/showrunner.db");

    SqliteStore::open(&path).unwrap();

    assert!(path.is_file());
}

#[test]
fn the_database_is_left_in_wal_mode_at_the_latest_schema_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("showrunner.db");

    drop(SqliteStore::open(&path).unwrap());

    assert_eq!(pragma(&path, "journal_mode"), "wal");
    assert_eq!(
        pragma(&path, "user_version"),
        super::migrations::MIGRATIONS.len().to_string()
    );
}

#[test]
fn reopening_does_not_apply_migrations_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("showrunner.db");
    drop(SqliteStore::open(&path).unwrap());

    // A second CREATE TABLE would fail, so success means nothing ran twice.
    SqliteStore::open(&path).unwrap();
}

#[test]
fn a_database_from_a_newer_build_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("showrunner.db");
    drop(SqliteStore::open(&path).unwrap());
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 999)
        .unwrap();

    let error = SqliteStore::open(&path).err().expect("open should fail");

    assert!(matches!(error, StoreError::Backend(_)), "{error:?}");
    assert!(error.to_string().contains("999"), "{error}");
}

#[tokio::test]
async fn a_database_at_the_first_schema_version_is_upgraded_with_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("showrunner.db");
    let alice = new_account("Alice");
    {
        let connection = Connection::open(&path).unwrap();
        connection
            .execute_batch(super::migrations::MIGRATIONS[0])
            .unwrap();
        connection.pragma_update(None, "user_version", 1).unwrap();
        connection
            .execute(
                "INSERT INTO accounts (id, username, username_key, email, password_hash,
                     email_verified, color, avatar, created_at, arn, ingest_endpoint, stream_key,
                     playback_url, live_since)
                 VALUES (?1, 'Alice', 'alice', 'alice@example.com', 'hash', 0, ?2, ?3, 0,
                     'arn', 'ingest', 'key', 'playback', 5000)",
                rusqlite::params![
                    alice.id.0.hyphenated().to_string(),
                    alice.color.as_str(),
                    alice.avatar.as_str()
                ],
            )
            .unwrap();
    }

    let store = SqliteStore::open(&path).unwrap();

    let upgraded = store.account(alice.id).await.unwrap().unwrap();
    assert_eq!(
        upgraded.live_since.map(|t| t.timestamp_millis()),
        Some(5000)
    );
    assert_eq!(upgraded.stage_since, None);
    store.set_stage(alice.id, Some(at(1))).await.unwrap();
    assert_eq!(store.live_channels(10).await.unwrap().len(), 1);
}

/// Every table and column of the schema, from SQLite's own catalogue.
fn columns(connection: &Connection) -> Vec<(String, String)> {
    let mut statement = connection
        .prepare(
            "SELECT m.name, p.name FROM sqlite_schema AS m JOIN pragma_table_info(m.name) AS p
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
        )
        .unwrap();
    statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

#[tokio::test]
async fn deleting_an_account_leaves_no_row_naming_it_and_keeps_its_votes_elsewhere_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("showrunner.db");
    let store = SqliteStore::open(&path).unwrap();
    let alice = store.create_account(new_account("Alice")).await.unwrap();
    let bobby = store.create_account(new_account("Bobby")).await.unwrap();
    let (a, b) = (alice.id, bobby.id);
    // Alice in every role every table has.
    store.follow(a, b, at(1)).await.unwrap();
    store.follow(b, a, at(1)).await.unwrap();
    store
        .create_session(NewSession {
            id: uuid::Uuid::now_v7(),
            account: a,
            token_hash: "alice-refresh".to_owned(),
            created_at: at(0),
            expires_at: at(3600),
        })
        .await
        .unwrap();
    store
        .put_token(TokenPurpose::VerifyEmail, "alice-mail", a, at(3600))
        .await
        .unwrap();
    for (channel, user, by) in [(a, b, a), (b, a, b), (b, b, a)] {
        store
            .restrict(Restriction {
                channel,
                user,
                kind: RestrictionKind::Ban,
                until: None,
                by,
                created_at: at(1),
            })
            .await
            .unwrap();
    }
    store.add_moderator(a, b).await.unwrap();
    store.add_moderator(b, a).await.unwrap();
    store
        .set_chat_settings(a, &ChatSettings::default())
        .await
        .unwrap();
    for (channel, author) in [(a, &bobby), (b, &alice), (b, &bobby)] {
        let offset = if author.id == a { 1 } else { 2 };
        store
            .append_chat(
                &ChatRecord {
                    channel,
                    offset,
                    author: author.id,
                    username: author.username.as_str().to_owned(),
                    text: "hello".to_owned(),
                    sent_at: at(2),
                },
                10,
            )
            .await
            .unwrap();
    }
    let alices_poll = poll(a);
    let bobbys_poll = poll(b);
    store.create_poll(&alices_poll).await.unwrap();
    store.create_poll(&bobbys_poll).await.unwrap();
    for poll in [&alices_poll, &bobbys_poll] {
        store
            .record_votes(poll.id, &[(a, 0), (b, 1)], at(3))
            .await
            .unwrap();
    }
    store
        .put_preset(Preset {
            id: uuid::Uuid::now_v7(),
            owner: a,
            name: "Intro".to_owned(),
            action: serde_json::json!({}),
            updated_at: at(4),
        })
        .await
        .unwrap();
    for key in [format!("channel:{a}"), format!("stage:{a}:seats")] {
        store
            .put_snapshot(&key, &serde_json::json!(1))
            .await
            .unwrap();
    }

    store.delete_account(a).await.unwrap();

    let connection = Connection::open(&path).unwrap();
    let id = a.0.hyphenated().to_string();
    for (table, column) in columns(&connection) {
        let naming: i64 = connection
            .query_row(
                &format!("SELECT count(*) FROM {table} WHERE instr(CAST({column} AS TEXT), ?1)"),
                [&id],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(
            naming, 0,
            "{table}.{column} still names the deleted account"
        );
    }
    let dangling: Vec<String> = connection
        .prepare("PRAGMA foreign_key_check")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(dangling, Vec::<String>::new());
    // Bobby's poll still counts the vote, which now names no one.
    let tally = store.poll(bobbys_poll.id).await.unwrap().unwrap().tally;
    assert_eq!(tally, vec![1, 1]);
    assert_eq!(store.votes(bobbys_poll.id).await.unwrap(), vec![(b, 1)]);
}

#[tokio::test]
async fn a_vote_by_an_account_that_is_gone_is_not_counted_and_does_not_fail_the_batch() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("showrunner.db")).unwrap();
    let bobby = store.create_account(new_account("Bobby")).await.unwrap();
    let poll = poll(bobby.id);
    store.create_poll(&poll).await.unwrap();

    let counted = store
        .record_votes(poll.id, &[(AccountId::new(), 0), (bobby.id, 1)], at(3))
        .await
        .unwrap();

    assert_eq!(counted, vec![false, true]);
    assert_eq!(
        store.poll(poll.id).await.unwrap().unwrap().tally,
        vec![0, 1]
    );
}

/// A `grace_since` after any rotation: no spent token is forgiven.
fn no_grace() -> DateTime<Utc> {
    DateTime::<Utc>::MAX_UTC
}

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(1_767_225_600_000 + seconds * 1000).unwrap()
}

fn new_account(username: &str) -> NewAccount {
    NewAccount {
        id: AccountId::new(),
        username: Username::parse(username).unwrap(),
        email: Email::parse(&format!("{}@example.com", username.to_ascii_lowercase())).unwrap(),
        password_hash: "hash".to_owned(),
        email_verified: false,
        color: Color::Turquoise,
        avatar: AvatarPreset::Hedgehog,
        created_at: at(0),
        channel: ChannelResources {
            arn: "arn".to_owned(),
            ingest_endpoint: "ingest".to_owned(),
            stream_key: "key".to_owned(),
            playback_url: "playback".to_owned(),
        },
    }
}

fn poll(channel: AccountId) -> PollRecord {
    PollRecord {
        id: uuid::Uuid::now_v7(),
        channel,
        question: "Yes or no?".to_owned(),
        options: vec!["Yes".to_owned(), "No".to_owned()],
        started_at: at(0),
        deadline: at(60),
        closed_at: None,
        tally: vec![0, 0],
    }
}

fn count(path: &std::path::Path, table: &str) -> i64 {
    Connection::open(path)
        .unwrap()
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
            row.get(0)
        })
        .unwrap()
}

fn session(account: AccountId, token_hash: &str, expires_at: DateTime<Utc>) -> NewSession {
    NewSession {
        id: uuid::Uuid::now_v7(),
        account,
        token_hash: token_hash.to_owned(),
        created_at: at(0),
        expires_at,
    }
}

#[tokio::test]
async fn the_expiry_sweep_deletes_expired_sessions_tokens_and_windows_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("showrunner.db");
    let store = SqliteStore::open(&path).unwrap();
    let account = store
        .create_account(new_account("sweeper"))
        .await
        .unwrap()
        .id;
    let now = at(10_000);

    // More expired sessions than one batch deletes, written in one go: the sweep must go round.
    let backlog = 2 * 500 + 3;
    {
        let mut connection = Connection::open(&path).unwrap();
        let transaction = connection.transaction().unwrap();
        for i in 0..backlog {
            let id = uuid::Uuid::now_v7().to_string();
            transaction
                .execute(
                    "INSERT INTO sessions (id, account_id, created_at, expires_at)
                     VALUES (?1, ?2, 0, ?3)",
                    rusqlite::params![id, account.0.to_string(), at(i).timestamp_millis()],
                )
                .unwrap();
            transaction
                .execute(
                    "INSERT INTO refresh_tokens (hash, session_id) VALUES (?1, ?2)",
                    rusqlite::params![format!("old-{i}"), id],
                )
                .unwrap();
        }
        transaction.commit().unwrap();
    }
    // Expiring exactly now counts as expired, as it does for a refresh.
    let ends_now = session(account, "ends-now", now);
    store.create_session(ends_now.clone()).await.unwrap();
    let live = session(account, "live-1", at(20_000));
    store.create_session(live.clone()).await.unwrap();
    // A live session's spent tokens stay: replaying one must still revoke it.
    store
        .rotate_refresh_token("live-1", "live-2", at(1), at(20_000), no_grace())
        .await
        .unwrap();

    store
        .put_token(TokenPurpose::ResetPassword, "stale", account, at(9_999))
        .await
        .unwrap();
    store
        .put_token(TokenPurpose::ResetPassword, "fresh", account, at(10_001))
        .await
        .unwrap();

    store.hit("login:old", at(8_000)).await.unwrap();
    store.hit("login:recent", at(9_000)).await.unwrap();
    store.hit("login:recent", at(9_000)).await.unwrap();

    let expired = store.delete_expired(now, at(8_500)).await.unwrap();

    assert_eq!(
        expired,
        super::Expired {
            sessions: backlog as usize + 1,
            mail_tokens: 1,
            throttle_windows: 1,
        }
    );
    assert_eq!(count(&path, "sessions"), 1);
    assert_eq!(
        count(&path, "refresh_tokens"),
        2,
        "live-1 (spent) and live-2"
    );
    assert!(store.session_alive(live.id, account, now).await.unwrap());
    assert!(
        !store
            .session_alive(ends_now.id, account, at(0))
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .take_token(TokenPurpose::ResetPassword, "fresh", now)
            .await
            .unwrap(),
        Some(account)
    );
    assert_eq!(count(&path, "mail_tokens"), 0);
    assert_eq!(store.hits("login:recent", at(9_000)).await.unwrap(), 2);
    assert_eq!(store.hits("login:old", at(8_000)).await.unwrap(), 0);

    // Nothing left to delete.
    assert_eq!(
        store.delete_expired(now, at(8_500)).await.unwrap(),
        super::Expired::default()
    );
    assert!(matches!(
        store
            .rotate_refresh_token("live-1", "live-3", now, at(20_000), no_grace())
            .await
            .unwrap(),
        crate::store::Rotation::Reused { .. }
    ));
}
