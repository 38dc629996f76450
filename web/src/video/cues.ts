// Stream actions as IVS timed metadata (AWS mode). The server puts each action start and end into
// the video with PutMetadata as its websocket frame (`src/media/metadata.rs`), so both copies
// carry the same action id:
//
//   {"type":"action_started","channel":"…","action":{"id":"…","action":{"type":"quiz",…},"started_at":"…","expires_at":"…"}}
//   {"type":"action_ended","channel":"…","action_id":"…","reason":"…"}
//
// A frame over IVS's 1 KB comes with its longest texts shortened and `"truncated": true`; the
// sync then shows the websocket's whole copy of the same action. Anything else in a cue (another
// producer's metadata, a frame cut down to its type) is ignored.

import type { Cue } from '../realtime/actionSync';
import type { ActiveAction } from '../realtime/protocol';

const ACTION_TYPES = new Set(['quiz', 'product', 'amazon_product', 'notice', 'celebration', 'poll']);

function isActiveAction(value: unknown): value is ActiveAction {
  if (!value || typeof value !== 'object') return false;
  const a = value as Record<string, unknown>;
  const inner = a.action as Record<string, unknown> | null | undefined;
  return (
    typeof a.id === 'string' &&
    a.id.length > 0 &&
    typeof a.started_at === 'string' &&
    (a.expires_at === null || a.expires_at === undefined || typeof a.expires_at === 'string') &&
    !!inner &&
    typeof inner === 'object' &&
    typeof inner.type === 'string' &&
    ACTION_TYPES.has(inner.type)
  );
}

/** A cue's text as a stream-action change, or `null` if it is not one. */
export function decodeCue(text: string): Cue | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!value || typeof value !== 'object') return null;
  const frame = value as Record<string, unknown>;
  if (frame.type === 'action_started' && isActiveAction(frame.action)) {
    const action = frame.action;
    return { kind: 'start', action: { ...action, expires_at: action.expires_at ?? null } };
  }
  if (frame.type === 'action_ended' && typeof frame.action_id === 'string' && frame.action_id) {
    return { kind: 'end', actionId: frame.action_id };
  }
  return null;
}
