//! Chat and moderation inside the channel actor.

use std::time::Duration;

use tokio::time::Instant;

use chrono::Utc;
use ractor::ActorRef;

use super::{Channel, ChannelError, ChannelMsg, ChannelResult, ChatAuthor, Moderation, eject};
use crate::{
    domain::{AccountId, ChatText},
    gateway::protocol::{ChatLine, ModerationEvent, ServerFrame},
    store::{ChatRecord, Restriction, RestrictionKind},
};

/// How many messages a non-moderator may send within [`RATE_WINDOW`], whatever the slow mode.
const RATE_LIMIT: usize = 20;
const RATE_WINDOW: Duration = Duration::from_secs(30);

/// Whole seconds to wait, rounded up: "retry after 29" when 29.4 s remain would be too early.
fn ceil_secs(wait: Duration) -> u64 {
    wait.as_millis().div_ceil(1000).max(1) as u64
}

fn unavailable(e: impl std::fmt::Display) -> ChannelError {
    ChannelError::Unavailable(e.to_string())
}

pub(super) async fn send(
    state: &mut Channel,
    myself: &ActorRef<ChannelMsg>,
    author: ChatAuthor,
    text: ChatText,
) -> ChannelResult<u64> {
    let user = author.id;
    if state
        .active_restriction(user, RestrictionKind::Ban)
        .is_some()
    {
        return Err(ChannelError::Banned);
    }
    if let Some(r) = state.active_restriction(user, RestrictionKind::Timeout) {
        return Err(ChannelError::TimedOut(r.until.unwrap_or_else(Utc::now)));
    }
    if !state.is_moderator(user) {
        if let Some(minutes) = state.settings.followers_only_minutes {
            let following = state
                .deps
                .store
                .is_following(user, state.channel)
                .await
                .map_err(unavailable)?;
            if !following {
                return Err(ChannelError::FollowersOnly(
                    (minutes > 0).then_some(minutes),
                ));
            }
        }
        if text.contains_any(&state.settings.banned_words).is_some() {
            return Err(ChannelError::BannedWord);
        }
        let now = Instant::now();
        let times = state.chat_times.entry(user).or_default();
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) > RATE_WINDOW)
        {
            times.pop_front();
        }
        let slow = Duration::from_secs(state.settings.slow_mode_secs.into());
        if let Some(last) = times.back()
            && !slow.is_zero()
            && now.duration_since(*last) < slow
        {
            let wait = slow - now.duration_since(*last);
            return Err(ChannelError::SlowMode(ceil_secs(wait)));
        }
        if times.len() >= RATE_LIMIT {
            let wait = RATE_WINDOW.saturating_sub(now.duration_since(times[0]));
            return Err(ChannelError::RateLimited(ceil_secs(wait)));
        }
        times.push_back(now);
    }

    let offset = state.last_offset.map_or(1, |o| o + 1);
    state.last_offset = Some(offset);
    let line = ChatLine {
        offset,
        user_id: user.0,
        username: author.username,
        color: author.color,
        text: text.as_str().to_owned(),
        sent_at: Utc::now(),
    };
    // Written behind: chat is delivered at once and kept for replay; offsets are explicit, so
    // writes landing out of order are harmless.
    let store = state.deps.store.clone();
    let record = ChatRecord {
        channel: state.channel,
        offset,
        author: user,
        username: line.username.clone(),
        text: line.text.clone(),
        sent_at: line.sent_at,
    };
    let keep = state.deps.settings.chat_history;
    tokio::spawn(async move {
        if let Err(e) = store.append_chat(&record, keep).await {
            tracing::warn!(channel = %record.channel, offset = record.offset, error = %e, "chat message not kept in history");
        }
    });
    state.chat.push(&line);
    state.pending_chat.push(line);
    schedule_flush(state, myself);
    Ok(offset)
}

/// Sends held-back messages now if the last chat frame went out a tick ago or more; otherwise
/// at the end of the tick. A lone message is not delayed; a burst shares frames.
fn schedule_flush(state: &mut Channel, myself: &ActorRef<ChannelMsg>) {
    if state.flush_scheduled {
        return;
    }
    let tick = state.deps.settings.chat_tick;
    match state.last_chat_flush.map(|t| t.elapsed()) {
        Some(since) if since < tick => {
            state.flush_scheduled = true;
            myself.send_after(tick - since, || ChannelMsg::FlushChat);
        }
        _ => flush(state),
    }
}

pub(super) fn flush(state: &mut Channel) {
    state.flush_scheduled = false;
    if state.pending_chat.is_empty() {
        return;
    }
    state.last_chat_flush = Some(Instant::now());
    let messages = std::mem::take(&mut state.pending_chat);
    state.broadcast(&ServerFrame::Chat {
        channel: state.channel.0,
        messages,
    });
}

