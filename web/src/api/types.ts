// The shapes of the Showrunner API, as its OpenAPI document (`/api/openapi.json`) describes them.

export const COLORS = ['blue', 'green', 'lavender', 'purple', 'salmon', 'turquoise', 'yellow'] as const;
export type Color = (typeof COLORS)[number];

export const AVATAR_PRESETS = [
  'bear',
  'bird',
  'bird2',
  'dog',
  'dog2',
  'dog3',
  'giraffe',
  'hedgehog',
  'hippo',
  'horse',
  'ibex',
  'jellyfish',
  'sheep',
  'tiger',
] as const;
export type AvatarPreset = (typeof AVATAR_PRESETS)[number];

/** A channel as anyone may see it. `avatar` is a preset name, or `custom` with `avatar_url`. */
export interface ChannelSummary {
  username: string;
  color: Color;
  avatar: string;
  avatar_url?: string | null;
  banner_url?: string | null;
  is_live: boolean;
  live_since?: string | null;
  /** A real-time stage is live on the channel. */
  has_stage?: boolean;
}

export interface ChannelPage extends ChannelSummary {
  playback_url: string;
  is_following: boolean;
  is_own: boolean;
}

export interface FollowedChannel extends ChannelSummary {
  followed_at: string;
}

export interface ChannelList {
  channels: ChannelSummary[];
  max_results: number;
}

export interface FollowingList {
  channels: FollowedChannel[];
  max_results: number;
}

/** What a streamer needs to go live. */
export interface OwnChannel {
  arn: string;
  channel_type: string;
  ingest_endpoint: string;
  ingest_server_url: string;
  playback_url: string;
  stream_key: string;
}

/** The signed-in user's own account, with its secrets. */
export interface Me extends ChannelSummary {
  id: string;
  email: string;
  email_verified: boolean;
  created_at: string;
  channel: OwnChannel;
}

export interface SessionResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token: string;
  account: Me;
}

export interface RegisterRequest {
  username: string;
  email: string;
  password: string;
  color?: Color;
  avatar?: AvatarPreset;
}

export interface RegisterResponse {
  account: Me;
  verification_required: boolean;
}

export interface FieldProblem {
  field: string;
  code: string;
  message: string;
}

/** The body of every error response. */
export interface ErrorBody {
  error: { code: string; message: string; fields?: FieldProblem[] };
}
