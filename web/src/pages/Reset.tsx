import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api } from '../api/client';
import { AuthCard } from '../components/AuthCard';
import { FormError, PasswordField, SubmitButton, TextField } from '../components/Form';
import { useForm } from '../components/useForm';
import { useTitle } from '../components/useResource';
import { collectErrors, validateEmail, validatePassword } from '../domain/account';

/** `/reset`: ask for a link. `/reset?token=…` (the mailed link): choose a new password. */
export function Reset() {
  const { query } = useLocation();
  return query.token ? <ChooseNewPassword token={query.token} /> : <RequestLink />;
}

function RequestLink() {
  useTitle('Reset your password');
  const form = useForm({ email: '' }, ['email']);
  const [sentTo, setSentTo] = useState<string | null>(null);
  const onSubmit = form.onSubmit(
    (v) => collectErrors({ email: validateEmail(v.email) }),
    async (v) => {
      await api.post('/api/auth/reset', { email: v.email.trim() }, { auth: false });
      setSentTo(v.email.trim());
    },
  );

  if (sentTo) {
    return (
      <AuthCard title="Check your inbox" testid="reset-sent">
        <p class="lead" role="status">
          If an account uses <strong>{sentTo}</strong>, we’ve sent it a link to choose a new password. The link works once, for one hour.
        </p>
        <a class="btn btn--secondary btn--block" href="/login">
          Back to log in
        </a>
      </AuthCard>
    );
  }
  return (
    <AuthCard title="Forgot your password?" intro="Enter the email of your account and we’ll mail you a link to choose a new one." testid="reset-page">
      <form ref={form.ref} onSubmit={onSubmit} noValidate class="form">
        <FormError message={form.formError} />
        <TextField label="Email" type="email" autocomplete="email" {...form.field('email')} />
        <SubmitButton busy={form.busy} class="btn--block">
          Send reset link
        </SubmitButton>
      </form>
      <p class="auth-card__foot">
        Remembered it? <a href="/login">Log in</a>
      </p>
    </AuthCard>
  );
}

function ChooseNewPassword({ token }: { token: string }) {
  useTitle('Choose a new password');
  const form = useForm({ password: '', repeat: '' }, { password: 'password', token: '' });
  const [done, setDone] = useState(false);
  const onSubmit = form.onSubmit(
    (v) =>
      collectErrors({
        password: validatePassword(v.password),
        repeat: v.repeat === v.password ? null : 'The passwords don’t match.',
      }),
    async (v) => {
      await api.post('/api/auth/reset/confirm', { token, password: v.password }, { auth: false });
      setDone(true);
    },
  );

  if (done) {
    return (
      <AuthCard title="Password changed" testid="reset-done">
        <p class="lead" role="status">
          <span class="tick" aria-hidden="true">✓</span> Your new password is set. For your safety, every session was signed out.
        </p>
        <a class="btn btn--primary btn--block" href="/login">
          Log in
        </a>
      </AuthCard>
    );
  }
  return (
    <AuthCard title="Choose a new password" testid="reset-confirm-page">
      <form ref={form.ref} onSubmit={onSubmit} noValidate class="form">
        <FormError message={form.formError} />
        <PasswordField label="New password" autocomplete="new-password" policy {...form.field('password')} />
        <PasswordField label="Repeat new password" autocomplete="new-password" {...form.field('repeat')} />
        <SubmitButton busy={form.busy} class="btn--block">
          Set new password
        </SubmitButton>
      </form>
      {form.formError && (
        <p class="auth-card__foot">
          <a href="/reset">Ask for a new link</a>
        </p>
      )}
    </AuthCard>
  );
}
