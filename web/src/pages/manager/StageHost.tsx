// The stage, as its host runs it: start and end it, who is on it (n/12) with remove, the
// join-request queue live over the websocket with accept and reject, and the invite link.

import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, sentence } from '../../api/errors';
import { stage as stageApi } from '../../api/live';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { CopyField } from '../../components/CopyField';
import { StagePublisher } from '../../components/StagePanel';
import { toast } from '../../components/Toasts';
import type { VideoMode } from '../../api/platform';
import type { ChannelView } from '../../realtime/channel';
import type { ParticipantToken } from '../../realtime/protocol';
import type { ChannelStore } from '../../realtime/store';

function message(e: unknown): string {
  return e instanceof ApiError ? sentence(e.message) : 'That did not work. Try again.';
}

export function StageHost({ view, store, username, mode }: { view: ChannelView; store: ChannelStore; username: string; mode: VideoMode }) {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [hostToken, setHostToken] = useState<ParticipantToken | null>(null);
  const [invite, setInvite] = useState<string | null>(null);
  const [ending, setEnding] = useState(false);
  const stage = view.stage;
  const synced = useRef<string | null>(null);

  // The queue comes with the snapshot and then from notices; if the stage's own count says it
  // differs (a notice missed while reconnecting), ask for the queue once more.
  useEffect(() => {
    if (!stage) return;
    const key = `${stage.id}:${stage.queue_length}`;
    if (stage.queue_length === view.queue.length || synced.current === key) return;
    synced.current = key;
    stageApi.queue(username).then(
      (r) => store.update((v) => ({ ...v, queue: r.requests })),
      () => undefined,
    );
  }, [stage?.id, stage?.queue_length, view.queue.length]);

  useEffect(() => {
    if (!stage) {
      setInvite(null);
      setHostToken(null);
    }
  }, [stage?.id]);

  async function run(what: string, action: () => Promise<void>) {
    setBusy(what);
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(null);
    }
  }

  const start = () =>
    run('start', async () => {
      const joined = await stageApi.start(username);
      setHostToken(joined.token);
      toast('Your stage is live');
    });

  const end = () =>
    run('end', async () => {
      await stageApi.end(username);
      setEnding(false);
      toast('Stage ended');
    });

  const decide = (target: string, accept: boolean) =>
    run(`${accept ? 'accept' : 'reject'}:${target}`, async () => {
      try {
        await (accept ? stageApi.accept(username, target) : stageApi.reject(username, target));
      } catch (e) {
        // Gone meanwhile (retracted): drop it from the list all the same.
        if (!(e instanceof ApiError && e.status === 404)) throw e;
      }
      store.update((v) => ({ ...v, queue: v.queue.filter((r) => r.username !== target) }));
      toast(accept ? `${target} is joining the stage` : `Declined ${target}`);
    });

  const remove = (target: string) =>
    run(`remove:${target}`, async () => {
      await stageApi.remove(username, target);
      toast(`Removed ${target} from the stage`);
    });

  const createInvite = () =>
    run('invite', async () => {
      const created = await stageApi.createInvite(username);
      setInvite(created.url);
    });

  const revokeInvite = () =>
    run('revoke', async () => {
      await stageApi.revokeInvite(username);
      setInvite(null);
      toast('Invite link revoked');
    });

  if (!stage) {
    return (
      <section class="panel" id="stage" aria-labelledby="stage-host-title" data-testid="stage-host" data-state="off">
        <h2 id="stage-host-title" class="panel__title">
          Stage
        </h2>
        <p class="panel__intro">Bring up to 11 guests on stage with you. Viewers can ask to join; you decide. While the stage is live, only polls can be shown as overlays.</p>
        {error && (
          <p class="field__error" role="alert">
            {error}
          </p>
        )}
        <button type="button" class="btn btn--primary" disabled={busy !== null} onClick={start} data-testid="stage-start">
          Start a stage
        </button>
      </section>
    );
  }

  const full = stage.publishers.length >= stage.capacity;
  return (
    <section class="panel" id="stage" aria-labelledby="stage-host-title" data-testid="stage-host" data-state="live">
      <div class="panel__head">
        <h2 id="stage-host-title" class="panel__title">
          Stage{' '}
          <span class="badge badge--stage">
            <span class="badge__dot" aria-hidden="true" />
            Live
          </span>
        </h2>
        <button type="button" class="btn btn--danger" disabled={busy !== null} onClick={() => setEnding(true)} data-testid="stage-end">
          End stage
        </button>
      </div>
      <StagePublisher mode={mode} token={hostToken} publishers={stage.publishers} rejoin={async () => (await stageApi.join(username)).token} />
      {error && (
        <p class="field__error" role="alert" data-testid="stage-host-error">
          {error}
        </p>
      )}

      <div>
        <h3 class="panel__subtitle">
          On stage <span data-testid="stage-host-count">{stage.publishers.length}/{stage.capacity}</span>
        </h3>
        <ul class="people" data-testid="stage-participants">
          {stage.publishers.map((p) => (
            <li key={p.user_id} class="people__row" data-testid="stage-participant" data-username={p.username}>
              <span class="people__name">{p.username}</span>
              <span class="muted small">{p.role === 'host' ? 'host (you)' : p.role === 'invited' ? 'invited' : 'accepted'}</span>
              {p.role !== 'host' && (
                <button type="button" class="btn btn--ghost" disabled={busy !== null} onClick={() => remove(p.username)} data-testid="stage-remove">
                  Remove
                </button>
              )}
            </li>
          ))}
        </ul>
      </div>

      <div>
        <h3 class="panel__subtitle">
          Requests to join <span class="count">{view.queue.length}</span>
        </h3>
        {view.queue.length === 0 ? (
          <p class="muted small" data-testid="stage-queue-empty">
            Nobody is waiting. Requests appear here as viewers make them.
          </p>
        ) : (
          <ol class="people" data-testid="stage-queue" aria-live="polite">
            {view.queue.map((r) => (
              <li key={r.user_id} class="people__row" data-testid="stage-request-row" data-username={r.username}>
                <span class="people__name">{r.username}</span>
                <span class="muted small">{new Date(r.requested_at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}</span>
                <span class="people__actions">
                  <button type="button" class="btn btn--primary" disabled={busy !== null || full} onClick={() => decide(r.username, true)} data-testid="stage-accept">
                    Accept
                  </button>
                  <button type="button" class="btn btn--ghost" disabled={busy !== null} onClick={() => decide(r.username, false)} data-testid="stage-reject">
                    Decline
                  </button>
                </span>
              </li>
            ))}
          </ol>
        )}
        {full && view.queue.length > 0 && <p class="muted small">The stage is full: remove someone to accept more.</p>}
      </div>

      <div class="stack">
        <h3 class="panel__subtitle">Invite link</h3>
        <p class="muted small">Anyone signed in who opens it joins the stage directly. A new link replaces the old one.</p>
        {invite && <CopyField label="Invite link" value={invite} testid="stage-invite" />}
        <div class="form__row">
          <button type="button" class="btn btn--secondary" disabled={busy !== null} onClick={createInvite} data-testid="stage-invite-create">
            {invite ? 'New link' : 'Create invite link'}
          </button>
          <button type="button" class="btn btn--ghost" disabled={busy !== null} onClick={revokeInvite} data-testid="stage-invite-revoke">
            Revoke link
          </button>
        </div>
      </div>

      <ConfirmDialog open={ending} title="End the stage?" confirmLabel="End stage" danger busy={busy === 'end'} onCancel={() => setEnding(false)} onConfirm={end}>
        <p>Everyone on it is disconnected and pending requests are dropped.</p>
      </ConfirmDialog>
    </section>
  );
}
