// Stream actions in sync with the video (AWS mode). Each action reaches a viewer twice: over the
// websocket at once, and as IVS timed metadata inside the video, which the player hands over
// when it plays the frame the streamer sent it on — seconds later. The overlay should appear with
// the video, so a websocket copy waits for its cue (same action id) for about the player's
// latency; if no cue comes by then (metadata lost, or the channel was not broadcasting) it is
// shown anyway. Whichever copy comes second is dropped. Without video playing (`delayMs` 0)
// the websocket copy is shown at once, as in local mode.
//
// Pure: the channel page feeds socket changes, cues and ticks with the server's clock.

import type { ActiveAction } from './protocol';

/** A timed-metadata cue, decoded (`decodeCue`). */
export type Cue = { kind: 'start'; action: ActiveAction } | { kind: 'end'; actionId: string };

/** How much longer than the player's latency a websocket copy waits for its cue. */
export const CUE_GRACE_MS = 1500;
/** How many recent action ids are remembered for deduplication. */
const REMEMBER = 50;

type Change = { kind: 'start'; action: ActiveAction; shiftMs: number } | { kind: 'end'; actionId: string };

export interface SyncState {
  /** What the overlay shows: the action with its times moved by the video's lag. */
  shown: ActiveAction | null;
  /** The websocket's current action, as last seen. */
  socket: ActiveAction | null;
  /** Websocket changes waiting for the video (server time `due`), in order of `due`. */
  queue: { due: number; change: Change }[];
  /** Ids whose start arrived as a cue (oldest first). */
  cued: string[];
  /** Ids that ended on the websocket, with when (server time). */
  ended: [string, number][];
}

export type SyncInput =
  /** The websocket's current action (the channel state's `action`), at server time `now`. */
  | { type: 'socket'; action: ActiveAction | null; now: number; delayMs: number }
  | { type: 'cue'; cue: Cue; now: number }
  | { type: 'tick'; now: number; delayMs: number };

export const initialSync: SyncState = { shown: null, socket: null, queue: [], cued: [], ended: [] };

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The action with its start and expiry moved `shiftMs` later (into the video's time). */
export function shifted(action: ActiveAction, shiftMs: number): ActiveAction {
  if (shiftMs <= 0) return action;
  const start = Date.parse(action.started_at);
  const end = action.expires_at ? Date.parse(action.expires_at) : NaN;
  return {
    ...action,
    started_at: Number.isNaN(start) ? action.started_at : iso(start + shiftMs),
    expires_at: action.expires_at === null ? null : Number.isNaN(end) ? action.expires_at : iso(end + shiftMs),
  };
}

function remember<T>(list: T[], item: T): T[] {
  const next = [...list, item];
  return next.length > REMEMBER ? next.slice(next.length - REMEMBER) : next;
}

function schedule(state: SyncState, due: number, change: Change): SyncState {
  const queue = [...state.queue, { due, change }].sort((a, b) => a.due - b.due);
  return { ...state, queue };
}

function dropQueued(state: SyncState, id: string, kind?: Change['kind']): SyncState {
  const queue = state.queue.filter(({ change }) => {
    const changeId = change.kind === 'start' ? change.action.id : change.actionId;
    return changeId !== id || (kind !== undefined && change.kind !== kind);
  });
  return queue.length === state.queue.length ? state : { ...state, queue };
}

function apply(state: SyncState, change: Change): SyncState {
  if (change.kind === 'start') {
    if (state.shown?.id === change.action.id || state.cued.includes(change.action.id)) return state;
    return { ...state, shown: shifted(change.action, change.shiftMs) };
  }
  return state.shown?.id === change.actionId ? { ...state, shown: null } : state;
}

/** Applies what is due by `now` — everything, when there is no video to wait for. */
function flush(state: SyncState, now: number, delayMs: number): SyncState {
  let next = state;
  while (next.queue.length && (delayMs <= 0 || next.queue[0]!.due <= now)) {
    const [first, ...rest] = next.queue;
    next = apply({ ...next, queue: rest }, first!.change);
  }
  return next;
}

function socketStarted(state: SyncState, action: ActiveAction, now: number, delayMs: number): SyncState {
  if (state.cued.includes(action.id) || state.shown?.id === action.id) return state;
  // Polls are timed by the server (votes close at its deadline): never held back.
  if (delayMs <= 0 || action.action.type === 'poll') return apply(state, { kind: 'start', action, shiftMs: 0 });
  const started = Date.parse(action.started_at);
  const due = (Number.isNaN(started) ? now : started) + delayMs + CUE_GRACE_MS;
  return schedule(state, due, { kind: 'start', action, shiftMs: delayMs });
}

function socketEnded(state: SyncState, id: string, now: number, delayMs: number, wasPoll: boolean): SyncState {
  let next: SyncState = { ...dropQueued(state, id, 'start'), ended: remember(state.ended, [id, now] as [string, number]) };
  if (next.shown?.id !== id) return next;
  if (delayMs <= 0 || wasPoll) return apply(next, { kind: 'end', actionId: id });
  next = schedule(next, now + delayMs + CUE_GRACE_MS, { kind: 'end', actionId: id });
  return next;
}

export function reduceSync(state: SyncState, input: SyncInput): SyncState {
  switch (input.type) {
    case 'socket': {
      const previous = state.socket;
      const action = input.action;
      let next: SyncState = { ...state, socket: action };
      if (previous && previous.id !== action?.id) next = socketEnded(next, previous.id, input.now, input.delayMs, previous.action.type === 'poll');
      if (action && previous?.id !== action.id) next = socketStarted(next, action, input.now, input.delayMs);
      return flush(next, input.now, input.delayMs);
    }
    case 'cue': {
      const cue = input.cue;
      if (cue.kind === 'end') {
        const next = dropQueued(state, cue.actionId);
        return apply(next, { kind: 'end', actionId: cue.actionId });
      }
      // A cue may be cut to fit IVS's 1 KB (`truncated`): the websocket's copy, when it has
      // the same action, is the whole one.
      const action = state.socket?.id === cue.action.id ? state.socket : cue.action;
      if (state.cued.includes(action.id)) return state;
      let next: SyncState = { ...dropQueued(state, action.id, 'start'), cued: remember(state.cued, action.id) };
      // Already on screen from the websocket (its cue came late): keep it as it is.
      if (state.shown?.id === action.id) return next;
      const started = Date.parse(action.started_at);
      const shiftMs = Number.isNaN(started) ? 0 : Math.max(0, input.now - started);
      next = { ...next, shown: shifted(action, shiftMs) };
      // It already ended on the websocket: end it as long after its start, in video time.
      const ended = state.ended.find(([id]) => id === action.id);
      if (ended && !Number.isNaN(started)) next = schedule(next, input.now + Math.max(0, ended[1] - started), { kind: 'end', actionId: action.id });
      return next;
    }
    case 'tick':
      return flush(state, input.now, input.delayMs);
  }
}

/** Whether a tick is needed: something waits for the video. */
export function waiting(state: SyncState): boolean {
  return state.queue.length > 0;
}
