// Stream health, as the health pages show it: what each IVS event means, how long a session
// ran, when it starved, the encoder settings in words, and the metric series shaped for charts
// (time axis rebuilt from `aligned_start` and `period`, values in display units, gaps kept).
// Pure functions; the pages only draw the result.

import type { IngestConfiguration, MetricSeries, SessionEvent, SessionSummary } from '../api/health';

// ---------- time ----------

/** "45 s", "4 min 30 s", "12 min", "1 h 20 min", "3 h". */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  if (total < 60) return `${total} s`;
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  if (minutes < 10) return seconds ? `${minutes} min ${seconds} s` : `${minutes} min`;
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest ? `${hours} h ${rest} min` : `${hours} h`;
}

/** How long the session has run: to its end, or to `now` while it is not over. */
export function sessionDurationMs(session: Pick<SessionSummary, 'started_at' | 'ended_at'>, now: number): number | null {
  const start = Date.parse(session.started_at);
  if (Number.isNaN(start)) return null;
  const end = session.ended_at ? Date.parse(session.ended_at) : now;
  return Number.isNaN(end) ? null : Math.max(0, end - start);
}

/** An offset into the session as a clock: "0:07", "12:30", "1:02:03". */
export function formatOffset(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Whether `date` is today or yesterday where the viewer is (`null`: neither). */
export function relativeDay(date: Date, now: Date): 'today' | 'yesterday' | null {
  const day = (d: Date) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const diff = Math.round((day(now) - day(date)) / 86_400_000);
  return diff === 0 ? 'today' : diff === 1 ? 'yesterday' : null;
}

// ---------- state and flags ----------

/** Where a session stands: streaming, over, or created with no video yet. */
export type SessionState = 'live' | 'ended' | 'waiting';

export function sessionState(session: Pick<SessionSummary, 'live' | 'ended_at'>): SessionState {
  if (session.live) return 'live';
  return session.ended_at ? 'ended' : 'waiting';
}

export interface HealthFlag {
  kind: 'healthy' | 'starving' | 'starved' | 'error';
  label: string;
  /** A sentence for a tooltip or a screen reader. */
  description: string;
}

/**
 * The flags a session shows: starving (unhealthy now, or when it ended) and limit breached, or
 * healthy. `starvedTimes` (from the events, where known) tells a session that starved and
 * recovered from one that never starved.
 */
export function healthFlags(session: Pick<SessionSummary, 'healthy' | 'has_error' | 'live' | 'ended_at'>, starvedTimes = 0): HealthFlag[] {
  const flags: HealthFlag[] = [];
  const over = sessionState(session) === 'ended';
  if (!session.healthy) {
    flags.push({
      kind: 'starving',
      label: over ? 'Ended starving' : 'Starving',
      description: over
        ? 'The stream was starving when it ended: the encoder stopped sending enough video.'
        : 'The stream is starving: IVS is not receiving enough video from the encoder.',
    });
  } else if (starvedTimes > 0) {
    flags.push({
      kind: 'starved',
      label: `Starved ${starvedTimes}×`,
      description: `The stream starved ${starvedTimes === 1 ? 'once' : `${starvedTimes} times`} and recovered.`,
    });
  }
  if (session.has_error) {
    flags.push({ kind: 'error', label: 'Limit breached', description: 'A limit of the channel (bitrate, resolution, viewers…) was exceeded.' });
  }
  if (flags.length === 0) flags.push({ kind: 'healthy', label: 'Healthy', description: 'No starvation and no limit breached.' });
  return flags;
}

// ---------- events ----------

export type EventTone = 'ok' | 'warn' | 'bad' | 'info' | 'neutral';

export interface EventDescription {
  label: string;
  tone: EventTone;
  /** What it means, for a streamer who has not met it before. */
  detail?: string;
}

const LIMIT_BREACH = 'IVS Limit Breach';

/** An IVS event in words. Unknown events keep their own name. */
export function describeEvent(event: Pick<SessionEvent, 'type' | 'name'>): EventDescription {
  if (event.type === LIMIT_BREACH) {
    return { label: `Limit breached: ${event.name}`, tone: 'bad', detail: 'The channel went over an IVS limit; lower the setting or ask for a higher quota.' };
  }
  switch (event.name) {
    case 'Session Created':
      return { label: 'Session created', tone: 'neutral', detail: 'The encoder connected to IVS.' };
    case 'Stream Start':
      return { label: 'Stream started', tone: 'ok', detail: 'Video reached viewers.' };
    case 'Stream End':
      return { label: 'Stream ended', tone: 'neutral' };
    case 'Session Ended':
      return { label: 'Session ended', tone: 'neutral' };
    case 'Stream Online':
      return { label: 'Stream found live', tone: 'warn', detail: 'IVS reported this broadcast but its start event never arrived, so Showrunner started the session at the time IVS gave.' };
    case 'Stream Offline':
      return { label: 'Stream found offline', tone: 'warn', detail: 'IVS reported no broadcast and its end event never arrived, so Showrunner ended the session here; the stream ended a little earlier.' };
    case 'Stream Failure':
      return { label: 'Stream failure', tone: 'bad', detail: 'IVS could not take the stream (bad settings or a broken connection).' };
    case 'Starvation Start':
      return { label: 'Starvation started', tone: 'warn', detail: 'IVS stopped receiving enough video: check the upload bandwidth and the encoder.' };
    case 'Starvation End':
      return { label: 'Starvation ended', tone: 'ok', detail: 'Video is arriving normally again.' };
    case 'Recording Start':
      return { label: 'Recording started', tone: 'info' };
    case 'Recording End':
      return { label: 'Recording ended', tone: 'info' };
    case 'Recording Start Failure':
      return { label: 'Recording failed to start', tone: 'bad' };
    case 'Recording End Failure':
      return { label: 'Recording failed to end', tone: 'bad' };
    default:
      return { label: event.name || event.type, tone: 'neutral' };
  }
}

/** A stretch of starvation, in epoch milliseconds. */
export interface Span {
  from: number;
  to: number;
}

/**
 * The starvation episodes: each "Starvation Start" to the next "Starvation End"; one still open
 * runs to `endMs` (the session's end, or now).
 */
export function starvationSpans(events: Pick<SessionEvent, 'name' | 'time'>[], endMs: number): Span[] {
  const sorted = events
    .map((e) => ({ name: e.name, at: Date.parse(e.time) }))
    .filter((e) => !Number.isNaN(e.at))
    .sort((a, b) => a.at - b.at);
  const spans: Span[] = [];
  let open: number | null = null;
  for (const e of sorted) {
    if (e.name === 'Starvation Start' && open === null) open = e.at;
    else if (e.name === 'Starvation End' && open !== null) {
      spans.push({ from: open, to: e.at });
      open = null;
    }
  }
  if (open !== null) spans.push({ from: open, to: Math.max(open, endMs) });
  return spans;
}

// ---------- encoder settings ----------

/** Bits per second in words: "3.5 Mbps", "160 kbps", "900 bps". */
export function formatBitrate(bps: number): string {
  if (!Number.isFinite(bps)) return '–';
  if (bps >= 1e6) return `${trim(bps / 1e6)} Mbps`;
  if (bps >= 1e3) return `${trim(bps / 1e3)} kbps`;
  return `${Math.round(bps)} bps`;
}

/** Up to two decimals, no trailing zeros. */
function trim(n: number, decimals = 2): string {
  return String(Number(n.toFixed(decimals)));
}

function codecName(codec: string): string {
  const c = codec.toLowerCase();
  if (c.startsWith('avc1') || c.startsWith('avc3')) return 'H.264';
  if (c.startsWith('hvc1') || c.startsWith('hev1')) return 'H.265';
  if (c.startsWith('av01')) return 'AV1';
  if (c === 'mp4a.40.2') return 'AAC-LC';
  if (c === 'mp4a.40.5') return 'HE-AAC';
  if (c.startsWith('mp4a')) return 'AAC';
  if (c.startsWith('opus')) return 'Opus';
  return '';
}

export interface SettingRow {
  label: string;
  value: string;
}

/** The encoder's settings at go-live, as rows for a table. */
export function describeIngest(config: IngestConfiguration): { video: SettingRow[]; audio: SettingRow[] } {
  const v = config.video;
  const a = config.audio;
  const videoCodec = codecName(v.codec);
  const audioCodec = codecName(a.codec);
  const lines = v.video_height && v.video_width ? ` (${Math.min(v.video_height, v.video_width)}p)` : '';
  return {
    video: [
      { label: 'Resolution', value: `${v.video_width} × ${v.video_height}${lines}` },
      { label: 'Frame rate', value: `${v.target_framerate} fps` },
      { label: 'Bitrate', value: formatBitrate(v.target_bitrate) },
      { label: 'Codec', value: videoCodec ? `${videoCodec} (${v.codec})` : v.codec },
      { label: 'Profile', value: [v.avc_profile, v.avc_level && `level ${v.avc_level}`].filter(Boolean).join(', ') || '–' },
      { label: 'Encoder', value: v.encoder || '–' },
    ],
    audio: [
      { label: 'Codec', value: audioCodec ? `${audioCodec} (${a.codec})` : a.codec },
      { label: 'Sample rate', value: a.sample_rate ? `${trim(a.sample_rate / 1000, 1)} kHz` : '–' },
      { label: 'Channels', value: a.channels === 1 ? 'Mono' : a.channels === 2 ? 'Stereo' : `${a.channels} channels` },
      { label: 'Bitrate', value: formatBitrate(a.target_bitrate) },
    ],
  };
}

// ---------- metrics ----------

export interface MetricInfo {
  title: string;
  /** What the chart tells a streamer. */
  help: string;
}

export const METRICS: Record<string, MetricInfo> = {
  IngestVideoBitrate: { title: 'Video bitrate', help: 'What the encoder sends. Drops point to upload trouble.' },
  IngestFramerate: { title: 'Frame rate', help: 'Frames per second arriving at IVS.' },
  KeyframeInterval: { title: 'Keyframe interval', help: 'Seconds between keyframes; IVS recommends 2 s.' },
  ConcurrentViews: { title: 'Concurrent views', help: 'People watching.' },
};

/** IVS's recommended keyframe interval, drawn as the target on its chart. */
export const RECOMMENDED_KEYFRAME_INTERVAL = 2;

/** A series ready to draw: x in epoch seconds, y in `unit`, `null` for a gap. */
export interface ChartSeries {
  name: string;
  title: string;
  help: string;
  /** Shown after values: "Mbps", "kbps", "fps", "s", or "" for a count. */
  unit: string;
  /** Seconds between points. */
  period: number;
  xs: number[];
  ys: (number | null)[];
  /** In `unit`. */
  average: number | null;
  /** The last value there is, in `unit`. */
  latest: number | null;
  /** A reference line in `unit` (the encoder's target, IVS's recommendation), if any. */
  target: number | null;
  /** Whether there is anything to draw. */
  hasData: boolean;
}

function finite(v: number | null | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** The unit and divisor for a metric, chosen from its values (bitrate in Mbps from a megabit up). */
function unitFor(name: string, values: number[]): { unit: string; divisor: number } {
  switch (name) {
    case 'IngestVideoBitrate': {
      const top = values.length ? Math.max(...values) : 0;
      return top >= 1e6 || top === 0 ? { unit: 'Mbps', divisor: 1e6 } : { unit: 'kbps', divisor: 1e3 };
    }
    case 'IngestFramerate':
      return { unit: 'fps', divisor: 1 };
    case 'KeyframeInterval':
      return { unit: 's', divisor: 1 };
    default:
      return { unit: '', divisor: 1 };
  }
}

/**
 * A metric series shaped for a chart: `xs[i] = aligned_start + i × period` (epoch seconds), values
 * in display units, missing and non-finite values kept as `null` so the line breaks there rather
 * than inventing data. `config` gives the bitrate and frame-rate targets.
 */
export function shapeMetric(series: MetricSeries, config?: IngestConfiguration | null): ChartSeries {
  const info = METRICS[series.name] ?? { title: series.name, help: '' };
  const startMs = Date.parse(series.aligned_start);
  const period = series.period > 0 ? series.period : 5;
  const raw = Number.isNaN(startMs) ? [] : series.data.map(finite);
  const present = raw.filter((v): v is number => v !== null);
  const { unit, divisor } = unitFor(series.name, present);
  const scale = (v: number | null) => (v === null ? null : v / divisor);
  const start = startMs / 1000;
  let latest: number | null = null;
  for (let i = raw.length - 1; i >= 0 && latest === null; i--) latest = raw[i] ?? null;
  let target: number | null = null;
  if (series.name === 'IngestVideoBitrate' && config?.video.target_bitrate) target = config.video.target_bitrate / divisor;
  else if (series.name === 'IngestFramerate' && config?.video.target_framerate) target = config.video.target_framerate;
  else if (series.name === 'KeyframeInterval') target = RECOMMENDED_KEYFRAME_INTERVAL;
  return {
    name: series.name,
    title: info.title,
    help: info.help,
    unit,
    period,
    xs: raw.map((_, i) => start + i * period),
    ys: raw.map(scale),
    average: scale(finite(series.average)),
    latest: scale(latest),
    target,
    hasData: present.length > 0,
  };
}

/** A value with its unit, to two significant decimals: "3.42 Mbps", "29.7 fps", "12". */
export function formatMetric(value: number | null, unit: string): string {
  if (value === null || !Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  const text = abs >= 100 ? String(Math.round(value)) : abs >= 10 ? trim(value, 1) : trim(value, 2);
  return unit ? `${text} ${unit}` : text;
}

/**
 * The time range a session's charts cover, in epoch seconds: from the session's start (or the
 * first point, if earlier) to its end — or now while it runs — or the last point, if later.
 */
export function chartRange(session: Pick<SessionSummary, 'started_at' | 'ended_at'>, series: ChartSeries[], nowMs: number): [number, number] {
  let from = Date.parse(session.started_at) / 1000;
  let to = (session.ended_at ? Date.parse(session.ended_at) : nowMs) / 1000;
  for (const s of series) {
    if (!s.xs.length) continue;
    from = Math.min(from, s.xs[0]!);
    to = Math.max(to, s.xs[s.xs.length - 1]!);
  }
  if (!(to > from)) to = from + 60;
  return [from, to];
}

// ---------- the list ----------

/**
 * The first page asked again (to see a new session or a change of state) merged with what was
 * loaded: the fresh page's sessions replace theirs, older ones loaded by "load more" stay after
 * them. The loaded cursor stays valid for what comes after the loaded sessions.
 */
export function mergeFirstPage(fresh: SessionSummary[], loaded: SessionSummary[]): SessionSummary[] {
  if (fresh.length === 0) return [];
  const ids = new Set(fresh.map((s) => s.stream_id));
  const boundary = Date.parse(fresh[fresh.length - 1]!.started_at);
  const older = loaded.filter((s) => !ids.has(s.stream_id) && Date.parse(s.started_at) <= boundary);
  return [...fresh, ...older];
}

/** Whether the list should be asked again soon: something on it is live or about to be. */
export function anyActive(sessions: Pick<SessionSummary, 'live' | 'ended_at'>[]): boolean {
  return sessions.some((s) => sessionState(s) !== 'ended');
}
