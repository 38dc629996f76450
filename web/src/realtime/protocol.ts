// The websocket protocol, version 1, as `src/gateway/protocol.rs` defines it and
// `docs/protocol.md` documents it. Channels are named by username only in `subscribe`; every
// other frame uses the channel's id (a UUID) from the snapshot.

import type { Color } from '../api/types';

export const PROTOCOL_VERSION = 1;

/** Close codes the server uses (`src/actors/hub.rs`). */
export const CLOSE = {
  GOING_AWAY: 1001,
  PROTOCOL: 4000,
  UNAUTHENTICATED: 4001,
  BANNED: 4003,
  SLOW_CONSUMER: 4008,
  RATE_LIMITED: 4029,
} as const;

// ---------- stream actions ----------

export interface Quiz {
  type: 'quiz';
  question: string;
  answers: string[];
  correct_index: number;
  duration_secs: number;
}
export interface Product {
  type: 'product';
  title: string;
  price: string;
  image_url: string;
  description: string;
}
export interface AmazonProduct {
  type: 'amazon_product';
  title: string;
  price: string;
  image_url: string;
  product_url: string;
}
export interface NoticeAction {
  type: 'notice';
  title: string;
  message: string;
  duration_secs: number;
}
export interface Celebration {
  type: 'celebration';
}
export interface PollSpec {
  type: 'poll';
  question: string;
  options: string[];
  duration_secs: number;
}

/** An action in the shape `POST /api/channels/{username}/actions` takes and frames carry. */
export type StreamAction = Quiz | Product | AmazonProduct | NoticeAction | Celebration | PollSpec;
export type ActionType = StreamAction['type'];

export interface ActiveAction {
  id: string;
  action: StreamAction;
  started_at: string;
  /** `null`: until replaced or stopped (products). */
  expires_at: string | null;
}

export interface PollView {
  id: string;
  question: string;
  options: string[];
  tally: number[];
  total: number;
  started_at: string;
  deadline: string;
  closed: boolean;
}

// ---------- chat ----------

export interface ChatLine {
  offset: number;
  user_id: string;
  username: string;
  color: Color;
  text: string;
  sent_at: string;
}

export interface ChatSettings {
  slow_mode_secs: number;
  /** `null`: off; 0: any follower. */
  followers_only_minutes: number | null;
  banned_words: string[];
}

export interface ViewerRole {
  signed_in: boolean;
  owner: boolean;
  moderator: boolean;
  timed_out_until: string | null;
  poll_vote: number | null;
}

export type ModerationEvent =
  | { kind: 'banned' | 'unbanned' | 'timeout_lifted' | 'moderator_added' | 'moderator_removed'; user_id: string; username: string }
  | { kind: 'timed_out'; user_id: string; username: string; until: string }
  | { kind: 'settings'; settings: ChatSettings };

// ---------- stages ----------

export interface Publisher {
  user_id: string;
  username: string;
  role: 'host' | 'invited' | 'requested';
  joined_at: string;
}

export interface JoinRequest {
  user_id: string;
  username: string;
  requested_at: string;
}

export interface StageView {
  id: string;
  host_id: string;
  created_at: string;
  publishers: Publisher[];
  capacity: number;
  queue_length: number;
  host_connected: boolean;
  /** Only in the host's snapshot. */
  queue?: JoinRequest[];
}

export interface ParticipantToken {
  token: string;
  participant_id: string;
  capabilities: string[];
  expires_at: string;
}

export type StageEvent =
  | { kind: 'updated'; stage: StageView }
  | { kind: 'ended'; stage_id: string; reason: string };

/** Events for one user only. */
export type NoticeEvent =
  | { kind: 'join_requested'; request: JoinRequest }
  | { kind: 'join_retracted'; user_id: string }
  | { kind: 'join_accepted'; token: ParticipantToken; role: string }
  | { kind: 'join_rejected' }
  | { kind: 'removed_from_stage' }
  | { kind: 'stage_ended'; reason: string };

// ---------- frames ----------

export interface SnapshotFrame {
  type: 'snapshot';
  id: number;
  channel: string;
  username: string;
  viewers: number;
  live: boolean;
  live_since: string | null;
  action: ActiveAction | null;
  poll: PollView | null;
  stage: StageView | null;
  chat: { messages: ChatLine[]; last_offset: number | null; history_lost: boolean };
  settings: ChatSettings;
  you: ViewerRole;
}

/** Events about one channel. */
export type ChannelEvent =
  | { type: 'chat'; channel: string; messages: ChatLine[] }
  | { type: 'chat_deleted'; channel: string; offset: number }
  | { type: 'moderation'; channel: string; event: ModerationEvent }
  | { type: 'action_started'; channel: string; action: ActiveAction }
  | { type: 'action_ended'; channel: string; action_id: string; reason: string }
  | { type: 'poll_started'; channel: string; poll: PollView }
  | { type: 'poll_tally'; channel: string; poll_id: string; tally: number[]; total: number }
  | { type: 'poll_closed'; channel: string; poll: PollView }
  | { type: 'presence'; channel: string; viewers: number }
  | { type: 'live'; channel: string; live: boolean; since: string | null }
  | { type: 'stage'; channel: string; event: StageEvent }
  | { type: 'notice'; channel: string; event: NoticeEvent };

export type ServerFrame =
  | { type: 'welcome'; v: number; user_id: string | null; chat_tick_ms: number }
  | { type: 'ack'; id: number; result?: unknown }
  | { type: 'error'; id: number | null; code: string; message: string }
  | { type: 'pong'; id: number }
  | SnapshotFrame
  | ChannelEvent;

/** Client frames without their `id` (the connection numbers them). */
export type ClientRequest =
  | { type: 'auth'; token: string }
  | { type: 'subscribe'; channel: string; chat_offset?: number }
  | { type: 'unsubscribe'; channel: string }
  | { type: 'chat'; channel: string; text: string }
  | { type: 'delete_chat'; channel: string; offset: number }
  | { type: 'vote'; channel: string; poll_id: string; option: number }
  | { type: 'stage_request'; channel: string }
  | { type: 'stage_retract'; channel: string }
  | { type: 'ping' };

/** A refused request (`error` with the request's id), or the connection going away under it. */
export class RealtimeError extends Error {
  /** The server's code (`slow_mode`, `banned`…), or ours: `disconnected`. */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'RealtimeError';
    this.code = code;
  }
}
