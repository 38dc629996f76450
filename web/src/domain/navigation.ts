// Where to go after logging in, and the intents carried there in the URL.

/**
 * A `next` parameter made safe: a path on this site, or `/`. Anything that could leave the site
 * (`//evil.example`, `https://…`, `/\evil`, `javascript:`) or loop back into the auth pages is
 * refused.
 */
export function safeNext(next: string | null | undefined, fallback = '/'): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return fallback;
  if (/[\u0000-\u001f\u007f]/.test(next)) return fallback;
  let url: URL;
  try {
    url = new URL(next, 'http://showrunner.invalid');
  } catch {
    return fallback;
  }
  if (url.origin !== 'http://showrunner.invalid') return fallback;
  if (['/login', '/register', '/logout'].includes(url.pathname)) return fallback;
  return url.pathname + url.search + url.hash;
}

/** The login page, coming back to `next` afterwards. */
export function loginUrl(next: string): string {
  const back = safeNext(next);
  return back === '/' ? '/login' : `/login?next=${encodeURIComponent(back)}`;
}

/** The query parameter that asks a channel page to follow its channel once signed in. */
export const FOLLOW_INTENT = 'follow';

/** The channel page to come back to after logging in, with the follow still to be done. */
export function followIntentUrl(username: string): string {
  return `/${encodeURIComponent(username)}?${FOLLOW_INTENT}=1`;
}

/** The path without the follow intent, once it has been carried out. */
export function withoutFollowIntent(path: string, query: Record<string, string>): string {
  const rest = new URLSearchParams(query);
  rest.delete(FOLLOW_INTENT);
  const search = rest.toString();
  return search ? `${path}?${search}` : path;
}
