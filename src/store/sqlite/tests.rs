//! What only the SQLite file itself can show; behaviour is covered by `tests/contract/`.

use rusqlite::Connection;

use super::SqliteStore;
use crate::store::StoreError;

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
