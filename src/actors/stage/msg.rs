//! What a stage actor is asked, and how it can refuse.

use ractor::RpcReplyPort;

use super::{JoinRequest, Role, StageView};
use crate::{domain::AccountId, stages::ParticipantToken};

/// How someone asks to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinVia {
    /// The channel owner.
    Host,
    /// With the current invite code.
    Invite(String),
    /// Someone already on the stage (accepted from the queue, or reconnecting) gets a new token.
    Rejoin,
}

/// A granted publishing slot.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StageJoin {
    pub token: ParticipantToken,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StageError {
    #[error("no stage is live on this channel")]
    NoStage,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("the stage is full ({} publishers)", super::MAX_PUBLISHERS)]
    Full(Option<Box<ParticipantToken>>),
    #[error("this invite link is invalid or was revoked")]
    InvalidInvite,
    #[error("you are already on the stage")]
    AlreadyOnStage,
    #[error("you already asked to join")]
    AlreadyRequested,
    #[error("no such join request")]
    NoRequest,
    #[error("not on the stage")]
    NotAParticipant,
    #[error("a stage is already live")]
    AlreadyLive,
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
}

impl StageMsg {
    /// The user a request is about, for the channel's ban check.
    pub(crate) fn requester(&self) -> Option<AccountId> {
        match self {
            StageMsg::Join { user, .. } | StageMsg::Request { user, .. } => Some(*user),
            StageMsg::Spectate { user, .. } => *user,
            _ => None,
        }
    }
}

impl StageError {
    pub fn code(&self) -> &'static str {
        match self {
            StageError::NoStage => "no_stage",
            StageError::Forbidden(_) => "forbidden",
            StageError::Full(_) => "stage_full",
            StageError::InvalidInvite => "invalid_invite",
            StageError::AlreadyOnStage => "already_on_stage",
            StageError::AlreadyRequested => "already_requested",
            StageError::NoRequest => "no_request",
            StageError::NotAParticipant => "not_a_participant",
            StageError::AlreadyLive => "stage_exists",
            StageError::Unavailable(_) => "unavailable",
        }
    }
}

pub type StageResult<T> = Result<T, StageError>;

/// Messages of the stage actor.
pub enum StageMsg {
    Join {
        user: AccountId,
        username: String,
        via: JoinVia,
        reply: RpcReplyPort<StageResult<StageJoin>>,
    },
    /// A subscribe-only token (anyone not banned, signed in or not).
    Spectate {
        user: Option<AccountId>,
        reply: RpcReplyPort<StageResult<ParticipantToken>>,
    },
    /// Queue a join request; answers the position in the queue.
    Request {
        user: AccountId,
        username: String,
        reply: RpcReplyPort<StageResult<usize>>,
    },
    Retract {
        user: AccountId,
        reply: RpcReplyPort<StageResult<()>>,
    },
    Accept {
        by: AccountId,
        user: AccountId,
        reply: RpcReplyPort<StageResult<()>>,
    },
    Reject {
        by: AccountId,
        user: AccountId,
        reply: RpcReplyPort<StageResult<()>>,
    },
    /// The host removes someone, or someone leaves (`by == user`).
    Remove {
        by: AccountId,
        user: AccountId,
        reply: RpcReplyPort<StageResult<()>>,
    },
    CreateInvite {
        by: AccountId,
        reply: RpcReplyPort<StageResult<String>>,
    },
    RevokeInvite {
        by: AccountId,
        reply: RpcReplyPort<StageResult<()>>,
    },
    Queue {
        by: AccountId,
        reply: RpcReplyPort<StageResult<Vec<JoinRequest>>>,
    },
    /// From the channel: the host's first connection arrived, or their last one left.
    HostPresence {
        connected: bool,
    },
    /// Timer: the host stayed away for the grace period.
    GraceExpired,
    /// Timer: idleness.
    Tick,
    End {
        by: AccountId,
        reply: RpcReplyPort<StageResult<()>>,
    },
    View {
        reply: RpcReplyPort<StageView>,
    },
    /// Timer: send the view that changed since the last `updated` frame.
    FlushView,
    /// Fails the actor on purpose, to exercise recovery. Never sent by the product.
    Crash,
}

/// Answers a request that reached a stage that just ended.
pub(super) fn refuse_ended(message: StageMsg) {
    refuse(message, StageError::NoStage);
}

/// Answers a request with `error`, whatever its reply type.
pub(crate) fn refuse(message: StageMsg, error: StageError) {
    let no = || error.clone();
    match message {
        StageMsg::Join { reply, .. } => drop(reply.send(Err(no()))),
        StageMsg::Spectate { reply, .. } => drop(reply.send(Err(no()))),
        StageMsg::Request { reply, .. } => drop(reply.send(Err(no()))),
        StageMsg::Retract { reply, .. }
        | StageMsg::Accept { reply, .. }
        | StageMsg::Reject { reply, .. }
        | StageMsg::Remove { reply, .. }
        | StageMsg::RevokeInvite { reply, .. }
        | StageMsg::End { reply, .. } => drop(reply.send(Err(no()))),
        StageMsg::CreateInvite { reply, .. } => drop(reply.send(Err(no()))),
        StageMsg::Queue { reply, .. } => drop(reply.send(Err(no()))),
        StageMsg::View { .. }
        | StageMsg::HostPresence { .. }
        | StageMsg::GraceExpired
        | StageMsg::FlushView
        | StageMsg::Tick
        | StageMsg::Crash => {}
    }
}
