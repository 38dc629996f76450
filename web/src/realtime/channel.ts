// A channel's live state as one page sees it, and how each frame changes it. Pure functions:
// the connection feeds frames in order, the page renders the result.

import type {
  ActiveAction,
  ChannelEvent,
  ChatLine,
  ChatSettings,
  JoinRequest,
  ParticipantToken,
  PollView,
  SnapshotFrame,
  StageView,
  ViewerRole,
} from './protocol';

/** The most chat messages a page keeps; older ones scroll away. */
export const CHAT_KEEP = 300;

/** Where the viewer's own request to join the stage stands. */
export type MyStage =
  | { state: 'none' }
  | { state: 'pending'; position: number | null }
  | { state: 'accepted'; token: ParticipantToken; role: string }
  | { state: 'rejected' }
  | { state: 'removed' };

export interface ChannelView {
  /** `loading` until the first snapshot. */
  status: 'loading' | 'ready' | 'banned' | 'failed';
  /** Why the subscription failed (`failed`). */
  error: { code: string; message: string } | null;
  channel: string | null;
  username: string;
  viewers: number;
  live: boolean;
  liveSince: string | null;
  action: ActiveAction | null;
  /** The running poll, or the last one to close (`closed`), kept to show its final results. */
  poll: PollView | null;
  /** When (local time) `poll` closed. */
  pollClosedAt: number | null;
  /** The viewer's vote in `poll`. */
  myVote: { pollId: string; option: number } | null;
  stage: StageView | null;
  /** The join-request queue, oldest first (the host only). */
  queue: JoinRequest[];
  myStage: MyStage;
  /** Oldest first, unique by offset. */
  chat: ChatLine[];
  /** Offsets before which messages were lost (history ran out while disconnected). */
  gaps: number[];
  settings: ChatSettings;
  you: ViewerRole;
  /** Counts bans, timeouts and moderator changes seen, so lists of them know to reload. */
  moderationSeq: number;
}

export function initialView(username: string): ChannelView {
  return {
    status: 'loading',
    error: null,
    channel: null,
    username,
    viewers: 0,
    live: false,
    liveSince: null,
    action: null,
    poll: null,
    pollClosedAt: null,
    myVote: null,
    stage: null,
    queue: [],
    myStage: { state: 'none' },
    chat: [],
    gaps: [],
    settings: { slow_mode_secs: 0, followers_only_minutes: null, banned_words: [] },
    you: { signed_in: false, owner: false, moderator: false, timed_out_until: null, poll_vote: null },
    moderationSeq: 0,
  };
}

/** Adds messages to the chat: sorted by offset, each offset once, at most `CHAT_KEEP`. */
export function mergeChat(chat: ChatLine[], incoming: ChatLine[]): ChatLine[] {
  if (incoming.length === 0) return chat;
  const seen = new Set(chat.map((m) => m.offset));
  const fresh = incoming.filter((m) => !seen.has(m.offset) && (seen.add(m.offset), true));
  if (fresh.length === 0) return chat;
  const newest = chat.length ? chat[chat.length - 1]!.offset : 0;
  const merged = fresh.every((m) => m.offset > newest) ? [...chat, ...fresh.sort((a, b) => a.offset - b.offset)] : [...chat, ...fresh].sort((a, b) => a.offset - b.offset);
  return merged.length > CHAT_KEEP ? merged.slice(merged.length - CHAT_KEEP) : merged;
}

/**
 * A snapshot replaces the channel's state. Chat is merged rather than replaced when it is the same
 * channel again (a resubscription with `chat_offset` replays only what was missed); a lost stretch
 * of history is marked as a gap.
 */
export function applySnapshot(view: ChannelView, frame: SnapshotFrame, now: number): ChannelView {
  const again = view.channel === frame.channel;
  let chat = again ? mergeChat(view.chat, frame.chat.messages) : mergeChat([], frame.chat.messages);
  let gaps = again ? view.gaps : [];
  if (again && frame.chat.history_lost && frame.chat.messages.length > 0) gaps = [...gaps, frame.chat.messages[0]!.offset];
  if (chat.length > 0) gaps = gaps.filter((g) => g >= chat[0]!.offset);
  if (!again) chat = chat.slice(-CHAT_KEEP);

  // Keep a closed poll's results on screen; a running one comes from the snapshot.
  const keepClosed = !frame.poll && view.poll?.closed && again ? view.poll : null;
  const poll = frame.poll ?? keepClosed;
  let myVote = view.myVote && poll && view.myVote.pollId === poll.id ? view.myVote : null;
  if (frame.poll && frame.you.poll_vote !== null) myVote = { pollId: frame.poll.id, option: frame.you.poll_vote };

  const stage = frame.stage;
  const queue = stage?.queue ?? [];
  let myStage = again ? view.myStage : ({ state: 'none' } as MyStage);
  if (!stage) myStage = { state: 'none' };

  return {
    ...view,
    status: 'ready',
    error: null,
    channel: frame.channel,
    username: frame.username,
    viewers: frame.viewers,
    live: frame.live,
    liveSince: frame.live_since,
    action: frame.action,
    poll,
    pollClosedAt: poll === keepClosed ? view.pollClosedAt : poll?.closed ? now : null,
    myVote,
    stage,
    queue,
    myStage,
    chat,
    gaps,
    settings: frame.settings,
    you: frame.you,
  };
}

