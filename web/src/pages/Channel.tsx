import { useEffect, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api } from '../api/client';
import { ApiError } from '../api/errors';
import { useVideoMode, type VideoMode } from '../api/platform';
import { useSession } from '../api/session';
import type { ChannelPage } from '../api/types';
import { Avatar } from '../components/Avatar';
import { Chat } from '../components/Chat';
import { Notice } from '../components/Form';
import { LiveBadge, liveFor } from '../components/LiveBadge';
import { IvsVideo } from '../components/IvsVideo';
import { Confetti, StreamOverlay } from '../components/Overlay';
import { StagePanel } from '../components/StagePanel';
import { useResource, useTitle } from '../components/useResource';
import { FOLLOW_INTENT, followIntentUrl, loginUrl, withoutFollowIntent } from '../domain/navigation';
import { colorHex } from '../domain/palette';
import { isLocalPlayback, playerState } from '../domain/playback';
import type { ChannelView } from '../realtime/channel';
import { useChannel } from '../realtime/live';
import type { ChannelStore } from '../realtime/store';
import { useSyncedAction } from '../video/useSyncedAction';
import { NotFound } from './NotFound';

export function Channel({ username }: { username: string }) {
  const session = useSession();
  const { path, query, route } = useLocation();
  // Ask again when the viewer changes: `is_following` and `is_own` depend on who asks.
  const channel = useResource(
    session.status === 'unknown' ? null : () => api.get<ChannelPage>(`/api/channels/${encodeURIComponent(username)}`),
    [username, session.account?.id, session.status === 'unknown'],
  );
  const data = channel.data && channel.data.username.toLowerCase() === username.toLowerCase() ? channel.data : undefined;
  useTitle(data ? data.username : username);
  // Chat, overlays, viewers and the stage, live over the page's websocket.
  const live = useChannel(username);
  const socketView = live.view && live.view.username.toLowerCase() === username.toLowerCase() ? live.view : null;
  // In AWS mode overlays follow the video: an action waits for its timed-metadata cue.
  const mode = useVideoMode();
  const [videoDelay, setVideoDelay] = useState(0);
  const synced = useSyncedAction(socketView, videoDelay, mode === 'ivs');
  const view = socketView && mode === 'ivs' && socketView.status === 'ready' ? { ...socketView, action: synced.action } : socketView;

  const [followBusy, setFollowBusy] = useState(false);
  const [followError, setFollowError] = useState<string | null>(null);
  const intentDone = useRef(false);

  async function setFollowing(follow: boolean) {
    if (!data) return;
    setFollowBusy(true);
    setFollowError(null);
    const before = data;
    channel.set({ ...data, is_following: follow });
    try {
      const target = `/api/me/following/${encodeURIComponent(data.username)}`;
      if (follow) await api.put(target);
      else await api.del(target);
    } catch (error) {
      channel.set(before);
      setFollowError(error instanceof ApiError ? error.message : 'Could not update your follows. Try again.');
    } finally {
      setFollowBusy(false);
    }
  }

  // Back from logging in with a follow still to do (`?follow=1`): do it once, then drop the flag.
  useEffect(() => {
    if (query[FOLLOW_INTENT] === undefined || intentDone.current || session.status === 'unknown') return;
    if (session.status === 'signed-out') {
      intentDone.current = true;
      route(withoutFollowIntent(path, query), true);
      return;
    }
    if (!data) return;
    intentDone.current = true;
    route(withoutFollowIntent(path, query), true);
    if (!data.is_following && !data.is_own) void setFollowing(true);
  }, [session.status, data, query[FOLLOW_INTENT]]);

  function onFollowClick() {
    if (!data) return;
    if (session.status !== 'signed-in') {
      route(loginUrl(followIntentUrl(data.username)));
      return;
    }
    void setFollowing(!data.is_following);
  }

  if (channel.error instanceof ApiError && channel.error.status === 404) {
    return <NotFound what="channel" name={username} />;
  }
  if (channel.error !== undefined && !data) {
    return (
      <div class="page">
        <Notice kind="error">
          Could not load this channel.{' '}
          <button type="button" class="link-button" onClick={channel.reload}>
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
        <span class="visually-hidden">Loading channel…</span>
      </div>
    );
  }

  const isLive = data.is_live || (view?.status === 'ready' && view.live);
  const since = liveFor(view?.liveSince ?? data.live_since);
  return (
    <div class="channel" style={{ '--profile': colorHex(data.color) }} data-testid="channel-page" data-username={data.username}>
      <div class="channel__main">
        <Player channel={data} live={isLive} view={view} store={live.store} mode={mode} onCue={synced.onCue} onLatency={setVideoDelay} />
        <section class="channel__info" aria-labelledby="channel-name">
          <Avatar channel={data} size="xl" live={isLive} />
          <div class="channel__who">
            <h1 id="channel-name" class="channel__name">
              {data.username}
            </h1>
            <p class="channel__status">
              <LiveBadge live={isLive} />
              {isLive && since && <span class="muted">{since}</span>}
              {view?.status === 'ready' && (
                <span class="viewers" data-testid="viewer-count" title="People watching now">
                  <svg viewBox="0 0 24 24" aria-hidden="true" class="viewers__icon">
                    <path d="M12 5C6.5 5 2.7 9.4 1.5 12c1.2 2.6 5 7 10.5 7s9.3-4.4 10.5-7C21.3 9.4 17.5 5 12 5zm0 11a4 4 0 110-8 4 4 0 010 8z" fill="currentColor" />
                  </svg>
                  <span data-testid="viewer-number">{view.viewers}</span> watching
                </span>
              )}
            </p>
          </div>
          <div class="channel__actions">
            {data.is_own ? (
              <>
                <a class="btn btn--primary" href="/manager" data-testid="open-manager">
                  Stream manager
                </a>
                <a class="btn btn--secondary" href="/settings">
                  Edit profile
                </a>
              </>
            ) : (
              <button
                type="button"
                class={`btn ${data.is_following ? 'btn--secondary' : 'btn--primary'} btn--follow`}
                aria-pressed={data.is_following}
                disabled={followBusy}
                onClick={onFollowClick}
                data-testid="follow-button"
              >
                <svg viewBox="0 0 24 24" aria-hidden="true" class="btn__icon">
                  <path
                    d="M12 21s-7.5-4.6-9.6-9.3C.9 8.1 3.1 4 7 4c2.1 0 3.6 1.1 5 3 1.4-1.9 2.9-3 5-3 3.9 0 6.1 4.1 4.6 7.7C19.5 16.4 12 21 12 21z"
                    fill={data.is_following ? 'currentColor' : 'none'}
                    stroke="currentColor"
                    stroke-width="2"
                  />
                </svg>
                {data.is_following ? 'Following' : 'Follow'}
              </button>
            )}
          </div>
        </section>
        {followError && <Notice kind="error">{followError}</Notice>}
        {view && live.store && <StagePanel view={view} store={live.store} mode={mode} />}
      </div>
      {view ? (
        <Chat view={view} />
      ) : (
        <aside class="chat" aria-label="Stream chat" data-testid="chat-panel" data-state="loading">
          <div class="chat__body chat__body--center" aria-busy="true">
            <span class="spinner spinner--lg" aria-hidden="true" />
          </div>
        </aside>
      )}
    </div>
  );
}

