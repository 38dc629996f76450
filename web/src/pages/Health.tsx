// `/health`: the streamer's own broadcasts, newest first, each with its state, how long it ran and
// its health flags; "load more" follows the server's cursor. The first page is asked again while
// something on it is live (or about to be), so a stream appears and ends here on its own.

import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api/errors';
import { health, type SessionSummary } from '../api/health';
import { useVideoMode } from '../api/platform';
import type { Me } from '../api/types';
import { Notice } from '../components/Form';
import { LiveBadge } from '../components/LiveBadge';
import { RequireAuth } from '../components/RequireAuth';
import { useTitle } from '../components/useResource';
import { anyActive, formatDuration, healthFlags, mergeFirstPage, relativeDay, sessionDurationMs, sessionState, type HealthFlag } from '../domain/health';

/** How often the list is asked again while a session on it is live, and otherwise. */
const ACTIVE_POLL_MS = 10_000;
const IDLE_POLL_MS = 30_000;

export function Health() {
  useTitle('Stream health');
  return <RequireAuth>{(account) => <SessionListPage key={account.id} account={account} />}</RequireAuth>;
}

interface ListState {
  sessions: SessionSummary[] | undefined;
  cursor: string | null;
  pages: number;
  error: unknown;
  loadingMore: boolean;
  moreError: string | null;
}

function useSessionList() {
  const [state, setState] = useState<ListState>({ sessions: undefined, cursor: null, pages: 0, error: undefined, loadingMore: false, moreError: null });
  const current = useRef(state);
  current.current = state;
  const generation = useRef(0);

  /** The first page: on load, on retry, and on every poll (merged with what "load more" added). */
  const refresh = useCallback(async () => {
    const mine = ++generation.current;
    try {
      const page = await health.sessions();
      if (mine !== generation.current) return;
      setState((s) => {
        const first = s.pages <= 1;
        return {
          ...s,
          sessions: first ? page.sessions : mergeFirstPage(page.sessions, s.sessions ?? []),
          cursor: first ? (page.next_cursor ?? null) : s.cursor,
          pages: Math.max(1, s.pages),
          error: undefined,
        };
      });
    } catch (error) {
      if (mine !== generation.current) return;
      setState((s) => ({ ...s, error }));
    }
  }, []);

  const loadMore = useCallback(async () => {
    const s = current.current;
    if (!s.cursor || s.loadingMore) return;
    setState((x) => ({ ...x, loadingMore: true, moreError: null }));
    // A poll answering meanwhile must not undo the appended page.
    generation.current++;
    try {
      const page = await health.sessions(s.cursor);
      setState((x) => {
        const have = new Set((x.sessions ?? []).map((v) => v.stream_id));
        return {
          ...x,
          sessions: [...(x.sessions ?? []), ...page.sessions.filter((v) => !have.has(v.stream_id))],
          cursor: page.next_cursor ?? null,
          pages: x.pages + 1,
          loadingMore: false,
        };
      });
    } catch (error) {
      setState((x) => ({
        ...x,
        loadingMore: false,
        moreError: error instanceof ApiError ? error.message : 'Could not load more streams. Try again.',
      }));
    }
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const active = anyActive(state.sessions ?? []);
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void refresh();
    }, active ? ACTIVE_POLL_MS : IDLE_POLL_MS);
    return () => clearInterval(timer);
  }, [active, refresh]);

  return { ...state, refresh, loadMore };
}

function SessionListPage({ account }: { account: Me }) {
  const list = useSessionList();
  const sessions = list.sessions;
  const [now, setNow] = useState(() => Date.now());
  const live = sessions?.some((s) => s.live) ?? false;
  // Live durations tick.
  useEffect(() => {
    if (!live) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [live]);

  return (
    <div class="page health" data-testid="health-page">
      <div class="page__head health__head">
        <div>
          <h1 class="page__title">Stream health</h1>
          <p class="muted">Your broadcasts, newest first. Open one for its events, encoder settings and charts.</p>
        </div>
        <a class="btn btn--secondary" href="/manager">
          Stream manager
        </a>
      </div>
      {list.error !== undefined && !sessions ? (
        <Notice kind="error">
          Could not load your streams.{' '}
          <button type="button" class="link-button" onClick={() => void list.refresh()}>
            Try again
          </button>
        </Notice>
      ) : !sessions ? (
        <div class="page--center" aria-busy="true">
          <span class="spinner spinner--lg" aria-hidden="true" />
          <span class="visually-hidden">Loading your streams…</span>
        </div>
      ) : sessions.length === 0 ? (
        <NoSessions username={account.username} />
      ) : (
        <>
          <ul class="sessions" data-testid="session-list" aria-label="Your streams">
            {sessions.map((s) => (
              <SessionRow key={s.stream_id} session={s} now={now} />
            ))}
          </ul>
          {list.moreError && (
            <p class="field__error" role="alert">
              {list.moreError}
            </p>
          )}
          {list.cursor ? (
            <div class="sessions__more">
              <button type="button" class="btn btn--secondary" disabled={list.loadingMore} onClick={() => void list.loadMore()} data-testid="load-more">
                {list.loadingMore && <span class="spinner" aria-hidden="true" />}
                {list.loadingMore ? 'Loading…' : 'Load more'}
              </button>
            </div>
          ) : (
            sessions.length > 5 && (
              <p class="sessions__end muted small" data-testid="list-end">
                That’s every stream.
              </p>
            )
          )}
        </>
      )}
    </div>
  );
}

/** "Today, 15:16", "Yesterday, 09:02", "Tue 18 Nov, 21:40", with the year when it is not this one. */
export function formatWhen(iso: string, now = new Date()): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const time = date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const day = relativeDay(date, now);
  if (day) return `${day === 'today' ? 'Today' : 'Yesterday'}, ${time}`;
  const sameYear = date.getFullYear() === now.getFullYear();
  const when = date.toLocaleDateString([], { weekday: 'short', day: 'numeric', month: 'short', year: sameYear ? undefined : 'numeric' });
  return `${when}, ${time}`;
}

