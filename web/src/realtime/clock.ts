// Countdowns against the server's clock. Actions end on the server at `expires_at`; a viewer whose
// clock is a minute off should still see the right time left. Each event that has just happened
// on the server (an action starting, a chat message) tells the offset up to the network delay:
// `server time − local receive time` is never more than the true offset, so the largest recent
// sample is the best estimate.

const SAMPLES = 8;

export interface ServerClock {
  /** An event stamped `serverTime` (RFC 3339) has just arrived. */
  observe(serverTime: string, receivedAt?: number): void;
  /** The server's time now, in epoch milliseconds. */
  now(): number;
  /** The current estimate of server minus local time. */
  readonly offset: number;
}

export function createServerClock(localNow: () => number = () => Date.now()): ServerClock {
  const samples: number[] = [];
  let offset = 0;
  return {
    observe(serverTime, receivedAt = localNow()) {
      const at = Date.parse(serverTime);
      if (Number.isNaN(at)) return;
      samples.push(at - receivedAt);
      if (samples.length > SAMPLES) samples.shift();
      offset = Math.max(...samples);
    },
    now: () => localNow() + offset,
    get offset() {
      return offset;
    },
  };
}

/** Milliseconds until `until` (RFC 3339) at server time `now`, never below 0; `null` without an end. */
export function remainingMs(until: string | null | undefined, now: number): number | null {
  if (!until) return null;
  const end = Date.parse(until);
  if (Number.isNaN(end)) return null;
  return Math.max(0, end - now);
}

/** How much of the time from `start` to `end` is left, from 1 to 0. */
export function fractionLeft(start: string, end: string | null, now: number): number {
  if (!end) return 1;
  const s = Date.parse(start);
  const e = Date.parse(end);
  if (Number.isNaN(s) || Number.isNaN(e) || e <= s) return 0;
  return Math.min(1, Math.max(0, (e - now) / (e - s)));
}

/** "0:07", "2:30", "1:02:03": whole seconds, rounded up so 0:00 means over. */
export function formatCountdown(ms: number): string {
  const total = Math.ceil(Math.max(0, ms) / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** "for 10 minutes", "until 14:05" — how long a timeout lasts, in words. */
export function formatUntil(until: string, now: number): string {
  const ms = remainingMs(until, now) ?? 0;
  const minutes = Math.ceil(ms / 60_000);
  if (ms < 60_000) return `${Math.ceil(ms / 1000)} s`;
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h`;
  return `${Math.round(hours / 24)} days`;
}
