import { describe, expect, it } from 'vitest';
import { CUE_GRACE_MS, initialSync, reduceSync, waiting, type SyncInput, type SyncState } from '../src/realtime/actionSync';
import type { ActiveAction, StreamAction } from '../src/realtime/protocol';
import { decodeCue } from '../src/video/cues';

const T0 = Date.parse('2026-11-21T15:00:00Z');
const LAG = 3000;

function action(id: string, startMs: number, durationSecs: number | null = 15, kind: StreamAction = { type: 'notice', title: 'Hi', message: 'there', duration_secs: 15 }): ActiveAction {
  return {
    id,
    action: kind,
    started_at: new Date(startMs).toISOString(),
    expires_at: durationSecs === null ? null : new Date(startMs + durationSecs * 1000).toISOString(),
  };
}

function run(...inputs: SyncInput[]): SyncState {
  return inputs.reduce(reduceSync, initialSync);
}

const socket = (a: ActiveAction | null, now: number, delayMs = LAG): SyncInput => ({ type: 'socket', action: a, now, delayMs });
const cueStart = (a: ActiveAction, now: number): SyncInput => ({ type: 'cue', cue: { kind: 'start', action: a }, now });
const cueEnd = (id: string, now: number): SyncInput => ({ type: 'cue', cue: { kind: 'end', actionId: id }, now });
const tick = (now: number, delayMs = LAG): SyncInput => ({ type: 'tick', now, delayMs });

