// A channel's live video through the IVS Player (AWS mode). It reports timed-metadata cues and how
// far the picture is behind live, so overlays can wait for the video (`useSyncedAction`).

import { useEffect, useRef, useState } from 'preact/hooks';
import type { VideoMode } from '../api/platform';
import type { PlaybackState, PlayerHandle } from '../video/ivsPlayer';
import { videoSdks } from '../video/sdk';

/** Assumed lag of the picture while the player does not know its own yet. */
const DEFAULT_LATENCY_MS = 3000;

type Status = PlaybackState | 'error' | 'unsupported';

export function IvsVideo({
  mode,
  url,
  title,
  onCue,
  onLatency,
}: {
  mode: VideoMode;
  url: string;
  title: string;
  onCue: (text: string) => void;
  /** The picture's lag behind live in ms while playing, 0 otherwise. */
  onLatency: (ms: number) => void;
}) {
  const video = useRef<HTMLVideoElement>(null);
  const handle = useRef<PlayerHandle | null>(null);
  const [status, setStatus] = useState<Status>('loading');
  const [error, setError] = useState<{ text: string; detail?: string } | null>(null);
  const [muted, setMuted] = useState(false);
  const [blocked, setBlocked] = useState(false);
  const [attempt, setAttempt] = useState(0);
  // Callbacks change every render; the player keeps the first ones it was given.
  const cue = useRef(onCue);
  cue.current = onCue;
  const latency = useRef(onLatency);
  latency.current = onLatency;

  useEffect(() => {
    let cancelled = false;
    let mine: PlayerHandle | null = null;
    setStatus('loading');
    setError(null);
    setBlocked(false);
    videoSdks.player(mode).then(
      (sdk) => {
        if (cancelled || !video.current) return;
        if (!sdk.playerSupported()) {
          setStatus('unsupported');
          return;
        }
        mine = sdk.attachPlayer(video.current, url, {
          onState: (s) => {
            setStatus(s);
            if (s === 'playing') setBlocked(false);
          },
          onCue: (text) => cue.current(text),
          onError: (e) => {
            setStatus('error');
            setError(
              e.code === 404
                ? { text: 'The stream is not reaching viewers right now.' }
                : e.code === 429
                  ? { text: 'Too many people are watching this channel just now.' }
                  : { text: 'The video could not be played.', detail: e.message },
            );
          },
          onMuted: setMuted,
          onBlocked: () => setBlocked(true),
        });
        handle.current = mine;
      },
      () => {
        if (cancelled) return;
        setStatus('error');
        setError({ text: 'The video player could not be loaded.' });
      },
    );
    return () => {
      cancelled = true;
      mine?.destroy();
      handle.current = null;
      latency.current(0);
    };
  }, [mode, url, attempt]);

  useEffect(() => {
    if (status !== 'playing') {
      latency.current(0);
      return;
    }
    const report = () => latency.current(handle.current?.latencyMs() || DEFAULT_LATENCY_MS);
    report();
    const timer = setInterval(report, 2000);
    return () => clearInterval(timer);
  }, [status]);

  const showing = status === 'playing' || status === 'buffering';
  const failed = status === 'error' || status === 'unsupported';
  return (
    <div class={`ivs-video${showing ? ' ivs-video--on' : ''}${failed ? ' ivs-video--failed' : ''}`} data-testid="ivs-video" data-status={status}>
      <video ref={video} class="ivs-video__picture" playsInline aria-label={title} />
      {(status === 'loading' || status === 'buffering') && (
        <span class="ivs-video__spinner spinner spinner--lg" role="status" aria-label={status === 'loading' ? 'Loading the video' : 'Buffering'} />
      )}
      {status === 'error' && (
        <div class="ivs-video__message" role="alert" data-testid="video-error">
          <p>{error?.text}</p>
          {error?.detail && <p class="muted small">{error.detail}</p>}
          <button type="button" class="btn btn--secondary" onClick={() => setAttempt((n) => n + 1)}>
            Try again
          </button>
        </div>
      )}
      {status === 'unsupported' && (
        <div class="ivs-video__message" role="alert">
          <p>This browser cannot play the video (it needs WebAssembly).</p>
        </div>
      )}
      {blocked && (
        <button type="button" class="btn btn--primary ivs-video__play" onClick={() => handle.current?.play()}>
          Play
        </button>
      )}
      {showing && (
        <button
          type="button"
          class="ivs-video__mute"
          onClick={() => handle.current?.setMuted(!muted)}
          data-testid="video-mute"
        >
          {muted ? 'Unmute' : 'Mute'}
        </button>
      )}
    </div>
  );
}
