// A read-only value with a copy button (and show/hide for secrets): stream keys, invite links.

import { useRef, useState } from 'preact/hooks';
import { toast } from './Toasts';

export async function copyText(text: string, fallbackInput: HTMLInputElement | null): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No async clipboard (plain http on a LAN address): select the text and use the old way.
    if (!fallbackInput) return false;
    const type = fallbackInput.type;
    fallbackInput.type = 'text';
    fallbackInput.select();
    const ok = document.execCommand('copy');
    fallbackInput.type = type;
    return ok;
  }
}

export function CopyField({ label, value, secret = false, testid, hint }: { label: string; value: string; secret?: boolean; testid: string; hint?: string }) {
  const [shown, setShown] = useState(!secret);
  const input = useRef<HTMLInputElement>(null);
  const id = `copy-${testid}`;
  return (
    <div class="field">
      <label class="field__label" for={id}>
        {label}
      </label>
      <div class="field__row">
        <input
          ref={input}
          id={id}
          class="input input--mono"
          type={(shown ? 'text' : 'password') as 'text'}
          value={value}
          readOnly
          data-testid={testid}
          aria-describedby={hint ? `${id}-hint` : undefined}
          onFocus={(e) => e.currentTarget.select()}
        />
        {secret && (
          <button type="button" class="input-addon" aria-pressed={shown} onClick={() => setShown(!shown)} data-testid={`${testid}-toggle`}>
            {shown ? 'Hide' : 'Show'}
          </button>
        )}
        <button
          type="button"
          class="input-addon"
          onClick={async () => toast((await copyText(value, input.current)) ? `${label} copied` : 'Could not copy; select the text and copy it yourself.', 'info')}
          aria-label={`Copy ${label.toLowerCase()}`}
        >
          Copy
        </button>
      </div>
      {hint && (
        <p class="field__hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
    </div>
  );
}
