import { describe, expect, it } from 'vitest';
import type { MetricSeries, SessionSummary } from '../src/api/health';
import {
  anyActive,
  chartRange,
  describeEvent,
  describeIngest,
  formatBitrate,
  formatDuration,
  formatMetric,
  formatOffset,
  healthFlags,
  mergeFirstPage,
  relativeDay,
  sessionDurationMs,
  sessionState,
  shapeMetric,
  starvationSpans,
} from '../src/domain/health';

const config = {
  video: { avc_level: '4.1', avc_profile: 'High', codec: 'avc1.640029', encoder: 'obs', target_bitrate: 3_500_000, target_framerate: 30, video_height: 720, video_width: 1280 },
  audio: { channels: 2, codec: 'mp4a.40.2', sample_rate: 48_000, target_bitrate: 160_000 },
};

function series(name: string, data: (number | null)[], extra: Partial<MetricSeries> = {}): MetricSeries {
  return { name, period: 5, aligned_start: '2026-11-21T15:16:25Z', data, average: null, ...extra };
}

function session(over: Partial<SessionSummary> = {}): SessionSummary {
  return { stream_id: 'st-1', started_at: '2026-11-21T15:00:00Z', ended_at: null, live: false, healthy: true, has_error: false, ...over };
}

describe('chart data', () => {
  it('rebuilds the time axis from aligned_start and period', () => {
    const s = shapeMetric(series('ConcurrentViews', [1, 2, 3], { period: 60 }));
    const start = Date.parse('2026-11-21T15:16:25Z') / 1000;
    expect(s.xs).toEqual([start, start + 60, start + 120]);
    expect(s.period).toBe(60);
  });

  it('keeps gaps as nulls, and turns values that are not finite into gaps too', () => {
    const s = shapeMetric(series('KeyframeInterval', [null, 2, null, Number.NaN, 2, null]));
    expect(s.ys).toEqual([null, 2, null, null, 2, null]);
    expect(s.xs).toHaveLength(6);
    expect(s.latest).toBe(2);
    expect(s.hasData).toBe(true);
  });

  it('draws bitrate in Mbps from a megabit up, and in kbps below', () => {
    const high = shapeMetric(series('IngestVideoBitrate', [null, 3_400_000, 39_700], { average: 1_720_000 }), config);
    expect(high.unit).toBe('Mbps');
    expect(high.ys).toEqual([null, 3.4, 0.0397]);
    expect(high.average).toBeCloseTo(1.72);
    expect(high.target).toBe(3.5);

    const low = shapeMetric(series('IngestVideoBitrate', [400_000, 650_000], { average: 525_000 }), config);
    expect(low.unit).toBe('kbps');
    expect(low.ys).toEqual([400, 650]);
    expect(low.average).toBe(525);
    expect(low.target).toBe(3500);
  });

  it('gives frame rate in fps with the encoder target, keyframes in seconds against 2 s, views as a count', () => {
    const fps = shapeMetric(series('IngestFramerate', [29.7, 30]), config);
    expect([fps.unit, fps.target]).toEqual(['fps', 30]);
    const kf = shapeMetric(series('KeyframeInterval', [2]));
    expect([kf.unit, kf.target]).toEqual(['s', 2]);
    const views = shapeMetric(series('ConcurrentViews', [4]));
    expect([views.unit, views.target]).toEqual(['', null]);
    expect(shapeMetric(series('IngestFramerate', [30])).target).toBeNull();
  });

  it('an empty or all-null series has nothing to draw', () => {
    expect(shapeMetric(series('ConcurrentViews', [])).hasData).toBe(false);
    const none = shapeMetric(series('IngestVideoBitrate', [null, null]));
    expect(none.hasData).toBe(false);
    expect(none.latest).toBeNull();
    expect(shapeMetric(series('ConcurrentViews', [1], { aligned_start: 'garbage' })).xs).toEqual([]);
  });

  it('formats values with their unit and two decimals at most', () => {
    expect(formatMetric(3.4172, 'Mbps')).toBe('3.42 Mbps');
    expect(formatMetric(29.67, 'fps')).toBe('29.7 fps');
    expect(formatMetric(2, 's')).toBe('2 s');
    expect(formatMetric(1234.5, '')).toBe('1235');
    expect(formatMetric(null, 'fps')).toBe('–');
  });

  it('covers the whole session, or to now while it runs', () => {
    const s = shapeMetric(series('ConcurrentViews', [1, 2]));
    const start = Date.parse('2026-11-21T15:16:28Z');
    const ended = chartRange({ started_at: '2026-11-21T15:16:28Z', ended_at: '2026-11-21T15:16:58Z' }, [s], 0);
    expect(ended).toEqual([Date.parse('2026-11-21T15:16:25Z') / 1000, Date.parse('2026-11-21T15:16:58Z') / 1000]);
    const live = chartRange({ started_at: '2026-11-21T15:16:28Z', ended_at: null }, [], start + 90_000);
    expect(live).toEqual([start / 1000, start / 1000 + 90]);
  });
});

