import type { ChannelSummary } from '../api/types';
import { colorHex } from '../domain/palette';
import { AvatarArt } from './AvatarArt';

type Size = 'xs' | 'sm' | 'md' | 'lg' | 'xl';

/**
 * A channel's avatar: the uploaded picture, or its preset drawn on its color. Decorative by
 * default (the name is always next to it); pass `label` when it stands alone.
 */
export function Avatar({
  channel,
  size = 'md',
  live = false,
  label,
}: {
  channel: Pick<ChannelSummary, 'username' | 'avatar' | 'avatar_url' | 'color'>;
  size?: Size;
  live?: boolean;
  label?: string;
}) {
  const color = colorHex(channel.color);
  const custom = channel.avatar === 'custom' && channel.avatar_url;
  return (
    <span
      class={`avatar avatar--${size}${live ? ' avatar--live' : ''}`}
      style={{ '--profile': color }}
      role={label ? 'img' : undefined}
      aria-label={label}
      aria-hidden={label ? undefined : 'true'}
      data-testid="avatar"
    >
      {custom ? (
        <img src={channel.avatar_url!} alt="" loading="lazy" decoding="async" />
      ) : (
        <AvatarArt preset={channel.avatar} background={color} name={channel.username} />
      )}
    </span>
  );
}
