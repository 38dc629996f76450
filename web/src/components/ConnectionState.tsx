// The live connection's state, small and always visible next to chat: people should know when
// what they see may be stale.

import { useEffect, useState } from 'preact/hooks';
import { livePage, useConnection } from '../realtime/live';

export function ConnectionState() {
  const status = useConnection();
  const [, tick] = useState(0);
  // Count down to the next attempt.
  useEffect(() => {
    if (status.state !== 'reconnecting') return;
    const timer = setInterval(() => tick((n) => n + 1), 500);
    return () => clearInterval(timer);
  }, [status.state, status.retryAt]);

  let label: string;
  let tone: 'ok' | 'warn' | 'bad';
  switch (status.state) {
    case 'open':
      label = 'Connected';
      tone = 'ok';
      break;
    case 'idle':
    case 'connecting':
      label = status.attempt > 0 ? 'Reconnecting…' : 'Connecting…';
      tone = 'warn';
      break;
    case 'reconnecting': {
      const secs = Math.max(0, Math.ceil(((status.retryAt ?? Date.now()) - Date.now()) / 1000));
      label = secs > 0 ? `Reconnecting in ${secs} s` : 'Reconnecting…';
      tone = 'warn';
      break;
    }
    case 'stopped':
      label = status.reason === 'banned' ? 'Disconnected' : 'Offline — reload the page';
      tone = 'bad';
  }
  return (
    <span class={`conn conn--${tone}`} data-testid="connection-state" data-state={status.state} role="status" aria-live="polite">
      <span class="conn__dot" aria-hidden="true" />
      <span class="conn__label">{label}</span>
      {status.state === 'reconnecting' && (
        <button type="button" class="link-button conn__retry" onClick={() => livePage().realtime.retryNow()}>
          Retry now
        </button>
      )}
    </span>
  );
}
