// What the player area can show for a channel's playback URL.

import type { VideoMode } from '../api/platform';

/**
 * Whether the playback URL belongs to the local stand-in for the video service (embedded local
 * mode: `…/local/playback/<id>.m3u8`), which has no video to play.
 */
export function isLocalPlayback(playbackUrl: string, base = 'http://localhost'): boolean {
  try {
    return new URL(playbackUrl, base).pathname.startsWith('/local/');
  } catch {
    return false;
  }
}

/**
 * `offline`: nothing to play; `video`: play it with the IVS Player; `local`: live, but this server
 * has no video service; `unavailable`: live, and the server has not said yet how to play it.
 */
export type PlayerState = 'offline' | 'video' | 'local' | 'unavailable';

/** The player area's state, from the live flag and the platform's video mode. */
export function playerState(isLive: boolean, playbackUrl: string, mode: VideoMode = 'unknown'): PlayerState {
  if (!isLive) return 'offline';
  if (mode === 'ivs') return 'video';
  if (mode === 'local' || isLocalPlayback(playbackUrl)) return 'local';
  return 'unavailable';
}

/**
 * What the Web Broadcast SDK takes as the ingest endpoint: IVS's bare ingest host
 * (`<id>.global-contribute.live-video.net`; the SDK derives its WebRTC endpoint from it and warns
 * about an `rtmps://` URL), or the host of the RTMPS ingest URL when that is all there is.
 */
export function broadcastEndpoint(channel: { ingest_endpoint: string; ingest_server_url: string }): string | null {
  const host = channel.ingest_endpoint.trim();
  if (host) return host;
  try {
    return new URL(channel.ingest_server_url).hostname || null;
  } catch {
    return null;
  }
}
