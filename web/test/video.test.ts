import { describe, expect, it, vi } from 'vitest';
import { videoMode, type Platform } from '../src/api/platform';
import { broadcastEndpoint, playerState } from '../src/domain/playback';
import { createVideoSdks, NoVideoService, type BroadcastSdk, type PlayerSdk } from '../src/video/sdk';

const platform = (video: string): Platform => ({ backend: video === 'ivs' ? 'aws' : 'local', video, chat: 'builtin', product_search: false, stage_capacity: 12, protocol_version: 1 });

describe('the video mode', () => {
  it('is ivs only when the platform says so; anything else, or no answer, is local', () => {
    expect(videoMode(platform('ivs'))).toBe('ivs');
    expect(videoMode(platform('local'))).toBe('local');
    expect(videoMode(platform('something-new'))).toBe('local');
    expect(videoMode(null)).toBe('local');
    expect(videoMode(undefined)).toBe('unknown');
  });

  it('decides what the player area shows for a live channel', () => {
    const ivsUrl = 'https://abc.us-west-2.playback.live-video.net/api/video/v1/x.m3u8';
    expect(playerState(true, ivsUrl, 'ivs')).toBe('video');
    expect(playerState(true, ivsUrl, 'local')).toBe('local');
    expect(playerState(false, ivsUrl, 'ivs')).toBe('offline');
    // Before the platform answers, a local playback URL is enough to know.
    expect(playerState(true, 'http://x/local/playback/a.m3u8', 'unknown')).toBe('local');
    expect(playerState(true, ivsUrl, 'unknown')).toBe('unavailable');
  });
});

describe('the SDK loaders', () => {
  function fakes() {
    const player = vi.fn(async () => ({ tag: 'player' }) as unknown as PlayerSdk);
    const broadcast = vi.fn(async () => ({ tag: 'broadcast' }) as unknown as BroadcastSdk);
    return { player, broadcast, sdks: createVideoSdks({ player, broadcast }) };
  }

  it('never import an SDK in local mode, or before the mode is known', async () => {
    const { player, broadcast, sdks } = fakes();
    await expect(sdks.player('local')).rejects.toBeInstanceOf(NoVideoService);
    await expect(sdks.broadcast('local')).rejects.toBeInstanceOf(NoVideoService);
    await expect(sdks.player('unknown')).rejects.toBeInstanceOf(NoVideoService);
    expect(player).not.toHaveBeenCalled();
    expect(broadcast).not.toHaveBeenCalled();
  });

  it('import each SDK once in ivs mode, and only the one asked for', async () => {
    const { player, broadcast, sdks } = fakes();
    const [a, b] = await Promise.all([sdks.player('ivs'), sdks.player('ivs')]);
    expect(a).toBe(b);
    expect(player).toHaveBeenCalledTimes(1);
    expect(broadcast).not.toHaveBeenCalled();
    await sdks.broadcast('ivs');
    expect(broadcast).toHaveBeenCalledTimes(1);
  });

  it('try the import again after it failed (a network blip)', async () => {
    let calls = 0;
    const sdks = createVideoSdks({
      player: async () => {
        calls++;
        if (calls === 1) throw new Error('offline');
        return {} as PlayerSdk;
      },
      broadcast: async () => ({}) as BroadcastSdk,
    });
    await expect(sdks.player('ivs')).rejects.toThrow('offline');
    await expect(sdks.player('ivs')).resolves.toEqual({});
    expect(calls).toBe(2);
  });
});

describe('the browser broadcast endpoint', () => {
  it('is IVS’s bare ingest host, from which the SDK finds its WebRTC endpoint', () => {
    expect(broadcastEndpoint({ ingest_endpoint: 'abc.global-contribute.live-video.net', ingest_server_url: 'rtmps://abc.global-contribute.live-video.net:443/app/' })).toBe(
      'abc.global-contribute.live-video.net',
    );
  });
  it('falls back to the host of the RTMPS URL, and to nothing without either', () => {
    expect(broadcastEndpoint({ ingest_endpoint: '', ingest_server_url: 'rtmps://abc.global-contribute.live-video.net:443/app/' })).toBe('abc.global-contribute.live-video.net');
    expect(broadcastEndpoint({ ingest_endpoint: ' ', ingest_server_url: 'not a url' })).toBeNull();
  });
});
