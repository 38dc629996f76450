import { useEffect, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api } from '../api/client';
import { ApiError } from '../api/errors';
import type { Color, Me } from '../api/types';
import { Avatar } from '../components/Avatar';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { CopyField } from '../components/CopyField';
import { FormError, Notice, PasswordField, SubmitButton, TextField } from '../components/Form';
import { AvatarPicker, ColorPicker } from '../components/Pickers';
import { RequireAuth } from '../components/RequireAuth';
import { toast } from '../components/Toasts';
import { useForm } from '../components/useForm';
import { useTitle } from '../components/useResource';
import {
  AVATAR_MAX_BYTES,
  BANNER_MAX_BYTES,
  IMAGE_TYPES,
  USERNAME_MAX,
  collectErrors,
  formatBytes,
  validateImage,
  validatePassword,
  validateUsername,
} from '../domain/account';
import { colorHex } from '../domain/palette';

export function Settings() {
  useTitle('Settings');
  return <RequireAuth>{(account) => <SettingsPage account={account} />}</RequireAuth>;
}

const SECTIONS = [
  { id: 'profile', label: 'Profile' },
  { id: 'account', label: 'Account' },
  { id: 'stream', label: 'Stream' },
  { id: 'danger', label: 'Delete account' },
];

function SettingsPage({ account }: { account: Me }) {
  // The session's copy may be minutes old (another tab renamed, say): ask once on arrival.
  useEffect(() => {
    api.get<Me>('/api/me').then(api.updateAccount, () => undefined);
  }, []);

  return (
    <div class="page page--settings" data-testid="settings-page">
      <div class="page__head">
        <h1 class="page__title">Settings</h1>
      </div>
      <div class="settings">
        <nav class="settings__nav" aria-label="Settings sections">
          {SECTIONS.map((s) => (
            <a key={s.id} href={`#${s.id}`} class="settings__navlink">
              {s.label}
            </a>
          ))}
        </nav>
        <div class="settings__body">
          <ProfileSection account={account} />
          <AccountSection account={account} />
          <StreamSection account={account} />
          <DangerSection />
        </div>
      </div>
    </div>
  );
}

function Section({ id, title, intro, children }: { id: string; title: string; intro?: string; children: preact.ComponentChildren }) {
  return (
    <section id={id} class="panel" aria-labelledby={`${id}-title`} data-testid={`settings-${id}`}>
      <h2 id={`${id}-title`} class="panel__title">
        {title}
      </h2>
      {intro && <p class="panel__intro">{intro}</p>}
      {children}
    </section>
  );
}

/** Runs a change that answers with the account, and tells everyone about the new account. */
async function change(run: () => Promise<Me>, done: string): Promise<Me> {
  const me = await run();
  api.updateAccount(me);
  toast(done);
  return me;
}

function errorText(error: unknown): string {
  return error instanceof ApiError ? error.message : 'Something went wrong. Please try again.';
}

function ProfileSection({ account }: { account: Me }) {
  const [saving, setSaving] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function patch(body: { color?: Color; avatar?: string }, what: string) {
    setSaving(what);
    setError(null);
    try {
      await change(() => api.patch<Me>('/api/me/profile', body), `${what} saved`);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setSaving(null);
    }
  }

  return (
    <Section id="profile" title="Profile" intro="How you appear on your channel, in the directory and in chat.">
      <div class="profile-card" style={{ '--profile': colorHex(account.color) }}>
        <div class="profile-card__banner">
          {account.banner_url ? <img src={account.banner_url} alt="Your banner" data-testid="banner-preview" /> : <div class="profile-card__gradient" aria-hidden="true" />}
        </div>
        <div class="profile-card__who">
          <Avatar channel={account} size="xl" label={`Your avatar${account.avatar === 'custom' ? ' (uploaded picture)' : ''}`} />
          <div>
            <p class="profile-card__name">{account.username}</p>
            <a href={`/${encodeURIComponent(account.username)}`} class="small-link">
              View your channel
            </a>
          </div>
        </div>
      </div>
      {error && <Notice kind="error">{error}</Notice>}
      <ColorPicker value={account.color} disabled={saving !== null} onChange={(color) => patch({ color }, 'Color')} />
      <AvatarPicker
        legend="Avatar preset"
        value={account.avatar}
        color={account.color}
        disabled={saving !== null}
        onChange={(avatar) => patch({ avatar }, 'Avatar')}
      />
      <ImageUpload
        kind="avatar"
        label="Upload your own avatar"
        hint={`PNG, JPEG or WebP, at most ${formatBytes(AVATAR_MAX_BYTES)}. Square pictures look best.`}
        maxBytes={AVATAR_MAX_BYTES}
        endpoint="/api/me/avatar"
      />
      <div class="banner-controls">
        <ImageUpload
          kind="banner"
          label={account.banner_url ? 'Replace your banner' : 'Upload a banner'}
          hint={`Shown on your channel when you are offline. PNG, JPEG or WebP, at most ${formatBytes(BANNER_MAX_BYTES)}; wide pictures (1920×480) look best.`}
          maxBytes={BANNER_MAX_BYTES}
          endpoint="/api/me/banner"
        />
        {account.banner_url && <RemoveBanner />}
      </div>
    </Section>
  );
}

