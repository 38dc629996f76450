// What is on stream right now (the active overlay, with its time left and a stop button), the
// poll's live results and recent poll history, and the stream key for going live.

import { useState } from 'preact/hooks';
import { ApiError } from '../../api/errors';
import { actions } from '../../api/live';
import type { VideoMode } from '../../api/platform';
import type { Me } from '../../api/types';
import { CopyField } from '../../components/CopyField';
import { Countdown, PollCard } from '../../components/Overlay';
import { toast } from '../../components/Toasts';
import { useResource } from '../../components/useResource';
import { actionLabel, describeAction } from '../../domain/actions';
import type { ChannelView } from '../../realtime/channel';
import { useServerNow } from '../../realtime/live';
import { BrowserBroadcast } from './BrowserBroadcast';

export function GoLive({ account, mode }: { account: Me; mode: VideoMode }) {
  return (
    <section class="panel" id="go-live" aria-labelledby="go-live-title" data-testid="go-live">
      <h2 id="go-live-title" class="panel__title">
        Go live
      </h2>
      <p class="panel__intro">
        Point your encoder (in OBS: Settings → Stream → Service “Custom…”) at these. <a href="/settings#stream">Reset the key in Settings</a>.
      </p>
      <div class="golive__fields">
        <CopyField label="Ingest server" value={account.channel.ingest_server_url} testid="manager-ingest" />
        <CopyField label="Stream key" value={account.channel.stream_key} secret testid="manager-stream-key" />
      </div>
      {mode === 'ivs' && <BrowserBroadcast account={account} mode={mode} />}
      {mode === 'local' && (
        <p class="muted small" data-testid="golive-local">
          Local mode: this server has no video service, so nothing can stream to it. The stream simulator plays a broadcast through it instead — see{' '}
          <a href="/health">Stream health</a>.
        </p>
      )}
      <p class="muted small">
        How did it go? <a href="/health">Stream health</a> has every broadcast’s events, encoder settings and charts.
      </p>
    </section>
  );
}

export function ActiveAction({ view, username }: { view: ChannelView; username: string }) {
  const [busy, setBusy] = useState(false);
  const action = view.action;
  const now = useServerNow(!!action?.expires_at, 250);

  async function stop() {
    setBusy(true);
    try {
      await actions.stop(username);
      toast('Overlay stopped');
    } catch (e) {
      // Already over: the server ended it first.
      if (!(e instanceof ApiError && e.status === 404)) toast(e instanceof ApiError ? e.message : 'Could not stop the overlay.', 'error');
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="panel panel--active" id="active" aria-labelledby="active-title" data-testid="active-action" data-type={action?.action.type ?? 'none'}>
      <div class="panel__head">
        <h2 id="active-title" class="panel__title">
          On stream now
        </h2>
        {action && (
          <button type="button" class="btn btn--danger" disabled={busy} onClick={stop} data-testid="stop-action">
            Stop
          </button>
        )}
      </div>
      {action ? (
        <div class="active">
          <span class="overlay__kicker overlay__kicker--accent">{actionLabel(action.action.type)}</span>
          <p class="active__what" data-testid="active-description">
            {describeAction(action.action)}
          </p>
          {action.expires_at ? (
            <Countdown start={action.started_at} end={action.expires_at} now={now} label="Time left:" />
          ) : (
            <p class="muted small">Shown until you stop or replace it.</p>
          )}
        </div>
      ) : (
        <p class="muted" data-testid="no-action">
          No overlay is showing. Start one below; a new one replaces the current one.
        </p>
      )}
    </section>
  );
}

export function Polls({ view, username }: { view: ChannelView; username: string }) {
  const poll = view.poll;
  const now = useServerNow(!!poll && !poll.closed, 250);
  // Reload the history whenever a poll starts or closes.
  const history = useResource(() => actions.polls(username, 6), [username, poll?.id, poll?.closed]);
  // With no poll in the live state (this page opened after it closed), the latest from history.
  const shown = poll ?? history.data?.polls.find((p) => p.closed) ?? null;
  const past = (history.data?.polls ?? []).filter((p) => p.closed && p.id !== shown?.id).slice(0, 5);
  return (
    <section class="panel" id="polls" aria-labelledby="polls-title" data-testid="poll-results">
      <h2 id="polls-title" class="panel__title">
        Poll results
      </h2>
      {shown ? (
        <PollCard view={view} store={null} poll={shown} now={now} manage />
      ) : (
        <p class="muted">No poll yet. Polls count votes on the server, so you can close this page while one runs.</p>
      )}
      {past.length > 0 && (
        <div>
          <h3 class="panel__subtitle">Earlier polls</h3>
          <ul class="history">
            {past.map((p) => {
              const top = Math.max(...p.tally);
              const winners = p.options.filter((_, i) => p.total > 0 && p.tally[i] === top);
              return (
                <li key={p.id} class="history__item">
                  <span class="history__question">{p.question}</span>
                  <span class="muted small">
                    {p.total} {p.total === 1 ? 'vote' : 'votes'}
                    {winners.length ? ` · ${winners.join(', ')} ${winners.length > 1 ? 'tied' : 'won'}` : ''}
                  </span>
                </li>
              );
            })}
          </ul>
        </div>
      )}
    </section>
  );
}
