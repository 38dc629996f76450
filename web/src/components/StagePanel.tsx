// A channel's stage as a viewer sees it: who is on it (n/12), and the viewer's way onto it — a
// join request (pending, retract, accepted or declined), or an invite link.
//
// Accepted viewers receive a publish token. In AWS mode they publish their camera with it through
// the IVS Web Broadcast SDK (`StageVideo`), and everyone else watches the stage with a
// subscribe-only token; in local mode there is no video service, and the page says so.

import { useEffect, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { ApiError, sentence } from '../api/errors';
import { stage as stageApi } from '../api/live';
import type { VideoMode } from '../api/platform';
import { useSession } from '../api/session';
import { loginUrl } from '../domain/navigation';
import { onStage, type ChannelView } from '../realtime/channel';
import { liveRequest } from '../realtime/live';
import { RealtimeError, type ParticipantToken, type Publisher } from '../realtime/protocol';
import type { ChannelStore } from '../realtime/store';
import { StageVideo } from './StageVideo';
import { toast } from './Toasts';

function errorText(e: unknown): string {
  if (e instanceof ApiError || e instanceof RealtimeError) return sentence(e.message);
  return 'That did not work. Try again.';
}

/** Local mode: the token arrived, but there is no video service to publish to. */
export function TokenNote({ token }: { token: ParticipantToken }) {
  const expires = new Date(token.expires_at);
  return (
    <div class="stage__token" data-testid="stage-token">
      <p>
        <strong>Publish token received</strong> <span class="muted small">(valid until {expires.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })})</span>
      </p>
      <p class="muted small">
        This server runs in local mode, with no video service: sending your camera needs the IVS Web Broadcast SDK and a real IVS stage (AWS mode). Nothing is being broadcast.
      </p>
    </div>
  );
}

/**
 * Publishing on the stage with a publish token: the camera in AWS mode, a note in local mode.
 * Without a token (back after a reload) `rejoin` asks the server for a fresh one.
 */
export function StagePublisher({
  mode,
  token,
  publishers,
  rejoin,
}: {
  mode: VideoMode;
  token: ParticipantToken | null;
  publishers: Publisher[];
  rejoin?: () => Promise<ParticipantToken>;
}) {
  const [fresh, setFresh] = useState<ParticipantToken | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const current = token ?? fresh;
  if (mode === 'unknown') return null;
  if (mode !== 'ivs') return current ? <TokenNote token={current} /> : null;
  if (!current) {
    if (!rejoin) return null;
    return (
      <div class="stage__token">
        <p class="muted small">You are on the stage. Turn your camera on to be seen.</p>
        <button
          type="button"
          class="btn btn--primary"
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            setError(null);
            try {
              setFresh(await rejoin());
            } catch (e) {
              setError(errorText(e));
            } finally {
              setBusy(false);
            }
          }}
          data-testid="stage-rejoin"
        >
          Join with camera
        </button>
        {error && (
          <p class="field__error" role="alert">
            {error}
          </p>
        )}
      </div>
    );
  }
  return <StageVideo key={current.token} mode={mode} token={current} publish publishers={publishers} />;
}

/** Watching the stage's video with a subscribe-only token (AWS mode). */
function StageSpectator({ username, publishers }: { username: string; publishers: Publisher[] }) {
  const [token, setToken] = useState<ParticipantToken | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    stageApi.spectate(username).then(
      (t) => live && setToken(t),
      (e: unknown) => live && setError(errorText(e)),
    );
    return () => {
      live = false;
    };
  }, [username]);
  if (error) return <p class="muted small">The stage’s video is not available: {error}</p>;
  if (!token) return null;
  return <StageVideo mode="ivs" token={token} publish={false} publishers={publishers} />;
}

