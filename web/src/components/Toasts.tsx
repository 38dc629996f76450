// Short confirmations ("Saved", "Copied") in one polite live region, gone after a few seconds.

import { useEffect, useState } from 'preact/hooks';

interface Toast {
  id: number;
  text: string;
  kind: 'success' | 'error' | 'info';
}

let toasts: Toast[] = [];
let nextId = 1;
const listeners = new Set<(t: Toast[]) => void>();

function publish() {
  for (const listener of listeners) listener(toasts);
}

export function toast(text: string, kind: Toast['kind'] = 'success', ms = 3500) {
  const item = { id: nextId++, text, kind };
  toasts = [...toasts.slice(-2), item];
  publish();
  setTimeout(() => {
    toasts = toasts.filter((t) => t.id !== item.id);
    publish();
  }, ms);
}

export function Toasts() {
  const [items, setItems] = useState(toasts);
  useEffect(() => {
    listeners.add(setItems);
    return () => listeners.delete(setItems);
  }, []);
  return (
    <div class="toasts" role="status" aria-live="polite" data-testid="toasts">
      {items.map((t) => (
        <div key={t.id} class={`toast toast--${t.kind}`}>
          {t.text}
        </div>
      ))}
    </div>
  );
}
