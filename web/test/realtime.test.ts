import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  BACKOFF,
  KEEPALIVE,
  LINGER_MS,
  backoffDelay,
  createRealtime,
  tokenExpiry,
  type ChannelUpdate,
  type SocketLike,
} from '../src/realtime/connection';
import { RealtimeError, type SnapshotFrame } from '../src/realtime/protocol';

/** The server's end of a socket: what the client sent, and ways to answer. */
class FakeSocket implements SocketLike {
  sent: Record<string, unknown>[] = [];
  closedWith: { code?: number; reason?: string } | null = null;
  onopen: SocketLike['onopen'] = null;
  onmessage: SocketLike['onmessage'] = null;
  onclose: SocketLike['onclose'] = null;
  onerror: SocketLike['onerror'] = null;
  /** Answer `ping` frames, as a live server does. */
  autoPong = true;
  constructor(readonly url: string) {}
  send(data: string) {
    const frame = JSON.parse(data) as Record<string, unknown>;
    this.sent.push(frame);
    if (frame.type === 'ping' && this.autoPong) queueMicrotask(() => this.receive({ type: 'pong', id: frame.id }));
  }
  close(code?: number, reason?: string) {
    this.closedWith = { code, reason };
  }
  // ---- the server's side ----
  open(userId: string | null = null, v = 1) {
    this.onopen?.({});
    this.receive({ type: 'welcome', v, user_id: userId, chat_tick_ms: 25 });
  }
  receive(frame: object) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  drop(code: number, reason = '') {
    this.onclose?.({ code, reason });
  }
  /** The last frame of a type the client sent. */
  last(type: string) {
    const found = [...this.sent].reverse().find((f) => f.type === type);
    if (!found) throw new Error(`no ${type} frame sent; sent: ${JSON.stringify(this.sent)}`);
    return found;
  }
  count(type: string) {
    return this.sent.filter((f) => f.type === type).length;
  }
  ack(type: string, result?: unknown) {
    this.receive({ type: 'ack', id: this.last(type).id, result });
  }
  refuse(type: string, code: string, message = code) {
    this.receive({ type: 'error', id: this.last(type).id, code, message });
  }
}

const CHANNEL = '01a1fe71-f5f1-7016-a8f5-1285d820a2ba';
const OTHER = '01a1fe71-0000-7016-a8f5-1285d820a2ba';