export function StagePanel({ view, store, mode }: { view: ChannelView; store: ChannelStore; mode: VideoMode }) {
  const session = useSession();
  const { url, query, path, route } = useLocation();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [joined, setJoined] = useState<ParticipantToken | null>(null);
  const stage = view.stage;
  if (!stage || view.status !== 'ready') return null;

  const me = session.account?.id ?? null;
  const amHost = view.you.owner;
  const amOnStage = onStage(view, me);
  const full = stage.publishers.length >= stage.capacity;
  const invite = query.invite;
  const my = view.myStage;

  async function run(action: () => Promise<void>) {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  }

  const request = () =>
    run(async () => {
      try {
        const result = (await liveRequest({ type: 'stage_request', channel: view.channel! })) as { position?: number } | undefined;
        store.update((v) => ({ ...v, myStage: { state: 'pending', position: result?.position ?? null } }));
      } catch (e) {
        // Asked before (another tab, or before a reload): it is still pending.
        if (e instanceof RealtimeError && e.code === 'already_requested') store.update((v) => ({ ...v, myStage: { state: 'pending', position: null } }));
        else throw e;
      }
    });

  const retract = () =>
    run(async () => {
      try {
        await liveRequest({ type: 'stage_retract', channel: view.channel! });
      } catch (e) {
        if (!(e instanceof RealtimeError && e.code === 'no_request')) throw e;
      }
      store.update((v) => ({ ...v, myStage: { state: 'none' } }));
    });

  const joinWithInvite = () =>
    run(async () => {
      const response = await stageApi.join(view.username, invite);
      setJoined(response.token);
      const rest = new URLSearchParams(query);
      rest.delete('invite');
      route(rest.toString() ? `${path}?${rest}` : path, true);
      toast('You joined the stage');
    });

  const leave = () =>
    run(async () => {
      await stageApi.remove(view.username, session.account!.username);
      setJoined(null);
      store.update((v) => ({ ...v, myStage: { state: 'none' } }));
    });

  const token = my.state === 'accepted' ? my.token : joined;

  return (
    <section class="stage" aria-labelledby="stage-title" data-testid="stage-panel">
      <div class="stage__head">
        <span class="badge badge--stage" data-testid="stage-badge">
          <span class="badge__dot" aria-hidden="true" />
          Stage live
        </span>
        <h2 id="stage-title" class="stage__title">
          <span data-testid="stage-count">
            {stage.publishers.length}/{stage.capacity}
          </span>{' '}
          on stage
        </h2>
        {!stage.host_connected && <span class="pill pill--warn">Host away</span>}
      </div>
      <ul class="stage__people" aria-label="On stage" data-testid="stage-publishers">
        {stage.publishers.map((p) => (
          <li key={p.user_id} class="stage__person" data-testid="stage-publisher" data-username={p.username}>
            <span class="stage__initial" aria-hidden="true">
              {p.username.slice(0, 1).toUpperCase()}
            </span>
            <span class="stage__name">{p.username}</span>
            {p.role === 'host' && <span class="stage__role">host</span>}
            {p.user_id === me && p.role !== 'host' && <span class="stage__role">you</span>}
          </li>
        ))}
      </ul>

      {mode === 'ivs' && !amHost && !amOnStage && !token && <StageSpectator username={view.username} publishers={stage.publishers} />}

      {!amHost && (
        <div class="stage__me" data-testid="stage-me" data-state={amOnStage || token ? 'accepted' : my.state}>
          {session.status !== 'signed-in' ? (
            <p class="muted">
              Watching as a spectator. <a href={loginUrl(url)}>Log in</a> to ask to join the stage.
            </p>
          ) : token || amOnStage ? (
            <>
              <p class="stage__status stage__status--ok" role="status" data-testid="stage-accepted">
                {my.state === 'accepted' ? 'The host accepted your request — you are on stage!' : 'You are on stage.'}
              </p>
              {(token || amOnStage) && (
                <StagePublisher mode={mode} token={token} publishers={stage.publishers} rejoin={async () => (await stageApi.join(view.username)).token} />
              )}
              {amOnStage && (
                <button type="button" class="btn btn--secondary" disabled={busy} onClick={leave} data-testid="stage-leave">
                  Leave the stage
                </button>
              )}
            </>
          ) : invite ? (
            <>
              <p>You were invited to join this stage.</p>
              <button type="button" class="btn btn--primary" disabled={busy || full} onClick={joinWithInvite} data-testid="stage-join-invite">
                Join the stage
              </button>
            </>
          ) : my.state === 'pending' ? (
            <>
              <p class="stage__status" role="status" data-testid="stage-pending">
                <span class="spinner" aria-hidden="true" /> Request sent{my.position ? ` — you are #${my.position} in line` : ''}. Waiting for the host…
              </p>
              <button type="button" class="btn btn--secondary" disabled={busy} onClick={retract} data-testid="stage-retract">
                Retract request
              </button>
            </>
          ) : (
            <>
              {my.state === 'rejected' && (
                <p class="stage__status stage__status--bad" role="status" data-testid="stage-rejected">
                  The host declined your request.
                </p>
              )}
              {my.state === 'removed' && (
                <p class="stage__status stage__status--bad" role="status" data-testid="stage-removed">
                  The host removed you from the stage.
                </p>
              )}
              <p class="muted small">Watching as a spectator.</p>
              <button type="button" class="btn btn--primary" disabled={busy || full} onClick={request} data-testid="stage-request">
                {my.state === 'rejected' ? 'Ask again' : 'Request to join'}
              </button>
              {full && <p class="muted small">The stage is full ({stage.capacity} people).</p>}
            </>
          )}
          {error && (
            <p class="field__error" role="alert" data-testid="stage-error">
              {error}
            </p>
          )}
        </div>
      )}
      {amHost && (
        <p class="muted small">
          You are hosting. Manage requests and invites in the <a href="/manager#stage">stream manager</a>.
        </p>
      )}
    </section>
  );
}
