//! The websocket protocol, version 1: JSON text frames tagged by `type`.
//!
//! Client frames carry an `id` the reply (`ack` or `error`) echoes. Server events carry the
//! channel id they concern. Every frame is documented with examples in `docs/protocol.md`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::socket::WireFrame;
use crate::domain::{ChatSettings, Color, StreamAction};

pub const PROTOCOL_VERSION: u32 = 1;

/// What a client may send.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    /// Authenticate with an access token (also possible as `?access_token=` on connect).
    Auth {
        id: u64,
        token: String,
    },
    /// Start receiving a channel's events; answered by a `snapshot`. `channel` is a username.
    /// `chat_offset` is the last chat offset the client saw, to get what it missed.
    Subscribe {
        id: u64,
        channel: String,
        #[serde(default)]
        chat_offset: Option<u64>,
    },
    Unsubscribe {
        id: u64,
        channel: Uuid,
    },
    /// Send a chat message (signed-in users).
    Chat {
        id: u64,
        channel: Uuid,
        text: String,
    },
    /// Delete a chat message (owner and moderators).
    DeleteChat {
        id: u64,
        channel: Uuid,
        offset: u64,
    },
    /// Vote in the channel's running poll (signed-in users, once per poll).
    Vote {
        id: u64,
        channel: Uuid,
        poll_id: Uuid,
        option: u32,
    },
    /// Ask to join the channel's stage.
    StageRequest {
        id: u64,
        channel: Uuid,
    },
    /// Withdraw a join request.
    StageRetract {
        id: u64,
        channel: Uuid,
    },
    Ping {
        id: u64,
    },
}

impl ClientFrame {
    pub fn id(&self) -> u64 {
        match self {
            ClientFrame::Auth { id, .. }
            | ClientFrame::Subscribe { id, .. }
            | ClientFrame::Unsubscribe { id, .. }
            | ClientFrame::Chat { id, .. }
            | ClientFrame::DeleteChat { id, .. }
            | ClientFrame::Vote { id, .. }
            | ClientFrame::StageRequest { id, .. }
            | ClientFrame::StageRetract { id, .. }
            | ClientFrame::Ping { id } => *id,
        }
    }
}

/// A chat message as clients see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatLine {
    pub offset: u64,
    pub user_id: Uuid,
    pub username: String,
    pub color: Color,
    pub text: String,
    pub sent_at: DateTime<Utc>,
}

/// The channel's active stream action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActiveActionView {
    pub id: Uuid,
    pub action: StreamAction,
    pub started_at: DateTime<Utc>,
    /// `None`: until replaced or stopped.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A poll with its tally.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PollView {
    pub id: Uuid,
    pub question: String,
    pub options: Vec<String>,
    pub tally: Vec<u64>,
    pub total: u64,
    pub started_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    pub closed: bool,
}

/// What the subscriber is in this channel.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ViewerRole {
    pub signed_in: bool,
    pub owner: bool,
    pub moderator: bool,
    /// Timed out until then.
    pub timed_out_until: Option<DateTime<Utc>>,
    /// The option this viewer chose in the running poll.
    pub poll_vote: Option<u32>,
}

/// Chat history in a snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatHistory {
    pub messages: Vec<ChatLine>,
    /// The newest offset the channel has; the next message has a higher one.
    pub last_offset: Option<u64>,
    /// `true` when the client's `chat_offset` is older than the history kept, so some messages
    /// it missed cannot be replayed.
    pub history_lost: bool,
}

/// Moderation events everyone in the channel sees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModerationEvent {
    Banned {
        user_id: Uuid,
        username: String,
    },
    Unbanned {
        user_id: Uuid,
        username: String,
    },
    TimedOut {
        user_id: Uuid,
        username: String,
        until: DateTime<Utc>,
    },
    TimeoutLifted {
        user_id: Uuid,
        username: String,
    },
    ModeratorAdded {
        user_id: Uuid,
        username: String,
    },
    ModeratorRemoved {
        user_id: Uuid,
        username: String,
    },
    Settings {
        settings: ChatSettings,
    },
}