describe('stream actions in sync with the video', () => {
  it('without video the websocket copy shows at once and ends at once, as in local mode', () => {
    const a = action('a', T0);
    let s = run(socket(a, T0 + 50, 0));
    expect(s.shown).toBe(a);
    s = reduceSync(s, socket(null, T0 + 15_000, 0));
    expect(s.shown).toBeNull();
  });

  it('with video the websocket copy waits, and the cue shows it moved to video time', () => {
    const a = action('a', T0);
    let s = run(socket(a, T0 + 50));
    expect(s.shown).toBeNull();
    expect(waiting(s)).toBe(true);

    s = reduceSync(s, cueStart(a, T0 + 2800));
    expect(s.shown?.id).toBe('a');
    // The countdown runs in the video's time: 2.8 s later than the server's.
    expect(s.shown?.started_at).toBe(new Date(T0 + 2800).toISOString());
    expect(s.shown?.expires_at).toBe(new Date(T0 + 2800 + 15_000).toISOString());
    // The websocket copy is no longer waiting: no second appearance.
    expect(waiting(s)).toBe(false);
    s = reduceSync(s, tick(T0 + 10_000));
    expect(s.shown?.id).toBe('a');
  });

  it('a cue that comes first makes the websocket copy a duplicate', () => {
    const a = action('a', T0);
    let s = run(cueStart(a, T0 + 10));
    const shown = s.shown;
    s = reduceSync(s, socket(a, T0 + 40));
    expect(s.shown).toBe(shown);
    expect(waiting(s)).toBe(false);
  });

  it('a cue cut short to fit IVS’s 1 KB shows the websocket’s whole copy of the action', () => {
    const whole = action('a', T0, 15, { type: 'notice', title: 'Heads up', message: 'x'.repeat(900), duration_secs: 15 });
    const cut: ActiveAction = { ...whole, action: { type: 'notice', title: 'Heads up', message: 'xxxxxxxx…', duration_secs: 15 } };
    const cue = decodeCue(JSON.stringify({ type: 'action_started', channel: 'c', action: cut, truncated: true }));
    expect(cue?.kind).toBe('start');
    const s = run(socket(whole, T0), { type: 'cue', cue: cue!, now: T0 + LAG });
    expect(s.shown?.action).toEqual(whole.action);
    // Without the websocket copy (it has not arrived), the cut one is what there is.
    expect(run({ type: 'cue', cue: cue!, now: T0 + LAG }).shown?.action).toEqual(cut.action);
  });

  it('a repeated cue is ignored', () => {
    const a = action('a', T0);
    const s = run(socket(a, T0), cueStart(a, T0 + 3000));
    expect(reduceSync(s, cueStart(a, T0 + 3500))).toBe(s);
  });

  it('without a cue the websocket copy shows after the lag and a grace period', () => {
    const a = action('a', T0);
    let s = run(socket(a, T0 + 20));
    s = reduceSync(s, tick(T0 + LAG + CUE_GRACE_MS - 1));
    expect(s.shown).toBeNull();
    s = reduceSync(s, tick(T0 + LAG + CUE_GRACE_MS));
    expect(s.shown?.id).toBe('a');
    expect(s.shown?.started_at).toBe(new Date(T0 + LAG).toISOString());
    // Its cue arriving late changes nothing.
    const late = reduceSync(s, cueStart(a, T0 + LAG + CUE_GRACE_MS + 400));
    expect(late.shown).toBe(s.shown);
  });

  it('an action that was already running when the page opened shows at once', () => {
    const old = action('old', T0 - 60_000, null);
    const s = run(socket(old, T0));
    expect(s.shown?.id).toBe('old');
  });

  it('an end on the websocket waits for the video too; an end cue takes it down at once', () => {
    const a = action('a', T0);
    let s = run(socket(a, T0), cueStart(a, T0 + LAG));
    s = reduceSync(s, socket(null, T0 + 15_000));
    expect(s.shown?.id).toBe('a');
    s = reduceSync(s, tick(T0 + 15_000 + LAG + CUE_GRACE_MS));
    expect(s.shown).toBeNull();

    let t = run(socket(a, T0), cueStart(a, T0 + LAG), socket(null, T0 + 5_000));
    t = reduceSync(t, cueEnd('a', T0 + 5_000 + LAG));
    expect(t.shown).toBeNull();
    expect(waiting(t)).toBe(false);
  });

  it('a new action replaces the shown one, and the old one’s late end does not take the new one down', () => {
    const a = action('a', T0, null);
    const b = action('b', T0 + 20_000);
    let s = run(socket(a, T0), cueStart(a, T0 + LAG));
    s = reduceSync(s, socket(b, T0 + 20_000));
    expect(s.shown?.id).toBe('a');
    s = reduceSync(s, cueStart(b, T0 + 20_000 + LAG));
    expect(s.shown?.id).toBe('b');
    s = reduceSync(s, tick(T0 + 20_000 + LAG + CUE_GRACE_MS + 1));
    expect(s.shown?.id).toBe('b');
  });

  it('a short action that ended on the websocket before its cue still plays for its length in video time', () => {
    const a = action('a', T0, 2);
    let s = run(socket(a, T0, 6000), socket(null, T0 + 2000, 6000));
    expect(s.shown).toBeNull();
    s = reduceSync(s, cueStart(a, T0 + 6000));
    expect(s.shown?.id).toBe('a');
    s = reduceSync(s, tick(T0 + 7999, 6000));
    expect(s.shown?.id).toBe('a');
    s = reduceSync(s, tick(T0 + 8000, 6000));
    expect(s.shown).toBeNull();
  });

  it('polls are never held back: votes close on the server’s clock', () => {
    const poll = action('p', T0, 30, { type: 'poll', question: 'Q?', options: ['a', 'b'], duration_secs: 30 });
    let s = run(socket(poll, T0 + 10));
    expect(s.shown).toBe(poll);
    s = reduceSync(s, socket(null, T0 + 30_000));
    expect(s.shown).toBeNull();
  });

  it('when the video stops, whatever waited for it shows', () => {
    const a = action('a', T0);
    let s = run(socket(a, T0 + 10));
    expect(s.shown).toBeNull();
    s = reduceSync(s, tick(T0 + 500, 0));
    expect(s.shown?.id).toBe('a');
  });
});

describe('timed metadata cues', () => {
  const a = action('a', T0);

  it('decode the websocket frame shapes', () => {
    expect(decodeCue(JSON.stringify({ type: 'action_started', action: a }))).toEqual({ kind: 'start', action: a });
    expect(decodeCue(JSON.stringify({ type: 'action_ended', channel: 'c', action_id: 'a', reason: 'stopped' }))).toEqual({ kind: 'end', actionId: 'a' });
    const { expires_at: _drop, ...noExpiry } = a;
    expect(decodeCue(JSON.stringify({ type: 'action_started', action: noExpiry }))).toEqual({ kind: 'start', action: { ...noExpiry, expires_at: null } });
  });

  it('ignore anything else', () => {
    for (const text of ['', 'not json', 'null', '42', '{"type":"chat"}', '{"type":"action_ended"}', '{"type":"action_started","channel":"c","truncated":true}', JSON.stringify({ type: 'action_started', action: { ...a, id: '' } }), JSON.stringify({ type: 'action_started', action: { ...a, action: { type: 'nope' } } }), JSON.stringify({ type: 'action_started', action: { ...a, started_at: 5 } })]) {
      expect(decodeCue(text)).toBeNull();
    }
  });
});