export function Flags({ flags }: { flags: HealthFlag[] }) {
  return (
    <span class="flags">
      {flags.map((f) => (
        <span key={f.kind} class={`flag flag--${f.kind}`} title={f.description} data-testid={`flag-${f.kind}`}>
          <FlagIcon kind={f.kind} />
          {f.label}
        </span>
      ))}
    </span>
  );
}

function FlagIcon({ kind }: { kind: HealthFlag['kind'] }) {
  if (kind === 'healthy') {
    return (
      <svg viewBox="0 0 16 16" class="flag__icon" aria-hidden="true">
        <path d="M3.5 8.5l3 3 6-7" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" />
      </svg>
    );
  }
  return (
    <svg viewBox="0 0 16 16" class="flag__icon" aria-hidden="true">
      <path d="M8 1.5l7 13H1z" fill="currentColor" />
      <path d="M8 6v4M8 11.6v.9" stroke="#000" stroke-width="1.6" stroke-linecap="round" />
    </svg>
  );
}

export function StateBadge({ session }: { session: Pick<SessionSummary, 'live' | 'ended_at'> }) {
  const state = sessionState(session);
  if (state === 'live') return <LiveBadge live />;
  return (
    <span class={`badge ${state === 'waiting' ? 'badge--waiting' : 'badge--offline'}`} data-testid={`state-${state}`}>
      {state === 'waiting' ? 'Starting' : 'Ended'}
    </span>
  );
}

function SessionRow({ session, now }: { session: SessionSummary; now: number }) {
  const duration = sessionDurationMs(session, now);
  const state = sessionState(session);
  return (
    <li class={`session-row${state === 'live' ? ' session-row--live' : ''}`} data-testid="session-row" data-stream-id={session.stream_id} data-state={state}>
      <a class="session-row__link" href={`/health/${encodeURIComponent(session.stream_id)}`}>
        <span class="session-row__state">
          <StateBadge session={session} />
        </span>
        <span class="session-row__when">
          <span class="session-row__date">{formatWhen(session.started_at)}</span>
          <span class="session-row__id">{session.stream_id}</span>
        </span>
        <span class="session-row__duration" data-testid="session-duration">
          <span class="visually-hidden">{state === 'live' ? 'Live for ' : 'Lasted '}</span>
          {duration === null ? '–' : formatDuration(duration)}
        </span>
        <span class="session-row__flags">
          <Flags flags={healthFlags(session)} />
        </span>
        <svg viewBox="0 0 16 16" class="session-row__chevron" aria-hidden="true">
          <path d="M6 3l5 5-5 5" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" />
        </svg>
      </a>
    </li>
  );
}

/** How to get a first session onto this page: an encoder, or (in local mode) the simulator. */
export function NoSessions({ username }: { username: string }) {
  const mode = useVideoMode();
  return (
    <div class="empty health-empty" data-testid="health-empty">
      <svg viewBox="0 0 64 64" class="empty__art" aria-hidden="true">
        <rect x="6" y="12" width="52" height="34" rx="6" fill="none" stroke="currentColor" stroke-width="3" />
        <path d="M14 36l9-9 7 6 9-12 11 10" fill="none" stroke="currentColor" stroke-width="3" stroke-linecap="round" stroke-linejoin="round" />
        <path d="M24 54h16M32 46v8" stroke="currentColor" stroke-width="3" stroke-linecap="round" />
      </svg>
      <p class="empty__title">No streams yet</p>
      <p class="empty__text">
        Each time you go live, the broadcast shows up here with its events, your encoder settings and charts of bitrate, frame rate, keyframes and viewers.
      </p>
      <ol class="health-empty__steps">
        <li>
          Open the <a href="/manager#go-live">stream manager</a> and copy the <strong>ingest server</strong> and <strong>stream key</strong>.
        </li>
        <li>
          In your encoder (OBS: Settings → Stream → Service “Custom…”) paste them and press <strong>Start streaming</strong>
          {mode === 'ivs' ? <>, or broadcast your camera straight from the browser in the stream manager.</> : '.'}
        </li>
      </ol>
      {mode === 'local' && (
        <div class="health-empty__local" data-testid="simulator-help">
          <p>
            <strong>Local mode:</strong> this server has no video service, so no encoder can reach it. To see this page at work, play a stream with the simulator against it (the
            server needs the same <code>streams.events_secret</code>):
          </p>
          <pre class="code-block" data-testid="simulator-command">
            <code>{`export SHOWRUNNER__STREAMS__EVENTS_SECRET=some-long-local-secret\nshowrunner simulate --channel ${username} --duration 10m --starve-at 3m`}</code>
          </pre>
        </div>
      )}
    </div>
  );
}