describe('sessions', () => {
  it('durations read naturally', () => {
    expect(formatDuration(45_000)).toBe('45 s');
    expect(formatDuration(270_000)).toBe('4 min 30 s');
    expect(formatDuration(12 * 60_000 + 5_000)).toBe('12 min');
    expect(formatDuration(80 * 60_000)).toBe('1 h 20 min');
    expect(formatDuration(3 * 3_600_000)).toBe('3 h');
    expect(formatOffset(7_000)).toBe('0:07');
    expect(formatOffset(3_723_000)).toBe('1:02:03');
  });

  it('a session runs to its end, or to now while it is not over', () => {
    expect(sessionDurationMs(session({ ended_at: '2026-11-21T15:00:30Z' }), 0)).toBe(30_000);
    expect(sessionDurationMs(session(), Date.parse('2026-11-21T15:01:00Z'))).toBe(60_000);
    expect(sessionDurationMs(session({ started_at: 'nope' }), 0)).toBeNull();
  });

  it('is live, ended, or created and waiting for video', () => {
    expect(sessionState(session({ live: true }))).toBe('live');
    expect(sessionState(session({ ended_at: '2026-11-21T15:00:30Z' }))).toBe('ended');
    expect(sessionState(session())).toBe('waiting');
    expect(anyActive([session({ ended_at: 'x' })])).toBe(false);
    expect(anyActive([session({ ended_at: 'x' }), session({ live: true })])).toBe(true);
  });

  it('flags starvation and limit breaches, and healthy only without either', () => {
    expect(healthFlags(session({ live: true })).map((f) => f.kind)).toEqual(['healthy']);
    expect(healthFlags(session({ live: true, healthy: false })).map((f) => f.label)).toEqual(['Starving']);
    expect(healthFlags(session({ ended_at: 'x', healthy: false, has_error: true })).map((f) => f.label)).toEqual(['Ended starving', 'Limit breached']);
    // Starved and recovered (known from the events): not "healthy".
    expect(healthFlags(session({ ended_at: 'x' }), 2).map((f) => f.label)).toEqual(['Starved 2×']);
  });

  it('knows when it is today or yesterday where the viewer is', () => {
    const now = new Date(2026, 10, 21, 0, 30);
    expect(relativeDay(new Date(2026, 10, 21, 0, 5), now)).toBe('today');
    expect(relativeDay(new Date(2026, 10, 20, 23, 55), now)).toBe('yesterday');
    expect(relativeDay(new Date(2026, 10, 19, 12), now)).toBeNull();
  });
});

