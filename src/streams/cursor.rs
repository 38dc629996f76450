//! Opaque, tamper-proof page cursors for a channel's session list.
//!
//! A cursor names the last session of a page (its start and stream id) and carries an
//! HMAC-SHA256 tag over that position and the channel it was issued for. The key is derived from
//! the service's own secret (the access-token key), so cursors survive restarts, differ between
//! deployments, and cannot be forged or moved to another channel; nothing is hard-coded.

use aws_lc_rs::hmac;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::DateTime;

use crate::{domain::AccountId, store::SessionPosition};

/// Separates what the key is used for from every other use of the service secret.
const KEY_LABEL: &[u8] = b"showrunner/stream-session-cursor/v1";

/// Signs and checks cursors.
#[derive(Clone)]
pub struct CursorKey(hmac::Key);

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(<redacted>)")
    }
}

/// A cursor that was not issued by this service for this channel, or was altered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid cursor")]
pub struct BadCursor;

impl CursorKey {
    /// Derives the cursor key from the service secret: HMAC(secret, label).
    pub fn derive(service_secret: &[u8]) -> Self {
        let master = hmac::Key::new(hmac::HMAC_SHA256, service_secret);
        let derived = hmac::sign(&master, KEY_LABEL);
        Self(hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()))
    }

    fn signed_bytes(channel: AccountId, payload: &str) -> Vec<u8> {
        format!("{}|{payload}", channel.0.hyphenated()).into_bytes()
    }

    /// `<base64url(position)>.<base64url(tag)>`.
    pub fn issue(&self, channel: AccountId, position: &SessionPosition) -> String {
        let payload = format!(
            "{}:{}",
            position.started_at.timestamp_millis(),
            position.stream_id
        );
        let tag = hmac::sign(&self.0, &Self::signed_bytes(channel, &payload));
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(tag.as_ref())
        )
    }

    /// The position a cursor this key issued for `channel` names.
    pub fn open(&self, channel: AccountId, cursor: &str) -> Result<SessionPosition, BadCursor> {
        let (payload, tag) = cursor.split_once('.').ok_or(BadCursor)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| BadCursor)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| BadCursor)?;
        let payload = String::from_utf8(payload).map_err(|_| BadCursor)?;
        // Constant time; checked before anything in the payload is believed.
        hmac::verify(&self.0, &Self::signed_bytes(channel, &payload), &tag)
            .map_err(|_| BadCursor)?;
        let (millis, stream_id) = payload.split_once(':').ok_or(BadCursor)?;
        let started_at = millis
            .parse::<i64>()
            .ok()
            .and_then(DateTime::from_timestamp_millis)
            .ok_or(BadCursor)?;
        Ok(SessionPosition {
            started_at,
            stream_id: stream_id.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn position() -> SessionPosition {
        SessionPosition {
            started_at: DateTime::from_timestamp_millis(1_767_225_600_123).unwrap(),
            stream_id: "st-1AuTyMDASvHUTSb8p5PvbsO".into(),
        }
    }

    #[test]
    fn a_cursor_opens_to_the_position_it_was_issued_for() {
        let key = CursorKey::derive(b"a service secret of at least thirty-two bytes");
        let channel = AccountId::new();

        let cursor = key.issue(channel, &position());

        assert_eq!(key.open(channel, &cursor), Ok(position()));
        assert!(!cursor.contains("st-1AuT"), "the position is not in clear");
    }

    #[test]
    fn an_altered_cursor_is_refused() {
        let key = CursorKey::derive(b"a service secret of at least thirty-two bytes");
        let channel = AccountId::new();
        let cursor = key.issue(channel, &position());
        let (payload, tag) = cursor.split_once('.').unwrap();
        let forged_payload = URL_SAFE_NO_PAD.encode("1767225600123:st-someone-elses");

        for bad in [
            format!("{forged_payload}.{tag}"),
            format!("{payload}.{}", URL_SAFE_NO_PAD.encode([0u8; 32])),
            format!("{payload}.{}", &tag[..tag.len() - 2]),
            payload.to_owned(),
            String::new(),
            "not base64!.also not".into(),
        ] {
            assert_eq!(key.open(channel, &bad), Err(BadCursor), "{bad}");
        }
    }

    #[test]
    fn a_cursor_works_only_for_its_channel_and_its_deployment() {
        let key = CursorKey::derive(b"a service secret of at least thirty-two bytes");
        let other_deployment = CursorKey::derive(b"another service secret, also long enough");
        let channel = AccountId::new();
        let cursor = key.issue(channel, &position());

        assert_eq!(key.open(AccountId::new(), &cursor), Err(BadCursor));
        assert_eq!(other_deployment.open(channel, &cursor), Err(BadCursor));
    }
}