/** One event, in the order the server sent it. `me` is the signed-in account (`null`: anonymous). */
export function applyEvent(view: ChannelView, frame: ChannelEvent, me: string | null, now: number): ChannelView {
  switch (frame.type) {
    case 'chat':
      return { ...view, chat: mergeChat(view.chat, frame.messages) };
    case 'chat_deleted':
      return view.chat.some((m) => m.offset === frame.offset) ? { ...view, chat: view.chat.filter((m) => m.offset !== frame.offset) } : view;
    case 'presence':
      return { ...view, viewers: frame.viewers };
    case 'live':
      return { ...view, live: frame.live, liveSince: frame.since };
    case 'action_started': {
      // A new overlay takes the place of a closed poll's results.
      const poll = view.poll?.closed && frame.action.id !== view.poll.id ? null : view.poll;
      return { ...view, action: frame.action, poll, pollClosedAt: poll ? view.pollClosedAt : null };
    }
    case 'action_ended':
      return view.action?.id === frame.action_id ? { ...view, action: null } : view;
    case 'poll_started':
      return {
        ...view,
        poll: frame.poll,
        pollClosedAt: null,
        myVote: view.myVote?.pollId === frame.poll.id ? view.myVote : null,
      };
    case 'poll_tally':
      if (!view.poll || view.poll.id !== frame.poll_id || view.poll.closed) return view;
      return { ...view, poll: { ...view.poll, tally: frame.tally, total: frame.total } };
    case 'poll_closed':
      // Results of a poll replaced by a non-poll action are not worth showing over it.
      if (view.action && view.action.id !== frame.poll.id && view.action.action.type !== 'poll') {
        return view.poll?.id === frame.poll.id ? { ...view, poll: null, pollClosedAt: null } : view;
      }
      return { ...view, poll: frame.poll, pollClosedAt: now };
    case 'moderation': {
      const event = frame.event;
      if (event.kind === 'settings') return { ...view, settings: event.settings };
      view = { ...view, moderationSeq: view.moderationSeq + 1 };
      if (event.user_id !== me) return view;
      switch (event.kind) {
        case 'banned':
          return { ...view, status: 'banned' };
        case 'timed_out':
          return { ...view, you: { ...view.you, timed_out_until: event.until } };
        case 'timeout_lifted':
          return { ...view, you: { ...view.you, timed_out_until: null } };
        case 'moderator_added':
          return { ...view, you: { ...view.you, moderator: true } };
        case 'moderator_removed':
          return { ...view, you: { ...view.you, moderator: view.you.owner } };
        default:
          return view;
      }
    }
    case 'stage': {
      const event = frame.event;
      if (event.kind === 'ended') return { ...view, stage: null, queue: [], myStage: { state: 'none' } };
      if (event.kind !== 'updated') return view;
      const stage = event.stage;
      // Someone in the queue who is now on stage was accepted (their notice says so too).
      const onStage = new Set(stage.publishers.map((p) => p.user_id));
      const queue = view.queue.filter((r) => !onStage.has(r.user_id));
      return { ...view, stage, queue };
    }
    case 'notice': {
      const event = frame.event;
      switch (event.kind) {
        case 'join_requested':
          return view.queue.some((r) => r.user_id === event.request.user_id) ? view : { ...view, queue: [...view.queue, event.request] };
        case 'join_retracted':
          return { ...view, queue: view.queue.filter((r) => r.user_id !== event.user_id) };
        case 'join_accepted':
          return { ...view, myStage: { state: 'accepted', token: event.token, role: event.role } };
        case 'join_rejected':
          return { ...view, myStage: { state: 'rejected' } };
        case 'removed_from_stage':
          return { ...view, myStage: { state: 'removed' } };
        case 'stage_ended':
          return { ...view, myStage: { state: 'none' } };
        default:
          return view;
      }
    }
    default:
      return view;
  }
}

/** Whether `user` publishes on the stage. */
export function onStage(view: ChannelView, user: string | null | undefined): boolean {
  return !!user && !!view.stage?.publishers.some((p) => p.user_id === user);
}

/** The percentage of votes per option, rounded, for bars. */
export function pollShares(poll: Pick<PollView, 'tally' | 'total'>): number[] {
  return poll.tally.map((n) => (poll.total > 0 ? Math.round((n / poll.total) * 100) : 0));
}
