-- The session's latest rotation: which token it spent, and when. That token may be presented
-- again for a short grace (its holder lost the answer) without counting as a replay.
ALTER TABLE sessions ADD COLUMN previous_hash TEXT;
ALTER TABLE sessions ADD COLUMN rotated_at INTEGER;
