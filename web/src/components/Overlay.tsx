// Stream overlays: the channel's active action drawn over (or, on a phone, under) the player —
// quiz, poll, product, Amazon product, notice, celebration — with the time left from
// `expires_at` against the server's clock. The server ends actions; the countdown is only a
// countdown.

import { useMemo, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { sentence } from '../api/errors';
import { useSession } from '../api/session';
import { loginUrl } from '../domain/navigation';
import { pollShares, type ChannelView } from '../realtime/channel';
import { formatCountdown, fractionLeft, remainingMs } from '../realtime/clock';
import { liveRequest, useServerNow } from '../realtime/live';
import type { ChannelStore } from '../realtime/store';
import { RealtimeError, type ActiveAction, type AmazonProduct, type NoticeAction, type PollView, type Product, type Quiz } from '../realtime/protocol';

/** How long a closed poll's final results stay up (unless another overlay starts). */
export const RESULTS_MS = 30_000;

/** The closed poll whose results are still worth showing, if any. */
export function resultsToShow(view: Pick<ChannelView, 'action' | 'poll' | 'pollClosedAt'>, localNow: number): PollView | null {
  if (view.action || !view.poll?.closed || view.pollClosedAt === null) return null;
  return localNow - view.pollClosedAt < RESULTS_MS ? view.poll : null;
}

export function StreamOverlay({ view, store }: { view: ChannelView; store: ChannelStore }) {
  const [dismissed, setDismissed] = useState<string | null>(null);
  const results = resultsToShow(view, Date.now());
  const showing = !!view.action || (!!results && results.id !== dismissed);
  // Tick while something is showing: countdowns, and hiding the results when their time is up.
  const now = useServerNow(showing, 250);
  if (view.status !== 'ready') return null;
  const action = view.action;
  if (!action) {
    if (!results || results.id === dismissed) return null;
    return (
      <div class="stream-overlay" data-testid="overlay" data-type="poll-results">
        <PollCard view={view} store={store} poll={results} now={now} onDismiss={() => setDismissed(results.id)} />
      </div>
    );
  }
  const a = action.action;
  return (
    <div class="stream-overlay" data-testid="overlay" data-type={a.type} data-action-id={action.id}>
      <p class="visually-hidden" role="status">
        {announce(a)}
      </p>
      {a.type === 'quiz' && <QuizCard key={action.id} action={action} quiz={a} now={now} />}
      {a.type === 'poll' && view.poll && view.poll.id === action.id && <PollCard view={view} store={store} poll={view.poll} now={now} />}
      {a.type === 'product' && <ProductCard product={a} />}
      {a.type === 'amazon_product' && <AmazonCard product={a} />}
      {a.type === 'notice' && <NoticeCard action={action} notice={a} now={now} />}
      {a.type === 'celebration' && <CelebrationCard username={view.username} action={action} now={now} />}
    </div>
  );
}

/** What a screen reader hears when an overlay appears (the card itself is not a live region: its countdown ticks). */
function announce(action: ActiveAction['action']): string {
  switch (action.type) {
    case 'quiz':
      return `Quiz: ${action.question}`;
    case 'poll':
      return `Poll: ${action.question}`;
    case 'notice':
      return `Notice: ${action.title}. ${action.message}`;
    case 'product':
    case 'amazon_product':
      return `Featured product: ${action.title}, ${action.price}`;
    case 'celebration':
      return 'Celebration!';
  }
}

export function Countdown({ start, end, now, label }: { start: string; end: string | null; now: number; label: string }) {
  const left = remainingMs(end, now);
  if (left === null) return null;
  const fraction = fractionLeft(start, end, now);
  return (
    <div class="countdown" data-testid="overlay-countdown">
      <div class="countdown__bar" aria-hidden="true">
        <div class="countdown__fill" style={{ transform: `scaleX(${fraction})` }} />
      </div>
      <span class="countdown__text">
        <span class="visually-hidden">{label} </span>
        {formatCountdown(left)}
      </span>
    </div>
  );
}

function Kicker({ children, tone = 'accent' }: { children: string; tone?: 'accent' | 'gold' | 'pink' }) {
  return <span class={`overlay__kicker overlay__kicker--${tone}`}>{children}</span>;
}

function QuizCard({ action, quiz, now }: { action: ActiveAction; quiz: Quiz; now: number }) {
  const [picked, setPicked] = useState<number | null>(null);
  const over = (remainingMs(action.expires_at, now) ?? 1) === 0;
  const reveal = picked !== null || over;
  return (
    <section class="overlay overlay--quiz" aria-label="Quiz" data-testid="quiz-card">
      <header class="overlay__head">
        <Kicker>Quiz</Kicker>
        <Countdown start={action.started_at} end={action.expires_at} now={now} label="Time left:" />
      </header>
      <p class="overlay__question">{quiz.question}</p>
      <div class="quiz__answers" role="group" aria-label="Answers">
        {quiz.answers.map((answer, i) => {
          const state = !reveal ? '' : i === quiz.correct_index ? ' quiz__answer--correct' : i === picked ? ' quiz__answer--wrong' : ' quiz__answer--dim';
          return (
            <button key={i} type="button" class={`quiz__answer${state}`} disabled={reveal} aria-pressed={picked === i} onClick={() => setPicked(i)} data-testid="quiz-answer" data-index={i}>
              <span class="quiz__letter" aria-hidden="true">
                {String.fromCharCode(65 + i)}
              </span>
              <span class="quiz__text">{answer}</span>
              {reveal && i === quiz.correct_index && <span class="visually-hidden"> (correct answer)</span>}
            </button>
          );
        })}
      </div>
      {reveal && (
        <p class={`quiz__result${picked === quiz.correct_index ? ' quiz__result--right' : ''}`} role="status" data-testid="quiz-result">
          {picked === null ? `Time’s up! The answer was “${quiz.answers[quiz.correct_index]}”.` : picked === quiz.correct_index ? 'Correct! Nicely done.' : `Not quite — the answer is “${quiz.answers[quiz.correct_index]}”.`}
        </p>
      )}
    </section>
  );
}

/** A poll with its live tally: vote buttons for signed-in viewers, results for everyone. */
export function PollCard({
  view,
  store,
  poll,
  now,
  onDismiss,
  manage = false,
}: {
  view: ChannelView;
  store: ChannelStore | null;
  poll: PollView;
  now: number;
  onDismiss?: () => void;
  /** In the stream manager: results only, no voting. */
  manage?: boolean;
}) {
  const session = useSession();
  const { url } = useLocation();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const shares = pollShares(poll);
  const mine = view.myVote?.pollId === poll.id ? view.myVote.option : null;
  const signedIn = session.status === 'signed-in';
  const canVote = !manage && signedIn && !poll.closed && mine === null && !!store;
  const leader = poll.total > 0 ? Math.max(...poll.tally) : -1;

  async function vote(option: number) {
    if (!view.channel || !store) return;
    setBusy(true);
    setError(null);
    try {
      await liveRequest({ type: 'vote', channel: view.channel, poll_id: poll.id, option });
      store.update((v) => ({ ...v, myVote: { pollId: poll.id, option } }));
    } catch (e) {
      if (e instanceof RealtimeError && e.code === 'already_voted') {
        store.update((v) => ({ ...v, myVote: { pollId: poll.id, option: -1 } }));
      } else {
        setError(e instanceof RealtimeError ? (e.code === 'poll_closed' ? 'This poll has closed.' : sentence(e.message)) : 'Your vote was not counted. Try again.');
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="overlay overlay--poll" aria-label="Poll" data-testid="poll-card" data-poll-id={poll.id} data-closed={poll.closed}>
      <header class="overlay__head">
        <Kicker tone="gold">{poll.closed ? 'Poll · final results' : 'Poll'}</Kicker>
        {poll.closed ? (
          onDismiss && (
            <button type="button" class="icon-btn overlay__close" aria-label="Hide the results" onClick={onDismiss}>
              ×
            </button>
          )
        ) : (
          <Countdown start={poll.started_at} end={poll.deadline} now={now} label="Time left:" />
        )}
      </header>
      <p class="overlay__question">{poll.question}</p>
      <ul class="poll__options">
        {poll.options.map((option, i) => {
          const chosen = mine === i;
          const winner = poll.closed && poll.tally[i] === leader;
          const body = (
            <>
              <span class="poll__fill" style={{ transform: `scaleX(${(shares[i] ?? 0) / 100})` }} aria-hidden="true" />
              <span class="poll__label">
                {option}
                {chosen && (
                  <span class="poll__mine" data-testid="poll-mine">
                    {' '}
                    ✓ your vote
                  </span>
                )}
              </span>
              <span class="poll__count" data-testid="poll-count">
                {shares[i]}% · {poll.tally[i] ?? 0}
              </span>
            </>
          );
          return (
            <li key={i} class={`poll__option${chosen ? ' poll__option--mine' : ''}${winner ? ' poll__option--winner' : ''}`} data-testid="poll-option" data-index={i} data-votes={poll.tally[i] ?? 0}>
              {canVote ? (
                <button type="button" class="poll__button" disabled={busy} onClick={() => vote(i)} aria-label={`Vote for ${option}`} data-testid="poll-vote">
                  {body}
                </button>
              ) : (
                <div class="poll__button poll__button--static">{body}</div>
              )}
            </li>
          );
        })}
      </ul>
      <footer class="overlay__foot">
        <span data-testid="poll-total">
          {poll.total} {poll.total === 1 ? 'vote' : 'votes'}
        </span>
        {!manage && !signedIn && !poll.closed && (
          <a href={loginUrl(url)} class="overlay__signin" data-testid="poll-signin">
            Log in to vote
          </a>
        )}
        {mine === -1 && <span>You have voted</span>}
        {mine !== null && mine >= 0 && !poll.closed && <span>Thanks for voting!</span>}
      </footer>
      {error && (
        <p class="overlay__error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

function ProductImage({ src, alt }: { src: string; alt: string }) {
  const [broken, setBroken] = useState(false);
  if (broken) {
    return (
      <div class="product__image product__image--none" aria-hidden="true">
        <svg viewBox="0 0 24 24">
          <path d="M4 7l8-4 8 4v10l-8 4-8-4z M4 7l8 4 8-4 M12 11v10" fill="none" stroke="currentColor" stroke-width="1.5" stroke-linejoin="round" />
        </svg>
      </div>
    );
  }
  return <img class="product__image" src={src} alt={alt} loading="lazy" referrerpolicy="no-referrer" onError={() => setBroken(true)} />;
}

function ProductCard({ product }: { product: Product }) {
  return (
    <section class="overlay overlay--product" aria-label="Featured product" data-testid="product-card">
      <ProductImage src={product.image_url} alt={product.title} />
      <div class="product__body">
        <Kicker tone="pink">Featured</Kicker>
        <p class="product__title">{product.title}</p>
        <p class="product__price">{product.price}</p>
        {product.description && <p class="product__description">{product.description}</p>}
      </div>
    </section>
  );
}

function AmazonCard({ product }: { product: AmazonProduct }) {
  return (
    <section class="overlay overlay--product" aria-label="Product on Amazon" data-testid="amazon-card">
      <ProductImage src={product.image_url} alt={product.title} />
      <div class="product__body">
        <Kicker tone="gold">On Amazon</Kicker>
        <p class="product__title">{product.title}</p>
        <p class="product__price">{product.price}</p>
        <a class="btn btn--secondary product__link" href={product.product_url} target="_blank" rel="noopener noreferrer sponsored">
          View on Amazon
        </a>
      </div>
    </section>
  );
}

function NoticeCard({ action, notice, now }: { action: ActiveAction; notice: NoticeAction; now: number }) {
  return (
    <section class="overlay overlay--notice" aria-label="Notice" data-testid="notice-card">
      <header class="overlay__head">
        <Kicker>Notice</Kicker>
        <Countdown start={action.started_at} end={action.expires_at} now={now} label="Time left:" />
      </header>
      <p class="notice-card__title">{notice.title}</p>
      <p class="notice-card__message">{notice.message}</p>
    </section>
  );
}

function CelebrationCard({ username, action, now }: { username: string; action: ActiveAction; now: number }) {
  return (
    <section class="overlay overlay--celebration" aria-label="Celebration" data-testid="celebration-card">
      <p class="celebration__title">
        {username} is celebrating!
      </p>
      <Countdown start={action.started_at} end={action.expires_at} now={now} label="Time left:" />
    </section>
  );
}

const CONFETTI_COLORS = ['#9147ff', '#ffb31a', '#00c07f', '#f0394a', '#3aa6ff', '#ff6bd6', '#ffffff'];

/** Confetti in pure CSS over the player, for a celebration. Pieces are placed from the action id, so re-renders keep them still. */
export function Confetti({ seed }: { seed: string }) {
  const pieces = useMemo(() => {
    let h = 2166136261;
    for (const c of seed) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
    const next = () => {
      h = Math.imul(h ^ (h >>> 15), 2246822507);
      h = Math.imul(h ^ (h >>> 13), 3266489909);
      return ((h ^= h >>> 16) >>> 0) / 4294967296;
    };
    return Array.from({ length: 48 }, (_, i) => ({
      left: `${(next() * 100).toFixed(1)}%`,
      delay: `${(next() * 2.5).toFixed(2)}s`,
      duration: `${(2.6 + next() * 2).toFixed(2)}s`,
      color: CONFETTI_COLORS[i % CONFETTI_COLORS.length]!,
      spin: `${Math.round(next() * 720 - 360)}deg`,
      drift: `${Math.round(next() * 80 - 40)}px`,
      shape: i % 3,
    }));
  }, [seed]);
  return (
    <div class="confetti" aria-hidden="true" data-testid="confetti">
      {pieces.map((p, i) => (
        <span
          key={i}
          class={`confetti__piece confetti__piece--${p.shape}`}
          style={{ left: p.left, background: p.color, animationDelay: p.delay, animationDuration: p.duration, '--spin': p.spin, '--drift': p.drift }}
        />
      ))}
    </div>
  );
}
