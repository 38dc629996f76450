import { useTitle } from '../components/useResource';

export function NotFound({ what = 'page', name }: { what?: 'page' | 'channel'; name?: string }) {
  useTitle(what === 'channel' ? 'Channel not found' : 'Page not found');
  return (
    <div class="page page--center" data-testid="not-found">
      <p class="big-code" aria-hidden="true">
        404
      </p>
      <h1 class="page__title">{what === 'channel' ? 'This channel doesn’t exist' : 'Page not found'}</h1>
      <p class="muted">
        {what === 'channel' && name ? (
          <>
            No one goes by <strong>{name}</strong> here — maybe they changed their name.
          </>
        ) : (
          'The link may be broken, or the page was removed.'
        )}
      </p>
      <a class="btn btn--primary" href="/">
        Browse live channels
      </a>
    </div>
  );
}
