import { describe, expect, it } from 'vitest';
import { followIntentUrl, loginUrl, safeNext, withoutFollowIntent } from '../src/domain/navigation';
import { isLocalPlayback, playerState } from '../src/domain/playback';

describe('safeNext', () => {
  it('keeps a path on this site', () => {
    expect(safeNext('/bob?follow=1')).toBe('/bob?follow=1');
    expect(safeNext('/settings#stream')).toBe('/settings#stream');
  });
  it('refuses anything that leaves the site or loops back to logging in', () => {
    for (const bad of [null, undefined, '', 'bob', '//evil.example/x', '/\\evil.example', 'https://evil.example', 'javascript:alert(1)', '/login', '/register?next=/x', '/\nx']) {
      expect(safeNext(bad)).toBe('/');
    }
  });
});

describe('the follow intent', () => {
  it('survives the trip through the login page', () => {
    const login = loginUrl(followIntentUrl('bob.builds'));
    expect(login).toBe('/login?next=%2Fbob.builds%3Ffollow%3D1');
    const next = new URLSearchParams(login.split('?')[1]).get('next');
    expect(safeNext(next)).toBe('/bob.builds?follow=1');
  });
  it('is dropped from the URL once done, keeping the rest', () => {
    expect(withoutFollowIntent('/bob', { follow: '1' })).toBe('/bob');
    expect(withoutFollowIntent('/bob', { follow: '1', ref: 'x' })).toBe('/bob?ref=x');
  });
  it('a login link from home has no next', () => {
    expect(loginUrl('/')).toBe('/login');
  });
});

describe('the player state', () => {
  it('knows the local stand-in for the video service', () => {
    expect(isLocalPlayback('http://127.0.0.1:8080/local/playback/abc.m3u8')).toBe(true);
    expect(isLocalPlayback('https://abc.us-west-2.playback.live-video.net/api/video/v1/x.m3u8')).toBe(false);
    expect(isLocalPlayback('::not a url::', 'not a base')).toBe(false);
  });
  it('is offline, local or unavailable', () => {
    expect(playerState(false, 'http://x/local/playback/a.m3u8')).toBe('offline');
    expect(playerState(true, 'http://x/local/playback/a.m3u8')).toBe('local');
    expect(playerState(true, 'https://cdn.example/a.m3u8')).toBe('unavailable');
  });
});
