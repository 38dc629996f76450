import { useEffect, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api } from '../api/client';
import { formErrors } from '../api/errors';
import { useSession } from '../api/session';
import { AuthCard } from '../components/AuthCard';
import { ResendVerification } from '../components/ResendVerification';
import { useTitle } from '../components/useResource';

type State = { kind: 'verifying' } | { kind: 'verified' } | { kind: 'failed'; message: string };

export function Verify() {
  useTitle('Verify your email');
  const { query } = useLocation();
  const session = useSession();
  const token = query.token ?? '';
  const [state, setState] = useState<State>(token ? { kind: 'verifying' } : { kind: 'failed', message: 'This link is incomplete: it has no token. Open the link from the mail again.' });
  const started = useRef(false);

  useEffect(() => {
    // A link works once: never send it twice, even if this page renders again.
    if (!token || started.current) return;
    started.current = true;
    api.post('/api/auth/verify', { token }, { auth: false }).then(
      () => setState({ kind: 'verified' }),
      (error: unknown) => setState({ kind: 'failed', message: formErrors(error, { token: '' }).form ?? 'This link did not work.' }),
    );
  }, [token]);

  if (state.kind === 'verifying') {
    return (
      <AuthCard title="Verifying your email…" testid="verify-page">
        <p class="lead" role="status" aria-busy="true">
          <span class="spinner" aria-hidden="true" /> One moment.
        </p>
      </AuthCard>
    );
  }
  if (state.kind === 'verified') {
    return (
      <AuthCard title="Email verified" testid="verify-page">
        <p class="lead" role="status" data-testid="verify-success">
          <span class="tick" aria-hidden="true">✓</span> Your email address is verified. Welcome to Showrunner!
        </p>
        {session.status === 'signed-in' ? (
          <a class="btn btn--primary btn--block" href="/">
            Start watching
          </a>
        ) : (
          <a class="btn btn--primary btn--block" href="/login">
            Log in
          </a>
        )}
      </AuthCard>
    );
  }
  return (
    <AuthCard title="That link didn’t work" testid="verify-page">
      <div class="notice notice--error" role="alert" data-testid="verify-error">
        {state.message}
      </div>
      <ResendVerification email="" message="Links work once and expire. Ask for a new one:" />
      <p class="auth-card__foot">
        Verified already? <a href="/login">Log in</a>
      </p>
    </AuthCard>
  );
}
