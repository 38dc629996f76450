import type { ChannelSummary } from '../api/types';
import { colorHex } from '../domain/palette';
import { Avatar } from './Avatar';
import { LiveBadge, liveFor } from './LiveBadge';

function channelHref(username: string) {
  return `/${encodeURIComponent(username)}`;
}

/** A channel in the directory grid: a 16:9 tile, then who it is. */
export function ChannelCard({ channel }: { channel: ChannelSummary }) {
  const since = liveFor(channel.live_since);
  return (
    <li class="card" data-testid="channel-card" data-username={channel.username}>
      <a href={channelHref(channel.username)} class="card__link">
        <div class="card__thumb" style={{ '--profile': colorHex(channel.color) }}>
          {channel.banner_url ? (
            <img class="card__banner" src={channel.banner_url} alt="" loading="lazy" decoding="async" />
          ) : (
            <div class="card__glow" aria-hidden="true">
              <Avatar channel={channel} size="lg" />
            </div>
          )}
          <span class="card__badge">
            <LiveBadge live={channel.is_live} />
            {channel.has_stage && (
              <span class="badge badge--stage" data-testid="stage-badge">
                Stage
              </span>
            )}
          </span>
        </div>
        <div class="card__meta">
          <Avatar channel={channel} size="sm" live={channel.is_live} />
          <div class="card__text">
            <span class="card__name">{channel.username}</span>
            <span class="card__sub">{channel.is_live ? (since ?? 'live now') : 'offline'}</span>
          </div>
        </div>
      </a>
    </li>
  );
}

/** A channel in the followed carousel: its avatar, ringed when live. */
export function ChannelChip({ channel }: { channel: ChannelSummary }) {
  return (
    <li class="chip" data-testid="followed-chip" data-username={channel.username}>
      <a href={channelHref(channel.username)} class="chip__link">
        <Avatar channel={channel} size="lg" live={channel.is_live} />
        <span class="chip__name">{channel.username}</span>
        <span class="chip__status">{channel.is_live ? <LiveBadge live /> : <span class="chip__offline">Offline</span>}</span>
      </a>
    </li>
  );
}
