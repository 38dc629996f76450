//! Every key of the table, in one place (`docs/dynamodb.md` has the same list with the access
//! pattern each serves). Partition keys start with the kind of thing they hold; ids are
//! hyphenated lower-case UUIDs; numbers in sort keys are written to sort like numbers.

use uuid::Uuid;

use super::item::{Item, key, sortable, sortable_unsigned};
use crate::domain::AccountId;
use crate::store::{RestrictionKind, TokenPurpose};

/// The sparse index of live channels: `live_pk` ("LIVE" while live) and `live_since`.
pub(super) const LIVE_INDEX: &str = "live";
/// The sparse index of channels with a stage: `stage_pk` ("STAGED") and `stage_since`.
pub(super) const STAGED_INDEX: &str = "staged";
/// The sparse index of open polls: `open_pk` ("OPEN" until closed) and `started_at`.
pub(super) const OPEN_POLLS_INDEX: &str = "open_polls";

/// An account's partition: its profile and everything it owns or is related to.
pub(super) fn account_pk(id: AccountId) -> String {
    format!("ACCOUNT#{}", id.0.hyphenated())
}

pub(super) const PROFILE: &str = "PROFILE";

pub(super) fn profile(id: AccountId) -> Item {
    key(account_pk(id), PROFILE)
}

/// Holds a case-folded username (`Username::key`) for one account.
pub(super) fn username(username_key: &str) -> Item {
    key(format!("USERNAME#{username_key}"), "USERNAME")
}

/// Holds an email (already lower-case) for one account.
pub(super) fn email(email: &str) -> Item {
    key(format!("EMAIL#{email}"), "EMAIL")
}

pub(super) const FOLLOWS: &str = "FOLLOWS#";
pub(super) const FOLLOWER: &str = "FOLLOWER#";

/// In the follower's partition.
pub(super) fn follows(follower: AccountId, followed: AccountId) -> Item {
    key(
        account_pk(follower),
        format!("{FOLLOWS}{}", followed.0.hyphenated()),
    )
}

/// The same follow in the followed account's partition.
pub(super) fn follower(followed: AccountId, follower: AccountId) -> Item {
    key(
        account_pk(followed),
        format!("{FOLLOWER}{}", follower.0.hyphenated()),
    )
}

/// A session's partition: the session itself and every refresh token it has had.
pub(super) fn session_pk(session: Uuid) -> String {
    format!("SESSION#{}", session.hyphenated())
}

pub(super) fn session(session: Uuid) -> Item {
    key(session_pk(session), "SESSION")
}

pub(super) const SESSION_TOKEN: &str = "TOKEN#";

pub(super) fn session_token(session: Uuid, hash: &str) -> Item {
    key(session_pk(session), format!("{SESSION_TOKEN}{hash}"))
}

/// Finds a session by the hash of a refresh token it issued.
pub(super) fn refresh_token(hash: &str) -> Item {
    key(format!("REFRESH#{hash}"), "REFRESH")
}

pub(super) const ACCOUNT_SESSION: &str = "SESSION#";

/// Lists a session under its account.
pub(super) fn account_session(account: AccountId, session: Uuid) -> Item {
    key(
        account_pk(account),
        format!("{ACCOUNT_SESSION}{}", session.hyphenated()),
    )
}

pub(super) fn mail_token_sk_prefix(purpose: TokenPurpose) -> String {
    format!("MAILTOKEN#{}#", purpose.as_str())
}

/// A mailed token, found by its hash.
pub(super) fn mail_token(purpose: TokenPurpose, hash: &str) -> Item {
    key(
        format!("MAILTOKEN#{}#{hash}", purpose.as_str()),
        "MAILTOKEN",
    )
}

pub(super) const MAIL_TOKEN_ANY: &str = "MAILTOKEN#";

/// The same token listed under its account.
pub(super) fn account_mail_token(account: AccountId, purpose: TokenPurpose, hash: &str) -> Item {
    key(
        account_pk(account),
        format!("{}{hash}", mail_token_sk_prefix(purpose)),
    )
}

pub(super) fn throttle(throttle_key: &str, window_start_millis: i64) -> Item {
    key(
        format!("THROTTLE#{throttle_key}"),
        format!("WINDOW#{}", sortable(window_start_millis)),
    )
}

pub(super) fn kind_text(kind: RestrictionKind) -> &'static str {
    match kind {
        RestrictionKind::Ban => "ban",
        RestrictionKind::Timeout => "timeout",
    }
}

