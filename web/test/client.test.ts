import { describe, expect, it, vi } from 'vitest';
import { createApiClient } from '../src/api/client';
import { ApiError } from '../src/api/errors';
import type { Me, SessionResponse } from '../src/api/types';

const account = { id: 'a1', username: 'anna', color: 'blue', avatar: 'bear' } as unknown as Me;

function session(token: string, expiresIn = 900): SessionResponse {
  return { access_token: token, token_type: 'Bearer', expires_in: expiresIn, refresh_token: 'r', account };
}

function json(status: number, body?: unknown) {
  return new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

const unauthenticated = () => json(401, { error: { code: 'unauthenticated', message: 'authentication is required' } });

/** A fake server: `routes` answers by "METHOD path"; every call is recorded. */
function fakeServer(routes: Record<string, (init: RequestInit) => Response | Promise<Response>>) {
  const calls: { key: string; auth: string | null }[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const key = `${init.method ?? 'GET'} ${String(input)}`;
    const auth = (init.headers as Record<string, string> | undefined)?.authorization ?? null;
    calls.push({ key, auth });
    const route = routes[key];
    if (!route) throw new Error(`unexpected ${key}`);
    return route(init);
  });
  return { fetch: fetch as unknown as typeof globalThis.fetch, calls, count: (key: string) => calls.filter((c) => c.key === key).length };
}

/** A refresh answer that arrives only when `release()` is called. */
function gate() {
  let release!: () => void;
  const opened = new Promise<void>((resolve) => (release = resolve));
  return { opened, release };
}

describe('the shared refresh', () => {
  it('sends one refresh for any number of concurrent callers', async () => {
    const door = gate();
    let n = 0;
    const server = fakeServer({
      'POST /api/auth/refresh': async () => {
        await door.opened;
        return json(200, session(`t${++n}`));
      },
    });
    const api = createApiClient({ fetch: server.fetch, locks: null });

    const all = Promise.all([api.refresh(), api.refresh(), api.refresh()]);
    door.release();
    const accounts = await all;

    expect(server.count('POST /api/auth/refresh')).toBe(1);
    expect(accounts.every((a) => a?.username === 'anna')).toBe(true);
    expect(api.session.status).toBe('signed-in');
    expect(await api.token()).toBe('t1');
  });

  it('two requests that get a 401 at once refresh once and both retry with the new token', async () => {
    const door = gate();
    const server = fakeServer({
      'POST /api/auth/login': () => json(200, session('old')),
      'POST /api/auth/refresh': async () => {
        await door.opened;
        return json(200, session('new'));
      },
      'GET /api/me': (init) => ((init.headers as Record<string, string>).authorization === 'Bearer new' ? json(200, account) : unauthenticated()),
      'GET /api/me/following': (init) =>
        (init.headers as Record<string, string>).authorization === 'Bearer new' ? json(200, { channels: [], max_results: 50 }) : unauthenticated(),
    });
    const api = createApiClient({ fetch: server.fetch, locks: null });
    await api.login('anna', 'pw');

    const both = Promise.all([api.get('/api/me'), api.get('/api/me/following')]);
    await vi.waitFor(() => expect(server.count('POST /api/auth/refresh')).toBe(1));
    door.release();
    const [me, following] = await both;

    expect(me).toEqual(account);
    expect(following).toEqual({ channels: [], max_results: 50 });
    expect(server.count('POST /api/auth/refresh')).toBe(1);
    expect(server.calls.filter((c) => c.auth === 'Bearer new')).toHaveLength(2);
  });

  it('retries only once: a second 401 is the caller’s error', async () => {
    const server = fakeServer({
      'POST /api/auth/login': () => json(200, session('a')),
      'POST /api/auth/refresh': () => json(200, session('b')),
      'GET /api/me': () => unauthenticated(),
    });
    const api = createApiClient({ fetch: server.fetch, locks: null });
    await api.login('anna', 'pw');

    const error = await api.get('/api/me').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(401);
    expect(server.count('GET /api/me')).toBe(2);
    expect(server.count('POST /api/auth/refresh')).toBe(1);
  });

  it('a refused refresh signs out, and a public read is retried as a visitor', async () => {
    const listener = vi.fn();
    const server = fakeServer({
      'POST /api/auth/login': () => json(200, session('stale')),
      'POST /api/auth/refresh': () => unauthenticated(),
      'GET /api/channels/bob': (init) =>
        (init.headers as Record<string, string>).authorization ? unauthenticated() : json(200, { username: 'bob', is_following: false }),
    });
    const api = createApiClient({ fetch: server.fetch, locks: null });
    await api.login('anna', 'pw');
    api.subscribe(listener);

    const page = await api.get<{ username: string }>('/api/channels/bob');

    expect(page.username).toBe('bob');
    expect(api.session).toEqual({ status: 'signed-out', account: null });
    expect(listener).toHaveBeenLastCalledWith({ status: 'signed-out', account: null });
    expect(server.calls.map((c) => c.key)).toEqual(['POST /api/auth/login', 'GET /api/channels/bob', 'POST /api/auth/refresh', 'GET /api/channels/bob']);
  });

  it('requests made while the refresh on load is out wait for it and carry its token', async () => {
    const door = gate();
    const server = fakeServer({
      'POST /api/auth/refresh': async () => {
        await door.opened;
        return json(200, session('loaded'));
      },
      'GET /api/channels/bob': () => json(200, { username: 'bob', is_following: true }),
    });
    const api = createApiClient({ fetch: server.fetch, locks: null });
    void api.refresh();

    const page = api.get('/api/channels/bob');
    door.release();
    await page;

    expect(server.calls[1]).toEqual({ key: 'GET /api/channels/bob', auth: 'Bearer loaded' });
  });

  it('refreshes ahead of expiry instead of sending a dying token', async () => {
    let now = 1_000_000;
    const server = fakeServer({
      'POST /api/auth/login': () => json(200, session('first', 60)),
      'POST /api/auth/refresh': () => json(200, session('second', 900)),
      'GET /api/me': () => json(200, account),
    });
    const api = createApiClient({ fetch: server.fetch, locks: null, now: () => now });
    await api.login('anna', 'pw');

    now += 45_000; // 15 s left: inside the margin
    await api.get('/api/me');

    expect(server.calls.map((c) => c.key)).toEqual(['POST /api/auth/login', 'POST /api/auth/refresh', 'GET /api/me']);
    expect(server.calls[2]!.auth).toBe('Bearer second');
  });

  it('takes the cross-tab lock around the exchange', async () => {
    const request = vi.fn(async (_name: string, callback: (lock: Lock | null) => unknown) => callback(null));
    const server = fakeServer({ 'POST /api/auth/refresh': () => json(200, session('t')) });
    const api = createApiClient({ fetch: server.fetch, locks: { request } as unknown as LockManager });

    await api.refresh();

    expect(request).toHaveBeenCalledTimes(1);
    expect(request.mock.calls[0]![0]).toBe('showrunner-refresh');
  });

  it('a server that cannot be reached leaves an unknown session signed out and rejects', async () => {
    const fetch = vi.fn(async () => {
      throw new TypeError('Failed to fetch');
    }) as unknown as typeof globalThis.fetch;
    const api = createApiClient({ fetch, locks: null });

    const error = await api.refresh().catch((e: unknown) => e);

    expect((error as ApiError).code).toBe('network');
    expect(api.session.status).toBe('signed-out');
  });
});

