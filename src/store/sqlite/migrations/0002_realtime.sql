-- The realtime side: stages, moderation, chat history, polls, presets, actor snapshots.
-- Ids are hyphenated UUID text; times are INTEGER milliseconds since the Unix epoch, UTC.
--
-- Deleting an account must leave no row naming it. Foreign keys do that wherever a cascade
-- fits; the two exceptions are done by `delete_account` in the same transaction: restrictions
-- the account issued as a moderator are re-attributed to their channel, and snapshots are
-- keyed by free text.

-- NULL without a stage.
ALTER TABLE accounts ADD COLUMN stage_since INTEGER;

-- The directory's second part: staged channels that are not live.
CREATE INDEX accounts_staged ON accounts (stage_since DESC)
    WHERE stage_since IS NOT NULL AND live_since IS NULL;

-- Bans and timeouts: at most one of each kind per (channel, user); restricting again replaces it.
CREATE TABLE restrictions (
    channel_id TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id    TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL CHECK (kind IN ('ban', 'timeout')),
    -- NULL: until lifted.
    until      INTEGER,
    -- No action on delete: `delete_account` first re-attributes the account's restrictions to
    -- their channel, so deleting a moderator never lifts the bans they issued.
    by_id      TEXT    NOT NULL REFERENCES accounts (id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (channel_id, user_id, kind)
) STRICT, WITHOUT ROWID;

CREATE INDEX restrictions_user ON restrictions (user_id);
CREATE INDEX restrictions_by ON restrictions (by_id);

CREATE TABLE moderators (
    channel_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (channel_id, user_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX moderators_user ON moderators (user_id);

-- Absent rows mean the defaults (`ChatSettings::default()`).
CREATE TABLE chat_settings (
    channel_id             TEXT    NOT NULL PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    slow_mode_secs         INTEGER NOT NULL CHECK (slow_mode_secs >= 0),
    followers_only_minutes INTEGER CHECK (followers_only_minutes >= 0),
    -- JSON array of strings.
    banned_words           TEXT    NOT NULL
) STRICT;

-- The newest messages of each channel; older ones are trimmed on append.
CREATE TABLE chat_messages (
    channel_id TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- The message's offset in the channel's history (OFFSET is an SQL keyword).
    position   INTEGER NOT NULL CHECK (position >= 0),
    -- A deleted account's messages go from every channel's replay, not only its own.
    author_id  TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    username   TEXT    NOT NULL,
    text       TEXT    NOT NULL,
    sent_at    INTEGER NOT NULL,
    -- Deleted by a moderator: kept so that a retried append cannot bring it back.
    deleted    INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    PRIMARY KEY (channel_id, position)
) STRICT, WITHOUT ROWID;

CREATE INDEX chat_messages_author ON chat_messages (author_id);

-- The highest offset ever appended per channel. Kept apart from the messages so that neither
-- trimming nor deleting can lower it: a restarted channel actor continues after it.
CREATE TABLE chat_offsets (
    channel_id  TEXT    NOT NULL PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    last_offset INTEGER NOT NULL CHECK (last_offset >= 0)
) STRICT, WITHOUT ROWID;

CREATE TABLE polls (
    id         TEXT    NOT NULL PRIMARY KEY,
    channel_id TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    question   TEXT    NOT NULL,
    -- JSON array of strings; a vote's option_index points into it.
    options    TEXT    NOT NULL,
    started_at INTEGER NOT NULL,
    deadline   INTEGER NOT NULL,
    -- NULL while open; once set, never changed.
    closed_at  INTEGER
) STRICT;

CREATE INDEX polls_channel ON polls (channel_id, started_at DESC);
CREATE INDEX polls_open ON polls (started_at) WHERE closed_at IS NULL;

-- One vote per (poll, voter). Not a primary key, because a deleted voter's votes in other
-- channels' polls stay counted with the voter forgotten (NULL), and UNIQUE lets NULLs repeat.
CREATE TABLE votes (
    poll_id      TEXT    NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    voter_id     TEXT    REFERENCES accounts (id) ON DELETE SET NULL,
    option_index INTEGER NOT NULL CHECK (option_index >= 0),
    voted_at     INTEGER NOT NULL,
    UNIQUE (poll_id, voter_id)
) STRICT;

CREATE INDEX votes_voter ON votes (voter_id);

CREATE TABLE presets (
    id         TEXT    NOT NULL PRIMARY KEY,
    owner_id   TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- Compared exactly (BINARY): 'Intro' and 'intro' are two presets.
    name       TEXT    NOT NULL,
    -- JSON, as the client sends the action.
    action     TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (owner_id, name)
) STRICT;

-- Actors' restart state. Keys are free text; those of a channel start with 'channel:<id>' or
-- 'stage:<id>', which is how `delete_account` finds them.
CREATE TABLE snapshots (
    key   TEXT NOT NULL PRIMARY KEY,
    -- JSON.
    value TEXT NOT NULL
) STRICT;
