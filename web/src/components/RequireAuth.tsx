import type { ComponentChildren } from 'preact';
import { useEffect } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { useSession } from '../api/session';
import type { Me } from '../api/types';
import { loginUrl } from '../domain/navigation';

/** Renders its children for a signed-in user; sends anyone else to log in, and back here after. */
export function RequireAuth({ children }: { children: (account: Me) => ComponentChildren }) {
  const session = useSession();
  const { url, route } = useLocation();
  useEffect(() => {
    if (session.status === 'signed-out') route(loginUrl(url), true);
  }, [session.status]);
  if (session.status !== 'signed-in' || !session.account) {
    return (
      <div class="page page--center" aria-busy="true">
        <span class="spinner spinner--lg" aria-hidden="true" />
        <span class="visually-hidden">Loading…</span>
      </div>
    );
  }
  return <>{children(session.account)}</>;
}
