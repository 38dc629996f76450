// The one way the client talks to the API.
//
// Session model: the access token (a short-lived JWT) lives in this module's memory only — never in
// storage — and is lost on reload. The refresh token lives in an HttpOnly cookie the page cannot
// read; `POST /api/auth/refresh` with no body trades it for a new pair. A refresh token works
// once, and presenting a spent one revokes the whole session (the one just spent is forgiven for
// `accounts.refresh_grace_secs`, for an answer lost to a reload), so two refreshes must never race:
// every caller in this page shares one in-flight refresh, and pages in other tabs queue behind a
// Web Lock (where the browser has them) so each one sends the cookie the previous one set.

import { ApiError, errorFromResponse, networkError } from './errors';
import type { Me, SessionResponse } from './types';

export type SessionStatus = 'unknown' | 'signed-in' | 'signed-out';

export interface SessionState {
  /** `unknown` until the first refresh (on load) has answered. */
  status: SessionStatus;
  account: Me | null;
}

export interface RequestOptions {
  /** A JSON body. */
  json?: unknown;
  /** A raw body (an uploaded file), sent with `contentType`. */
  body?: Blob | ArrayBuffer;
  contentType?: string;
  /** Send the access token if there is one, and on a 401 refresh once and retry (default). */
  auth?: boolean;
  signal?: AbortSignal;
}

export interface ApiClientOptions {
  fetch?: typeof fetch;
  /** Cross-tab lock; `null` for none. Defaults to `navigator.locks` where it exists. */
  locks?: Pick<LockManager, 'request'> | null;
  now?: () => number;
}

/** Refresh ahead of expiry by this much, so a request does not go out with a dying token. */
const EXPIRY_MARGIN_MS = 30_000;
const REFRESH_LOCK = 'showrunner-refresh';

export type ApiClient = ReturnType<typeof createApiClient>;

export function createApiClient(options: ApiClientOptions = {}) {
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const locks =
    options.locks !== undefined
      ? options.locks
      : typeof navigator !== 'undefined' && 'locks' in navigator
        ? navigator.locks
        : null;
  const now = options.now ?? (() => Date.now());

  let accessToken: string | null = null;
  let expiresAt = 0;
  let state: SessionState = { status: 'unknown', account: null };
  let inflight: Promise<Me | null> | null = null;
  const listeners = new Set<(state: SessionState) => void>();

  function publish(next: SessionState) {
    state = next;
    for (const listener of listeners) listener(state);
  }

  function adopt(session: SessionResponse) {
    accessToken = session.access_token;
    expiresAt = now() + session.expires_in * 1000;
    publish({ status: 'signed-in', account: session.account });
  }

  function forget() {
    accessToken = null;
    expiresAt = 0;
    publish({ status: 'signed-out', account: null });
  }

  async function send(method: string, path: string, opts: RequestOptions, token: string | null): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    let body: BodyInit | undefined;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    } else if (opts.body !== undefined) {
      headers['content-type'] = opts.contentType || 'application/octet-stream';
      body = opts.body;
    }
    if (token) headers.authorization = `Bearer ${token}`;
    try {
      return await doFetch(path, {
        method,
        headers,
        body,
        credentials: 'same-origin',
        signal: opts.signal,
      });
    } catch (cause) {
      if (cause instanceof DOMException && cause.name === 'AbortError') throw cause;
      throw networkError(cause);
    }
  }

  async function exchange(): Promise<Me | null> {
    const response = await send('POST', '/api/auth/refresh', { auth: false }, null);
    if (response.ok) {
      const session = (await response.json()) as SessionResponse;
      adopt(session);
      return session.account;
    }
    if (response.status === 401) {
      forget();
      return null;
    }
    throw await errorFromResponse(response);
  }

  /**
   * Trades the refresh cookie for a new session. Concurrent callers share one request. Resolves
   * with the account, or `null` when there is no (longer a) session; rejects only when the server
   * could not answer (the session state is then left as it was, or `signed-out` if still unknown).
   */
  function refresh(): Promise<Me | null> {
    if (!inflight) {
      const run = locks ? async (): Promise<Me | null> => await locks.request(REFRESH_LOCK, exchange) : exchange;
      inflight = run()
        .catch((error: unknown) => {
          if (state.status === 'unknown') publish({ status: 'signed-out', account: null });
          throw error;
        })
        .finally(() => {
          inflight = null;
        });
    }
    return inflight;
  }

  async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const auth = opts.auth !== false;
    if (auth) {
      // A refresh under way (the one on load, say) decides which token this request carries.
      if (inflight) await inflight.catch(() => null);
      else if (accessToken && expiresAt - now() < EXPIRY_MARGIN_MS) await refresh().catch(() => null);
    }
    const tokenSent = auth ? accessToken : null;
    let response = await send(method, path, opts, tokenSent);
    if (response.status === 401 && tokenSent) {
      // Someone else may have refreshed while this request was out; use theirs, else refresh.
      if (accessToken === tokenSent) await refresh().catch(() => null);
      // Retry once with what there is now: a new token, or none when the session is gone (a
      // public read then answers as it would for any visitor). If the refresh could not reach
      // the server, the token is unchanged and the 401 stands.
      if (accessToken !== tokenSent) response = await send(method, path, opts, accessToken);
    }
    if (!response.ok) throw await errorFromResponse(response);
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  return {
    request,
    refresh,
    get: <T>(path: string, opts?: RequestOptions) => request<T>('GET', path, opts),
    post: <T>(path: string, json?: unknown, opts?: RequestOptions) => request<T>('POST', path, { ...opts, json }),
    put: <T>(path: string, json?: unknown, opts?: RequestOptions) => request<T>('PUT', path, { ...opts, json }),
    patch: <T>(path: string, json?: unknown, opts?: RequestOptions) => request<T>('PATCH', path, { ...opts, json }),
    del: <T>(path: string, json?: unknown, opts?: RequestOptions) => request<T>('DELETE', path, { ...opts, json }),

    /** Logs in; the server sets the refresh cookie. */
    async login(login: string, password: string): Promise<Me> {
      const session = await request<SessionResponse>('POST', '/api/auth/login', {
        json: { login, password },
        auth: false,
      });
      adopt(session);
      return session.account;
    },

    /** Ends the session on the server (and the cookie); the page forgets it whatever the answer. */
    async logout(): Promise<void> {
      const token = accessToken;
      forget();
      try {
        const response = await send('POST', '/api/auth/logout', { auth: false }, token);
        if (!response.ok && response.status !== 401) throw await errorFromResponse(response);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
      }
    },

    /** The account changed (profile, username…): everyone showing it should know. */
    updateAccount(account: Me) {
      if (state.status === 'signed-in') publish({ status: 'signed-in', account });
    },

    /** The account is gone (deleted): forget the session without asking the server. */
    forget,

    get session(): SessionState {
      return state;
    },

    subscribe(listener: (state: SessionState) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    /** For the realtime slice: a current access token, refreshed if needed; `null` when signed out. */
    async token(): Promise<string | null> {
      if (inflight) await inflight.catch(() => null);
      else if (accessToken && expiresAt - now() < EXPIRY_MARGIN_MS) await refresh().catch(() => null);
      return accessToken;
    },
  };
}

/** The page's client. */
export const api = createApiClient();
