// What the player area can show for a channel's playback URL.

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

export type PlayerState = 'offline' | 'local' | 'unavailable';

/** The player area's state: this slice has no video player, so a live stream says why it cannot play. */
export function playerState(isLive: boolean, playbackUrl: string): PlayerState {
  if (!isLive) return 'offline';
  return isLocalPlayback(playbackUrl) ? 'local' : 'unavailable';
}