function ImageUpload({ kind, label, hint, maxBytes, endpoint }: { kind: 'avatar' | 'banner'; label: string; hint: string; maxBytes: number; endpoint: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const id = `upload-${kind}`;

  async function onChange() {
    const file = input.current?.files?.[0];
    if (!file) return;
    setError(null);
    const problem = validateImage(file, maxBytes);
    if (problem) {
      setError(problem);
      input.current!.value = '';
      return;
    }
    setBusy(true);
    try {
      await change(() => api.request<Me>('PUT', endpoint, { body: file, contentType: file.type }), kind === 'avatar' ? 'Avatar uploaded' : 'Banner uploaded');
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
      if (input.current) input.current.value = '';
    }
  }

  return (
    <div class={`field upload${error ? ' field--invalid' : ''}`}>
      <span class="field__label" id={`${id}-label`}>
        {label}
      </span>
      <div class="upload__row">
        <label class={`btn btn--secondary upload__button${busy ? ' is-busy' : ''}`} for={id}>
          {busy && <span class="spinner" aria-hidden="true" />}
          {busy ? 'Uploading…' : 'Choose image…'}
        </label>
        <input
          ref={input}
          id={id}
          type="file"
          accept={IMAGE_TYPES.join(',')}
          class="upload__input"
          onChange={onChange}
          disabled={busy}
          aria-labelledby={`${id}-label`}
          aria-describedby={`${id}-hint${error ? ` ${id}-error` : ''}`}
          aria-invalid={error ? 'true' : undefined}
          data-testid={`${kind}-file`}
        />
      </div>
      {error && (
        <p class="field__error" id={`${id}-error`} role="alert">
          {error}
        </p>
      )}
      <p class="field__hint" id={`${id}-hint`}>
        {hint}
      </p>
    </div>
  );
}

function RemoveBanner() {
  const [busy, setBusy] = useState(false);
  async function remove() {
    setBusy(true);
    try {
      await change(() => api.del<Me>('/api/me/banner'), 'Banner removed');
    } catch (e) {
      toast(errorText(e), 'error');
    } finally {
      setBusy(false);
    }
  }
  return (
    <button type="button" class="btn btn--ghost" onClick={remove} disabled={busy} data-testid="remove-banner">
      Remove banner
    </button>
  );
}

function AccountSection({ account }: { account: Me }) {
  return (
    <Section id="account" title="Account">
      <dl class="facts">
        <div>
          <dt>Email</dt>
          <dd>
            {account.email}{' '}
            {account.email_verified ? <span class="pill pill--ok">Verified</span> : <span class="pill pill--warn">Not verified</span>}
          </dd>
        </div>
        <div>
          <dt>Member since</dt>
          <dd>{new Date(account.created_at).toLocaleDateString(undefined, { year: 'numeric', month: 'long', day: 'numeric' })}</dd>
        </div>
      </dl>
      <UsernameForm account={account} />
      <PasswordForm />
    </Section>
  );
}

function UsernameForm({ account }: { account: Me }) {
  const form = useForm({ username: account.username }, ['username']);
  const onSubmit = form.onSubmit(
    (v) => collectErrors({ username: v.username === account.username ? 'This is already your username.' : validateUsername(v.username) }),
    async (v) => {
      const me = await change(() => api.put<Me>('/api/me/username', { username: v.username }), 'Username changed');
      form.setValues({ username: me.username });
    },
  );
  return (
    <form ref={form.ref} onSubmit={onSubmit} noValidate class="form form--inline" data-testid="username-form">
      <h3 class="form__title">Username</h3>
      <FormError message={form.formError} />
      <TextField
        label="New username"
        autocomplete="username"
        autocapitalize="off"
        spellcheck={false}
        maxLength={USERNAME_MAX}
        hint={
          <>
            Your channel moves to <code>/{form.values.username || '…'}</code>; the old address stops working.
          </>
        }
        {...form.field('username')}
      />
      <SubmitButton busy={form.busy} variant="secondary">
        Change username
      </SubmitButton>
    </form>
  );
}

function PasswordForm() {
  const form = useForm({ current: '', next: '' }, { current_password: 'current', new_password: 'next' });
  const [done, setDone] = useState(false);
  const onSubmit = form.onSubmit(
    (v) =>
      collectErrors({
        current: v.current ? null : 'Enter your current password.',
        next: validatePassword(v.next) ?? (v.next === v.current ? 'Choose a password different from the current one.' : null),
      }),
    async (v) => {
      setDone(false);
      await api.put('/api/me/password', { current_password: v.current, new_password: v.next });
      form.setValues({ current: '', next: '' });
      setDone(true);
      toast('Password changed');
    },
  );
  return (
    <form ref={form.ref} onSubmit={onSubmit} noValidate class="form form--inline" data-testid="password-form">
      <h3 class="form__title">Password</h3>
      <FormError message={form.formError} />
      {done && <Notice kind="success">Password changed. Your other sessions were signed out; this one stays.</Notice>}
      <PasswordField label="Current password" autocomplete="current-password" {...form.field('current')} />
      <PasswordField label="New password" autocomplete="new-password" policy {...form.field('next')} />
      <SubmitButton busy={form.busy} variant="secondary">
        Change password
      </SubmitButton>
    </form>
  );
}

function StreamSection({ account }: { account: Me }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  async function reset() {
    setBusy(true);
    try {
      await change(() => api.post<Me>('/api/me/stream-key/reset'), 'New stream key created');
      setConfirming(false);
    } catch (e) {
      toast(errorText(e), 'error');
    } finally {
      setBusy(false);
    }
  }
  return (
    <Section id="stream" title="Stream" intro="Paste these into your encoder (in OBS: Settings → Stream → Service “Custom…”) to go live.">
      <CopyField label="Ingest server" value={account.channel.ingest_server_url} testid="ingest-server" hint="OBS calls this “Server”." />
      <CopyField label="Stream key" value={account.channel.stream_key} secret testid="stream-key" hint="Keep it secret: whoever has it can stream on your channel." />
      <div class="form__row">
        <button type="button" class="btn btn--secondary" onClick={() => setConfirming(true)} data-testid="reset-stream-key">
          Reset stream key
        </button>
      </div>
      <ConfirmDialog
        open={confirming}
        title="Reset your stream key?"
        confirmLabel="Reset key"
        busy={busy}
        onConfirm={reset}
        onCancel={() => setConfirming(false)}
      >
        <p>The current key stops working at once: an encoder using it is cut off until you paste the new key.</p>
      </ConfirmDialog>
    </Section>
  );
}

function DangerSection() {
  const [open, setOpen] = useState(false);
  const { route } = useLocation();
  const form = useForm({ password: '' }, ['password']);
  const onSubmit = form.onSubmit(
    (v) => collectErrors({ password: v.password ? null : 'Enter your password to confirm.' }),
    async (v) => {
      await api.del('/api/me', { password: v.password });
      api.forget();
      toast('Your account and channel were deleted.', 'info', 6000);
      route('/', true);
    },
  );
  return (
    <Section id="danger" title="Delete account" intro="Deletes your account, your channel and everything that refers to them. This cannot be undone.">
      {!open ? (
        <button type="button" class="btn btn--danger" onClick={() => setOpen(true)} data-testid="delete-account">
          Delete my account…
        </button>
      ) : (
        <form ref={form.ref} onSubmit={onSubmit} noValidate class="form form--inline danger-form" data-testid="delete-form">
          <FormError message={form.formError} />
          <PasswordField label="Your password, to confirm" autocomplete="current-password" {...form.field('password')} />
          <div class="form__row">
            <button type="button" class="btn btn--ghost" onClick={() => setOpen(false)}>
              Cancel
            </button>
            <SubmitButton busy={form.busy} variant="danger">
              Delete account forever
            </SubmitButton>
          </div>
        </form>
      )}
    </Section>
  );
}
