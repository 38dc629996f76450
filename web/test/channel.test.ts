import { describe, expect, it } from 'vitest';
import { CHAT_KEEP, applyEvent, applySnapshot, initialView, mergeChat, pollShares, type ChannelView } from '../src/realtime/channel';
import { createServerClock, formatCountdown, fractionLeft, remainingMs } from '../src/realtime/clock';
import type { ActiveAction, ChannelEvent, ChatLine, PollView, SnapshotFrame } from '../src/realtime/protocol';

const CH = 'c1';
const ME = 'me';

function line(offset: number, text = `m${offset}`): ChatLine {
  return { offset, user_id: 'u', username: 'bob', color: 'blue', text, sent_at: '2026-11-21T14:00:00Z' };
}

function snap(over: Partial<SnapshotFrame> = {}, chat: ChatLine[] = [], historyLost = false): SnapshotFrame {
  return {
    type: 'snapshot',
    id: 1,
    channel: CH,
    username: 'anna',
    viewers: 2,
    live: false,
    live_since: null,
    action: null,
    poll: null,
    stage: null,
    chat: { messages: chat, last_offset: chat.at(-1)?.offset ?? null, history_lost: historyLost },
    settings: { slow_mode_secs: 0, followers_only_minutes: null, banned_words: [] },
    you: { signed_in: true, owner: false, moderator: false, timed_out_until: null, poll_vote: null },
    ...over,
  };
}

const poll: PollView = {
  id: 'p1',
  question: 'Next game?',
  options: ['Chess', 'Go'],
  tally: [0, 0],
  total: 0,
  started_at: '2026-11-21T14:00:00Z',
  deadline: '2026-11-21T14:00:10Z',
  closed: false,
};
const pollAction: ActiveAction = {
  id: 'p1',
  action: { type: 'poll', question: 'Next game?', options: ['Chess', 'Go'], duration_secs: 10 },
  started_at: poll.started_at,
  expires_at: poll.deadline,
};
const notice: ActiveAction = {
  id: 'n1',
  action: { type: 'notice', title: 'Hi', message: 'there', duration_secs: 5 },
  started_at: '2026-11-21T14:00:20Z',
  expires_at: '2026-11-21T14:00:25Z',
};

function run(view: ChannelView, ...events: ChannelEvent[]): ChannelView {
  return events.reduce((v, e) => applyEvent(v, e, ME, 1000), view);
}

describe('chat', () => {
  it('keeps each offset once, in order, however often it arrives', () => {
    // A message sent within a tick of subscribing is in the snapshot and again in the first frame.
    let view = applySnapshot(initialView('anna'), snap({}, [line(1), line(2)]), 0);
    view = run(view, { type: 'chat', channel: CH, messages: [line(2), line(3)] }, { type: 'chat', channel: CH, messages: [line(3)] });
    expect(view.chat.map((m) => m.offset)).toEqual([1, 2, 3]);
    expect(mergeChat([line(5)], [line(4), line(6)]).map((m) => m.offset)).toEqual([4, 5, 6]);
  });

  it('keeps only the newest messages', () => {
    const many = Array.from({ length: CHAT_KEEP + 20 }, (_, i) => line(i + 1));
    const view = applySnapshot(initialView('anna'), snap({}, many), 0);
    expect(view.chat).toHaveLength(CHAT_KEEP);
    expect(view.chat[0]!.offset).toBe(21);
  });

  it('merges the replay after a reconnect and marks lost history as a gap', () => {
    let view = applySnapshot(initialView('anna'), snap({}, [line(1), line(2)]), 0);
    view = applySnapshot(view, snap({}, [line(3)]), 0);
    expect(view.chat.map((m) => m.offset)).toEqual([1, 2, 3]);
    expect(view.gaps).toEqual([]);
    view = applySnapshot(view, snap({}, [line(9), line(10)], true), 0);
    expect(view.chat.map((m) => m.offset)).toEqual([1, 2, 3, 9, 10]);
    expect(view.gaps).toEqual([9]);
  });

  it('drops a deleted message', () => {
    let view = applySnapshot(initialView('anna'), snap({}, [line(1), line(2)]), 0);
    view = run(view, { type: 'chat_deleted', channel: CH, offset: 1 }, { type: 'chat_deleted', channel: CH, offset: 77 });
    expect(view.chat.map((m) => m.offset)).toEqual([2]);
  });
});

describe('polls and actions', () => {
  it('shows the running poll to a late joiner, follows the tally and keeps the final results', () => {
    let view = applySnapshot(initialView('anna'), snap({ poll: { ...poll, tally: [1, 0], total: 1 }, action: pollAction }), 0);
    expect(view.poll?.tally).toEqual([1, 0]);
    view = run(view, { type: 'poll_tally', channel: CH, poll_id: 'p1', tally: [1, 2], total: 3 });
    expect(view.poll).toMatchObject({ tally: [1, 2], total: 3, closed: false });
    // Running out: poll_closed first, then action_ended. The results stay.
    view = run(view, { type: 'poll_closed', channel: CH, poll: { ...poll, tally: [1, 3], total: 4, closed: true } }, { type: 'action_ended', channel: CH, action_id: 'p1', reason: 'expired' });
    expect(view.action).toBeNull();
    expect(view.poll).toMatchObject({ tally: [1, 3], closed: true });
    expect(view.pollClosedAt).toBe(1000);
    // A late tally changes nothing.
    view = run(view, { type: 'poll_tally', channel: CH, poll_id: 'p1', tally: [0, 0], total: 0 });
    expect(view.poll?.tally).toEqual([1, 3]);
    // The next overlay takes their place.
    view = run(view, { type: 'action_started', channel: CH, action: notice });
    expect(view.poll).toBeNull();
    expect(view.action?.id).toBe('n1');
  });

  it('forgets the vote of an earlier poll', () => {
    let view = applySnapshot(initialView('anna'), snap({ poll, action: pollAction }), 0);
    view = { ...view, myVote: { pollId: 'p1', option: 1 } };
    view = run(view, { type: 'poll_started', channel: CH, poll: { ...poll, id: 'p2' } });
    expect(view.myVote).toBeNull();
  });

  it('ends only the action that is showing', () => {
    let view = run(applySnapshot(initialView('anna'), snap(), 0), { type: 'action_started', channel: CH, action: notice });
    view = run(view, { type: 'action_ended', channel: CH, action_id: 'old', reason: 'replaced' });
    expect(view.action?.id).toBe('n1');
    view = run(view, { type: 'action_ended', channel: CH, action_id: 'n1', reason: 'expired' });
    expect(view.action).toBeNull();
  });

  it('shares votes as whole percentages', () => {
    expect(pollShares({ tally: [1, 3], total: 4 })).toEqual([25, 75]);
    expect(pollShares({ tally: [0, 0], total: 0 })).toEqual([0, 0]);
  });
});

