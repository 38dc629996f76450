import { describe, expect, it } from 'vitest';
import { resultsToShow, RESULTS_MS } from '../src/components/Overlay';
import { composerErrors, describeAction, draftToAction, emptyDrafts, loadAction, seconds } from '../src/domain/actions';
import { parseWords } from '../src/pages/manager/Moderation';
import type { PollView } from '../src/realtime/protocol';

describe('the overlay composer', () => {
  it('turns each draft into the action the API takes', () => {
    const drafts = emptyDrafts();
    drafts.quiz = { question: 'Q?', answers: ['a', 'b', 'c'], correct_index: 2, duration_secs: ' 15 ' };
    expect(draftToAction('quiz', drafts)).toEqual({ action: { type: 'quiz', question: 'Q?', answers: ['a', 'b', 'c'], correct_index: 2, duration_secs: 15 } });
    expect(draftToAction('celebration', drafts)).toEqual({ action: { type: 'celebration' } });
    drafts.product = { title: 'Hoodie', price: '$49', image_url: 'https://x/y.jpg', description: '' };
    expect(draftToAction('product', drafts)).toEqual({ action: { type: 'product', title: 'Hoodie', price: '$49', image_url: 'https://x/y.jpg', description: '' } });
  });

  it('refuses a duration that is not a whole number before asking the server', () => {
    for (const raw of ['', '1.5', 'ten', '-3']) expect(seconds(raw)).toBe(-1);
    const drafts = emptyDrafts();
    drafts.notice.duration_secs = '7.5';
    expect(draftToAction('notice', drafts)).toEqual({ errors: { duration_secs: 'Enter a whole number of seconds.' } });
    // Out of range is the server's to say, on the field.
    drafts.notice.duration_secs = '99';
    expect(draftToAction('notice', drafts)).toMatchObject({ action: { duration_secs: 99 } });
  });

  it('loads a preset into its own draft and leaves the others', () => {
    const drafts = loadAction(emptyDrafts(), { type: 'poll', question: 'Next?', options: ['A', 'B', 'C'], duration_secs: 120 });
    expect(drafts.poll).toEqual({ question: 'Next?', options: ['A', 'B', 'C'], duration_secs: '120' });
    expect(drafts.quiz).toEqual(emptyDrafts().quiz);
    expect(describeAction({ type: 'amazon_product', title: 'Shoes', price: '$59.99', image_url: '', product_url: '' })).toBe('Shoes · $59.99');
  });

  it('puts each API field error where the composer shows it', () => {
    const split = composerErrors(
      [
        { field: 'question', message: 'must not be empty' },
        { field: 'answers.1', message: 'must differ from the other entries' },
        { field: 'answers.1', message: 'second problem' },
        { field: 'mystery', message: 'what is this' },
      ],
      ['question', 'answers'],
    );
    expect(split.fields).toEqual({ question: 'Must not be empty.', 'answers.1': 'Must differ from the other entries.' });
    expect(split.rest).toEqual(['mystery: what is this']);
  });
});

describe('poll results after the close', () => {
  const closed: PollView = { id: 'p', question: 'Q', options: ['a', 'b'], tally: [1, 2], total: 3, started_at: '', deadline: '', closed: true };

  it('stay up for a while unless another overlay starts', () => {
    expect(resultsToShow({ action: null, poll: closed, pollClosedAt: 1000 }, 1000 + RESULTS_MS - 1)).toBe(closed);
    expect(resultsToShow({ action: null, poll: closed, pollClosedAt: 1000 }, 1000 + RESULTS_MS)).toBeNull();
    expect(resultsToShow({ action: null, poll: { ...closed, closed: false }, pollClosedAt: null }, 0)).toBeNull();
  });
});

describe('banned words as typed', () => {
  it('splits on lines and commas, trims, lowercases and drops repeats', () => {
    expect(parseWords('Spoiler\n  leak , spoiler,,\n\n')).toEqual(['spoiler', 'leak']);
  });
});
