import { api } from '../api/client';
import type { FollowingList } from '../api/types';
import { ChannelCard } from '../components/ChannelCard';
import { Notice } from '../components/Form';
import { RequireAuth } from '../components/RequireAuth';
import { useResource, useTitle } from '../components/useResource';
import { usePolling } from './Directory';

export function Following() {
  useTitle('Following');
  return <RequireAuth>{(account) => <FollowedChannels key={account.id} />}</RequireAuth>;
}

function FollowedChannels() {
  const following = useResource(() => api.get<FollowingList>('/api/me/following'), []);
  usePolling(following.reload);
  const channels = following.data?.channels;
  const liveCount = channels?.filter((c) => c.is_live).length ?? 0;

  return (
    <div class="page page--wide" data-testid="following-page">
      <div class="page__head">
        <h1 class="page__title">Following</h1>
        {channels && channels.length > 0 && (
          <p class="muted" data-testid="following-summary">
            {channels.length} channel{channels.length === 1 ? '' : 's'} · {liveCount} live
          </p>
        )}
      </div>
      {following.error !== undefined && !channels ? (
        <Notice kind="error">
          Could not load the channels you follow.{' '}
          <button type="button" class="link-button" onClick={following.reload}>
            Try again
          </button>
        </Notice>
      ) : !channels ? (
        <div class="page--center" aria-busy="true">
          <span class="spinner spinner--lg" aria-hidden="true" />
        </div>
      ) : channels.length === 0 ? (
        <div class="empty" data-testid="following-empty">
          <p class="empty__title">You don’t follow anyone yet</p>
          <p class="empty__text">
            Find someone on the <a href="/">Browse</a> page and press <strong>Follow</strong> on their channel.
          </p>
        </div>
      ) : (
        <>
          {liveCount > 0 && (
            <>
              <h2 class="section__title">Live</h2>
              <ul class="grid" data-testid="following-live">
                {channels.filter((c) => c.is_live).map((channel) => (
                  <ChannelCard key={channel.username} channel={channel} />
                ))}
              </ul>
            </>
          )}
          {liveCount < channels.length && (
            <>
              <h2 class="section__title">Offline</h2>
              <ul class="grid grid--compact" data-testid="following-offline">
                {channels.filter((c) => !c.is_live).map((channel) => (
                  <ChannelCard key={channel.username} channel={channel} />
                ))}
              </ul>
            </>
          )}
        </>
      )}
    </div>
  );
}