function Player({
  channel,
  live,
  view,
  store,
  mode,
  onCue,
  onLatency,
}: {
  channel: ChannelPage;
  live: boolean;
  view: ChannelView | null;
  store: ChannelStore | null;
  mode: VideoMode;
  onCue: (text: string) => void;
  onLatency: (ms: number) => void;
}) {
  const state = playerState(live, channel.playback_url, mode);
  const ready = view?.status === 'ready';
  const celebration = ready && view.action?.action.type === 'celebration' ? view.action.id : null;
  const local = mode === 'local' || (mode === 'unknown' && isLocalPlayback(channel.playback_url));
  return (
    <section class="player" aria-label={`${channel.username}’s stream`} data-testid="player" data-player-state={state}>
      <div class="player__screen">
        {channel.banner_url ? (
          <img class="player__banner" src={channel.banner_url} alt="" data-testid="channel-banner" />
        ) : (
          <div class="player__backdrop" aria-hidden="true" />
        )}
        <div class="player__poster">
          <Avatar channel={channel} size="xl" />
          {state === 'offline' ? (
            <>
              <p class="player__headline">{channel.username} is offline</p>
              <p class="player__text">{channel.is_own ? 'Go live from your encoder with the stream key in the stream manager.' : 'Follow to find them quickly when they go live.'}</p>
            </>
          ) : state === 'local' ? (
            <>
              <p class="player__headline">{channel.username} is live</p>
              <p class="player__text">Local mode — this server has no video service, so there is no video to play.</p>
            </>
          ) : (
            <>
              <p class="player__headline">{channel.username} is live</p>
              <p class="player__text">{state === 'video' ? 'Starting the video…' : 'Connecting…'}</p>
            </>
          )}
        </div>
        {state === 'video' && <IvsVideo mode={mode} url={channel.playback_url} title={`${channel.username}’s live video`} onCue={onCue} onLatency={onLatency} />}
        {local && (
          <span class="player__tag" data-testid="local-mode">
            Local mode · no video service
          </span>
        )}
        {ready && view.stage && (
          <span class="player__stage badge badge--stage" data-testid="player-stage-badge">
            <span class="badge__dot" aria-hidden="true" />
            Stage live · {view.stage.publishers.length}/{view.stage.capacity}
          </span>
        )}
        {/* Decorations over the picture itself; the overlay cards sit in the layer below. */}
        <div class="overlay-layer" data-testid="overlay-layer">
          {celebration && <Confetti key={celebration} seed={celebration} />}
        </div>
      </div>
      {view && store && (
        <div class="player__overlays">
          <StreamOverlay view={view} store={store} />
        </div>
      )}
    </section>
  );
}
