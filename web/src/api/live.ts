// The HTTP routes of the live side: stream actions, presets, products, moderation and stages.
// (Chat, votes and join requests from viewers go over the websocket; see `src/realtime`.)

import type { ActiveAction, ChatSettings, JoinRequest, ParticipantToken, PollView, StageView, StreamAction } from '../realtime/protocol';
import { api } from './client';

const ch = (username: string) => `/api/channels/${encodeURIComponent(username)}`;
const seg = encodeURIComponent;

export interface Preset {
  id: string;
  name: string;
  action: StreamAction;
  updated_at: string;
}

export interface CatalogProduct {
  asin: string;
  title: string;
  product_url: string;
  image_url?: string | null;
  price?: string | null;
}

export interface Restriction {
  user_id: string;
  username?: string | null;
  kind: 'ban' | 'timeout';
  until?: string | null;
  created_at: string;
}

export interface Moderator {
  user_id: string;
  username: string;
}

export interface JoinResponse {
  stage: StageView | null;
  token: ParticipantToken;
  role: 'host' | 'invited' | 'requested';
}

export const actions = {
  start: (username: string, action: StreamAction) => api.post<ActiveAction>(`${ch(username)}/actions`, action),
  stop: (username: string) => api.del<void>(`${ch(username)}/actions/current`),
  polls: (username: string, limit = 5) => api.get<{ polls: PollView[] }>(`${ch(username)}/polls?limit=${limit}`),
};

export const presets = {
  list: () => api.get<{ presets: Preset[] }>('/api/me/presets'),
  save: (name: string, action: StreamAction) => api.put<Preset>(`/api/me/presets/${seg(name)}`, action),
  remove: (id: string) => api.del<void>(`/api/me/presets/${seg(id)}`),
};

export const products = {
  search: (keywords: string, page = 1) => api.get<{ products: CatalogProduct[] }>(`/api/products?keywords=${seg(keywords)}&page=${page}`),
};

export const moderation = {
  ban: (username: string, target: string) => api.put<void>(`${ch(username)}/bans/${seg(target)}`),
  unban: (username: string, target: string) => api.del<void>(`${ch(username)}/bans/${seg(target)}`),
  timeout: (username: string, target: string, seconds: number) => api.put<void>(`${ch(username)}/timeouts/${seg(target)}`, { duration_secs: seconds }),
  liftTimeout: (username: string, target: string) => api.del<void>(`${ch(username)}/timeouts/${seg(target)}`),
  restrictions: (username: string) => api.get<{ restrictions: Restriction[] }>(`${ch(username)}/restrictions`),
  moderators: (username: string) => api.get<{ moderators: Moderator[] }>(`${ch(username)}/moderators`),
  addModerator: (username: string, target: string) => api.put<void>(`${ch(username)}/moderators/${seg(target)}`),
  removeModerator: (username: string, target: string) => api.del<void>(`${ch(username)}/moderators/${seg(target)}`),
  saveSettings: (username: string, settings: ChatSettings) => api.put<ChatSettings>(`${ch(username)}/chat/settings`, settings),
  deleteMessage: (username: string, offset: number) => api.del<void>(`${ch(username)}/chat/${offset}`),
};

export const stage = {
  start: (username: string) => api.post<JoinResponse>(`${ch(username)}/stage`),
  end: (username: string) => api.del<void>(`${ch(username)}/stage`),
  createInvite: (username: string) => api.post<{ code: string; url: string }>(`${ch(username)}/stage/invite`),
  revokeInvite: (username: string) => api.del<void>(`${ch(username)}/stage/invite`),
  queue: (username: string) => api.get<{ requests: JoinRequest[] }>(`${ch(username)}/stage/requests`),
  accept: (username: string, target: string) => api.post<void>(`${ch(username)}/stage/requests/${seg(target)}/accept`),
  reject: (username: string, target: string) => api.post<void>(`${ch(username)}/stage/requests/${seg(target)}/reject`),
  remove: (username: string, target: string) => api.del<void>(`${ch(username)}/stage/participants/${seg(target)}`),
  /** A subscribe-only token to watch the stage's video (AWS mode). */
  spectate: (username: string) => api.post<ParticipantToken>(`${ch(username)}/stage/spectate`),
  join: (username: string, invite?: string) => api.post<JoinResponse>(`${ch(username)}/stage/join`, invite ? { invite } : {}),
};
