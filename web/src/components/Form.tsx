// Labelled inputs whose errors sit right under them and are announced with them
// (`aria-describedby`, `aria-invalid`), and the pieces every form shares.

import type { ButtonHTMLAttributes, ComponentChildren } from 'preact';
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { passwordRules } from '../domain/account';

/** The input attributes a field passes through. */
interface InputProps {
  type?: 'text' | 'email' | 'password' | 'search' | 'url';
  autocomplete?: string;
  autocapitalize?: 'none' | 'off' | 'on' | 'sentences' | 'words' | 'characters';
  spellcheck?: boolean;
  maxLength?: number;
  inputMode?: 'numeric' | 'text' | 'url';
  placeholder?: string;
  disabled?: boolean;
  readOnly?: boolean;
}

export interface FieldProps extends InputProps {
  label: string;
  name: string;
  value: string;
  onValue: (value: string) => void;
  error?: string | undefined;
  hint?: ComponentChildren;
  /** Something after the input, inside its row (a button). */
  addon?: ComponentChildren;
}

export function TextField({ label, name, value, onValue, error, hint, addon, type = 'text', ...rest }: FieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const described = [error ? errorId : null, hint ? hintId : null].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`field${error ? ' field--invalid' : ''}`}>
      <label class="field__label" for={id}>
        {label}
      </label>
      <div class="field__row">
        <input
          autocomplete={rest.autocomplete}
          autocapitalize={rest.autocapitalize}
          spellcheck={rest.spellcheck}
          maxLength={rest.maxLength}
          inputMode={rest.inputMode}
          placeholder={rest.placeholder}
          disabled={rest.disabled}
          readOnly={rest.readOnly}
          id={id}
          name={name}
          type={type as 'text'}
          value={value}
          onInput={(e) => onValue(e.currentTarget.value)}
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={described}
          class="input"
        />
        {addon}
      </div>
      {error && (
        <p class="field__error" id={errorId} data-testid={`error-${name}`}>
          <span aria-hidden="true">⚠ </span>
          {error}
        </p>
      )}
      {hint && (
        <div class="field__hint" id={hintId}>
          {hint}
        </div>
      )}
    </div>
  );
}

/** A multi-line text input, labelled and with its error under it like `TextField`. */
export function TextAreaField({ label, name, value, onValue, error, hint, maxLength, rows = 3, placeholder }: Omit<FieldProps, 'type' | 'addon'> & { rows?: number }) {
  const id = useId();
  const described = [error ? `${id}-error` : null, hint ? `${id}-hint` : null].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`field${error ? ' field--invalid' : ''}`}>
      <label class="field__label" for={id}>
        {label}
      </label>
      <textarea
        id={id}
        name={name}
        class="input input--area"
        rows={rows}
        maxLength={maxLength}
        placeholder={placeholder}
        value={value}
        onInput={(e) => onValue(e.currentTarget.value)}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={described}
      />
      {error && (
        <p class="field__error" id={`${id}-error`} data-testid={`error-${name}`}>
          <span aria-hidden="true">⚠ </span>
          {error}
        </p>
      )}
      {hint && (
        <div class="field__hint" id={`${id}-hint`}>
          {hint}
        </div>
      )}
    </div>
  );
}

/** A password input with a show/hide toggle and, for new passwords, the policy as a checklist. */
export function PasswordField(props: FieldProps & { policy?: boolean }) {
  const [visible, setVisible] = useState(false);
  const { policy, hint, ...rest } = props;
  return (
    <TextField
      {...rest}
      type={visible ? 'text' : 'password'}
      autocapitalize="off"
      spellcheck={false}
      hint={policy ? <PasswordPolicy password={props.value} /> : hint}
      addon={
        <button
          type="button"
          class="input-addon"
          aria-pressed={visible}
          aria-label="Show password"
          onClick={() => setVisible(!visible)}
        >
          {visible ? 'Hide' : 'Show'}
        </button>
      }
    />
  );
}

export function PasswordPolicy({ password }: { password: string }) {
  return (
    <ul class="policy" aria-label="Password requirements">
      {passwordRules(password).map((rule) => (
        <li key={rule.id} class={rule.met ? 'policy__rule policy__rule--met' : 'policy__rule'}>
          <span aria-hidden="true">{rule.met ? '✓' : '•'}</span> {rule.label}
          <span class="visually-hidden">{rule.met ? ' (met)' : ' (not met yet)'}</span>
        </li>
      ))}
    </ul>
  );
}

/** The error that belongs to no single input. Announced as soon as it appears. */
export function FormError({ message }: { message: string | null | undefined }) {
  if (!message) return null;
  return (
    <div class="notice notice--error" role="alert" data-testid="form-error">
      {message}
    </div>
  );
}

export function Notice({ kind = 'info', children, testid }: { kind?: 'info' | 'success' | 'warning' | 'error'; children: ComponentChildren; testid?: string }) {
  return (
    <div class={`notice notice--${kind}`} role={kind === 'error' ? 'alert' : 'status'} data-testid={testid}>
      {children}
    </div>
  );
}

export function SubmitButton({ busy, children, variant = 'primary', ...rest }: ButtonHTMLAttributes<HTMLButtonElement> & { busy: boolean; variant?: 'primary' | 'secondary' | 'danger' }) {
  return (
    <button {...rest} type="submit" class={`btn btn--${variant}${rest.class ? ` ${rest.class}` : ''}`} disabled={busy || rest.disabled} aria-busy={busy || undefined}>
      {busy && <span class="spinner" aria-hidden="true" />}
      {children}
    </button>
  );
}

/**
 * After a failed submit, moves focus to the first input with an error, so it is read out. Call
 * `failed()` once the errors are set.
 */
export function useFormFocus() {
  const ref = useRef<HTMLFormElement>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    if (attempt) ref.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [attempt]);
  return { ref, failed: () => setAttempt((n) => n + 1) };
}