/// Everything the server sends. Frames are built once and serialised at once, never stored in
/// bulk, so the size gap between the snapshot and the small events does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// First frame on every connection.
    Welcome {
        v: u32,
        /// The signed-in user, if `?access_token=` was given and valid.
        user_id: Option<Uuid>,
        /// The chat tick: messages within it arrive together in one `chat` frame.
        chat_tick_ms: u64,
    },
    /// A command succeeded.
    Ack {
        id: u64,
        #[serde(skip_serializing_if = "serde_json::Value::is_null", default)]
        result: serde_json::Value,
    },
    /// A command failed (or, without `id`, the connection did something wrong).
    Error {
        id: Option<u64>,
        code: String,
        message: String,
    },
    /// The state of a channel, answering `subscribe`. The server writes it with
    /// [`SnapshotFrame`], which must produce exactly what this variant serialises to.
    Snapshot {
        id: u64,
        channel: Uuid,
        username: String,
        viewers: usize,
        live: bool,
        live_since: Option<DateTime<Utc>>,
        action: Option<ActiveActionView>,
        poll: Option<PollView>,
        stage: Option<serde_json::Value>,
        chat: ChatHistory,
        settings: ChatSettings,
        you: ViewerRole,
    },
    /// New chat messages (several when they arrived within one tick).
    Chat {
        channel: Uuid,
        messages: Vec<ChatLine>,
    },
    ChatDeleted {
        channel: Uuid,
        offset: u64,
    },
    Moderation {
        channel: Uuid,
        event: ModerationEvent,
    },
    ActionStarted {
        channel: Uuid,
        action: ActiveActionView,
    },
    ActionEnded {
        channel: Uuid,
        action_id: Uuid,
        /// `expired`, `stopped` or `replaced`.
        reason: String,
    },
    PollStarted {
        channel: Uuid,
        poll: PollView,
    },
    /// Coalesced: at most four a second.
    PollTally {
        channel: Uuid,
        poll_id: Uuid,
        tally: Vec<u64>,
        total: u64,
    },
    PollClosed {
        channel: Uuid,
        poll: PollView,
    },
    /// Viewer count; sent at most once a second and only when it changed.
    Presence {
        channel: Uuid,
        viewers: usize,
    },
    Live {
        channel: Uuid,
        live: bool,
        since: Option<DateTime<Utc>>,
    },
    /// Stage events (see `docs/protocol.md`).
    Stage {
        channel: Uuid,
        event: serde_json::Value,
    },
    /// Something that concerns only this user (e.g. a join request accepted).
    Notice {
        channel: Uuid,
        event: serde_json::Value,
    },
    Pong {
        id: u64,
    },
}

impl ServerFrame {
    /// Serialises once; the bytes are shared by every recipient.
    pub fn to_bytes(&self) -> bytes::Bytes {
        bytes::Bytes::from(serde_json::to_vec(self).expect("frames always serialise"))
    }
}

/// A `snapshot` frame whose chat messages are already JSON. A channel keeps each chat line
/// serialised (`actors::channel::history`): serialising up to 200 lines again for every
/// subscriber was most of a subscribe's CPU, in the one actor that all of a channel's subscribes
/// go through. Writes byte for byte what [`ServerFrame::Snapshot`] serialises to (tested below);
/// the fields are that variant's, in its order.
pub struct SnapshotFrame<'a, M> {
    pub id: u64,
    pub channel: Uuid,
    pub username: &'a str,
    pub viewers: usize,
    pub live: bool,
    pub live_since: Option<DateTime<Utc>>,
    pub action: Option<&'a ActiveActionView>,
    pub poll: Option<&'a PollView>,
    pub stage: Option<&'a serde_json::Value>,
    /// `chat.messages`: each a serialised [`ChatLine`], oldest first.
    pub messages: M,
    pub last_offset: Option<u64>,
    pub history_lost: bool,
    pub settings: &'a ChatSettings,
    pub you: &'a ViewerRole,
}

