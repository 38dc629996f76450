// The one websocket connection of the page (`/ws`, protocol in docs/protocol.md).
//
// It is written over an injected socket factory, timers and token source, so the whole policy is
// unit-tested with a fake socket:
// - Connects when the first channel is subscribed, and closes (after a short linger, so moving
//   between pages reuses it) when the last one is released.
// - Signs in with an `auth` frame (the token never goes in the URL), and again with a fresh token
//   a minute before the current one expires.
// - Reconnects on its own: 0.5 s doubling to 30 s with ±50 % jitter, reset once a connection has
//   lasted a minute; 1–2 s after 4008 (slow consumer); at least 5 s after 4029; at once with a
//   refreshed token after 4001. Each channel is subscribed again with the highest chat offset seen,
//   so the server replays what was missed.
// - 4003 (banned) on a connection with one channel: that channel is banned and there is no
//   reconnect. With several, it reconnects and the banned one answers `subscribe` with `banned`.
// - A `welcome` with another protocol version stops it for good.
// - Notices a dead connection: a `ping` after 30 s of silence, dropped if no frame within 10 s.

import {
  CLOSE,
  PROTOCOL_VERSION,
  RealtimeError,
  type ChannelEvent,
  type ClientRequest,
  type ServerFrame,
  type SnapshotFrame,
} from './protocol';

/** The part of a browser `WebSocket` this module uses. */
export interface SocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type SocketFactory = (url: string) => SocketLike;

export interface Credentials {
  /** A current access token, or `null` when signed out. */
  token(): Promise<string | null>;
  /** A new access token (the current one is refused or about to expire), or `null`. */
  refresh(): Promise<string | null>;
}

export interface Clock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

export interface RealtimeOptions {
  url: string;
  socket: SocketFactory;
  credentials: Credentials;
  clock?: Clock;
  /** In [0, 1): the jitter. */
  random?: () => number;
}

export type ConnectionState =
  /** Nothing subscribed, so no connection. */
  | 'idle'
  | 'connecting'
  /** Connected, signed in as far as possible, channels (re)subscribed. */
  | 'open'
  /** Waiting to reconnect (`retryAt`). */
  | 'reconnecting'
  /** Will not reconnect: banned from the only channel, or an unsupported protocol version. */
  | 'stopped';

export interface ConnectionStatus {
  state: ConnectionState;
  /** When the next attempt starts (`reconnecting`). */
  retryAt: number | null;
  /** Failed attempts in a row. */
  attempt: number;
  /** Why the last connection ended, for people. */
  reason: string | null;
  /** The account the connection is signed in as. */
  userId: string | null;
}

/** What a channel's listeners are told. */
export type ChannelUpdate =
  | { kind: 'snapshot'; frame: SnapshotFrame }
  | { kind: 'event'; frame: ChannelEvent }
  /** Banned from the channel: no events will come. */
  | { kind: 'banned' }
  /** The subscription was refused (`not_found`, `unavailable`…). */
  | { kind: 'failed'; error: RealtimeError };

export type ChannelListener = (update: ChannelUpdate) => void;

export const BACKOFF = {
  firstMs: 500,
  maxMs: 30_000,
  /** A connection that lasted this long resets the backoff. */
  stableMs: 60_000,
  slowConsumerMs: 1_000,
  rateLimitedMs: 5_000,
  /** Retry a subscription the server could not serve (`unavailable`). */
  resubscribeMs: 2_000,
} as const;

export const KEEPALIVE = { idleMs: 30_000, pongMs: 10_000, connectMs: 15_000 } as const;

/** Re-authenticate this long before the access token expires. */
export const REAUTH_MARGIN_MS = 60_000;

/** Keep an unused connection this long, so moving to another page reuses it. */
export const LINGER_MS = 3_000;

interface Subscription {
  key: string;
  username: string;
  listeners: Set<ChannelListener>;
  /** The channel's id, from its first snapshot. */
  channelId: string | null;
  /** The highest chat offset seen: sent as `chat_offset` when subscribing again. */
  lastOffset: number | null;
  state: 'pending' | 'active' | 'banned' | 'failed';
  retry: unknown;
}

