// `/manager`: the stream manager, for the channel's owner. Overlays and polls, the stage, chat
// with its moderation, and the stream key. Everything on it is live over the page's websocket;
// everything it starts runs on the server, so closing it stops nothing.

import { useEffect } from 'preact/hooks';
import { api } from '../api/client';
import type { Me } from '../api/types';
import { Chat } from '../components/Chat';
import { LiveBadge } from '../components/LiveBadge';
import { RequireAuth } from '../components/RequireAuth';
import { useTitle } from '../components/useResource';
import { useVideoMode } from '../api/platform';
import { useChannel } from '../realtime/live';
import { Composer } from './manager/Composer';
import { Moderation } from './manager/Moderation';
import { ActiveAction, GoLive, Polls } from './manager/OnStream';
import { StageHost } from './manager/StageHost';

export function Manager() {
  useTitle('Stream manager');
  return <RequireAuth>{(account) => <ManagerPage account={account} />}</RequireAuth>;
}

const SECTIONS = [
  { id: 'active', label: 'On stream' },
  { id: 'polls', label: 'Polls' },
  { id: 'composer', label: 'Overlays' },
  { id: 'stage', label: 'Stage' },
  { id: 'go-live', label: 'Go live' },
  { id: 'moderation', label: 'Moderation' },
  { id: 'chat', label: 'Chat' },
];

function ManagerPage({ account }: { account: Me }) {
  const { view, store } = useChannel(account.username);
  const mode = useVideoMode();

  // The stream key may have been reset in another tab.
  useEffect(() => {
    api.get<Me>('/api/me').then(api.updateAccount, () => undefined);
  }, []);

  const ready = view?.status === 'ready' && store;
  return (
    <div class="manager" data-testid="manager-page">
      <div class="manager__main">
        <header class="manager__head">
          <div>
            <h1 class="page__title">Stream manager</h1>
            <p class="manager__status">
              <LiveBadge live={!!view?.live || account.is_live} />
              {view?.status === 'ready' && (
                <span class="viewers" data-testid="manager-viewers">
                  {view.viewers} watching
                </span>
              )}
              <a href={`/${encodeURIComponent(account.username)}`}>View your channel</a>
              <a href="/health" data-testid="manager-health-link">
                Stream health
              </a>
            </p>
          </div>
          <nav class="manager__nav" aria-label="Stream manager sections">
            {SECTIONS.map((s) => (
              <a key={s.id} href={`#${s.id}`} class="settings__navlink">
                {s.label}
              </a>
            ))}
          </nav>
        </header>
        {!ready ? (
          <div class="page--center" aria-busy="true">
            <span class="spinner spinner--lg" aria-hidden="true" />
            <span class="visually-hidden">Connecting…</span>
          </div>
        ) : (
          <div class="manager__panels">
            <ActiveAction view={view} username={account.username} />
            <Polls view={view} username={account.username} />
            <Composer username={account.username} stageLive={!!view.stage} />
            <StageHost view={view} store={store} username={account.username} mode={mode} />
            <GoLive account={account} mode={mode} />
            <Moderation view={view} username={account.username} />
          </div>
        )}
      </div>
      {view ? (
        <Chat view={view} title="Your chat" />
      ) : (
        <aside class="chat" aria-label="Your chat" data-testid="chat-panel" data-state="loading" />
      )}
    </div>
  );
}
