export function LiveBadge({ live, compact = false }: { live: boolean; compact?: boolean }) {
  if (live) {
    return (
      <span class="badge badge--live" data-testid="live-badge">
        <span class="badge__dot" aria-hidden="true" />
        Live
      </span>
    );
  }
  return compact ? null : (
    <span class="badge badge--offline" data-testid="offline-badge">
      Offline
    </span>
  );
}

/** "live for 1 h 20 min", from the start time. */
export function liveFor(since: string | null | undefined, now = Date.now()): string | null {
  if (!since) return null;
  const start = Date.parse(since);
  if (Number.isNaN(start)) return null;
  const minutes = Math.max(0, Math.floor((now - start) / 60_000));
  if (minutes < 1) return 'just started';
  if (minutes < 60) return `live for ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest ? `live for ${hours} h ${rest} min` : `live for ${hours} h`;
}
