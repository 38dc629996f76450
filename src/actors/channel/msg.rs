//! What a channel actor is asked, and how it can refuse.

use chrono::{DateTime, Utc};
use ractor::RpcReplyPort;
use uuid::Uuid;

use crate::{
    actors::{
        hub::{ConnId, Subscriber},
        stage::{JoinRequest, StageJoin, StageMsg, StageResult, StageView},
    },
    domain::{AccountId, ChatSettings, ChatText, Color, FieldErrors, StreamAction},
    gateway::protocol::{ActiveActionView, PollView},
    store::PollRecord,
};

/// Who sends a chat message, as the gateway authenticated them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatAuthor {
    pub id: AccountId,
    pub username: String,
    pub color: Color,
}

/// A moderation command. Who may issue which is decided by the channel actor.
#[derive(Debug, Clone, PartialEq)]
pub enum Moderation {
    Ban {
        user: AccountId,
        username: String,
    },
    Unban {
        user: AccountId,
        username: String,
    },
    Timeout {
        user: AccountId,
        username: String,
        until: DateTime<Utc>,
    },
    LiftTimeout {
        user: AccountId,
        username: String,
    },
    AddModerator {
        user: AccountId,
        username: String,
    },
    RemoveModerator {
        user: AccountId,
        username: String,
    },
    Settings(ChatSettings),
}

/// The public state of a channel, for HTTP readers.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelState {
    pub live_since: Option<DateTime<Utc>>,
    pub stage: Option<StageView>,
    pub viewers: usize,
    pub action: Option<ActiveActionView>,
    pub poll: Option<PollView>,
    pub settings: ChatSettings,
    pub moderators: Vec<AccountId>,
}

/// Why a channel refused a request.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChannelError {
    #[error("channel not found")]
    NotFound,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("sign in first")]
    SignInRequired,
    #[error("you are banned from this channel")]
    Banned,
    #[error("you are timed out until {0}")]
    TimedOut(DateTime<Utc>),
    #[error("slow mode: wait {0} s between messages")]
    SlowMode(u64),
    #[error("only followers{} can chat", .0.map(|m| format!(" of at least {m} minutes")).unwrap_or_default())]
    FollowersOnly(Option<u32>),
    #[error("your message contains a banned word")]
    BannedWord,
    #[error("you are sending messages too fast")]
    RateLimited(u64),
    #[error("invalid input")]
    Invalid(FieldErrors),
    #[error("no such message")]
    NoSuchMessage,
    #[error("no poll is running")]
    NoPoll,
    #[error("this poll has closed")]
    PollClosed,
    #[error("you already voted in this poll")]
    AlreadyVoted,
    #[error("no such option")]
    InvalidOption,
    #[error("only polls can start while a stage is live")]
    StageLive,
    #[error("no action is active")]
    NoAction,
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
}

impl ChannelError {
    /// A stable machine code for clients.
    pub fn code(&self) -> &'static str {
        match self {
            ChannelError::NotFound => "not_found",
            ChannelError::Forbidden(_) => "forbidden",
            ChannelError::SignInRequired => "unauthenticated",
            ChannelError::Banned => "banned",
            ChannelError::TimedOut(_) => "timed_out",
            ChannelError::SlowMode(_) => "slow_mode",
            ChannelError::FollowersOnly(_) => "followers_only",
            ChannelError::BannedWord => "banned_word",
            ChannelError::RateLimited(_) => "rate_limited",
            ChannelError::Invalid(_) => "validation_failed",
            ChannelError::NoSuchMessage => "not_found",
            ChannelError::NoPoll => "no_poll",
            ChannelError::PollClosed => "poll_closed",
            ChannelError::AlreadyVoted => "already_voted",
            ChannelError::InvalidOption => "invalid_option",
            ChannelError::StageLive => "stage_live",
            ChannelError::NoAction => "no_action",
            ChannelError::Unavailable(_) => "unavailable",
        }
    }
}

pub type ChannelResult<T> = Result<T, ChannelError>;

/// Messages of the channel actor. Commands are imperative, notifications from children past
/// tense. Replies carry the outcome; the actor itself only fails on a bug.
pub enum ChannelMsg {
    /// Sends the connection the channel's snapshot (answering request `request_id`), then adds
    /// it to the hub — in that order, so no event can overtake the snapshot.
    Subscribe {
        subscriber: Subscriber,
        request_id: u64,
        chat_offset: Option<u64>,
        reply: RpcReplyPort<ChannelResult<()>>,
    },
    /// A connection left (`user` is who it was, if known).
    Unsubscribe {
        conn: ConnId,
        user: Option<AccountId>,
    },
    SendChat {
        author: ChatAuthor,
        text: ChatText,
        reply: RpcReplyPort<ChannelResult<u64>>,
    },
    DeleteChat {
        by: AccountId,
        offset: u64,
        reply: RpcReplyPort<ChannelResult<()>>,
    },
    Moderate {
        by: AccountId,
        command: Moderation,
        reply: RpcReplyPort<ChannelResult<()>>,
    },
    StartAction {
        by: AccountId,
        action: StreamAction,
        reply: RpcReplyPort<ChannelResult<ActiveActionView>>,
    },
    StopAction {
        by: AccountId,
        reply: RpcReplyPort<ChannelResult<()>>,
    },
    Vote {
        voter: AccountId,
        poll_id: Uuid,
        option: u32,
        reply: RpcReplyPort<ChannelResult<()>>,
    },
    /// The channel went live (`Some(start)`) or offline.
    SetLive {
        since: Option<DateTime<Utc>>,
    },
    GetState {
        reply: RpcReplyPort<ChannelState>,
    },
    /// Timer: presence, idleness.
    Tick,
    /// Timer: send the chat messages held back within the current tick.
    FlushChat,
    /// Timer: the action's time is up.
    ActionExpired {
        action_id: Uuid,
    },
    /// From the poll actor: the tally changed.
    PollTallied {
        poll_id: Uuid,
        tally: Vec<u64>,
        total: u64,
    },
    /// From the poll actor: the poll ended and its results are stored.
    PollEnded {
        record: PollRecord,
    },
    /// Creates the channel's stage if there is none, and joins its owner as host.
    StartStage {
        by: AccountId,
        reply: RpcReplyPort<StageResult<StageJoin>>,
    },
    /// For the stage actor; refused with `NoStage` when there is no stage, and for banned users.
    ForStage(StageMsg),
    /// From the stage actor: its public view and queue changed (`None`: it ended).
    StageUpdated {
        view: Option<StageView>,
        queue: Vec<JoinRequest>,
    },
    /// Fails the actor on purpose, to exercise recovery. Never sent by the product.
    Crash,
    /// Fails the running poll's actor on purpose. Never sent by the product.
    CrashPoll,
}
