// The one door to the IVS SDKs. They are big (the player's WebAssembly worker, the broadcast SDK)
// and only mean something when the server runs IVS (`GET /api/platform` says `video: "ivs"`), so
// they are dynamic imports made only then: in local mode nothing here is fetched.

import type { VideoMode } from '../api/platform';

export type PlayerSdk = typeof import('./ivsPlayer');
export type BroadcastSdk = typeof import('./ivsBroadcast');

export interface SdkImports {
  player: () => Promise<PlayerSdk>;
  broadcast: () => Promise<BroadcastSdk>;
}

/** Asked for an SDK in a mode without a video service. */
export class NoVideoService extends Error {
  constructor(mode: VideoMode) {
    super(`no video service in ${mode} mode`);
    this.name = 'NoVideoService';
  }
}

export interface VideoSdks {
  player(mode: VideoMode): Promise<PlayerSdk>;
  broadcast(mode: VideoMode): Promise<BroadcastSdk>;
}

/** Loaders that import each SDK at most once, and only in `ivs` mode. */
export function createVideoSdks(imports: SdkImports): VideoSdks {
  let player: Promise<PlayerSdk> | null = null;
  let broadcast: Promise<BroadcastSdk> | null = null;
  return {
    player(mode) {
      if (mode !== 'ivs') return Promise.reject(new NoVideoService(mode));
      player ??= imports.player().catch((e: unknown) => {
        player = null;
        throw e;
      });
      return player;
    },
    broadcast(mode) {
      if (mode !== 'ivs') return Promise.reject(new NoVideoService(mode));
      broadcast ??= imports.broadcast().catch((e: unknown) => {
        broadcast = null;
        throw e;
      });
      return broadcast;
    },
  };
}

/** The page's loaders. */
export const videoSdks = createVideoSdks({
  player: () => import('./ivsPlayer'),
  broadcast: () => import('./ivsBroadcast'),
});
