import { useEffect, useMemo, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api } from '../api/client';
import { useSession } from '../api/session';
import { AVATAR_PRESETS, COLORS, type RegisterRequest, type RegisterResponse } from '../api/types';
import { AuthCard } from '../components/AuthCard';
import { Avatar } from '../components/Avatar';
import { FormError, PasswordField, SubmitButton, TextField } from '../components/Form';
import { AvatarPicker, ColorPicker } from '../components/Pickers';
import { ResendVerification } from '../components/ResendVerification';
import { useForm } from '../components/useForm';
import { useTitle } from '../components/useResource';
import { USERNAME_MAX, USERNAME_MIN, collectErrors, validateEmail, validatePassword, validateUsername } from '../domain/account';
import { safeNext } from '../domain/navigation';

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)]!;
}

export function Register() {
  useTitle('Create an account');
  const { query, route } = useLocation();
  const session = useSession();
  const next = safeNext(query.next);
  // Preselected at random, as the server would; the user sees their avatar before choosing.
  const initial = useMemo(() => ({ username: '', email: '', password: '', color: pick(COLORS), avatar: pick(AVATAR_PRESETS) }), []);
  const form = useForm(initial, ['username', 'email', 'password', 'color', 'avatar']);
  const [mailedTo, setMailedTo] = useState<string | null>(null);

  useEffect(() => {
    if (session.status === 'signed-in' && !form.busy) route(next, true);
  }, [session.status]);

  const onSubmit = form.onSubmit(
    (v) =>
      collectErrors({
        username: validateUsername(v.username),
        email: validateEmail(v.email),
        password: validatePassword(v.password),
      }),
    async (v) => {
      const body: RegisterRequest = {
        username: v.username,
        email: v.email.trim(),
        password: v.password,
        color: v.color as RegisterRequest['color'],
        avatar: v.avatar as RegisterRequest['avatar'],
      };
      const created = await api.post<RegisterResponse>('/api/auth/register', body, { auth: false });
      if (created.verification_required) {
        setMailedTo(created.account.email);
        return;
      }
      await api.login(v.username, v.password);
      route(next, true);
    },
  );

  if (mailedTo) {
    return (
      <AuthCard title="Check your inbox" testid="register-sent">
        <p class="lead" role="status">
          We sent a link to <strong>{mailedTo}</strong>. Follow it to verify your address, then log in.
        </p>
        <p class="muted">It can take a minute to arrive. Nothing there? Look in your spam folder, or ask for a new link:</p>
        <ResendVerification email={mailedTo} message="Didn’t get the mail?" />
        <p class="auth-card__foot">
          Verified already? <a href="/login">Log in</a>
        </p>
      </AuthCard>
    );
  }

  const v = form.values;
  return (
    <AuthCard title="Create your channel" intro="One account: watch, chat, follow — and go live." testid="register-page">
      <form ref={form.ref} onSubmit={onSubmit} noValidate class="form">
        <FormError message={form.formError} />
        <div class="profile-preview" aria-hidden="true">
          <Avatar channel={{ username: v.username || '?', avatar: v.avatar, color: v.color as never }} size="lg" />
          <span class="profile-preview__name">{v.username || 'your-name'}</span>
        </div>
        <TextField
          label="Username"
          autocomplete="username"
          autocapitalize="off"
          spellcheck={false}
          maxLength={USERNAME_MAX}
          hint={
            <>
              {USERNAME_MIN}–{USERNAME_MAX} letters, digits, “.” or “_”. Your channel will be at <code>/{v.username || 'username'}</code>.
            </>
          }
          {...form.field('username')}
        />
        <TextField label="Email" type="email" autocomplete="email" hint="We send a link to verify it; it stays private." {...form.field('email')} />
        <PasswordField label="Password" autocomplete="new-password" policy {...form.field('password')} />
        <ColorPicker value={v.color} onChange={(c) => form.set('color', c)} />
        {form.errors.color && <p class="field__error">{form.errors.color}</p>}
        <AvatarPicker value={v.avatar} color={v.color} onChange={(a) => form.set('avatar', a)} />
        {form.errors.avatar && <p class="field__error">{form.errors.avatar}</p>}
        <SubmitButton busy={form.busy} class="btn--block">
          Create account
        </SubmitButton>
      </form>
      <p class="auth-card__foot">
        Already have an account? <a href={next === '/' ? '/login' : `/login?next=${encodeURIComponent(next)}`}>Log in</a>
      </p>
    </AuthCard>
  );
}