interface Pending {
  resolve: (result: unknown) => void;
  reject: (error: RealtimeError) => void;
}

const defaultClock: Clock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  now: () => Date.now(),
};

/** The `exp` of a JWT in milliseconds, or `null` if it has none (never trusted, only scheduled on). */
export function tokenExpiry(token: string): number | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp * 1000 : null;
  } catch {
    return null;
  }
}

/** The wait before attempt `attempt` (1 = the first retry): doubling, capped, ±50 % jitter. */
export function backoffDelay(attempt: number, random: number): number {
  const base = Math.min(BACKOFF.maxMs, BACKOFF.firstMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.5 + random));
}

export type Realtime = ReturnType<typeof createRealtime>;

export function createRealtime(options: RealtimeOptions) {
  const clock = options.clock ?? defaultClock;
  const random = options.random ?? Math.random;

  const subs = new Map<string, Subscription>();
  const byChannel = new Map<string, Subscription>();
  const pending = new Map<number, Pending>();
  const statusListeners = new Set<(status: ConnectionStatus) => void>();

  let socket: SocketLike | null = null;
  /** Bumped per connection: callbacks of an old socket do nothing. */
  let generation = 0;
  let nextId = 1;
  let status: ConnectionStatus = { state: 'idle', retryAt: null, attempt: 0, reason: null, userId: null };
  let openedAt = 0;
  let token: string | null = null;
  let retryTimer: unknown = null;
  let lingerTimer: unknown = null;
  let idleTimer: unknown = null;
  let pongTimer: unknown = null;
  let reauthTimer: unknown = null;
  let connectTimer: unknown = null;

  function setStatus(patch: Partial<ConnectionStatus>) {
    status = { ...status, ...patch };
    for (const listener of statusListeners) listener(status);
  }

  function clear(handle: unknown) {
    if (handle !== null) clock.clearTimeout(handle);
    return null;
  }

  function tell(sub: Subscription, update: ChannelUpdate) {
    for (const listener of [...sub.listeners]) listener(update);
  }

  function wanted(): Subscription[] {
    return [...subs.values()].filter((s) => s.state !== 'banned');
  }

  // ---------- the socket ----------

  function connect() {
    retryTimer = clear(retryTimer);
    if (socket || wanted().length === 0) return;
    const mine = ++generation;
    openedAt = 0;
    setStatus({ state: 'connecting', retryAt: null });
    let ws: SocketLike;
    try {
      ws = options.socket(options.url);
    } catch {
      scheduleReconnect('Could not open a connection.');
      return;
    }
    socket = ws;
    // A connection attempt that neither opens nor fails (a black-holed network) is given up.
    connectTimer = clock.setTimeout(() => {
      connectTimer = null;
      detach();
      scheduleReconnect('could not connect');
    }, KEEPALIVE.connectMs);
    ws.onmessage = (event) => {
      if (mine === generation) receive(event.data);
    };
    ws.onclose = (event) => {
      if (mine === generation) closed(event.code, event.reason);
    };
    ws.onerror = () => undefined;
    ws.onopen = () => {
      if (mine === generation) {
        connectTimer = clear(connectTimer);
        openedAt = clock.now();
        heard();
      }
    };
  }

  /** Forget the socket without waiting for its close event (that may come late or never). */
  function detach(code = 1000, reason = '') {
    generation++;
    const ws = socket;
    socket = null;
    idleTimer = clear(idleTimer);
    pongTimer = clear(pongTimer);
    reauthTimer = clear(reauthTimer);
    connectTimer = clear(connectTimer);
    if (ws) {
      ws.onmessage = ws.onclose = ws.onopen = ws.onerror = null;
      try {
        ws.close(code, reason);
      } catch {
        // already closed
      }
    }
    const failed = [...pending.values()];
    pending.clear();
    for (const p of failed) p.reject(new RealtimeError('disconnected', 'Not connected to chat. Reconnecting…'));
    for (const sub of subs.values()) {
      sub.retry = clear(sub.retry);
      if (sub.state === 'active' || sub.state === 'failed') sub.state = 'pending';
    }
  }

  function closed(code: number, reason: string) {
    const lasted = openedAt > 0 ? clock.now() - openedAt : 0;
    detach();
    if (lasted >= BACKOFF.stableMs) setStatus({ attempt: 0 });
    switch (code) {
      case CLOSE.BANNED: {
        const live = wanted();
        if (live.length <= 1) {
          for (const sub of live) {
            sub.state = 'banned';
            tell(sub, { kind: 'banned' });
          }
          setStatus({ state: 'stopped', retryAt: null, reason: 'banned' });
          return;
        }
        scheduleReconnect('banned from a channel');
        return;
      }
      case CLOSE.UNAUTHENTICATED: {
        // The token expired or was revoked: get a fresh one and come straight back (with
        // backoff if it happens again).
        const back = () => scheduleReconnect('signed out by the server', status.attempt === 0 ? 0 : undefined);
        setStatus({ state: 'reconnecting', retryAt: clock.now(), reason: 'signed out by the server' });
        void options.credentials.refresh().then(back, back);
        return;
      }
      case CLOSE.SLOW_CONSUMER:
        scheduleReconnect('the connection fell behind', BACKOFF.slowConsumerMs * (1 + random()));
        return;
      case CLOSE.RATE_LIMITED:
        scheduleReconnect('too many messages', Math.max(BACKOFF.rateLimitedMs, nextBackoff()));
        return;
      default:
        scheduleReconnect(reason || (code === CLOSE.GOING_AWAY ? 'the server went away' : 'the connection was lost'));
    }
  }

  function nextBackoff(): number {
    return backoffDelay(status.attempt + 1, random());
  }

  function scheduleReconnect(reason: string, delay?: number) {
    if (wanted().length === 0) {
      setStatus({ state: 'idle', retryAt: null, reason });
      return;
    }
    const wait = delay ?? nextBackoff();
    setStatus({ state: 'reconnecting', retryAt: clock.now() + wait, attempt: status.attempt + 1, reason });
    retryTimer = clear(retryTimer);
    retryTimer = clock.setTimeout(() => {
      retryTimer = null;
      connect();
    }, wait);
  }

  function reconnectNow(reason: string) {
    if (socket) detach();
    if (wanted().length === 0) {
      setStatus({ state: 'idle', retryAt: null, reason });
      return;
    }
    setStatus({ reason });
    connect();
  }

  function send(frame: object) {
    try {
      socket?.send(JSON.stringify(frame));
    } catch {
      // A socket that cannot send is about to close; its close event does the rest.
    }
  }

  /** Sends a request and resolves with the `ack` result (or the reply frame itself). */
  function call(request: ClientRequest): Promise<unknown> {
    if (!socket) return Promise.reject(new RealtimeError('disconnected', 'Not connected to chat. Reconnecting…'));
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      send({ ...request, id });
    });
  }

  // ---------- keepalive ----------

  /** Any frame is a sign of life: wait another idle period before pinging. */
  function heard() {
    pongTimer = clear(pongTimer);
    idleTimer = clear(idleTimer);
    idleTimer = clock.setTimeout(() => {
      idleTimer = null;
      send({ type: 'ping', id: nextId++ });
      pongTimer = clock.setTimeout(() => {
        pongTimer = null;
        detach(1000, 'no pong');
        scheduleReconnect('the connection stopped answering');
      }, KEEPALIVE.pongMs);
    }, KEEPALIVE.idleMs);
  }

  // ---------- frames ----------

  function receive(data: unknown) {
    heard();
    if (typeof data !== 'string') return;
    let frame: ServerFrame;
    try {
      frame = JSON.parse(data) as ServerFrame;
    } catch {
      return;
    }
    switch (frame.type) {
      case 'welcome':
        if (frame.v !== PROTOCOL_VERSION) {
          detach(1000, 'unsupported protocol version');
          setStatus({ state: 'stopped', retryAt: null, reason: `unsupported protocol version ${frame.v}` });
          return;
        }
        void start(frame.user_id);
        return;
      case 'ack':
      case 'pong': {
        const p = pending.get(frame.id);
        if (p) {
          pending.delete(frame.id);
          p.resolve(frame.type === 'ack' ? frame.result : frame);
        }
        return;
      }
      case 'error': {
        if (frame.id === null) return; // about the connection; a close follows if it matters
        const p = pending.get(frame.id);
        if (p) {
          pending.delete(frame.id);
          p.reject(new RealtimeError(frame.code, frame.message));
        }
        return;
      }
      case 'snapshot': {
        const p = pending.get(frame.id);
        if (p) {
          pending.delete(frame.id);
          p.resolve(frame);
        }
        return;
      }
      default: {
        const sub = byChannel.get(frame.channel);
        if (!sub || sub.state !== 'active') return;
        if (frame.type === 'chat') {
          for (const m of frame.messages) sub.lastOffset = Math.max(sub.lastOffset ?? 0, m.offset);
        }
        tell(sub, { kind: 'event', frame });
      }
    }
  }

  /** After `welcome`: sign in, then subscribe to every channel. */
  async function start(welcomeUser: string | null) {
    const mine = generation;
    let userId = welcomeUser;
    try {
      token = await options.credentials.token();
    } catch {
      token = null;
    }
    if (mine !== generation) return;
    if (token) userId = await authenticate(mine);
    if (mine !== generation) return;
    setStatus({ state: 'open', retryAt: null, userId, reason: null });
    for (const sub of wanted()) void subscribeOn(sub);
  }

  /** Sends `auth`; on `invalid_token` refreshes once and tries again. Resolves with the user id. */
  async function authenticate(mine: number): Promise<string | null> {
    for (let round = 0; round < 2 && token; round++) {
      try {
        const result = (await call({ type: 'auth', token })) as { user_id?: string } | undefined;
        scheduleReauth();
        return result?.user_id ?? null;
      } catch (error) {
        if (mine !== generation || !(error instanceof RealtimeError) || error.code !== 'invalid_token') return null;
        try {
          token = await options.credentials.refresh();
        } catch {
          token = null;
        }
        if (mine !== generation) return null;
      }
    }
    return null;
  }

  function scheduleReauth() {
    reauthTimer = clear(reauthTimer);
    const expiry = token ? tokenExpiry(token) : null;
    if (expiry === null) return;
    const mine = generation;
    const wait = Math.max(5_000, expiry - REAUTH_MARGIN_MS - clock.now());
    reauthTimer = clock.setTimeout(() => {
      reauthTimer = null;
      void (async () => {
        let fresh: string | null = null;
        try {
          const current = await options.credentials.token();
          fresh = current && current !== token && (tokenExpiry(current) ?? 0) > (expiry ?? 0) ? current : await options.credentials.refresh();
        } catch {
          fresh = null;
        }
        if (mine !== generation) return;
        if (!fresh) {
          // Signed out meanwhile: the page's session listener restarts the connection.
          return;
        }
        token = fresh;
        try {
          await call({ type: 'auth', token: fresh });
          scheduleReauth();
        } catch (error) {
          // `forbidden`: another account now; start over as it.
          if (mine === generation && error instanceof RealtimeError && error.code !== 'disconnected') reconnectNow('signed in again');
        }
      })();
    }, wait);
  }

  async function subscribeOn(sub: Subscription) {
    if (!socket || sub.state === 'banned' || !subs.has(sub.key)) return;
    const mine = generation;
    sub.state = 'pending';
    const request: ClientRequest =
      sub.lastOffset !== null ? { type: 'subscribe', channel: sub.username, chat_offset: sub.lastOffset } : { type: 'subscribe', channel: sub.username };
    try {
      const snapshot = (await call(request)) as SnapshotFrame;
      if (mine !== generation || subs.get(sub.key) !== sub) return;
      sub.state = 'active';
      sub.channelId = snapshot.channel;
      byChannel.set(snapshot.channel, sub);
      const newest = Math.max(sub.lastOffset ?? 0, snapshot.chat.last_offset ?? 0, ...snapshot.chat.messages.map((m) => m.offset));
      sub.lastOffset = newest > 0 ? newest : null;
      tell(sub, { kind: 'snapshot', frame: snapshot });
    } catch (error) {
      if (mine !== generation || subs.get(sub.key) !== sub || !(error instanceof RealtimeError)) return;
      if (error.code === 'disconnected') return;
      if (error.code === 'already_subscribed') return;
      if (error.code === 'banned') {
        sub.state = 'banned';
        tell(sub, { kind: 'banned' });
        idleWhenUnused();
        return;
      }
      sub.state = 'failed';
      tell(sub, { kind: 'failed', error });
      if (error.code === 'unavailable') {
        sub.retry = clock.setTimeout(() => {
          sub.retry = null;
          if (mine === generation) void subscribeOn(sub);
        }, BACKOFF.resubscribeMs);
      }
    }
  }

  function release(sub: Subscription, listener: ChannelListener) {
    sub.listeners.delete(listener);
    if (sub.listeners.size > 0 || subs.get(sub.key) !== sub) return;
    subs.delete(sub.key);
    sub.retry = clear(sub.retry);
    if (sub.channelId) {
      byChannel.delete(sub.channelId);
      if (socket && sub.state === 'active') call({ type: 'unsubscribe', channel: sub.channelId }).catch(() => undefined);
    }
    idleWhenUnused();
  }

  /** With nothing left to receive, close the connection after a linger. */
  function idleWhenUnused() {
    if (wanted().length > 0) return;
    retryTimer = clear(retryTimer);
    lingerTimer = clear(lingerTimer);
    lingerTimer = clock.setTimeout(() => {
      lingerTimer = null;
      if (wanted().length > 0) return;
      const banned = subs.size > 0;
      detach(1000, 'done');
      setStatus({ state: banned ? 'stopped' : 'idle', retryAt: null, attempt: 0, reason: banned ? 'banned' : null });
    }, LINGER_MS);
  }

  return {
    /**
     * Receive a channel's snapshot and events (`username`, any case). Listeners of the same
     * channel share one subscription. Returns the function that stops listening.
     */
    subscribe(username: string, listener: ChannelListener): () => void {
      const key = username.toLowerCase();
      let sub = subs.get(key);
      lingerTimer = clear(lingerTimer);
      if (!sub) {
        sub = { key, username, listeners: new Set(), channelId: null, lastOffset: null, state: 'pending', retry: null };
        subs.set(key, sub);
        sub.listeners.add(listener);
        if (status.state === 'open') void subscribeOn(sub);
        // Banned from another channel is no reason to stay away from this one.
        else if (status.state === 'idle' || (status.state === 'stopped' && status.reason === 'banned')) connect();
        // Connecting or waiting to reconnect: `start` subscribes it.
      } else {
        sub.listeners.add(listener);
        if (sub.state === 'banned') queueMicrotask(() => sub!.listeners.has(listener) && listener({ kind: 'banned' }));
      }
      const mine = sub;
      return () => release(mine, listener);
    },

    /** Sends a request about a channel (by id); resolves with the `ack` result. */
    request(frame: Exclude<ClientRequest, { type: 'auth' | 'subscribe' | 'unsubscribe' }>): Promise<unknown> {
      if (status.state !== 'open') return Promise.reject(new RealtimeError('disconnected', 'Not connected to chat. Reconnecting…'));
      return call(frame);
    },

    /** Sign-in changed: start over with the new identity (subscriptions are kept). */
    restart(reason = 'signed in as someone else') {
      if (status.state === 'idle' && !socket) return;
      setStatus({ attempt: 0 });
      reconnectNow(reason);
    },

    /** Skip the wait of a pending reconnect (a "Retry now" button, the browser back online). */
    retryNow() {
      if (status.state === 'reconnecting') reconnectNow(status.reason ?? 'retrying');
    },

    get status(): ConnectionStatus {
      return status;
    },

    onStatus(listener: (status: ConnectionStatus) => void): () => void {
      statusListeners.add(listener);
      return () => statusListeners.delete(listener);
    },
  };
}
