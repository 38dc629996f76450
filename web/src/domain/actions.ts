// Stream actions as the stream manager composes them: one draft per action type (so switching
// types keeps what was typed), turned into the API's action shape on submit. The limits mirror the
// server's (`src/domain/action.rs`), which stays the judge: its field errors are shown as given.

import type { ActionType, StreamAction } from '../realtime/protocol';

export const ACTION_TYPES: { type: ActionType; label: string; hint: string }[] = [
  { type: 'quiz', label: 'Quiz', hint: 'A question with 3–5 answers; viewers see at once whether they were right. 5–30 s.' },
  { type: 'poll', label: 'Poll', hint: 'Viewers vote; the tally is live and kept after the poll closes. 10 s – 30 min.' },
  { type: 'notice', label: 'Notice', hint: 'A short announcement over the stream. 5–30 s.' },
  { type: 'product', label: 'Product', hint: 'A product card that stays until you replace or stop it.' },
  { type: 'amazon_product', label: 'Amazon product', hint: 'Pick a product from an Amazon search; it stays until you replace or stop it.' },
  { type: 'celebration', label: 'Celebration', hint: 'Confetti over your stream for 10 s.' },
];

export const LIMITS = {
  quiz: { question: 256, answer: 128, answers: [3, 5], duration: [5, 30] },
  poll: { question: 256, option: 40, options: [2, 5], duration: [10, 1800] },
  notice: { title: 24, message: 256, duration: [5, 30] },
  product: { title: 32, price: 10, description: 256 },
  amazon_product: { title: 200, price: 32 },
} as const;

export interface Drafts {
  quiz: { question: string; answers: string[]; correct_index: number; duration_secs: string };
  poll: { question: string; options: string[]; duration_secs: string };
  notice: { title: string; message: string; duration_secs: string };
  product: { title: string; price: string; image_url: string; description: string };
  amazon_product: { title: string; price: string; image_url: string; product_url: string };
  celebration: Record<string, never>;
}

export function emptyDrafts(): Drafts {
  return {
    quiz: { question: '', answers: ['', '', ''], correct_index: 0, duration_secs: '20' },
    poll: { question: '', options: ['', ''], duration_secs: '60' },
    notice: { title: '', message: '', duration_secs: '15' },
    product: { title: '', price: '', image_url: '', description: '' },
    amazon_product: { title: '', price: '', image_url: '', product_url: '' },
    celebration: {},
  };
}

/**
 * A whole number of seconds from what was typed; anything else becomes -1, which no duration
 * accepts, so the server names the field. (A fraction or text would not even parse as the
 * server's integer, and the answer would name no field.)
 */
export function seconds(raw: string): number {
  const trimmed = raw.trim();
  if (!/^\d{1,7}$/.test(trimmed)) return -1;
  return Number(trimmed);
}

/**
 * The action to send for a draft, or the local problems (by API field name) that keep it from
 * being sent — only what the server could not report on a field itself.
 */
export function draftToAction(type: ActionType, drafts: Drafts): { action: StreamAction } | { errors: Record<string, string> } {
  const durationError = (raw: string) => (seconds(raw) < 0 ? { duration_secs: 'Enter a whole number of seconds.' } : null);
  switch (type) {
    case 'quiz': {
      const d = drafts.quiz;
      const bad = durationError(d.duration_secs);
      if (bad) return { errors: bad };
      return { action: { type, question: d.question, answers: d.answers, correct_index: d.correct_index, duration_secs: seconds(d.duration_secs) } };
    }
    case 'poll': {
      const d = drafts.poll;
      const bad = durationError(d.duration_secs);
      if (bad) return { errors: bad };
      return { action: { type, question: d.question, options: d.options, duration_secs: seconds(d.duration_secs) } };
    }
    case 'notice': {
      const d = drafts.notice;
      const bad = durationError(d.duration_secs);
      if (bad) return { errors: bad };
      return { action: { type, title: d.title, message: d.message, duration_secs: seconds(d.duration_secs) } };
    }
    case 'product':
      return { action: { type, ...drafts.product } };
    case 'amazon_product':
      return { action: { type, ...drafts.amazon_product } };
    case 'celebration':
      return { action: { type } };
  }
}

/** The drafts with one action loaded into its type's draft (a preset, say). */
export function loadAction(drafts: Drafts, action: StreamAction): Drafts {
  switch (action.type) {
    case 'quiz':
      return { ...drafts, quiz: { question: action.question, answers: [...action.answers], correct_index: action.correct_index, duration_secs: String(action.duration_secs) } };
    case 'poll':
      return { ...drafts, poll: { question: action.question, options: [...action.options], duration_secs: String(action.duration_secs) } };
    case 'notice':
      return { ...drafts, notice: { title: action.title, message: action.message, duration_secs: String(action.duration_secs) } };
    case 'product':
      return { ...drafts, product: { title: action.title, price: action.price, image_url: action.image_url, description: action.description } };
    case 'amazon_product':
      return { ...drafts, amazon_product: { title: action.title, price: action.price, image_url: action.image_url, product_url: action.product_url } };
    case 'celebration':
      return drafts;
  }
}

export function actionLabel(type: ActionType): string {
  return ACTION_TYPES.find((t) => t.type === type)?.label ?? type;
}

/** One line saying what an action shows. */
export function describeAction(action: StreamAction): string {
  switch (action.type) {
    case 'quiz':
    case 'poll':
      return action.question;
    case 'notice':
      return action.title;
    case 'product':
    case 'amazon_product':
      return `${action.title} · ${action.price}`;
    case 'celebration':
      return 'Confetti!';
  }
}

/**
 * Splits the API's field errors by where the composer shows them: `answers.2` under the third
 * answer, `answers` under the list, unknown fields into the form's message.
 */
export function composerErrors(fields: { field: string; message: string }[], known: readonly string[]): { fields: Record<string, string>; rest: string[] } {
  const out: Record<string, string> = {};
  const rest: string[] = [];
  for (const f of fields) {
    const base = f.field.split('.')[0]!;
    const message = f.message.trim().replace(/^./, (c) => c.toUpperCase()).replace(/([^.!?])$/, '$1.');
    if (known.includes(base)) out[f.field] ??= message;
    else rest.push(`${f.field}: ${f.message}`);
  }
  return { fields: out, rest };
}
