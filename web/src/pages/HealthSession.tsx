// `/health/:session`: one of the streamer's broadcasts — a summary, charts of bitrate, frame rate,
// keyframe interval and viewers (starvation shaded), the event timeline and the encoder settings.
// While the session is not over it is asked again every 5 s. Anyone else's session id is a 404.

import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api/errors';
import { health, type SessionDetail } from '../api/health';
import { Notice } from '../components/Form';
import { MetricChart } from '../components/MetricChart';
import { RequireAuth } from '../components/RequireAuth';
import { useTitle } from '../components/useResource';
import {
  chartRange,
  describeEvent,
  describeIngest,
  formatDuration,
  formatOffset,
  healthFlags,
  sessionDurationMs,
  sessionState,
  shapeMetric,
  starvationSpans,
} from '../domain/health';
import { Flags, formatWhen, StateBadge } from './Health';
import { NotFound } from './NotFound';

/** How often a session that is not over is asked again. */
export const LIVE_POLL_MS = 5_000;

export function HealthSession({ session }: { session: string }) {
  useTitle('Stream health');
  return <RequireAuth>{(account) => <SessionPage key={`${account.id}:${session}`} streamId={session} />}</RequireAuth>;
}

interface DetailState {
  data: SessionDetail | undefined;
  /** When `data` was read (local clock): the charts of a live session run to then. */
  readAt: number;
  error: unknown;
  /** A poll failed; the last answer stays on screen. */
  stale: boolean;
}

function useSessionDetail(streamId: string) {
  const [state, setState] = useState<DetailState>({ data: undefined, readAt: Date.now(), error: undefined, stale: false });
  const inflight = useRef<AbortController | null>(null);

  const load = useCallback(async () => {
    inflight.current?.abort();
    const controller = new AbortController();
    inflight.current = controller;
    try {
      const data = await health.session(streamId, controller.signal);
      setState({ data, readAt: Date.now(), error: undefined, stale: false });
    } catch (error) {
      if (controller.signal.aborted) return;
      setState((s) => (s.data ? { ...s, stale: true } : { ...s, error }));
    }
  }, [streamId]);

  useEffect(() => {
    void load();
    return () => inflight.current?.abort();
  }, [load]);

  const open = state.data ? sessionState(state.data) !== 'ended' : false;
  useEffect(() => {
    if (!open) return;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void load();
    }, LIVE_POLL_MS);
    return () => clearInterval(timer);
  }, [open, load]);

  return { ...state, reload: load, open };
}

