import { useTitle } from '../components/useResource';

const TITLES = {
  page: 'Page not found',
  channel: 'Channel not found',
  session: 'Stream not found',
} as const;

export function NotFound({ what = 'page', name }: { what?: 'page' | 'channel' | 'session'; name?: string }) {
  useTitle(TITLES[what]);
  return (
    <div class="page page--center" data-testid="not-found">
      <p class="big-code" aria-hidden="true">
        404
      </p>
      <h1 class="page__title">{what === 'channel' ? 'This channel doesn’t exist' : what === 'session' ? 'No such stream' : 'Page not found'}</h1>
      <p class="muted">
        {what === 'channel' && name ? (
          <>
            No one goes by <strong>{name}</strong> here — maybe they changed their name.
          </>
        ) : what === 'session' ? (
          'None of your streams has this id. You can only see the health of your own streams.'
        ) : (
          'The link may be broken, or the page was removed.'
        )}
      </p>
      {what === 'session' ? (
        <a class="btn btn--primary" href="/health">
          Your streams
        </a>
      ) : (
        <a class="btn btn--primary" href="/">
          Browse live channels
        </a>
      )}
    </div>
  );
}
