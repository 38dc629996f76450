// Going live from the browser (AWS mode): the camera through the IVS Web Broadcast SDK to the
// channel's ingest endpoint with its stream key. The SDK loads when the streamer turns the camera
// on, not before.

import { useEffect, useRef, useState } from 'preact/hooks';
import type { VideoMode } from '../../api/platform';
import type { Me } from '../../api/types';
import { broadcastEndpoint } from '../../domain/playback';
import type { BroadcastHandle } from '../../video/ivsBroadcast';
import { videoSdks } from '../../video/sdk';

type State = 'off' | 'opening' | 'preview' | 'starting' | 'live';

function cameraError(e: unknown): string {
  const name = e instanceof Error ? e.name : '';
  if (name === 'NotAllowedError') return 'The browser was not allowed to use your camera and microphone.';
  if (name === 'NotFoundError') return 'No camera or microphone was found.';
  return e instanceof Error && e.message ? e.message : 'Something went wrong. Try again.';
}

export function BrowserBroadcast({ account, mode }: { account: Me; mode: VideoMode }) {
  const [state, setState] = useState<State>('off');
  const [connection, setConnection] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const camera = useRef<MediaStream | null>(null);
  const handle = useRef<BroadcastHandle | null>(null);
  const alive = useRef(true);

  function release() {
    handle.current?.destroy();
    handle.current = null;
    camera.current?.getTracks().forEach((t) => t.stop());
    camera.current = null;
  }

  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
      release();
    };
  }, []);

  async function open() {
    setError(null);
    setState('opening');
    try {
      const endpoint = broadcastEndpoint(account.channel);
      if (!endpoint) throw new Error('This channel has no ingest endpoint.');
      const sdk = await videoSdks.broadcast(mode);
      if (!sdk.broadcastSupported()) throw new Error('This browser cannot broadcast (it needs WebRTC).');
      const stream = await sdk.openCamera();
      camera.current = stream;
      if (!alive.current || !canvas.current) return release();
      handle.current = await sdk.createBroadcast({
        camera: stream,
        ingestEndpoint: endpoint,
        streamKey: account.channel.stream_key,
        channelType: account.channel.channel_type,
        preview: canvas.current,
        onState: (s) => alive.current && setConnection(s),
        onError: (message) => alive.current && setError(message),
      });
      setState('preview');
    } catch (e) {
      release();
      if (!alive.current) return;
      setError(cameraError(e));
      setState('off');
    }
  }

  async function goLive() {
    if (!handle.current) return;
    setError(null);
    setState('starting');
    try {
      await handle.current.start();
      if (alive.current) setState('live');
    } catch (e) {
      if (!alive.current) return;
      setError(`Could not start the broadcast: ${cameraError(e)}`);
      setState('preview');
    }
  }

  function end() {
    handle.current?.stop();
    setState('preview');
  }

  function close() {
    release();
    setConnection(null);
    setState('off');
  }

  return (
    <div class="browser-broadcast" data-testid="browser-broadcast" data-state={state}>
      <h3 class="panel__subtitle">Broadcast from this browser</h3>
      <p class="muted small">No encoder needed: your camera and microphone go straight to your channel.</p>
      <div class={`browser-broadcast__preview${state === 'off' || state === 'opening' ? ' browser-broadcast__preview--off' : ''}`}>
        <canvas ref={canvas} class="browser-broadcast__canvas" aria-label="What you are sending" />
        {state === 'live' && (
          <span class="badge badge--live browser-broadcast__badge">
            <span class="badge__dot" aria-hidden="true" />
            Live
          </span>
        )}
        {(state === 'off' || state === 'opening') && <span class="browser-broadcast__placeholder">{state === 'opening' ? 'Starting the camera…' : 'Camera off'}</span>}
      </div>
      {error && (
        <p class="field__error" role="alert" data-testid="broadcast-error">
          {error}
        </p>
      )}
      <div class="form__row">
        {state === 'off' && (
          <button type="button" class="btn btn--secondary" onClick={() => void open()} data-testid="camera-on">
            Turn on camera
          </button>
        )}
        {(state === 'preview' || state === 'starting') && (
          <>
            <button type="button" class="btn btn--primary" disabled={state === 'starting'} onClick={() => void goLive()} data-testid="broadcast-start">
              {state === 'starting' ? 'Connecting…' : 'Go live'}
            </button>
            <button type="button" class="btn btn--ghost" disabled={state === 'starting'} onClick={close}>
              Turn off camera
            </button>
          </>
        )}
        {state === 'live' && (
          <button type="button" class="btn btn--danger" onClick={end} data-testid="broadcast-stop">
            End stream
          </button>
        )}
        {connection && state !== 'off' && <span class="muted small">Connection: {connection}</span>}
      </div>
    </div>
  );
}
