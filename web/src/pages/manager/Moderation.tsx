// Chat moderation for the owner (and moderators): the chat's modes, the moderators, and the bans
// and timeouts in force. Lists reload when the channel reports a moderation event.

import { useEffect, useState } from 'preact/hooks';
import { ApiError, formErrors, sentence } from '../../api/errors';
import { moderation, type Restriction } from '../../api/live';
import { FormError, SubmitButton, TextAreaField, TextField } from '../../components/Form';
import { toast } from '../../components/Toasts';
import { useResource } from '../../components/useResource';
import type { ChannelView } from '../../realtime/channel';
import { formatUntil } from '../../realtime/clock';
import type { ChatSettings } from '../../realtime/protocol';

function failed(e: unknown) {
  toast(e instanceof ApiError ? sentence(e.message) : 'That did not work. Try again.', 'error');
}

/** Banned words as typed: one per line or separated by commas. */
export function parseWords(raw: string): string[] {
  const words = raw
    .split(/[\n,]/)
    .map((w) => w.trim().toLowerCase())
    .filter(Boolean);
  return [...new Set(words)];
}

export function Moderation({ view, username }: { view: ChannelView; username: string }) {
  return (
    <section class="panel" id="moderation" aria-labelledby="moderation-title" data-testid="moderation">
      <h2 id="moderation-title" class="panel__title">
        Chat moderation
      </h2>
      <div class="moderation__grid">
        <ChatModes settings={view.settings} username={username} />
        <div class="moderation__lists">
          <Restrictions view={view} username={username} />
          {view.you.owner && <Moderators view={view} username={username} />}
        </div>
      </div>
    </section>
  );
}

