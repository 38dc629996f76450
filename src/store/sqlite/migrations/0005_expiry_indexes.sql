-- The expiry sweep (`store/sqlite/expiry.rs`) deletes what DynamoDB's TTL deletes in AWS mode:
-- sessions, mailed tokens and throttle windows whose time is up. These indexes let it find
-- them without scanning each table.
CREATE INDEX sessions_expiry ON sessions (expires_at);
CREATE INDEX mail_tokens_expiry ON mail_tokens (expires_at);
CREATE INDEX throttle_hits_window ON throttle_hits (window_start);
