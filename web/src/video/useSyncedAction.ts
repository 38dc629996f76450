// The channel's active action as the overlay should show it: in AWS mode, in step with the video
// (`actionSync.ts`); otherwise the websocket's, as it is.

import { useCallback, useEffect, useReducer, useRef } from 'preact/hooks';
import { initialSync, reduceSync, waiting } from '../realtime/actionSync';
import type { ChannelView } from '../realtime/channel';
import { serverClock } from '../realtime/live';
import type { ActiveAction } from '../realtime/protocol';
import { decodeCue } from './cues';

/**
 * `delayMs`: how far the picture is behind live (0 when no video plays). `enabled`: AWS mode with
 * a player; when false the websocket's action is returned untouched.
 */
export function useSyncedAction(view: ChannelView | null, delayMs: number, enabled: boolean): { action: ActiveAction | null; onCue: (text: string) => void } {
  const [state, dispatch] = useReducer(reduceSync, initialSync);
  const socketAction = view?.status === 'ready' ? view.action : null;
  const delay = useRef(delayMs);
  delay.current = delayMs;

  useEffect(() => {
    if (enabled) dispatch({ type: 'socket', action: socketAction, now: serverClock.now(), delayMs: delay.current });
  }, [enabled, socketAction?.id ?? null]);

  const pending = waiting(state);
  useEffect(() => {
    if (!enabled || !pending) return;
    const timer = setInterval(() => dispatch({ type: 'tick', now: serverClock.now(), delayMs: delay.current }), 250);
    return () => clearInterval(timer);
  }, [enabled, pending]);

  // The video stopped: nothing to wait for any more.
  useEffect(() => {
    if (enabled && delayMs <= 0) dispatch({ type: 'tick', now: serverClock.now(), delayMs: 0 });
  }, [enabled, delayMs <= 0]);

  const onCue = useCallback((text: string) => {
    const cue = decodeCue(text);
    if (cue) dispatch({ type: 'cue', cue, now: serverClock.now() });
  }, []);

  return { action: enabled ? state.shown : socketAction, onCue };
}
