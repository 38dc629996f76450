-- Stream health: IVS stream sessions, their events, encoder settings, local metric samples and
-- cached metrics. Times are INTEGER milliseconds since the Unix epoch, UTC.
--
-- Everything hangs off the channel's account by cascading foreign keys, so deleting an account
-- takes its sessions and all that belongs to them.

-- Events name channels by media ARN.
CREATE INDEX accounts_arn ON accounts (arn);

-- The columns after `started_at` are what the session's own events say
-- (`SessionFacts::from_events`); whether a later session closed it is read, not stored.
CREATE TABLE stream_sessions (
    channel_id            TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- IVS's `st-…` id.
    stream_id             TEXT    NOT NULL,
    started_at            INTEGER NOT NULL,
    -- NULL unless live by its own events.
    live_since            INTEGER,
    ended_at              INTEGER,
    healthy               INTEGER NOT NULL CHECK (healthy IN (0, 1)),
    has_error             INTEGER NOT NULL CHECK (has_error IN (0, 1)),
    -- JSON (`IngestConfiguration`), NULL until known.
    ingest_configuration  TEXT,
    -- At most one cached metrics document per session, under the key of its query.
    metrics_key           TEXT,
    metrics               TEXT,
    PRIMARY KEY (channel_id, stream_id)
) STRICT, WITHOUT ROWID;

-- Newest first per channel, and the next session after any one.
CREATE INDEX stream_sessions_by_start ON stream_sessions (channel_id, started_at, stream_id);

CREATE TABLE stream_events (
    -- EventBridge's id: unique across channels, which makes redelivery a no-op.
    event_id   TEXT    NOT NULL PRIMARY KEY,
    channel_id TEXT    NOT NULL,
    stream_id  TEXT    NOT NULL,
    -- The `detail-type`.
    event_type TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    FOREIGN KEY (channel_id, stream_id) REFERENCES stream_sessions (channel_id, stream_id)
        ON DELETE CASCADE
) STRICT;

CREATE INDEX stream_events_session ON stream_events (channel_id, stream_id, at);

-- Readings recorded by the local stream simulator, the local stand-in for CloudWatch.
CREATE TABLE stream_metric_samples (
    channel_id           TEXT    NOT NULL,
    stream_id            TEXT    NOT NULL,
    at                   INTEGER NOT NULL,
    ingest_video_bitrate REAL,
    ingest_framerate     REAL,
    keyframe_interval    REAL,
    concurrent_views     REAL,
    PRIMARY KEY (channel_id, stream_id, at),
    FOREIGN KEY (channel_id, stream_id) REFERENCES stream_sessions (channel_id, stream_id)
        ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