function SessionPage({ streamId }: { streamId: string }) {
  const detail = useSessionDetail(streamId);
  const data = detail.data;
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!detail.open) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [detail.open]);

  const shaped = useMemo(() => (data ? data.metrics.map((m) => shapeMetric(m, data.ingest_configuration)) : []), [data]);
  const endMs = data?.ended_at ? Date.parse(data.ended_at) : detail.readAt;
  const spans = useMemo(() => (data ? starvationSpans(data.events, endMs) : []), [data, endMs]);
  const range = useMemo(() => (data ? chartRange(data, shaped, detail.readAt) : ([0, 1] as [number, number])), [data, shaped, detail.readAt]);

  if (detail.error instanceof ApiError && detail.error.status === 404) return <NotFound what="session" />;
  if (detail.error !== undefined && !data) {
    const unavailable = detail.error instanceof ApiError && detail.error.status === 503;
    return (
      <div class="page">
        <Notice kind="error">
          {unavailable ? 'The metrics service is not answering just now.' : 'Could not load this stream.'}{' '}
          <button type="button" class="link-button" onClick={() => void detail.reload()}>
            Try again
          </button>
        </Notice>
      </div>
    );
  }
  if (!data) {
    return (
      <div class="page page--center" aria-busy="true">
        <span class="spinner spinner--lg" aria-hidden="true" />
        <span class="visually-hidden">Loading the stream…</span>
      </div>
    );
  }

  const state = sessionState(data);
  const live = state === 'live';
  const duration = sessionDurationMs(data, now);
  const starvedMs = spans.reduce((sum, s) => sum + (s.to - s.from), 0);
  const breaches = data.events.filter((e) => e.type === 'IVS Limit Breach').length;
  const views = shaped.find((s) => s.name === 'ConcurrentViews');
  const peak = views?.hasData ? Math.max(...views.ys.filter((v): v is number => v !== null)) : null;
  const start = Date.parse(data.started_at);

  return (
    <div class="page page--wide health-session" data-testid="session-page" data-stream-id={data.stream_id} data-state={state}>
      <a class="back-link" href="/health">
        <svg viewBox="0 0 16 16" aria-hidden="true">
          <path d="M10 3L5 8l5 5" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" />
        </svg>
        All streams
      </a>
      <header class="session-head">
        <div class="session-head__main">
          <h1 class="page__title">Stream of {formatWhen(data.started_at)}</h1>
          <p class="session-head__meta">
            <StateBadge session={data} />
            <Flags flags={healthFlags(data, spans.length)} />
            <code class="session-head__id" title="IVS stream id">
              {data.stream_id}
            </code>
          </p>
        </div>
        {detail.open && (
          <p class="session-head__refresh muted small" data-testid="live-refresh">
            <span class="refresh-dot" aria-hidden="true" />
            Updating every {LIVE_POLL_MS / 1000} s
          </p>
        )}
      </header>
      {detail.stale && (
        <Notice kind="warning">
          Could not refresh; showing what was last read.{' '}
          <button type="button" class="link-button" onClick={() => void detail.reload()}>
            Try again
          </button>
        </Notice>
      )}

      <dl class="stats" data-testid="session-stats">
        <div class="stat">
          <dt>{live ? 'Live for' : state === 'waiting' ? 'Waiting for' : 'Duration'}</dt>
          <dd data-testid="stat-duration">{duration === null ? '–' : formatDuration(duration)}</dd>
        </div>
        <div class={`stat${starvedMs > 0 ? ' stat--warn' : ''}`}>
          <dt>Starving</dt>
          <dd data-testid="stat-starving">
            {spans.length === 0 ? 'Never' : `${formatDuration(starvedMs)} · ${spans.length} ${spans.length === 1 ? 'time' : 'times'}`}
          </dd>
        </div>
        <div class={`stat${breaches > 0 ? ' stat--bad' : ''}`}>
          <dt>Limit breaches</dt>
          <dd data-testid="stat-breaches">{breaches === 0 ? 'None' : breaches}</dd>
        </div>
        <div class="stat">
          <dt>Peak viewers</dt>
          <dd>{peak === null ? '–' : Math.round(peak)}</dd>
        </div>
      </dl>

      <section class="health-section" aria-labelledby="metrics-title">
        <div class="health-section__head">
          <h2 id="metrics-title" class="section__title">
            Metrics
          </h2>
          <p class="chart-key muted small">
            {spans.length > 0 && (
              <span class="chart-key__item">
                <span class="chart-key__swatch chart-key__swatch--starving" aria-hidden="true" /> starving
              </span>
            )}
            <span class="chart-key__item">
              <span class="chart-key__swatch chart-key__swatch--target" aria-hidden="true" /> target
            </span>
            {shaped[0] && <span class="chart-key__item">a point every {shaped[0].period >= 60 ? `${shaped[0].period / 60} min` : `${shaped[0].period} s`}</span>}
          </p>
        </div>
        {shaped.length === 0 ? (
          <p class="muted">No metrics for this stream.</p>
        ) : (
          <div class="metrics-grid">
            {shaped.map((series) => (
              <MetricChart key={series.name} series={series} range={range} starving={spans} live={detail.open} />
            ))}
          </div>
        )}
      </section>

      <div class="health-columns">
        <section class="health-section panel" aria-labelledby="events-title">
          <h2 id="events-title" class="panel__title">
            Events
          </h2>
          {data.events.length === 0 ? (
            <p class="muted">No events yet.</p>
          ) : (
            <ol class="timeline" data-testid="timeline">
              {data.events.map((event) => {
                const d = describeEvent(event);
                const at = Date.parse(event.time);
                return (
                  <li key={event.id} class={`timeline__item timeline__item--${d.tone}`} data-testid="timeline-event" data-name={event.name}>
                    <span class="timeline__dot" aria-hidden="true" />
                    <div class="timeline__body">
                      <p class="timeline__label">{d.label}</p>
                      {d.detail && <p class="timeline__detail">{d.detail}</p>}
                    </div>
                    <p class="timeline__time">
                      <time dateTime={event.time}>{Number.isNaN(at) ? event.time : new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })}</time>
                      {!Number.isNaN(at) && !Number.isNaN(start) && <span class="timeline__offset">+{formatOffset(at - start)}</span>}
                    </p>
                  </li>
                );
              })}
            </ol>
          )}
        </section>

        <section class="health-section panel" aria-labelledby="encoder-title" data-testid="encoder-settings">
          <h2 id="encoder-title" class="panel__title">
            Encoder settings
          </h2>
          {data.ingest_configuration ? (
            <EncoderSettings session={data} />
          ) : (
            <p class="muted">{state === 'ended' ? 'IVS did not report the encoder settings for this stream.' : 'IVS reports the encoder settings once the stream has started.'}</p>
          )}
        </section>
      </div>
    </div>
  );
}

function EncoderSettings({ session }: { session: SessionDetail }) {
  const rows = describeIngest(session.ingest_configuration!);
  return (
    <div class="encoder">
      <p class="muted small">When the stream went live.</p>
      {(['video', 'audio'] as const).map((kind) => (
        <table key={kind} class="settings-table">
          <caption>{kind === 'video' ? 'Video' : 'Audio'}</caption>
          <tbody>
            {rows[kind].map((row) => (
              <tr key={row.label}>
                <th scope="row">{row.label}</th>
                <td>{row.value}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ))}
    </div>
  );
}