pub(super) async fn delete(state: &mut Channel, by: AccountId, offset: u64) -> ChannelResult<()> {
    if !state.is_moderator(by) {
        return Err(ChannelError::Forbidden(
            "only moderators can delete messages",
        ));
    }
    let known = state
        .deps
        .store
        .delete_chat(state.channel, offset)
        .await
        .map_err(unavailable)?;
    let pending = state.pending_chat.iter().any(|m| m.offset == offset);
    let kept = state.chat.remove(offset);
    state.pending_chat.retain(|m| m.offset != offset);
    if !known && !kept && !pending {
        return Err(ChannelError::NoSuchMessage);
    }
    state.broadcast(&ServerFrame::ChatDeleted {
        channel: state.channel.0,
        offset,
    });
    Ok(())
}

pub(super) async fn moderate(
    state: &mut Channel,
    by: AccountId,
    command: Moderation,
) -> ChannelResult<()> {
    if !state.is_moderator(by) {
        return Err(ChannelError::Forbidden(
            "only the owner and moderators can moderate",
        ));
    }
    let owner_only = matches!(
        command,
        Moderation::AddModerator { .. } | Moderation::RemoveModerator { .. }
    );
    if owner_only && !state.is_owner(by) {
        return Err(ChannelError::Forbidden(
            "only the channel owner can appoint moderators",
        ));
    }
    // Nobody restricts the owner; only the owner restricts a moderator.
    let target = match &command {
        Moderation::Ban { user, .. } | Moderation::Timeout { user, .. } => Some(*user),
        _ => None,
    };
    if let Some(target) = target {
        if state.is_owner(target) {
            return Err(ChannelError::Forbidden(
                "the channel owner cannot be restricted",
            ));
        }
        if state.is_moderator(target) && !state.is_owner(by) {
            return Err(ChannelError::Forbidden(
                "only the owner can restrict a moderator",
            ));
        }
    }
    let store = &state.deps.store;
    let now = Utc::now();
    let channel = state.channel;
    let event = match command {
        Moderation::Ban { user, username } => {
            let r = Restriction {
                channel,
                user,
                kind: RestrictionKind::Ban,
                until: None,
                by,
                created_at: now,
            };
            store.restrict(r.clone()).await.map_err(unavailable)?;
            state
                .restrictions
                .entry(user)
                .or_default()
                .retain(|x| x.kind != RestrictionKind::Ban);
            state.restrictions.entry(user).or_default().push(r);
            eject(state, user);
            ModerationEvent::Banned {
                user_id: user.0,
                username,
            }
        }
        Moderation::Unban { user, username } => {
            store
                .lift(channel, user, RestrictionKind::Ban)
                .await
                .map_err(unavailable)?;
            if let Some(list) = state.restrictions.get_mut(&user) {
                list.retain(|x| x.kind != RestrictionKind::Ban);
            }
            ModerationEvent::Unbanned {
                user_id: user.0,
                username,
            }
        }
        Moderation::Timeout {
            user,
            username,
            until,
        } => {
            let r = Restriction {
                channel,
                user,
                kind: RestrictionKind::Timeout,
                until: Some(until),
                by,
                created_at: now,
            };
            store.restrict(r.clone()).await.map_err(unavailable)?;
            state
                .restrictions
                .entry(user)
                .or_default()
                .retain(|x| x.kind != RestrictionKind::Timeout);
            state.restrictions.entry(user).or_default().push(r);
            ModerationEvent::TimedOut {
                user_id: user.0,
                username,
                until,
            }
        }
        Moderation::LiftTimeout { user, username } => {
            store
                .lift(channel, user, RestrictionKind::Timeout)
                .await
                .map_err(unavailable)?;
            if let Some(list) = state.restrictions.get_mut(&user) {
                list.retain(|x| x.kind != RestrictionKind::Timeout);
            }
            ModerationEvent::TimeoutLifted {
                user_id: user.0,
                username,
            }
        }
        Moderation::AddModerator { user, username } => {
            if state.is_owner(user) {
                return Err(ChannelError::Forbidden("the owner already moderates"));
            }
            store
                .add_moderator(channel, user)
                .await
                .map_err(unavailable)?;
            state.moderators.insert(user);
            ModerationEvent::ModeratorAdded {
                user_id: user.0,
                username,
            }
        }
        Moderation::RemoveModerator { user, username } => {
            store
                .remove_moderator(channel, user)
                .await
                .map_err(unavailable)?;
            state.moderators.remove(&user);
            ModerationEvent::ModeratorRemoved {
                user_id: user.0,
                username,
            }
        }
        Moderation::Settings(settings) => {
            store
                .set_chat_settings(channel, &settings)
                .await
                .map_err(unavailable)?;
            state.settings = settings.clone();
            ModerationEvent::Settings { settings }
        }
    };
    state.broadcast(&ServerFrame::Moderation {
        channel: channel.0,
        event,
    });
    Ok(())
}
