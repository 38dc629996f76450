// What this deployment offers (`GET /api/platform`): which video and chat transports apply. Asked
// once per page load and shared; everything that depends on the video service goes through
// `videoMode` so local mode never loads the IVS SDKs.

import { useEffect, useState } from 'preact/hooks';
import { api } from './client';

export interface Platform {
  backend: 'local' | 'aws';
  /** `local`: no playback or broadcast; `ivs`: the IVS Player and Web Broadcast SDKs apply. */
  video: string;
  /** `builtin`: chat over the Showrunner websocket. */
  chat: string;
  product_search: boolean;
  stage_capacity: number;
  protocol_version: number;
}

/**
 * How the page handles video: `ivs` (play with the IVS Player, broadcast and publish on stages with
 * the Web Broadcast SDK), `local` (no video service: say so), or `unknown` while the platform has
 * not answered.
 */
export type VideoMode = 'ivs' | 'local' | 'unknown';

/**
 * The video mode for a platform answer. A value this client does not know, or a platform that
 * could not be read (`null`), is local: the SDKs are only ever loaded when the server says `ivs`.
 */
export function videoMode(platform: Platform | null | undefined): VideoMode {
  if (platform === undefined) return 'unknown';
  return platform?.video === 'ivs' ? 'ivs' : 'local';
}

let pending: Promise<Platform | null> | null = null;

/** The platform, asked once; `null` if it could not be read (treated as local mode). */
export function loadPlatform(): Promise<Platform | null> {
  if (!pending) {
    pending = api.get<Platform>('/api/platform', { auth: false }).catch(() => {
      // Ask again next time rather than staying local for the page's life.
      pending = null;
      return null;
    });
  }
  return pending;
}

/** The platform as a hook: `undefined` until it answers, `null` if it could not be read. */
export function usePlatform(): Platform | null | undefined {
  const [platform, setPlatform] = useState<Platform | null | undefined>(undefined);
  useEffect(() => {
    let live = true;
    loadPlatform().then((p) => live && setPlatform(p));
    return () => {
      live = false;
    };
  }, []);
  return platform;
}

/** The page's video mode as a hook. */
export function useVideoMode(): VideoMode {
  return videoMode(usePlatform());
}