impl<'a, M: Iterator<Item = &'a [u8]> + Clone> SnapshotFrame<'a, M> {
    /// The frame as written to a socket: built in one buffer, with the header in front.
    pub fn wire_frame(&self) -> WireFrame {
        let messages_len: usize = self.messages.clone().map(|m| m.len() + 1).sum();
        let mut out = Vec::with_capacity(WireFrame::HEADER_ROOM + messages_len + 1024);
        out.resize(WireFrame::HEADER_ROOM, 0);
        fn put(out: &mut Vec<u8>, key: &[u8], value: &impl Serialize) {
            out.extend_from_slice(key);
            serde_json::to_writer(out, value).expect("frames always serialise");
        }
        put(&mut out, br#"{"type":"snapshot","id":"#, &self.id);
        put(&mut out, br#","channel":"#, &self.channel);
        put(&mut out, br#","username":"#, &self.username);
        put(&mut out, br#","viewers":"#, &self.viewers);
        put(&mut out, br#","live":"#, &self.live);
        put(&mut out, br#","live_since":"#, &self.live_since);
        put(&mut out, br#","action":"#, &self.action);
        put(&mut out, br#","poll":"#, &self.poll);
        put(&mut out, br#","stage":"#, &self.stage);
        out.extend_from_slice(br#","chat":{"messages":["#);
        for (i, message) in self.messages.clone().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(message);
        }
        put(&mut out, br#"],"last_offset":"#, &self.last_offset);
        put(&mut out, br#","history_lost":"#, &self.history_lost);
        put(&mut out, br#"},"settings":"#, &self.settings);
        put(&mut out, br#","you":"#, &self.you);
        out.push(b'}');
        WireFrame::text_after_room(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_frames_parse_by_type_and_refuse_unknown_fields() {
        let f: ClientFrame =
            serde_json::from_str(r#"{"type":"subscribe","id":1,"channel":"anna"}"#).unwrap();
        assert_eq!(
            f,
            ClientFrame::Subscribe {
                id: 1,
                channel: "anna".into(),
                chat_offset: None
            }
        );
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"ping","id":1,"x":2}"#).is_err());
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"explode","id":1}"#).is_err());
    }

    /// The derived frame and the spliced one, from the same parts.
    fn both<'a>(
        parts: &SnapshotFrame<'a, impl Iterator<Item = &'a [u8]> + Clone>,
        lines: &[ChatLine],
    ) -> (String, String) {
        let derived = ServerFrame::Snapshot {
            id: parts.id,
            channel: parts.channel,
            username: parts.username.into(),
            viewers: parts.viewers,
            live: parts.live,
            live_since: parts.live_since,
            action: parts.action.cloned(),
            poll: parts.poll.cloned(),
            stage: parts.stage.cloned(),
            chat: ChatHistory {
                messages: lines.to_vec(),
                last_offset: parts.last_offset,
                history_lost: parts.history_lost,
            },
            settings: parts.settings.clone(),
            you: parts.you.clone(),
        };
        (
            String::from_utf8(derived.to_bytes().to_vec()).unwrap(),
            String::from_utf8(parts.wire_frame().payload().to_vec()).unwrap(),
        )
    }

    #[test]
    fn a_spliced_snapshot_is_byte_for_byte_the_derived_one() {
        let now = Utc::now();
        let lines: Vec<ChatLine> = (1..=3)
            .map(|offset| ChatLine {
                offset,
                user_id: Uuid::now_v7(),
                username: "anna".into(),
                color: Color::Yellow,
                text: format!("line {offset}: \"quoted\", \\ and ünïcode"),
                sent_at: now,
            })
            .collect();
        let json: Vec<Vec<u8>> = lines
            .iter()
            .map(|l| serde_json::to_vec(l).unwrap())
            .collect();
        let as_slice: fn(&Vec<u8>) -> &[u8] = |j| j;
        let action = ActiveActionView {
            id: Uuid::now_v7(),
            action: crate::domain::ActionInput::Notice {
                title: "Hello".into(),
                message: "world".into(),
                duration_secs: 30,
            }
            .parse()
            .unwrap(),
            started_at: now,
            expires_at: Some(now),
        };
        let poll = PollView {
            id: Uuid::now_v7(),
            question: "Tea or coffee?".into(),
            options: vec!["Tea".into(), "Coffee".into()],
            tally: vec![2, 1],
            total: 3,
            started_at: now,
            deadline: now,
            closed: false,
        };
        let stage = serde_json::json!({ "id": Uuid::now_v7(), "queue": [{ "username": "bob" }] });
        let settings = ChatSettings {
            slow_mode_secs: 5,
            followers_only_minutes: Some(10),
            banned_words: vec!["spoiler".into()],
        };
        let you = ViewerRole {
            signed_in: true,
            owner: true,
            moderator: true,
            timed_out_until: Some(now),
            poll_vote: Some(1),
        };
        let full = SnapshotFrame {
            id: 7,
            channel: Uuid::now_v7(),
            username: "anna",
            viewers: 12,
            live: true,
            live_since: Some(now),
            action: Some(&action),
            poll: Some(&poll),
            stage: Some(&stage),
            messages: json.iter().map(as_slice),
            last_offset: Some(3),
            history_lost: true,
            settings: &settings,
            you: &you,
        };
        let (derived, spliced) = both(&full, &lines);
        assert_eq!(spliced, derived);

        let empty = SnapshotFrame {
            live: false,
            live_since: None,
            action: None,
            poll: None,
            stage: None,
            messages: json[..0].iter().map(as_slice),
            last_offset: None,
            history_lost: false,
            you: &ViewerRole::default(),
            ..full
        };
        let (derived, spliced) = both(&empty, &[]);
        assert_eq!(spliced, derived);
    }

    #[test]
    fn server_frames_are_tagged_snake_case() {
        let json = String::from_utf8(ServerFrame::Pong { id: 7 }.to_bytes().to_vec()).unwrap();
        assert_eq!(json, r#"{"type":"pong","id":7}"#);
        let ack = ServerFrame::Ack {
            id: 3,
            result: serde_json::Value::Null,
        };
        assert_eq!(
            String::from_utf8(ack.to_bytes().to_vec()).unwrap(),
            r#"{"type":"ack","id":3}"#
        );
    }
}