pub(super) const RESTRICTION: &str = "RESTRICTION#";

/// A restriction, in its channel's partition.
pub(super) fn restriction(channel: AccountId, user: AccountId, kind: RestrictionKind) -> Item {
    key(
        account_pk(channel),
        format!("{RESTRICTION}{}#{}", user.0.hyphenated(), kind_text(kind)),
    )
}

pub(super) fn restrictions_of_prefix(user: AccountId) -> String {
    format!("{RESTRICTION}{}#", user.0.hyphenated())
}

pub(super) const RESTRICTED: &str = "RESTRICTED#";

/// The same restriction in the restricted user's partition.
pub(super) fn restricted(user: AccountId, channel: AccountId, kind: RestrictionKind) -> Item {
    key(
        account_pk(user),
        format!("{RESTRICTED}{}#{}", channel.0.hyphenated(), kind_text(kind)),
    )
}

pub(super) const ISSUED: &str = "ISSUED#";

/// The same restriction in the partition of whoever issued it.
pub(super) fn issued(
    by: AccountId,
    channel: AccountId,
    user: AccountId,
    kind: RestrictionKind,
) -> Item {
    key(
        account_pk(by),
        format!(
            "{ISSUED}{}#{}#{}",
            channel.0.hyphenated(),
            user.0.hyphenated(),
            kind_text(kind)
        ),
    )
}

pub(super) const MODERATOR: &str = "MODERATOR#";
pub(super) const MODERATES: &str = "MODERATES#";

/// A moderator role, in its channel's partition.
pub(super) fn moderator(channel: AccountId, user: AccountId) -> Item {
    key(
        account_pk(channel),
        format!("{MODERATOR}{}", user.0.hyphenated()),
    )
}

/// The same role in the moderator's partition.
pub(super) fn moderates(user: AccountId, channel: AccountId) -> Item {
    key(
        account_pk(user),
        format!("{MODERATES}{}", channel.0.hyphenated()),
    )
}

pub(super) const CHAT_SETTINGS: &str = "CHATSETTINGS";

pub(super) fn chat_settings(channel: AccountId) -> Item {
    key(account_pk(channel), CHAT_SETTINGS)
}

/// A channel's chat partition, apart from its account partition so that chat traffic does not
/// share a partition with everything else of the channel.
pub(super) fn chat_pk(channel: AccountId) -> String {
    format!("CHAT#{}", channel.0.hyphenated())
}

pub(super) const MESSAGE: &str = "MSG#";

pub(super) fn message(channel: AccountId, offset: u64) -> Item {
    key(
        chat_pk(channel),
        format!("{MESSAGE}{}", sortable_unsigned(offset)),
    )
}

/// The highest offset the channel ever appended.
pub(super) fn chat_offset(channel: AccountId) -> Item {
    key(chat_pk(channel), "OFFSET")
}

pub(super) const AUTHOR: &str = "AUTHOR#";

/// Someone who wrote in the channel's chat, in the chat partition.
pub(super) fn chat_author(channel: AccountId, author: AccountId) -> Item {
    key(
        chat_pk(channel),
        format!("{AUTHOR}{}", author.0.hyphenated()),
    )
}

pub(super) const CHATTED: &str = "CHATTED#";

/// The same, in the author's partition.
pub(super) fn chatted(author: AccountId, channel: AccountId) -> Item {
    key(
        account_pk(author),
        format!("{CHATTED}{}", channel.0.hyphenated()),
    )
}

/// A poll's partition: the poll and its votes.
pub(super) fn poll_pk(poll: Uuid) -> String {
    format!("POLL#{}", poll.hyphenated())
}

pub(super) fn poll(poll: Uuid) -> Item {
    key(poll_pk(poll), "POLL")
}

pub(super) const VOTE: &str = "VOTE#";

pub(super) fn vote(poll: Uuid, voter: AccountId) -> Item {
    key(poll_pk(poll), format!("{VOTE}{}", voter.0.hyphenated()))
}

pub(super) const VOTED: &str = "VOTED#";

/// The same vote, in the voter's partition.
pub(super) fn voted(voter: AccountId, poll: Uuid) -> Item {
    key(account_pk(voter), format!("{VOTED}{}", poll.hyphenated()))
}

pub(super) const CHANNEL_POLL: &str = "POLL#";