describe('requests', () => {
  it('sends JSON with the token and parses the answer; 204 is undefined', async () => {
    const server = fakeServer({
      'POST /api/auth/login': () => json(200, session('tok')),
      'PATCH /api/me/profile': (init) => {
        expect(init.body).toBe('{"color":"green"}');
        expect((init.headers as Record<string, string>)['content-type']).toBe('application/json');
        expect(init.credentials).toBe('same-origin');
        return json(200, { ...account, color: 'green' });
      },
      'PUT /api/me/following/bob': () => new Response(null, { status: 204 }),
    });
    const api = createApiClient({ fetch: server.fetch, locks: null });
    await api.login('anna', 'pw');

    expect(await api.patch<Me>('/api/me/profile', { color: 'green' })).toMatchObject({ color: 'green' });
    expect(await api.put('/api/me/following/bob')).toBeUndefined();
    expect(server.calls.slice(1).every((c) => c.auth === 'Bearer tok')).toBe(true);
  });

  it('sends a raw body with its content type', async () => {
    const server = fakeServer({
      'PUT /api/me/avatar': (init) => {
        expect((init.headers as Record<string, string>)['content-type']).toBe('image/png');
        expect(init.body).toBeInstanceOf(Blob);
        return json(200, account);
      },
    });
    const api = createApiClient({ fetch: server.fetch, locks: null });
    await api.request('PUT', '/api/me/avatar', { body: new Blob([new Uint8Array([1, 2])]), contentType: 'image/png' });
  });

  it('logging out forgets the session even if the server is unreachable', async () => {
    let reachable = true;
    const fetch = vi.fn(async () => {
      if (!reachable) throw new TypeError('Failed to fetch');
      return json(200, session('tok'));
    }) as unknown as typeof globalThis.fetch;
    const api = createApiClient({ fetch, locks: null });
    await api.login('anna', 'pw');
    reachable = false;

    await api.logout();

    expect(api.session.status).toBe('signed-out');
    expect(await api.token()).toBeNull();
  });
});
