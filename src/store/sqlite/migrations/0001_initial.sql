-- Ids are hyphenated UUID text; times are INTEGER milliseconds since the Unix epoch, UTC.

-- An account and the one channel it owns share a row: they are created and deleted together.
CREATE TABLE accounts (
    id              TEXT    NOT NULL PRIMARY KEY,
    -- Already lower-case (Email::parse).
    email           TEXT    NOT NULL UNIQUE,
    -- The spelling the user chose, for display.
    username        TEXT    NOT NULL,
    -- Username::key(). SQLite checks the unique index declared last first, so this comes after
    -- email: an insert clashing on both reports the username.
    username_key    TEXT    NOT NULL UNIQUE,
    password_hash   TEXT    NOT NULL,
    email_verified  INTEGER NOT NULL CHECK (email_verified IN (0, 1)),
    color           TEXT    NOT NULL,
    -- A preset name, or 'upload:<asset key>'.
    avatar          TEXT    NOT NULL,
    banner          TEXT,
    created_at      INTEGER NOT NULL,
    arn             TEXT    NOT NULL,
    ingest_endpoint TEXT    NOT NULL,
    stream_key      TEXT    NOT NULL,
    playback_url    TEXT    NOT NULL,
    -- NULL while offline.
    live_since      INTEGER
) STRICT;

CREATE INDEX accounts_live ON accounts (live_since DESC) WHERE live_since IS NOT NULL;

CREATE TABLE follows (
    follower_id TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    followed_id TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    followed_at INTEGER NOT NULL,
    PRIMARY KEY (follower_id, followed_id)
) STRICT, WITHOUT ROWID;

-- Lets deleting an account find the follows pointing at it without a full scan.
CREATE INDEX follows_followed ON follows (followed_id);

CREATE TABLE sessions (
    id         TEXT    NOT NULL PRIMARY KEY,
    account_id TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX sessions_account ON sessions (account_id);

-- Every token a session has had; spent ones are kept so that replaying one is recognised.
CREATE TABLE refresh_tokens (
    hash       TEXT    NOT NULL PRIMARY KEY,
    session_id TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    spent      INTEGER NOT NULL DEFAULT 0 CHECK (spent IN (0, 1))
) STRICT;

CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- Single-use tokens sent by mail.
CREATE TABLE mail_tokens (
    purpose    TEXT    NOT NULL,
    hash       TEXT    NOT NULL,
    account_id TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (purpose, hash)
) STRICT;

CREATE INDEX mail_tokens_account ON mail_tokens (account_id, purpose);

-- Fixed-window rate-limit counters.
CREATE TABLE throttle_hits (
    key          TEXT    NOT NULL,
    window_start INTEGER NOT NULL,
    count        INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
) STRICT, WITHOUT ROWID;
