import { useEffect, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api } from '../api/client';
import { ApiError } from '../api/errors';
import { useSession } from '../api/session';
import { AuthCard } from '../components/AuthCard';
import { FormError, PasswordField, SubmitButton, TextField } from '../components/Form';
import { ResendVerification } from '../components/ResendVerification';
import { useForm } from '../components/useForm';
import { useTitle } from '../components/useResource';
import { collectErrors } from '../domain/account';
import { safeNext } from '../domain/navigation';

export function Login() {
  useTitle('Log in');
  const { query, route } = useLocation();
  const session = useSession();
  const next = safeNext(query.next);
  const form = useForm({ login: '', password: '' }, ['login', 'password']);
  const [unverified, setUnverified] = useState(false);

  // Already signed in (another tab, or the refresh on load): go on.
  useEffect(() => {
    if (session.status === 'signed-in') route(next, true);
  }, [session.status]);

  const onSubmit = form.onSubmit(
    (v) =>
      collectErrors({
        login: v.login.trim() ? null : 'Enter your username or email.',
        password: v.password ? null : 'Enter your password.',
      }),
    async (v) => {
      setUnverified(false);
      try {
        await api.login(v.login.trim(), v.password);
      } catch (error) {
        if (error instanceof ApiError && error.code === 'email_not_verified') {
          setUnverified(true);
          return;
        }
        if (error instanceof ApiError && error.code === 'invalid_credentials') {
          throw new ApiError(error.status, error.code, 'That username or email and password don’t match.');
        }
        throw error;
      }
      route(next, true);
    },
  );

  const registerHref = next === '/' ? '/register' : `/register?next=${encodeURIComponent(next)}`;
  return (
    <AuthCard title="Log in" intro={next !== '/' ? 'Log in to continue.' : 'Welcome back.'} testid="login-page">
      {unverified && (
        <ResendVerification
          email={form.values.login.includes('@') ? form.values.login.trim() : ''}
          message="Verify your email address first: follow the link we mailed you when you signed up."
        />
      )}
      <form ref={form.ref} onSubmit={onSubmit} noValidate class="form">
        <FormError message={form.formError} />
        <TextField label="Username or email" autocomplete="username" autocapitalize="off" spellcheck={false} {...form.field('login')} />
        <PasswordField label="Password" autocomplete="current-password" {...form.field('password')} />
        <div class="form__row form__row--end">
          <a href="/reset" class="small-link">
            Forgot your password?
          </a>
        </div>
        <SubmitButton busy={form.busy} class="btn--block">
          Log in
        </SubmitButton>
      </form>
      <p class="auth-card__foot">
        New to Showrunner? <a href={registerHref}>Create an account</a>
      </p>
    </AuthCard>
  );
}