describe('moderation', () => {
  it('applies events about me to my role and ignores those about others', () => {
    let view = applySnapshot(initialView('anna'), snap(), 0);
    view = run(view, { type: 'moderation', channel: CH, event: { kind: 'timed_out', user_id: 'other', username: 'x', until: '2026-11-21T15:00:00Z' } });
    expect(view.you.timed_out_until).toBeNull();
    view = run(view, { type: 'moderation', channel: CH, event: { kind: 'timed_out', user_id: ME, username: 'me', until: '2026-11-21T15:00:00Z' } });
    expect(view.you.timed_out_until).toBe('2026-11-21T15:00:00Z');
    view = run(view, { type: 'moderation', channel: CH, event: { kind: 'moderator_added', user_id: ME, username: 'me' } });
    expect(view.you.moderator).toBe(true);
    view = run(view, { type: 'moderation', channel: CH, event: { kind: 'settings', settings: { slow_mode_secs: 5, followers_only_minutes: 0, banned_words: ['spoiler'] } } });
    expect(view.settings.slow_mode_secs).toBe(5);
  });
});

describe('stages', () => {
  const stage = { id: 's1', host_id: 'h', created_at: '2026-11-21T14:00:00Z', publishers: [{ user_id: 'h', username: 'anna', role: 'host' as const, joined_at: '2026-11-21T14:00:00Z' }], capacity: 12, queue_length: 0, host_connected: true };

  it('keeps the host queue from notices and drops whoever went on stage', () => {
    let view = applySnapshot(initialView('anna'), snap({ stage: { ...stage, queue: [] } }), 0);
    const request = { user_id: 'bob', username: 'bob', requested_at: '2026-11-21T14:00:01Z' };
    view = run(view, { type: 'notice', channel: CH, event: { kind: 'join_requested', request } }, { type: 'notice', channel: CH, event: { kind: 'join_requested', request } });
    expect(view.queue).toEqual([request]);
    view = run(view, {
      type: 'stage',
      channel: CH,
      event: { kind: 'updated', stage: { ...stage, publishers: [...stage.publishers, { user_id: 'bob', username: 'bob', role: 'requested', joined_at: '2026-11-21T14:00:02Z' }] } },
    });
    expect(view.queue).toEqual([]);
    expect(view.stage?.publishers).toHaveLength(2);
  });

  it('tells the requester they were accepted, and forgets it all when the stage ends', () => {
    let view = applySnapshot(initialView('anna'), snap({ stage }), 0);
    view = { ...view, myStage: { state: 'pending', position: 1 } };
    const token = { token: 't', participant_id: 'p', capabilities: ['PUBLISH', 'SUBSCRIBE'], expires_at: '2026-11-22T00:00:00Z' };
    view = run(view, { type: 'notice', channel: CH, event: { kind: 'join_accepted', token, role: 'requested' } });
    expect(view.myStage).toEqual({ state: 'accepted', token, role: 'requested' });
    view = run(view, { type: 'stage', channel: CH, event: { kind: 'ended', stage_id: 's1', reason: 'ended_by_host' } });
    expect(view.stage).toBeNull();
    expect(view.myStage).toEqual({ state: 'none' });
  });
});

describe('the server clock', () => {
  it('estimates the offset from fresh events, never more than the network allows', () => {
    let local = Date.parse('2026-11-21T14:00:00Z');
    const clock = createServerClock(() => local);
    expect(clock.now()).toBe(local);
    // The server is 60 s ahead; events arrive 50 ms and 10 ms after they happened.
    clock.observe(new Date(local + 60_000 - 50).toISOString());
    clock.observe(new Date(local + 60_000 - 10).toISOString());
    expect(clock.offset).toBe(59_990);
    local += 1000;
    expect(clock.now()).toBe(local + 59_990);
  });

  it('counts down to an end and formats it', () => {
    const now = Date.parse('2026-11-21T14:00:00Z');
    expect(remainingMs('2026-11-21T14:00:07.2Z', now)).toBe(7200);
    expect(remainingMs('2026-11-21T13:00:00Z', now)).toBe(0);
    expect(remainingMs(null, now)).toBeNull();
    expect(formatCountdown(7200)).toBe('0:08');
    expect(formatCountdown(0)).toBe('0:00');
    expect(formatCountdown(150_000)).toBe('2:30');
    expect(formatCountdown(3_723_000)).toBe('1:02:03');
    expect(fractionLeft('2026-11-21T13:59:50Z', '2026-11-21T14:00:10Z', now)).toBe(0.5);
    expect(fractionLeft('2026-11-21T13:59:50Z', null, now)).toBe(1);
  });
});