describe('events', () => {
  it('says what each IVS event means, limit breaches by their limit', () => {
    expect(describeEvent({ type: 'IVS Stream Health Change', name: 'Starvation Start' })).toMatchObject({ label: 'Starvation started', tone: 'warn' });
    expect(describeEvent({ type: 'IVS Limit Breach', name: 'Ingest Bitrate' })).toMatchObject({ label: 'Limit breached: Ingest Bitrate', tone: 'bad' });
    expect(describeEvent({ type: 'IVS Stream State Change', name: 'Stream Failure' }).tone).toBe('bad');
    expect(describeEvent({ type: 'IVS Stream State Change', name: 'Stream Offline' })).toMatchObject({ label: 'Stream found offline', tone: 'warn' });
    expect(describeEvent({ type: 'IVS Stream State Change', name: 'Stream Online' })).toMatchObject({ label: 'Stream found live', tone: 'warn' });
    expect(describeEvent({ type: 'IVS Recording State Change', name: 'Recording Start' }).tone).toBe('info');
    expect(describeEvent({ type: 'IVS Something New', name: 'Odd Thing' })).toEqual({ label: 'Odd Thing', tone: 'neutral' });
  });

  it('pairs starvation starts with their ends; one still open runs to the end', () => {
    const at = (s: number) => new Date(Date.UTC(2026, 10, 21, 15, 0, s)).toISOString();
    const events = [
      { name: 'Starvation End', time: at(1) }, // no start before it: ignored
      { name: 'Starvation Start', time: at(10) },
      { name: 'Starvation Start', time: at(12) }, // a duplicate start does not reopen
      { name: 'Starvation End', time: at(30) },
      { name: 'Stream Start', time: at(31) },
      { name: 'Starvation Start', time: at(40) },
    ];
    const end = Date.UTC(2026, 10, 21, 15, 0, 50);
    expect(starvationSpans(events, end)).toEqual([
      { from: Date.parse(at(10)), to: Date.parse(at(30)) },
      { from: Date.parse(at(40)), to: end },
    ]);
    // Out of order in the list: sorted by time first.
    expect(starvationSpans([events[3]!, events[1]!], end)).toEqual([{ from: Date.parse(at(10)), to: Date.parse(at(30)) }]);
  });

  it('puts the encoder settings into words', () => {
    const rows = describeIngest(config);
    const video = Object.fromEntries(rows.video.map((r) => [r.label, r.value]));
    const audio = Object.fromEntries(rows.audio.map((r) => [r.label, r.value]));
    expect(video).toMatchObject({ Resolution: '1280 × 720 (720p)', 'Frame rate': '30 fps', Bitrate: '3.5 Mbps', Codec: 'H.264 (avc1.640029)', Profile: 'High, level 4.1' });
    expect(audio).toMatchObject({ Codec: 'AAC-LC (mp4a.40.2)', 'Sample rate': '48 kHz', Channels: 'Stereo', Bitrate: '160 kbps' });
    expect(formatBitrate(900)).toBe('900 bps');
  });
});

describe('the session list', () => {
  const s = (id: string, minute: number, over: Partial<SessionSummary> = {}) => session({ stream_id: id, started_at: new Date(Date.UTC(2026, 10, 21, 15, minute)).toISOString(), ...over });

  it('a fresh first page replaces its sessions and keeps older loaded ones after it', () => {
    const loaded = [s('c', 30, { live: true }), s('b', 20), s('a', 10)];
    // A new session started, and c ended; b and a fell to what "load more" had brought.
    const fresh = [s('d', 40, { live: true }), s('c', 30, { ended_at: 'x' })];
    const merged = mergeFirstPage(fresh, loaded);
    expect(merged.map((x) => x.stream_id)).toEqual(['d', 'c', 'b', 'a']);
    expect(merged[1]!.ended_at).toBe('x');
  });

  it('drops a loaded session newer than the page boundary that the fresh page no longer has', () => {
    const merged = mergeFirstPage([s('c', 30), s('b', 20)], [s('gone', 25), s('b', 20), s('a', 10)]);
    expect(merged.map((x) => x.stream_id)).toEqual(['c', 'b', 'a']);
  });
});
