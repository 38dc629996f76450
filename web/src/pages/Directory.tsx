import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api/client';
import { useSession } from '../api/session';
import type { ChannelList, FollowedChannel, FollowingList } from '../api/types';
import { ChannelCard, ChannelChip } from '../components/ChannelCard';
import { Notice } from '../components/Form';
import { useResource, useTitle } from '../components/useResource';

/** The followed carousel shows at most this many channels; the following page has them all. */
const CAROUSEL_MAX = 14;
/** Live status changes without anyone reloading; until the realtime slice pushes it, poll. */
const POLL_MS = 30_000;

export function usePolling(reload: () => void, ms = POLL_MS) {
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') reload();
    }, ms);
    return () => clearInterval(timer);
  }, [reload, ms]);
}

export function Directory() {
  useTitle(null);
  const session = useSession();
  const signedIn = session.status === 'signed-in';
  const live = useResource(() => api.get<ChannelList>('/api/channels'), [session.account?.id]);
  const following = useResource(signedIn ? () => api.get<FollowingList>('/api/me/following') : null, [session.account?.id, signedIn]);
  usePolling(live.reload);

  return (
    <div class="page page--wide" data-testid="directory-page">
      {session.status === 'signed-out' && (
        <section class="hero" aria-labelledby="hero-title">
          <h1 id="hero-title" class="hero__title">
            Live, together.
          </h1>
          <p class="hero__text">Watch creators live, chat with their community, and start your own channel in a minute.</p>
          <div class="hero__actions">
            <a class="btn btn--primary btn--lg" href="/register">
              Create your channel
            </a>
            <a class="btn btn--ghost btn--lg" href="/login">
              Log in
            </a>
          </div>
        </section>
      )}

      {signedIn && <FollowedCarousel channels={following.data?.channels} loading={following.loading} error={following.error} />}

      <section class="section" aria-labelledby="live-title">
        <div class="section__head">
          <h2 id="live-title" class="section__title">
            {signedIn ? 'Live now' : 'Live channels'}
            {live.data && live.data.channels.length > 0 && <span class="count">{live.data.channels.length}</span>}
          </h2>
        </div>
        {live.error !== undefined && !live.data ? (
          <Notice kind="error">
            Could not load the live channels.{' '}
            <button type="button" class="link-button" onClick={live.reload}>
              Try again
            </button>
          </Notice>
        ) : !live.data ? (
          <ul class="grid" aria-busy="true" aria-label="Loading live channels">
            {[0, 1, 2, 3].map((i) => (
              <li key={i} class="card card--skeleton" aria-hidden="true">
                <div class="card__thumb skeleton" />
                <div class="card__meta">
                  <span class="skeleton skeleton--circle" />
                  <span class="skeleton skeleton--line" />
                </div>
              </li>
            ))}
          </ul>
        ) : live.data.channels.length === 0 ? (
          <div class="empty" data-testid="no-live-channels">
            <svg viewBox="0 0 64 48" class="empty__art" aria-hidden="true">
              <rect x="4" y="4" width="56" height="34" rx="6" fill="none" stroke="currentColor" stroke-width="3" />
              <path d="M22 46h20M32 38v8" stroke="currentColor" stroke-width="3" stroke-linecap="round" />
              <path d="M27 14v14l11-7z" fill="currentColor" />
            </svg>
            <p class="empty__title">Nobody is live right now</p>
            <p class="empty__text">
              {signedIn ? (
                <>
                  Be the first: your stream key and ingest server are in <a href="/settings#stream">Settings</a>.
                </>
              ) : (
                <>
                  Check back soon — or <a href="/register">create a channel</a> and go live yourself.
                </>
              )}
            </p>
          </div>
        ) : (
          <ul class="grid" data-testid="live-grid">
            {live.data.channels.map((channel) => (
              <ChannelCard key={channel.username} channel={channel} />
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}

function FollowedCarousel({ channels, loading, error }: { channels: FollowedChannel[] | undefined; loading: boolean; error: unknown }) {
  const scroller = useRef<HTMLUListElement>(null);
  const [edges, setEdges] = useState({ start: true, end: true });
  const shown = channels?.slice(0, CAROUSEL_MAX) ?? [];

  function measure() {
    const el = scroller.current;
    if (!el) return;
    setEdges({ start: el.scrollLeft <= 1, end: el.scrollLeft + el.clientWidth >= el.scrollWidth - 1 });
  }
  useEffect(() => {
    measure();
    window.addEventListener('resize', measure);
    return () => window.removeEventListener('resize', measure);
  }, [shown.length]);

  function scrollBy(direction: 1 | -1) {
    const el = scroller.current;
    if (el) el.scrollBy({ left: direction * el.clientWidth * 0.8, behavior: 'smooth' });
  }

  if (error !== undefined && !channels) return null;
  if (!loading && channels && channels.length === 0) {
    return (
      <section class="section section--tight" aria-labelledby="followed-title">
        <h2 id="followed-title" class="section__title">
          Followed channels
        </h2>
        <p class="muted">Channels you follow show up here, live ones first. Follow someone from their channel page.</p>
      </section>
    );
  }
  return (
    <section class="section section--tight" aria-labelledby="followed-title" data-testid="followed-carousel">
      <div class="section__head">
        <h2 id="followed-title" class="section__title">
          Followed channels
        </h2>
        <div class="carousel__controls">
          <button type="button" class="icon-btn" aria-label="Scroll followed channels back" disabled={edges.start} onClick={() => scrollBy(-1)}>
            <svg viewBox="0 0 16 16" aria-hidden="true">
              <path d="M10 3L5 8l5 5" fill="none" stroke="currentColor" stroke-width="2" />
            </svg>
          </button>
          <button type="button" class="icon-btn" aria-label="Scroll followed channels forward" disabled={edges.end} onClick={() => scrollBy(1)}>
            <svg viewBox="0 0 16 16" aria-hidden="true">
              <path d="M6 3l5 5-5 5" fill="none" stroke="currentColor" stroke-width="2" />
            </svg>
          </button>
          <a href="/following" class="section__more">
            See all
          </a>
        </div>
      </div>
      <ul class="carousel" ref={scroller} onScroll={measure} aria-busy={loading && !channels ? 'true' : undefined}>
        {!channels
          ? [0, 1, 2, 3, 4].map((i) => (
              <li key={i} class="chip" aria-hidden="true">
                <span class="skeleton skeleton--avatar" />
                <span class="skeleton skeleton--line" />
              </li>
            ))
          : shown.map((channel) => <ChannelChip key={channel.username} channel={channel} />)}
      </ul>
    </section>
  );
}