function ChatModes({ settings, username }: { settings: ChatSettings; username: string }) {
  const [slow, setSlow] = useState(String(settings.slow_mode_secs));
  const [followers, setFollowers] = useState(settings.followers_only_minutes !== null);
  const [minutes, setMinutes] = useState(String(settings.followers_only_minutes ?? 0));
  const [words, setWords] = useState(settings.banned_words.join('\n'));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  // Another moderator changed them: show what is in force.
  useEffect(() => {
    setSlow(String(settings.slow_mode_secs));
    setFollowers(settings.followers_only_minutes !== null);
    setMinutes(String(settings.followers_only_minutes ?? 0));
    setWords(settings.banned_words.join('\n'));
  }, [settings]);

  async function save(e: Event) {
    e.preventDefault();
    const local: Record<string, string> = {};
    const slowSecs = /^\d{1,5}$/.test(slow.trim()) ? Number(slow.trim()) : NaN;
    const minMinutes = /^\d{1,7}$/.test(minutes.trim()) ? Number(minutes.trim()) : NaN;
    if (Number.isNaN(slowSecs)) local.slow_mode_secs = 'Enter a whole number of seconds (0 turns slow mode off).';
    if (followers && Number.isNaN(minMinutes)) local.followers_only_minutes = 'Enter a whole number of minutes (0: any follower).';
    setErrors(local);
    setFormError(null);
    if (Object.keys(local).length) return;
    setBusy(true);
    try {
      await moderation.saveSettings(username, { slow_mode_secs: slowSecs, followers_only_minutes: followers ? minMinutes : null, banned_words: parseWords(words) });
      toast('Chat settings saved');
    } catch (error) {
      const split = formErrors(error, { slow_mode_secs: 'slow_mode_secs', followers_only_minutes: 'followers_only_minutes', banned_words: 'banned_words' });
      // A problem with one word (`banned_words.3`) belongs under the list.
      if (error instanceof ApiError) {
        const word = error.fields.find((f) => f.field.startsWith('banned_words.'));
        if (word) split.fields.banned_words ??= sentence(word.message);
      }
      setErrors(split.fields);
      setFormError(split.fields.banned_words && split.form?.startsWith('Banned words') ? null : split.form);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="form" onSubmit={save} noValidate data-testid="chat-settings">
      <h3 class="panel__subtitle">Chat modes</h3>
      <TextField label="Slow mode (seconds between messages)" name="slow_mode_secs" value={slow} onValue={setSlow} error={errors.slow_mode_secs} inputMode="numeric" hint="0 turns slow mode off; up to 3600. Moderators are exempt." />
      <label class="check">
        <input type="checkbox" checked={followers} onChange={(e) => setFollowers(e.currentTarget.checked)} data-testid="followers-only" />
        <span>Followers-only chat</span>
      </label>
      {followers && (
        <TextField label="Minimum follow age (minutes)" name="followers_only_minutes" value={minutes} onValue={setMinutes} error={errors.followers_only_minutes} inputMode="numeric" hint="0 lets any follower chat." />
      )}
      <TextAreaField label="Banned words" name="banned_words" value={words} onValue={setWords} error={errors.banned_words} rows={3} hint="One per line (or separated by commas). Messages containing one are refused." />
      <FormError message={formError} />
      <SubmitButton busy={busy} variant="secondary" data-testid="save-chat-settings">
        Save chat modes
      </SubmitButton>
    </form>
  );
}

const DURATIONS = [
  { secs: 0, label: 'Ban' },
  { secs: 60, label: 'Time out 1 minute' },
  { secs: 600, label: 'Time out 10 minutes' },
  { secs: 3600, label: 'Time out 1 hour' },
  { secs: 86_400, label: 'Time out 1 day' },
  { secs: 604_800, label: 'Time out 1 week' },
];

function Restrictions({ view, username }: { view: ChannelView; username: string }) {
  const list = useResource(() => moderation.restrictions(username), [username, view.moderationSeq]);
  const [target, setTarget] = useState('');
  const [how, setHow] = useState('0');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const now = Date.now();

  async function apply(e: Event) {
    e.preventDefault();
    const who = target.trim();
    if (!who) {
      setError('Enter a username.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const secs = Number(how);
      if (secs === 0) await moderation.ban(username, who);
      else await moderation.timeout(username, who, secs);
      toast(secs === 0 ? `${who} is banned` : `${who} is timed out`);
      setTarget('');
      list.reload();
    } catch (err) {
      setError(err instanceof ApiError ? (err.status === 404 ? `There is no user called “${who}”.` : sentence(err.message)) : 'That did not work. Try again.');
    } finally {
      setBusy(false);
    }
  }

  async function lift(r: Restriction) {
    if (!r.username) return;
    try {
      if (r.kind === 'ban') await moderation.unban(username, r.username);
      else await moderation.liftTimeout(username, r.username);
      toast(r.kind === 'ban' ? `${r.username} is unbanned` : `Lifted ${r.username}’s timeout`);
      list.reload();
    } catch (e) {
      failed(e);
    }
  }

  const items = list.data?.restrictions ?? [];
  return (
    <div data-testid="restrictions">
      <h3 class="panel__subtitle">Bans and timeouts</h3>
      <form class="row-form" onSubmit={apply} noValidate>
        <label class="visually-hidden" for="restrict-user">
          Username
        </label>
        <input id="restrict-user" class="input" placeholder="Username" value={target} onInput={(e) => setTarget(e.currentTarget.value)} autocapitalize="none" data-testid="restrict-user" />
        <label class="visually-hidden" for="restrict-how">
          Action
        </label>
        <select id="restrict-how" class="input" value={how} onChange={(e) => setHow(e.currentTarget.value)} data-testid="restrict-how">
          {DURATIONS.map((d) => (
            <option key={d.secs} value={String(d.secs)}>
              {d.label}
            </option>
          ))}
        </select>
        <button type="submit" class="btn btn--danger" disabled={busy} data-testid="restrict-apply">
          Apply
        </button>
      </form>
      {error && (
        <p class="field__error" role="alert">
          {error}
        </p>
      )}
      {items.length === 0 ? (
        <p class="muted small" data-testid="no-restrictions">
          Nobody is banned or timed out.
        </p>
      ) : (
        <ul class="people" data-testid="restriction-list">
          {items.map((r) => (
            <li key={`${r.kind}-${r.user_id}`} class="people__row" data-testid="restriction" data-username={r.username ?? ''} data-kind={r.kind}>
              <span class="people__name">{r.username ?? 'deleted account'}</span>
              <span class={`pill ${r.kind === 'ban' ? 'pill--bad' : 'pill--warn'}`}>{r.kind === 'ban' ? 'banned' : `timed out · ${r.until ? formatUntil(r.until, now) : ''}`}</span>
              {r.username && (
                <button type="button" class="btn btn--ghost" onClick={() => lift(r)} data-testid="restriction-lift">
                  {r.kind === 'ban' ? 'Unban' : 'Lift'}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function Moderators({ view, username }: { view: ChannelView; username: string }) {
  const list = useResource(() => moderation.moderators(username), [username, view.moderationSeq]);
  const [target, setTarget] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function add(e: Event) {
    e.preventDefault();
    const who = target.trim();
    if (!who) {
      setError('Enter a username.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await moderation.addModerator(username, who);
      toast(`${who} is now a moderator`);
      setTarget('');
      list.reload();
    } catch (err) {
      setError(err instanceof ApiError ? (err.status === 404 ? `There is no user called “${who}”.` : sentence(err.message)) : 'That did not work. Try again.');
    } finally {
      setBusy(false);
    }
  }

  async function remove(who: string) {
    try {
      await moderation.removeModerator(username, who);
      toast(`${who} is no longer a moderator`);
      list.reload();
    } catch (e) {
      failed(e);
    }
  }

  const items = list.data?.moderators ?? [];
  return (
    <div class="moderation__section" data-testid="moderators">
      <h3 class="panel__subtitle">Moderators</h3>
      <p class="muted small panel__note">Moderators can delete messages, time people out and ban them, and change the chat modes.</p>
      <form class="row-form" onSubmit={add} noValidate>
        <label class="visually-hidden" for="moderator-user">
          Username
        </label>
        <input id="moderator-user" class="input" placeholder="Username" value={target} onInput={(e) => setTarget(e.currentTarget.value)} autocapitalize="none" data-testid="moderator-user" />
        <button type="submit" class="btn btn--secondary" disabled={busy} data-testid="moderator-add">
          Add moderator
        </button>
      </form>
      {error && (
        <p class="field__error" role="alert">
          {error}
        </p>
      )}
      {items.length === 0 ? (
        <p class="muted small">No moderators yet.</p>
      ) : (
        <ul class="people" data-testid="moderator-list">
          {items.map((m) => (
            <li key={m.user_id} class="people__row" data-testid="moderator" data-username={m.username}>
              <span class="people__name">{m.username}</span>
              <button type="button" class="btn btn--ghost" onClick={() => remove(m.username)} data-testid="moderator-remove">
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
