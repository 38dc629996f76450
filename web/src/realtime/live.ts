// The page's live connection (one websocket for every channel shown) and the hooks components
// use: a channel's state, the connection's state, and a ticking server clock for countdowns.

import { useEffect, useState } from 'preact/hooks';
import { api, type SessionState } from '../api/client';
import type { ChannelView } from './channel';
import { createServerClock } from './clock';
import { createRealtime, type ConnectionStatus, type Realtime, type SocketLike } from './connection';
import type { ClientRequest } from './protocol';
import { createChannelStores, type ChannelStore } from './store';

function wsUrl(): string {
  const url = new URL('/ws', window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

function accountOf(state: SessionState): string | null {
  return state.status === 'signed-in' ? (state.account?.id ?? null) : null;
}

let page: { realtime: Realtime; stores: ReturnType<typeof createChannelStores> } | null = null;

export const serverClock = createServerClock();

/** The page's connection, made on first use. */
export function livePage() {
  if (page) return page;
  const realtime = createRealtime({
    url: wsUrl(),
    // A WebSocket is a SocketLike; its handler types only name richer event types.
    socket: (url) => new WebSocket(url) as unknown as SocketLike,
    credentials: {
      token: () => api.token(),
      refresh: async () => {
        await api.refresh();
        return api.token();
      },
    },
  });
  // Logging in or out changes who the connection speaks for: start it over. (The first answer
  // on load only matters if the connection got there first, anonymously.)
  let previous = api.session;
  api.subscribe((next) => {
    const before = previous;
    previous = next;
    if (next.status === 'unknown') return;
    const now = accountOf(next);
    if (before.status === 'unknown') {
      if (realtime.status.state === 'open' && realtime.status.userId !== now) realtime.restart('signed in');
      return;
    }
    if (accountOf(before) !== now) realtime.restart(now ? 'signed in' : 'signed out');
  });
  window.addEventListener('online', () => realtime.retryNow());
  page = { realtime, stores: createChannelStores(realtime, serverClock) };
  return page;
}

/** Sends a request over the page's connection; resolves with the `ack` result. */
export function liveRequest(frame: Exclude<ClientRequest, { type: 'auth' | 'subscribe' | 'unsubscribe' }>): Promise<unknown> {
  return livePage().realtime.request(frame);
}

/** A channel's live state, subscribed while the component is shown (`null`: none). */
export function useChannel(username: string | null): { view: ChannelView | null; store: ChannelStore | null } {
  const [state, setState] = useState<{ view: ChannelView | null; store: ChannelStore | null }>({ view: null, store: null });
  useEffect(() => {
    if (!username) {
      setState({ view: null, store: null });
      return;
    }
    const { store, release } = livePage().stores.acquire(username);
    setState({ view: store.get(), store });
    const stop = store.listen((view) => setState({ view, store }));
    return () => {
      stop();
      release();
    };
  }, [username?.toLowerCase()]);
  return state;
}

/** The connection's state. */
export function useConnection(): ConnectionStatus {
  const realtime = livePage().realtime;
  const [status, setStatus] = useState(realtime.status);
  useEffect(() => {
    setStatus(realtime.status);
    return realtime.onStatus(setStatus);
  }, []);
  return status;
}

/** The server's time, re-read every `intervalMs` while `active`. */
export function useServerNow(active = true, intervalMs = 250): number {
  const [now, setNow] = useState(() => serverClock.now());
  useEffect(() => {
    if (!active) return;
    setNow(serverClock.now());
    const timer = setInterval(() => setNow(serverClock.now()), intervalMs);
    return () => clearInterval(timer);
  }, [active, intervalMs]);
  return now;
}