function jwt(expSeconds: number, tag = 'x') {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'HS256' })}.${b64({ sub: 'u', exp: expSeconds, tag })}.sig`;
}

function snapshot(id: number, channel = CHANNEL, username = 'anna', chat: number[] = []): SnapshotFrame {
  return {
    type: 'snapshot',
    id,
    channel,
    username,
    viewers: 1,
    live: false,
    live_since: null,
    action: null,
    poll: null,
    stage: null,
    chat: {
      messages: chat.map((offset) => ({ offset, user_id: 'u', username: 'bob', color: 'blue', text: `m${offset}`, sent_at: '2026-01-01T00:00:00Z' })),
      last_offset: chat.length ? chat[chat.length - 1]! : null,
      history_lost: false,
    },
    settings: { slow_mode_secs: 0, followers_only_minutes: null, banned_words: [] },
    you: { signed_in: true, owner: false, moderator: false, timed_out_until: null, poll_vote: null },
  };
}

function setup(opts: { token?: string | null; refreshed?: string | null } = {}) {
  const sockets: FakeSocket[] = [];
  let token = opts.token === undefined ? jwt(Math.floor(Date.now() / 1000) + 900) : opts.token;
  const credentials = {
    token: vi.fn(async () => token),
    refresh: vi.fn(async () => {
      token = opts.refreshed === undefined ? jwt(Math.floor(Date.now() / 1000) + 900, 'fresh') : opts.refreshed;
      return token;
    }),
  };
  const realtime = createRealtime({
    url: 'ws://test/ws',
    socket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    credentials,
    random: () => 0.5, // no jitter: exactly the base delay
  });
  const updates: ChannelUpdate[] = [];
  const current = () => sockets[sockets.length - 1]!;
  return { realtime, sockets, current, credentials, updates, listener: (u: ChannelUpdate) => updates.push(u) };
}

/** Lets promise callbacks run (auth → subscribe → snapshot). */
const settle = () => vi.advanceTimersByTimeAsync(0);

/** Opens the newest socket as a signed-in user and answers `auth` and every pending `subscribe`. */
async function accept(socket: FakeSocket, snapshots: SnapshotFrame[] = [], signedIn = true) {
  socket.open();
  await settle();
  if (signedIn) {
    socket.ack('auth', { user_id: 'me' });
    await settle();
  }
  for (const snap of snapshots) {
    const request = socket.sent.find((f) => f.type === 'subscribe' && String(f.channel).toLowerCase() === snap.username.toLowerCase() && !(f as { answered?: boolean }).answered);
    if (!request) throw new Error(`no subscribe for ${snap.username}: ${JSON.stringify(socket.sent)}`);
    (request as { answered?: boolean }).answered = true;
    socket.receive({ ...snap, id: request.id });
  }
  await settle();
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date('2026-11-21T14:00:00Z'));
});
afterEach(() => {
  vi.useRealTimers();
});

describe('connecting', () => {
  it('connects on the first subscription, signs in with an auth frame, then subscribes', async () => {
    const t = setup();
    expect(t.sockets).toHaveLength(0);
    t.realtime.subscribe('Anna', t.listener);
    expect(t.sockets).toHaveLength(1);
    expect(t.current().url).toBe('ws://test/ws'); // no token in the URL
    expect(t.realtime.status.state).toBe('connecting');

    t.current().open();
    await settle();
    expect(t.current().sent.map((f) => f.type)).toEqual(['auth']);
    t.current().ack('auth', { user_id: 'me' });
    await settle();
    expect(t.current().last('subscribe')).toMatchObject({ channel: 'Anna' });
    expect(t.current().last('subscribe')).not.toHaveProperty('chat_offset');
    expect(t.realtime.status).toMatchObject({ state: 'open', userId: 'me' });

    t.current().receive({ ...snapshot(0), id: t.current().last('subscribe').id });
    await settle();
    t.current().receive({ type: 'presence', channel: CHANNEL, viewers: 3 });
    t.current().receive({ type: 'presence', channel: OTHER, viewers: 9 });
    expect(t.updates.map((u) => u.kind)).toEqual(['snapshot', 'event']);
    expect(t.updates[1]).toMatchObject({ kind: 'event', frame: { viewers: 3 } });
  });

  it('subscribes anonymously without an auth frame when signed out', async () => {
    const t = setup({ token: null });
    t.realtime.subscribe('anna', t.listener);
    await accept(t.current(), [snapshot(0)], false);
    expect(t.current().count('auth')).toBe(0);
    expect(t.realtime.status).toMatchObject({ state: 'open', userId: null });
    expect(t.updates.map((u) => u.kind)).toEqual(['snapshot']);
  });

  it('refreshes the token once when the server refuses it, and carries on anonymously if that fails too', async () => {
    const t = setup({ refreshed: null });
    t.realtime.subscribe('anna', t.listener);
    t.current().open();
    await settle();
    t.current().refuse('auth', 'invalid_token');
    await settle();
    expect(t.credentials.refresh).toHaveBeenCalledTimes(1);
    expect(t.current().count('auth')).toBe(1); // the refresh gave no token: nothing to retry with
    expect(t.current().count('subscribe')).toBe(1);
    expect(t.realtime.status.userId).toBeNull();
  });

  it('retries auth with the refreshed token', async () => {
    const t = setup();
    t.realtime.subscribe('anna', t.listener);
    t.current().open();
    await settle();
    t.current().refuse('auth', 'invalid_token');
    await settle();
    expect(t.current().count('auth')).toBe(2);
    const [first, second] = t.current().sent.filter((f) => f.type === 'auth').map((f) => f.token);
    expect(second).not.toBe(first);
    expect(second).toBe(await t.credentials.refresh.mock.results[0]!.value);
    t.current().ack('auth', { user_id: 'me' });
    await settle();
    expect(t.realtime.status.userId).toBe('me');
  });

  it('stops for good on a protocol version it does not know', async () => {
    const t = setup();
    t.realtime.subscribe('anna', t.listener);
    t.current().open(null, 2);
    await settle();
    expect(t.realtime.status.state).toBe('stopped');
    expect(t.current().closedWith).not.toBeNull();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(t.sockets).toHaveLength(1);
  });
});

describe('requests', () => {
  it('resolves with the ack result and rejects with the error code', async () => {
    const t = setup();
    t.realtime.subscribe('anna', t.listener);
    await accept(t.current(), [snapshot(0)]);

    const sent = t.realtime.request({ type: 'chat', channel: CHANNEL, text: 'hi' });
    t.current().ack('chat', { offset: 6 });
    await expect(sent).resolves.toEqual({ offset: 6 });

    const slow = t.realtime.request({ type: 'chat', channel: CHANNEL, text: 'again' });
    t.current().refuse('chat', 'slow_mode', 'wait 4 more seconds');
    await expect(slow).rejects.toMatchObject({ code: 'slow_mode', message: 'wait 4 more seconds' });

    // Ids are fresh per request.
    const ids = t.current().sent.map((f) => f.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('refuses requests while not connected, and fails those in flight when the connection drops', async () => {
    const t = setup();
    t.realtime.subscribe('anna', t.listener);
    await expect(t.realtime.request({ type: 'chat', channel: CHANNEL, text: 'early' })).rejects.toBeInstanceOf(RealtimeError);
    await accept(t.current(), [snapshot(0)]);
    const inflight = t.realtime.request({ type: 'vote', channel: CHANNEL, poll_id: 'p', option: 0 });
    t.current().drop(1006);
    await expect(inflight).rejects.toMatchObject({ code: 'disconnected' });
  });
});

describe('reconnecting', () => {
  it('reconnects with backoff and resubscribes with the last chat offset it saw', async () => {
    const t = setup();
    t.realtime.subscribe('anna', t.listener);
    await accept(t.current(), [snapshot(0, CHANNEL, 'anna', [3, 4])]);
    t.current().receive({ type: 'chat', channel: CHANNEL, messages: [{ offset: 7, user_id: 'u', username: 'bob', color: 'blue', text: 'x', sent_at: '2026-01-01T00:00:00Z' }] });

    t.current().drop(1006);
    expect(t.realtime.status).toMatchObject({ state: 'reconnecting', attempt: 1 });
    await vi.advanceTimersByTimeAsync(BACKOFF.firstMs - 1);
    expect(t.sockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(t.sockets).toHaveLength(2);

    await accept(t.current());
    expect(t.current().last('subscribe')).toMatchObject({ channel: 'anna', chat_offset: 7 });
  });

  it('doubles the wait after each failed attempt up to 30 s, and starts over after a stable minute', async () => {
    expect([1, 2, 3, 4, 7, 8, 20].map((n) => backoffDelay(n, 0.5))).toEqual([500, 1000, 2000, 4000, 30_000, 30_000, 30_000]);
    expect(backoffDelay(6, 0.5)).toBe(16_000);
    // ±50 % jitter.
    expect(backoffDelay(1, 0)).toBe(250);
    expect(backoffDelay(1, 0.999)).toBe(750);

    const t = setup();
    t.realtime.subscribe('anna', t.listener);
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      t.current().drop(1006); // failed before it ever opened
      waits.push(t.realtime.status.retryAt! - Date.now());
      await vi.advanceTimersByTimeAsync(waits[i]!);
    }
    expect(waits).toEqual([500, 1000, 2000, 4000]);

    await accept(t.current(), [snapshot(0)]);
    await vi.advanceTimersByTimeAsync(BACKOFF.stableMs);
    t.current().drop(1001, 'server shutting down');
    expect(t.realtime.status.retryAt! - Date.now()).toBe(500);
    expect(t.realtime.status.reason).toBe('server shutting down');
  });

  it('reconnects 1–2 s after being dropped as a slow consumer', async () => {
    const t = setup();
    t.realtime.subscribe('anna', t.listener);
    await accept(t.current(), [snapshot(0, CHANNEL, 'anna', [1])]);
    t.current().drop(4008, 'slow consumer');
    const wait = t.realtime.status.retryAt! - Date.now();
    expect(wait).toBeGreaterThanOrEqual(1000);
    expect(wait).toBeLessThanOrEqual(2000);
    await vi.advanceTimersByTimeAsync(wait);
    await accept(t.current());
    expect(t.current().last('subscribe')).toMatchObject({ chat_offset: 1 });
  });

  it('waits at least five seconds after being rate limited', async () => {
    const t = setup();
    t.realtime.subscribe('anna', t.listener);
    await accept(t.current(), [snapshot(0)]);
    t.current().drop(4029);
    expect(t.realtime.status.retryAt! - Date.now()).toBeGreaterThanOrEqual(5000);
  });

  it('refreshes the token and reconnects at once after 4001', async () => {
    const t = setup();
    t.realtime.subscribe('anna', t.listener);
    await accept(t.current(), [snapshot(0)]);
    t.current().drop(4001, 'token expired');
    await settle();
    expect(t.credentials.refresh).toHaveBeenCalledTimes(1);
    expect(t.sockets).toHaveLength(2);
    // Refused again at once: then it backs off.
    t.current().drop(4001, 'token expired');
    await settle();
    expect(t.sockets).toHaveLength(2);
    expect(t.realtime.status.retryAt! - Date.now()).toBeGreaterThan(0);
    await vi.advanceTimersByTimeAsync(t.realtime.status.retryAt! - Date.now());
    expect(t.sockets).toHaveLength(3);
    t.current().open();
    await settle();
    expect(String(t.current().last('auth').token)).toMatch(/\./);
    expect(t.current().last('auth').token).not.toBe(t.sockets[0]!.last('auth').token);
  });

  it('does not reconnect after 4003 when the banned channel was the only one', async () => {
    const t = setup();
    t.realtime.subscribe('anna', t.listener);
    await accept(t.current(), [snapshot(0)]);
    t.current().receive({ type: 'error', id: null, code: 'banned', message: 'banned from this channel' });
    t.current().drop(4003, 'banned from this channel');
    expect(t.updates.at(-1)).toEqual({ kind: 'banned' });
    expect(t.realtime.status).toMatchObject({ state: 'stopped', reason: 'banned' });
    await vi.advanceTimersByTimeAsync(300_000);
    expect(t.sockets).toHaveLength(1);
  });

  it('after 4003 with several channels, reconnects and learns which one banned it from subscribe', async () => {
    const t = setup();
    const other: ChannelUpdate[] = [];
    t.realtime.subscribe('anna', t.listener);
    t.realtime.subscribe('bob', (u) => other.push(u));
    await accept(t.current(), [snapshot(0), snapshot(0, OTHER, 'bob')]);
    t.current().drop(4003);
    expect(t.realtime.status.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(t.realtime.status.retryAt! - Date.now());
    t.current().open();
    await settle();
    t.current().ack('auth', { user_id: 'me' });
    await settle();
    const subs = t.current().sent.filter((f) => f.type === 'subscribe');
    t.current().receive({ type: 'error', id: subs.find((f) => f.channel === 'anna')!.id, code: 'banned', message: 'banned' });
    t.current().receive({ ...snapshot(0, OTHER, 'bob'), id: subs.find((f) => f.channel === 'bob')!.id });
    await settle();
    expect(t.updates.at(-1)).toEqual({ kind: 'banned' });
    expect(other.map((u) => u.kind)).toEqual(['snapshot', 'snapshot']);
    expect(t.realtime.status.state).toBe('open');

    // The banned channel is not asked for again on the next reconnect.
    t.current().drop(1006);
    await vi.advanceTimersByTimeAsync(t.realtime.status.retryAt! - Date.now());
    await accept(t.current());
    expect(t.current().sent.filter((f) => f.type === 'subscribe').map((f) => f.channel)).toEqual(['bob']);
  });

  it('gives up the connection when the only channel answers subscribe with banned', async () => {
    const t = setup();
    t.realtime.subscribe('anna', t.listener);
    await accept(t.current());
    t.current().refuse('subscribe', 'banned', 'banned from this channel');
    await settle();
    expect(t.updates).toEqual([{ kind: 'banned' }]);
    await vi.advanceTimersByTimeAsync(LINGER_MS);
    expect(t.current().closedWith).toMatchObject({ code: 1000 });
    expect(t.realtime.status).toMatchObject({ state: 'stopped', reason: 'banned' });
    await vi.advanceTimersByTimeAsync(300_000);
    expect(t.sockets).toHaveLength(1);

    // Another channel is no reason to stay away.
    t.realtime.subscribe('bob', () => undefined);
    expect(t.sockets).toHaveLength(2);
    await accept(t.current());
    expect(t.current().sent.filter((f) => f.type === 'subscribe').map((f) => f.channel)).toEqual(['bob']);
  });

  it('retries a subscription the server could not serve', async () => {
    const t = setup();
    t.realtime.subscribe('anna', t.listener);
    await accept(t.current());
    t.current().refuse('subscribe', 'unavailable');
    await settle();
    expect(t.updates.at(-1)).toMatchObject({ kind: 'failed', error: { code: 'unavailable' } });
    await vi.advanceTimersByTimeAsync(BACKOFF.resubscribeMs);
    expect(t.current().count('subscribe')).toBe(2);
  });

  it('gives up an attempt that neither opens nor fails', async () => {
    const t = setup();
    t.realtime.subscribe('anna', t.listener);
    await vi.advanceTimersByTimeAsync(KEEPALIVE.connectMs);
    expect(t.sockets[0]!.closedWith).not.toBeNull();
    expect(t.realtime.status.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(t.realtime.status.retryAt! - Date.now());
    expect(t.sockets).toHaveLength(2);
  });

  it('pings after 30 s of silence and reconnects when no answer comes', async () => {
    const t = setup();
    t.realtime.subscribe('anna', t.listener);
    await accept(t.current(), [snapshot(0)]);
    await vi.advanceTimersByTimeAsync(KEEPALIVE.idleMs);
    expect(t.current().count('ping')).toBe(1);
    await vi.advanceTimersByTimeAsync(KEEPALIVE.pongMs);
    expect(t.sockets).toHaveLength(1);

    t.current().autoPong = false;
    await vi.advanceTimersByTimeAsync(KEEPALIVE.idleMs - KEEPALIVE.pongMs);
    expect(t.current().count('ping')).toBe(2);
    await vi.advanceTimersByTimeAsync(KEEPALIVE.pongMs);
    expect(t.sockets[0]!.closedWith).not.toBeNull();
    expect(t.realtime.status.state).toBe('reconnecting');
  });
});

describe('tokens', () => {
  it('reads the expiry of a JWT', () => {
    expect(tokenExpiry(jwt(1_800_000_000))).toBe(1_800_000_000_000);
    expect(tokenExpiry('not a token')).toBeNull();
  });

  it('re-authenticates with a fresh token a minute before the current one expires', async () => {
    const t = setup({ token: jwt(Math.floor(Date.now() / 1000) + 900) });
    t.realtime.subscribe('anna', t.listener);
    await accept(t.current(), [snapshot(0)]);
    const first = t.current().last('auth').token;

    await vi.advanceTimersByTimeAsync(900_000 - 60_000 - 1);
    expect(t.current().count('auth')).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await settle();
    expect(t.credentials.refresh).toHaveBeenCalledTimes(1);
    expect(t.current().count('auth')).toBe(2);
    expect(t.current().last('auth').token).not.toBe(first);
    expect(t.sockets).toHaveLength(1); // same connection
  });
});

describe('releasing', () => {
  it('unsubscribes when the last listener leaves, and closes the connection after a linger', async () => {
    const t = setup();
    const stop = t.realtime.subscribe('anna', t.listener);
    const stop2 = t.realtime.subscribe('anna', () => undefined);
    await accept(t.current(), [snapshot(0)]);
    stop();
    expect(t.current().count('unsubscribe')).toBe(0);
    stop2();
    expect(t.current().last('unsubscribe')).toMatchObject({ channel: CHANNEL });

    // Coming back within the linger reuses the connection.
    await vi.advanceTimersByTimeAsync(LINGER_MS - 1);
    const again = t.realtime.subscribe('anna', t.listener);
    await settle();
    expect(t.current().count('subscribe')).toBe(2);
    expect(t.sockets).toHaveLength(1);

    again();
    await vi.advanceTimersByTimeAsync(LINGER_MS);
    expect(t.current().closedWith).toMatchObject({ code: 1000 });
    expect(t.realtime.status.state).toBe('idle');
  });

  it('starts over as the new account when the sign-in changes', async () => {
    const t = setup();
    t.realtime.subscribe('anna', t.listener);
    await accept(t.current(), [snapshot(0, CHANNEL, 'anna', [5])]);
    t.realtime.restart();
    expect(t.sockets).toHaveLength(2);
    await accept(t.current());
    expect(t.current().last('subscribe')).toMatchObject({ chat_offset: 5 });
  });
});