/// Lists a poll under its channel, newest last in key order.
pub(super) fn channel_poll(channel: AccountId, started_at_millis: i64, poll: Uuid) -> Item {
    key(
        account_pk(channel),
        format!(
            "{CHANNEL_POLL}{}#{}",
            sortable(started_at_millis),
            poll.hyphenated()
        ),
    )
}

pub(super) const PRESET: &str = "PRESET#";

/// Presets are unique per owner and name, so the name is the key.
pub(super) fn preset(owner: AccountId, name: &str) -> Item {
    key(account_pk(owner), format!("{PRESET}{name}"))
}

pub(super) const SNAPSHOT: &str = "SNAPSHOT#";

/// Snapshots of a channel (keys `channel:<id>…` and `stage:<id>…`, with the id hyphenated and
/// lower-case) live in that account's partition, so deleting the account finds them; any other
/// key has a partition of its own.
pub(super) fn snapshot(snapshot_key: &str) -> Item {
    match snapshot_owner(snapshot_key) {
        Some(owner) => key(account_pk(owner), format!("{SNAPSHOT}{snapshot_key}")),
        None => key(format!("{SNAPSHOT}{snapshot_key}"), "SNAPSHOT"),
    }
}

fn snapshot_owner(snapshot_key: &str) -> Option<AccountId> {
    let rest = snapshot_key
        .strip_prefix("channel:")
        .or_else(|| snapshot_key.strip_prefix("stage:"))?;
    let id = rest.get(..36)?;
    let uuid = Uuid::parse_str(id).ok()?;
    // Only the exact form the actors write (`AccountId`'s Display) counts as naming the account.
    (uuid.hyphenated().to_string() == id).then_some(AccountId(uuid))
}

/// Finds an account by its channel's media ARN, which never changes.
pub(super) fn channel_arn(arn: &str) -> Item {
    key(format!("CHANNELARN#{arn}"), "CHANNELARN")
}

/// A channel's stream sessions, in a partition of their own: per session its item, its place
/// in start order, its events and its metric samples.
pub(super) fn streams_pk(channel: AccountId) -> String {
    format!("STREAMS#{}", channel.0.hyphenated())
}

pub(super) fn stream_session(channel: AccountId, stream_id: &str) -> Item {
    key(streams_pk(channel), format!("SESSION#{stream_id}"))
}

pub(super) const STREAM_START: &str = "START#";
/// Above every `START#…` key (`$` follows `#`), and the highest prefix of the partition.
pub(super) const STREAM_START_END: &str = "START$";

/// The session's place in start order: sorts by `started_at`, then stream id.
pub(super) fn stream_start_sk(started_at_millis: i64, stream_id: &str) -> String {
    format!("{STREAM_START}{}#{stream_id}", sortable(started_at_millis))
}

/// Above every start key of sessions that started at or before `at_millis`.
pub(super) fn stream_start_upto(at_millis: i64) -> String {
    format!("{STREAM_START}{}$", sortable(at_millis))
}

pub(super) fn stream_event_prefix(stream_id: &str) -> String {
    format!("EVENT#{stream_id}#")
}

pub(super) const STREAM_EVENT: &str = "EVENT#";

pub(super) fn stream_event(channel: AccountId, stream_id: &str, event_id: &str) -> Item {
    key(
        streams_pk(channel),
        format!("{}{event_id}", stream_event_prefix(stream_id)),
    )
}

/// Holds an event id for good: events are unique across channels.
pub(super) fn stream_event_id(event_id: &str) -> Item {
    key(format!("STREAMEVENT#{event_id}"), "STREAMEVENT")
}

pub(super) fn stream_sample_sk(stream_id: &str, at_millis: i64) -> String {
    format!("SAMPLE#{stream_id}#{}", sortable(at_millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_and_stage_snapshots_live_with_their_account() {
        let id = AccountId::new();
        let pk = account_pk(id);
        for snapshot_key in [
            format!("channel:{id}"),
            format!("channel:{id}:poll"),
            format!("stage:{id}"),
        ] {
            assert_eq!(snapshot(&snapshot_key)["pk"], super::super::item::s(&pk));
        }
        for other in [
            "channel:one".to_owned(),
            "directory".to_owned(),
            format!("channel:{}", id.0.hyphenated().to_string().to_uppercase()),
        ] {
            assert_ne!(snapshot(&other)["pk"], super::super::item::s(&pk));
        }
    }
}
