import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

/** A modal question on the native `<dialog>`: focus is held inside, Escape cancels. */
export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  danger = false,
  busy = false,
  onConfirm,
  onCancel,
}: {
  open: boolean;
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      class="dialog"
      aria-labelledby="dialog-title"
      onCancel={(e) => {
        e.preventDefault();
        onCancel();
      }}
    >
      <h2 id="dialog-title" class="dialog__title">
        {title}
      </h2>
      <div class="dialog__body">{children}</div>
      <div class="dialog__actions">
        <button type="button" class="btn btn--ghost" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" class={`btn ${danger ? 'btn--danger' : 'btn--primary'}`} disabled={busy} aria-busy={busy || undefined} onClick={onConfirm} data-testid="dialog-confirm">
          {busy && <span class="spinner" aria-hidden="true" />}
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
