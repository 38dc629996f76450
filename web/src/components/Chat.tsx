// Stream chat: everyone reads, signed-in users send, the owner and moderators moderate inline.
// Messages are plain text rendered as text nodes; nothing a user typed becomes markup.

import { Fragment } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { moderation } from '../api/live';
import { ApiError, sentence } from '../api/errors';
import { useSession } from '../api/session';
import { loginUrl } from '../domain/navigation';
import { colorHex } from '../domain/palette';
import type { ChannelView } from '../realtime/channel';
import { formatUntil } from '../realtime/clock';
import { liveRequest, serverClock, useConnection, useServerNow } from '../realtime/live';
import { RealtimeError, type ChatLine } from '../realtime/protocol';
import { ConfirmDialog } from './ConfirmDialog';
import { ConnectionState } from './ConnectionState';
import { toast } from './Toasts';

export const CHAT_MAX = 500;

const TIMEOUTS: { secs: number; label: string }[] = [
  { secs: 60, label: '1 minute' },
  { secs: 600, label: '10 minutes' },
  { secs: 3600, label: '1 hour' },
  { secs: 86_400, label: '1 day' },
];

/** What to tell someone whose message the server refused. */
export function chatErrorText(error: unknown, view: Pick<ChannelView, 'settings'>): string {
  if (!(error instanceof RealtimeError)) return 'Your message could not be sent. Try again.';
  switch (error.code) {
    case 'slow_mode':
      return `Slow mode is on: wait ${view.settings.slow_mode_secs} s between messages.`;
    case 'followers_only':
      return view.settings.followers_only_minutes
        ? `Only followers of at least ${view.settings.followers_only_minutes} minutes can chat here.`
        : 'Only followers can chat here. Follow the channel to join in.';
    case 'banned_word':
      return 'Your message contains a word this channel does not allow.';
    case 'timed_out':
      return 'You are timed out and cannot chat for now.';
    case 'rate_limited':
      return 'You are sending messages too fast. Wait a moment.';
    case 'banned':
      return 'You are banned from this chat.';
    case 'unauthenticated':
      return 'Log in to chat.';
    default:
      return sentence(error.message);
  }
}

function clockTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

export function Chat({ view, title = 'Stream chat' }: { view: ChannelView; title?: string }) {
  return (
    <aside id="chat" class="chat" aria-labelledby="chat-title" data-testid="chat-panel" data-state={view.status}>
      <div class="chat__head">
        <h2 id="chat-title" class="chat__title">
          {title}
        </h2>
        {view.status !== 'banned' && <ConnectionState />}
      </div>
      {view.status === 'banned' ? (
        <div class="chat__body chat__body--center" data-testid="chat-banned" role="alert">
          <svg viewBox="0 0 48 48" aria-hidden="true" class="chat__art chat__art--bad">
            <circle cx="24" cy="24" r="18" fill="none" stroke="currentColor" stroke-width="3.5" />
            <path d="M11.5 11.5l25 25" stroke="currentColor" stroke-width="3.5" />
          </svg>
          <p class="chat__banned-title">You are banned from this channel</p>
          <p class="muted small">The channel’s moderators banned you, so you can no longer read or send messages in its chat.</p>
        </div>
      ) : view.status === 'failed' ? (
        <div class="chat__body chat__body--center" role="alert">
          <p>Chat is not available right now.</p>
          <p class="muted small">{view.error ? sentence(view.error.message) : 'Trying again…'}</p>
        </div>
      ) : view.status === 'loading' ? (
        <div class="chat__body chat__body--center" aria-busy="true">
          <span class="spinner spinner--lg" aria-hidden="true" />
          <span class="visually-hidden">Loading chat…</span>
        </div>
      ) : (
        <ChatBody view={view} />
      )}
    </aside>
  );
}

