// One live state per channel, shared by every component that shows it: the first user subscribes
// over the connection, the last one to leave unsubscribes. Frames go through the reducer in
// `channel.ts`; the connection's events also set the server clock.

import { applyEvent, applySnapshot, initialView, type ChannelView } from './channel';
import type { ServerClock } from './clock';
import type { ChannelUpdate, Realtime } from './connection';

export interface ChannelStore {
  readonly username: string;
  get(): ChannelView;
  listen(listener: (view: ChannelView) => void): () => void;
  /** A change the page knows of first (its own vote, its join request). */
  update(change: (view: ChannelView) => ChannelView): void;
}

export function createChannelStores(realtime: Realtime, clock: ServerClock, localNow: () => number = () => Date.now()) {
  const stores = new Map<string, { store: ChannelStore; refs: number; stop: () => void }>();

  function open(username: string): { store: ChannelStore; stop: () => void } {
    let view = initialView(username);
    const listeners = new Set<(view: ChannelView) => void>();
    const set = (next: ChannelView) => {
      if (next === view) return;
      view = next;
      for (const listener of [...listeners]) listener(view);
    };
    const onUpdate = (update: ChannelUpdate) => {
      const now = localNow();
      switch (update.kind) {
        case 'snapshot':
          set(applySnapshot(view, update.frame, now));
          return;
        case 'event': {
          const frame = update.frame;
          if (frame.type === 'action_started') clock.observe(frame.action.started_at, now);
          else if (frame.type === 'poll_started') clock.observe(frame.poll.started_at, now);
          else if (frame.type === 'chat' && frame.messages.length) clock.observe(frame.messages[frame.messages.length - 1]!.sent_at, now);
          set(applyEvent(view, frame, realtime.status.userId, now));
          return;
        }
        case 'banned':
          set({ ...view, status: 'banned' });
          return;
        case 'failed':
          // A channel that was showing keeps its last state while the server recovers.
          if (view.status !== 'ready') set({ ...view, status: 'failed', error: { code: update.error.code, message: update.error.message } });
      }
    };
    const store: ChannelStore = {
      username,
      get: () => view,
      listen(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      update: (change) => set(change(view)),
    };
    return { store, stop: realtime.subscribe(username, onUpdate) };
  }

  return {
    /** The channel's store; call `release` when done with it. */
    acquire(username: string): { store: ChannelStore; release: () => void } {
      const key = username.toLowerCase();
      let entry = stores.get(key);
      if (!entry) {
        entry = { ...open(username), refs: 0 };
        stores.set(key, entry);
      }
      entry.refs++;
      const mine = entry;
      let released = false;
      return {
        store: mine.store,
        release() {
          if (released) return;
          released = true;
          if (--mine.refs === 0 && stores.get(key) === mine) {
            stores.delete(key);
            mine.stop();
          }
        },
      };
    },
  };
}
