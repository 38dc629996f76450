// A real-time stage's video (AWS mode), through the IVS Web Broadcast SDK: a publisher (the host,
// or a guest with the publish token the server handed out) sends camera and microphone and sees
// everyone else; a spectator only watches. Local mode never renders this (see `StagePublisher`).

import { useEffect, useRef, useState } from 'preact/hooks';
import type { VideoMode } from '../api/platform';
import type { ParticipantToken, Publisher } from '../realtime/protocol';
import type { RemoteParticipant, StageHandle, StageState } from '../video/ivsBroadcast';
import { videoSdks } from '../video/sdk';

function MediaTile({ stream, label, muted = false, mirrored = false }: { stream: MediaStream; label: string; muted?: boolean; mirrored?: boolean }) {
  const el = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    if (el.current && el.current.srcObject !== stream) el.current.srcObject = stream;
  }, [stream]);
  return (
    <figure class="stage-tile" data-testid="stage-tile">
      <video ref={el} class={`stage-tile__video${mirrored ? ' stage-tile__video--mirror' : ''}`} autoPlay playsInline muted={muted} />
      <figcaption class="stage-tile__name">{label}</figcaption>
    </figure>
  );
}

/** Names for the SDK's participants: the stage's publishers by user id. */
function nameOf(publishers: Publisher[], userId: string): string {
  return publishers.find((p) => p.user_id === userId || p.username === userId)?.username ?? 'Guest';
}

export function StageVideo({
  mode,
  token,
  publish,
  publishers,
  onLeft,
}: {
  mode: VideoMode;
  token: ParticipantToken;
  /** Send camera and microphone (a publish token); otherwise watch only. */
  publish: boolean;
  publishers: Publisher[];
  onLeft?: () => void;
}) {
  const [state, setState] = useState<'idle' | 'starting' | StageState>(publish ? 'idle' : 'starting');
  const [error, setError] = useState<string | null>(null);
  const [camera, setCamera] = useState<MediaStream | null>(null);
  const [others, setOthers] = useState<RemoteParticipant[]>([]);
  const [mic, setMic] = useState(true);
  const [cam, setCam] = useState(true);
  const handle = useRef<StageHandle | null>(null);
  const cameraRef = useRef<MediaStream | null>(null);
  const alive = useRef(true);

  async function join() {
    setError(null);
    setState('starting');
    try {
      const sdk = await videoSdks.broadcast(mode);
      let stream: MediaStream | null = null;
      if (publish) {
        stream = await sdk.openCamera();
        cameraRef.current = stream;
        if (!alive.current) return sdk.stopTracks(stream);
        setCamera(stream);
      }
      const joined = await sdk.joinStage({
        token: token.token,
        camera: stream,
        onState: (s) => alive.current && setState(s),
        onParticipants: (list) => alive.current && setOthers(list),
      });
      if (!alive.current) return joined.leave();
      handle.current = joined;
    } catch (e) {
      if (!alive.current) return;
      setState('errored');
      const name = e instanceof Error ? e.name : '';
      setError(
        name === 'NotAllowedError'
          ? 'The browser was not allowed to use your camera and microphone.'
          : name === 'NotFoundError'
            ? 'No camera or microphone was found.'
            : `Could not connect to the stage${e instanceof Error && e.message ? `: ${e.message}` : '.'}`,
      );
      stopCamera();
    }
  }

  function stopCamera() {
    cameraRef.current?.getTracks().forEach((t) => t.stop());
    cameraRef.current = null;
    setCamera(null);
  }

  function leave() {
    handle.current?.leave();
    handle.current = null;
    stopCamera();
    setOthers([]);
    setState('idle');
    onLeft?.();
  }

  // Spectators watch at once; publishers press the button (the browser asks for the camera).
  useEffect(() => {
    alive.current = true;
    if (!publish) void join();
    return () => {
      alive.current = false;
      handle.current?.leave();
      handle.current = null;
      cameraRef.current?.getTracks().forEach((t) => t.stop());
    };
  }, [token.token, publish, mode]);

  const toggle = (kind: 'audio' | 'video') => {
    const on = kind === 'audio' ? !mic : !cam;
    handle.current?.setMuted(kind, !on);
    cameraRef.current?.getTracks().filter((t) => t.kind === kind).forEach((t) => (t.enabled = on));
    if (kind === 'audio') setMic(on);
    else setCam(on);
  };

  const connected = state === 'connected' || state === 'connecting';
  return (
    <div class="stage-video" data-testid="stage-video" data-state={state} data-publish={publish}>
      {(camera || others.length > 0) && (
        <div class="stage-video__grid">
          {camera && <MediaTile stream={camera} label="You" muted mirrored />}
          {others.map((p) => (
            <MediaTile key={p.id} stream={p.stream} label={nameOf(publishers, p.userId)} />
          ))}
        </div>
      )}
      {!publish && state === 'connected' && others.length === 0 && <p class="muted small">Connected — waiting for video from the stage.</p>}
      {error && (
        <p class="field__error" role="alert" data-testid="stage-video-error">
          {error}
        </p>
      )}
      <div class="form__row">
        {publish && (state === 'idle' || state === 'errored' || state === 'disconnected') && (
          <button type="button" class="btn btn--primary" onClick={() => void join()} data-testid="stage-camera-join">
            {state === 'idle' ? 'Turn on camera and join' : 'Try again'}
          </button>
        )}
        {!publish && (state === 'errored' || state === 'disconnected') && (
          <button type="button" class="btn btn--secondary" onClick={() => void join()}>
            Watch again
          </button>
        )}
        {state === 'starting' && (
          <span class="muted small" role="status">
            <span class="spinner" aria-hidden="true" /> {publish ? 'Starting your camera…' : 'Connecting to the stage…'}
          </span>
        )}
        {publish && connected && (
          <>
            <button type="button" class="btn btn--secondary" aria-pressed={!mic} onClick={() => toggle('audio')}>
              {mic ? 'Mute microphone' : 'Unmute microphone'}
            </button>
            <button type="button" class="btn btn--secondary" aria-pressed={!cam} onClick={() => toggle('video')}>
              {cam ? 'Turn camera off' : 'Turn camera on'}
            </button>
            <button type="button" class="btn btn--ghost" onClick={leave}>
              Hang up
            </button>
          </>
        )}
      </div>
    </div>
  );
}
