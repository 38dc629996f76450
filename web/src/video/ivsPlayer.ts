// The Amazon IVS Player (AWS mode only; loaded with a dynamic import through `sdk.ts`). Its
// WebAssembly worker and binary are bundled by Vite as files under `/static/` and handed to the
// player as same-origin URLs: nothing is fetched from a CDN.

import { create, isPlayerSupported, PlayerEventType, PlayerState, type PlayerError, type TextMetadataCue } from 'amazon-ivs-player';
import wasmWorkerUrl from 'amazon-ivs-player/dist/assets/amazon-ivs-wasmworker.min.js?url';
import wasmBinaryUrl from 'amazon-ivs-player/dist/assets/amazon-ivs-wasmworker.min.wasm?url';

export type PlaybackState = 'loading' | 'playing' | 'buffering' | 'idle' | 'ended';

export interface PlayerHandlers {
  onState(state: PlaybackState): void;
  /** A timed-metadata cue's text, when the video reaches it. */
  onCue(text: string): void;
  onError(error: { message: string; code: number; type: string }): void;
  /** The browser refused to play with sound; the player plays muted. */
  onMuted(muted: boolean): void;
  /** The browser refused to start playback at all; `play()` from a click will. */
  onBlocked(): void;
}

export interface PlayerHandle {
  /** How far the picture is behind live, in milliseconds (0 if unknown). */
  latencyMs(): number;
  setMuted(muted: boolean): void;
  play(): void;
  destroy(): void;
}

export function playerSupported(): boolean {
  return isPlayerSupported;
}

const absolute = (url: string) => new URL(url, document.baseURI).href;

/** Plays `playbackUrl` into `video` until `destroy()`. */
export function attachPlayer(video: HTMLVideoElement, playbackUrl: string, handlers: PlayerHandlers): PlayerHandle {
  const player = create({ wasmWorker: absolute(wasmWorkerUrl), wasmBinary: absolute(wasmBinaryUrl) });
  player.attachHTMLVideoElement(video);

  const states: Record<string, PlaybackState> = {
    [PlayerState.IDLE]: 'idle',
    [PlayerState.READY]: 'loading',
    [PlayerState.BUFFERING]: 'buffering',
    [PlayerState.PLAYING]: 'playing',
    [PlayerState.ENDED]: 'ended',
  };
  for (const state of Object.keys(states)) {
    player.addEventListener(state as PlayerState, () => handlers.onState(states[state]!));
  }
  player.addEventListener(PlayerEventType.TEXT_METADATA_CUE, (cue: TextMetadataCue) => handlers.onCue(cue.text));
  player.addEventListener(PlayerEventType.ERROR, (error: PlayerError) => handlers.onError({ message: error.message, code: error.code, type: String(error.type) }));
  player.addEventListener(PlayerEventType.AUDIO_BLOCKED, () => handlers.onMuted(true));
  player.addEventListener(PlayerEventType.MUTED_CHANGED, () => handlers.onMuted(player.isMuted()));
  player.addEventListener(PlayerEventType.PLAYBACK_BLOCKED, () => handlers.onBlocked());

  handlers.onState('loading');
  player.setAutoplay(true);
  player.load(playbackUrl);

  return {
    latencyMs: () => {
      const seconds = player.getLiveLatency();
      return Number.isFinite(seconds) && seconds > 0 ? Math.round(seconds * 1000) : 0;
    },
    setMuted: (muted) => player.setMuted(muted),
    play: () => player.play(),
    destroy: () => player.delete(),
  };
}