function ChatBody({ view }: { view: ChannelView }) {
  const session = useSession();
  const me = session.account?.id ?? null;
  const canModerate = view.you.owner || view.you.moderator;
  const list = useRef<HTMLOListElement>(null);
  const stick = useRef(true);
  const [unseen, setUnseen] = useState(false);
  const [menu, setMenu] = useState<number | null>(null);
  const [banning, setBanning] = useState<ChatLine | null>(null);
  const [busy, setBusy] = useState(false);

  // Follow the newest message unless the reader scrolled up to read.
  useLayoutEffect(() => {
    const el = list.current;
    if (!el) return;
    if (stick.current) el.scrollTop = el.scrollHeight;
    else setUnseen(true);
  }, [view.chat]);

  function onScroll() {
    const el = list.current;
    if (!el) return;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
    if (stick.current) setUnseen(false);
  }

  function toBottom() {
    const el = list.current;
    if (!el) return;
    el.scrollTop = el.scrollHeight;
    stick.current = true;
    setUnseen(false);
  }

  // Escape closes an open moderation menu.
  useEffect(() => {
    if (menu === null) return;
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && setMenu(null);
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [menu]);

  async function moderate(what: string, run: () => Promise<unknown>) {
    setMenu(null);
    setBusy(true);
    try {
      await run();
      toast(what);
    } catch (error) {
      toast(error instanceof ApiError || error instanceof RealtimeError ? sentence(error.message) : 'That did not work. Try again.', 'error');
    } finally {
      setBusy(false);
    }
  }

  const deleteMessage = (m: ChatLine) =>
    moderate('Message deleted', () => liveRequest({ type: 'delete_chat', channel: view.channel!, offset: m.offset }));
  const timeout = (m: ChatLine, secs: number, label: string) =>
    moderate(`${m.username} is timed out for ${label}`, () => moderation.timeout(view.username, m.username, secs));

  return (
    <>
      <ChatModes view={view} />
      <div class="chat__scroller">
        <ol class="chat__list" ref={list} onScroll={onScroll} data-testid="chat-messages" aria-label="Chat messages" aria-live="polite" aria-relevant="additions">
          {view.chat.length === 0 && (
            <li class="chat__empty" data-testid="chat-empty">
              Welcome to the chat! Say hello.
            </li>
          )}
          {view.chat.map((m) => {
            const moderatable = canModerate && m.user_id !== me && m.user_id !== view.channel;
            return (
              <Fragment key={m.offset}>
                {view.gaps.includes(m.offset) && (
                  <li class="chat__gap" data-testid="chat-gap">
                    Some messages were missed while you were away
                  </li>
                )}
                <li class="chat__line" data-testid="chat-message" data-offset={m.offset} data-author={m.username}>
                  <span class="chat__time" title={new Date(m.sent_at).toLocaleString()}>
                    {clockTime(m.sent_at)}
                  </span>{' '}
                  <span class="chat__author" style={{ color: colorHex(m.color) }}>
                    {m.username}
                  </span>
                  {m.user_id === view.channel && (
                    <span class="chat__role" title="Broadcaster">
                      host
                    </span>
                  )}
                  <span aria-hidden="true">: </span>
                  <span class="chat__text">{m.text}</span>
                  {moderatable && (
                    <span class="chat__mod">
                      <button
                        type="button"
                        class="icon-btn chat__mod-button"
                        aria-label={`Moderate ${m.username}’s message`}
                        aria-expanded={menu === m.offset}
                        aria-haspopup="true"
                        onClick={() => setMenu(menu === m.offset ? null : m.offset)}
                        data-testid="mod-menu-button"
                      >
                        <svg viewBox="0 0 20 20" aria-hidden="true">
                          <circle cx="4" cy="10" r="1.8" fill="currentColor" />
                          <circle cx="10" cy="10" r="1.8" fill="currentColor" />
                          <circle cx="16" cy="10" r="1.8" fill="currentColor" />
                        </svg>
                      </button>
                      {menu === m.offset && (
                        <div class="chat__menu" role="group" aria-label={`Moderate ${m.username}`} data-testid="mod-menu">
                          <button type="button" class="menu__item" disabled={busy} onClick={() => deleteMessage(m)} data-testid="mod-delete">
                            Delete message
                          </button>
                          {TIMEOUTS.map((t) => (
                            <button key={t.secs} type="button" class="menu__item" disabled={busy} onClick={() => timeout(m, t.secs, t.label)} data-testid={`mod-timeout-${t.secs}`}>
                              Time out {t.label}
                            </button>
                          ))}
                          <button
                            type="button"
                            class="menu__item menu__item--danger"
                            disabled={busy}
                            onClick={() => {
                              setMenu(null);
                              setBanning(m);
                            }}
                            data-testid="mod-ban"
                          >
                            Ban {m.username}
                          </button>
                        </div>
                      )}
                    </span>
                  )}
                </li>
              </Fragment>
            );
          })}
        </ol>
        {unseen && (
          <button type="button" class="chat__more btn btn--secondary" onClick={toBottom}>
            New messages ↓
          </button>
        )}
      </div>
      <Composer view={view} />
      <ConfirmDialog
        open={banning !== null}
        title={banning ? `Ban ${banning.username}?` : 'Ban'}
        confirmLabel="Ban"
        danger
        busy={busy}
        onCancel={() => setBanning(null)}
        onConfirm={() => {
          const target = banning;
          setBanning(null);
          if (target) void moderate(`${target.username} is banned`, () => moderation.ban(view.username, target.username));
        }}
      >
        <p>They will be disconnected from this channel at once and can no longer read or send chat here, or join its stage. You can lift the ban in the stream manager.</p>
      </ConfirmDialog>
    </>
  );
}

/** The chat's modes, so nobody is surprised by a refusal. */
function ChatModes({ view }: { view: ChannelView }) {
  const s = view.settings;
  const exempt = view.you.owner || view.you.moderator;
  const modes: string[] = [];
  if (s.slow_mode_secs > 0) modes.push(`Slow mode · ${s.slow_mode_secs} s`);
  if (s.followers_only_minutes !== null) modes.push(s.followers_only_minutes > 0 ? `Followers-only · ${s.followers_only_minutes} min` : 'Followers-only');
  if (modes.length === 0) return null;
  return (
    <p class="chat__modes" data-testid="chat-modes">
      {modes.join(' · ')}
      {exempt && <span class="muted"> (you are exempt)</span>}
    </p>
  );
}

function Composer({ view }: { view: ChannelView }) {
  const session = useSession();
  const connection = useConnection();
  const { url } = useLocation();
  const [text, setText] = useState('');
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<{ code: string; text: string } | null>(null);
  const [cooldownUntil, setCooldownUntil] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const timedOutUntil = view.you.timed_out_until;
  const now = useServerNow(cooldownUntil > 0 || !!timedOutUntil, 500);
  const timedOut = !!timedOutUntil && Date.parse(timedOutUntil) > now;
  const cooling = cooldownUntil > now;
  const open = connection.state === 'open';
  const exempt = view.you.owner || view.you.moderator;
  const slowMode = view.settings.slow_mode_secs;

  // Slow mode switched off (or shortened): no reason to keep waiting.
  useEffect(() => {
    setCooldownUntil((until) => Math.min(until, slowMode > 0 ? serverClock.now() + slowMode * 1000 : 0));
  }, [slowMode]);
  // The slow-mode refusal is answered once the wait is over.
  useEffect(() => {
    if (!cooling && error?.code === 'slow_mode') setError(null);
  }, [cooling]);

  if (session.status !== 'signed-in') {
    return (
      <div class="chat__composer chat__composer--signin" data-testid="chat-composer">
        <p class="muted small">Everyone can read along. Log in to chat.</p>
        <a class="btn btn--primary" href={loginUrl(url)} data-testid="chat-login">
          Log in to chat
        </a>
      </div>
    );
  }

  async function send(e: Event) {
    e.preventDefault();
    const message = text.trim();
    if (!message || sending || !view.channel) return;
    setSending(true);
    setError(null);
    try {
      await liveRequest({ type: 'chat', channel: view.channel, text: message });
      setText('');
      // Clicking "Chat" took the focus; the next message starts where the last one did.
      input.current?.focus();
      if (!exempt && view.settings.slow_mode_secs > 0) setCooldownUntil(serverClock.now() + view.settings.slow_mode_secs * 1000);
    } catch (err) {
      setError({ code: err instanceof RealtimeError ? err.code : 'error', text: chatErrorText(err, view) });
      if (err instanceof RealtimeError && err.code === 'slow_mode') setCooldownUntil(serverClock.now() + view.settings.slow_mode_secs * 1000);
    } finally {
      setSending(false);
    }
  }

  const left = CHAT_MAX - text.length;
  return (
    <form class="chat__composer" onSubmit={send} data-testid="chat-composer" aria-describedby={error ? 'chat-error' : undefined}>
      {timedOut && (
        <p class="chat__notice" data-testid="chat-timed-out" role="status">
          You are timed out for another {formatUntil(timedOutUntil!, now)}.
        </p>
      )}
      {error && !timedOut && (
        <p class="chat__error" id="chat-error" role="alert" data-testid="chat-error">
          {error.text}
        </p>
      )}
      <div class="chat__row">
        <label class="visually-hidden" for="chat-input">
          Chat message
        </label>
        <input
          ref={input}
          id="chat-input"
          class="input"
          placeholder={timedOut ? 'You are timed out' : open ? 'Send a message' : 'Connecting to chat…'}
          value={text}
          maxLength={CHAT_MAX}
          autocomplete="off"
          disabled={timedOut}
          onInput={(e) => {
            setText(e.currentTarget.value);
            if (error) setError(null);
          }}
          data-testid="chat-input"
        />
        <button type="submit" class="btn btn--primary" disabled={!open || sending || timedOut || cooling || !text.trim()} data-testid="chat-send">
          {cooling ? `Wait ${Math.ceil((cooldownUntil - now) / 1000)} s` : 'Chat'}
        </button>
      </div>
      {left < 50 && (
        <p class={`chat__count${left < 0 ? ' chat__count--over' : ''}`} aria-live="polite">
          {left} characters left
        </p>
      )}
    </form>
  );
}
