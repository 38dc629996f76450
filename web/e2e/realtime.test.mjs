// @ts-check
// The live side, with two people in two browser contexts — a streamer in the stream manager and a
// viewer on the channel page — and an anonymous visitor: chat both ways with moderation, overlays
// that appear and expire, a poll that outlives the streamer's page, the stage's join queue, and a
// ban.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { callApi, launchBrowser, logInThroughPage, loginToken, newPage, register, screenshot, startServer } from './harness.mjs';

/** @type {import('./harness.mjs').Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {Awaited<ReturnType<typeof newPage>>} */
let streamer;
/** @type {Awaited<ReturnType<typeof newPage>>} */
let viewer;

const STREAMER = 'stella';
const VIEWER = 'victor';

/** @param {import('playwright-core').Page} page */
async function openManager(page) {
  await page.goto(`${server.url}/manager`);
  await page.getByTestId('composer').waitFor();
  await page.waitForSelector('[data-testid="connection-state"][data-state="open"]');
}

/** @param {import('playwright-core').Page} page */
async function openChannel(page) {
  await page.goto(`${server.url}/${STREAMER}`);
  await page.waitForSelector('[data-testid="chat-panel"][data-state="ready"]');
  await page.waitForSelector('[data-testid="connection-state"][data-state="open"]');
}

/**
 * @param {import('playwright-core').Page} page
 * @param {string} text
 */
async function say(page, text) {
  await page.getByTestId('chat-input').fill(text);
  await page.getByTestId('chat-send').click();
}

/**
 * @param {import('playwright-core').Page} page
 * @param {string} text
 */
function chatLine(page, text) {
  return page.getByTestId('chat-messages').getByTestId('chat-message').filter({ hasText: text });
}

/**
 * Waits until the toasts are gone, so a full-page picture does not show them mid-page.
 * @param {import('playwright-core').Page} page
 */
async function calm(page) {
  await page.waitForFunction(() => document.querySelectorAll('.toast').length === 0, null, { timeout: 6_000 });
}

/**
 * @param {import('playwright-core').Page} page
 * @param {string} type
 */
async function chooseType(page, type) {
  await page.getByTestId(`type-${type}`).check({ force: true });
  await page.getByTestId(`composer-${type}`).waitFor();
}

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  await register(server.url, { username: STREAMER, color: 'purple', avatar: 'tiger' });
  await register(server.url, { username: VIEWER, color: 'turquoise', avatar: 'hedgehog' });
  streamer = await newPage(browser);
  await logInThroughPage(streamer.page, server.url, STREAMER);
  viewer = await newPage(browser);
  await logInThroughPage(viewer.page, server.url, VIEWER);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe('the live side of a channel', () => {
  it('streamer and viewer chat both ways, and chat rules and moderation apply at once', async () => {
    await openManager(streamer.page);
    await openChannel(viewer.page);

    await say(viewer.page, 'hello <b>stella</b>!');
    await chatLine(streamer.page, 'hello <b>stella</b>!').waitFor();
    await say(streamer.page, 'welcome, victor');
    await chatLine(viewer.page, 'welcome, victor').waitFor();
    // Text stays text.
    assert.equal(await viewer.page.locator('.chat__text b').count(), 0);
    assert.equal(await viewer.page.getByTestId('viewer-number').innerText(), '2');

    // The streamer deletes the viewer's message from the manager's chat; it vanishes for both.
    await say(viewer.page, 'this one goes away');
    const doomed = chatLine(streamer.page, 'this one goes away');
    await doomed.getByTestId('mod-menu-button').click();
    await doomed.getByTestId('mod-delete').click();
    await chatLine(viewer.page, 'this one goes away').waitFor({ state: 'detached' });
    await doomed.waitFor({ state: 'detached' });

    // A timeout switches the viewer's input off until the streamer lifts it.
    const first = chatLine(streamer.page, 'hello <b>stella</b>!');
    await first.getByTestId('mod-menu-button').click();
    await first.getByTestId('mod-timeout-60').click();
    await viewer.page.getByTestId('chat-timed-out').waitFor();
    assert.equal(await viewer.page.getByTestId('chat-input').isDisabled(), true);
    const timeout = streamer.page.locator('[data-testid="restriction"][data-username="victor"][data-kind="timeout"]');
    await timeout.getByTestId('restriction-lift').click();
    await viewer.page.getByTestId('chat-timed-out').waitFor({ state: 'detached' });
    assert.equal(await viewer.page.getByTestId('chat-input').isDisabled(), false);

    // Chat modes, set in the manager and enforced by the server: a banned word…
    const settings = streamer.page.getByTestId('chat-settings');
    await settings.getByLabel('Banned words').fill('spoiler');
    await settings.getByTestId('save-chat-settings').click();
    await streamer.page.getByTestId('toasts').filter({ hasText: 'Chat settings saved' }).waitFor();
    await say(viewer.page, 'huge spoiler ahead');
    assert.match(await viewer.page.getByTestId('chat-error').innerText(), /word this channel does not allow/);
    await say(viewer.page, 'all good here');
    await chatLine(streamer.page, 'all good here').waitFor();
    // …and slow mode: the next message comes too soon; the server says so, and the send button
    // counts the wait down.
    await settings.getByLabel('Slow mode (seconds between messages)').fill('30');
    await settings.getByTestId('save-chat-settings').click();
    await viewer.page.getByTestId('chat-modes').filter({ hasText: 'Slow mode · 30 s' }).waitFor();
    await say(viewer.page, 'still there?');
    assert.match(await viewer.page.getByTestId('chat-error').innerText(), /Slow mode is on: wait 30 s/);
    assert.match(await viewer.page.getByTestId('chat-send').innerText(), /Wait \d+ s/);
    await screenshot(viewer.page, 'channel-chat-viewer', { fullPage: false });

    // Reset for the rest of the suite.
    await settings.getByLabel('Slow mode (seconds between messages)').fill('0');
    await settings.getByLabel('Banned words').fill('');
    await settings.getByTestId('save-chat-settings').click();
    await viewer.page.getByTestId('chat-modes').waitFor({ state: 'detached' });
    await calm(streamer.page);
    await screenshot(streamer.page, 'manager');
    assert.deepEqual(streamer.errors, []);
    assert.deepEqual(viewer.errors, []);
  });

  it('after a server restart, pages reconnect by themselves and catch up on chat without duplicates', async () => {
    const states = () =>
      viewer.page.evaluate(() => {
        const el = document.querySelector('[data-testid="connection-state"]');
        const seen = /** @type {string[]} */ ([]);
        new MutationObserver(() => seen.push(el?.getAttribute('data-state') ?? '')).observe(/** @type {Element} */ (el), { attributes: true });
        /** @type {any} */ (window).connectionStates = seen;
      });
    await states();
    const before = await viewer.page.getByTestId('chat-message').count();

    await server.restart();
    // Said while the viewer's page is still away (or just back): it arrives either way, once.
    const token = await loginToken(server.url, STREAMER);
    assert.equal((await callApi(server.url, token, 'POST', `/api/channels/${STREAMER}/chat`, { text: 'back after the restart' })).status, 201);

    await chatLine(viewer.page, 'back after the restart').waitFor({ timeout: 20_000 });
    await viewer.page.waitForSelector('[data-testid="connection-state"][data-state="open"]');
    await streamer.page.waitForSelector('[data-testid="connection-state"][data-state="open"]', { timeout: 20_000 });
    const seen = await viewer.page.evaluate(() => /** @type {any} */ (window).connectionStates);
    assert.ok(seen.includes('reconnecting') || seen.includes('connecting'), `states seen: ${seen}`);
    const offsets = await viewer.page.getByTestId('chat-message').evaluateAll((els) => els.map((el) => el.getAttribute('data-offset')));
    assert.equal(offsets.length, before + 1);
    assert.equal(new Set(offsets).size, offsets.length);
    await chatLine(streamer.page, 'back after the restart').waitFor();

    // The browser logs the failed attempts while the server was down; nothing else is wrong.
    for (const who of [viewer, streamer]) {
      const other = who.errors.filter((e) => !/WebSocket connection to .* failed/.test(e));
      assert.deepEqual(other, []);
      who.errors.splice(0);
    }
  });

  it('a quiz and a notice appear for viewers and late joiners, and expire', async () => {
    // Validation errors from the API land on their fields.
    await chooseType(streamer.page, 'quiz');
    const quiz = streamer.page.getByTestId('composer-quiz');
    await quiz.getByLabel('Answer A', { exact: true }).fill('Go');
    await quiz.getByLabel('Answer B', { exact: true }).fill('go');
    await quiz.getByLabel('Answer C', { exact: true }).fill('Chess');
    await quiz.getByLabel('Duration (seconds)').fill('99');
    await quiz.getByTestId('start-action').click();
    await quiz.getByTestId('error-question').waitFor();
    await quiz.getByTestId('error-answers.1').waitFor();
    await quiz.getByTestId('error-duration_secs').waitFor();
    await calm(streamer.page);
    await screenshot(streamer.page, 'manager-validation-errors');

    await quiz.getByLabel('Question').fill('Which game has 19×19 lines?');
    await quiz.getByLabel('Answer A', { exact: true }).fill('Chess');
    await quiz.getByLabel('Answer B', { exact: true }).fill('Go');
    await quiz.getByLabel('Answer C', { exact: true }).fill('Checkers');
    await quiz.getByTestId('correct-answer').nth(1).check();
    await quiz.getByLabel('Duration (seconds)').fill('6');
    await quiz.getByTestId('start-action').click();

    const card = viewer.page.getByTestId('quiz-card');
    await card.waitFor();
    await viewer.page.getByTestId('overlay-countdown').waitFor();
    await streamer.page.getByTestId('active-action').and(streamer.page.locator('[data-type="quiz"]')).waitFor();
    await card.getByTestId('quiz-answer').nth(1).click();
    assert.match(await card.getByTestId('quiz-result').innerText(), /Correct/);
    await screenshot(viewer.page, 'channel-quiz-answered', { fullPage: false });
    // It ends on the server at its time.
    await card.waitFor({ state: 'detached', timeout: 12_000 });
    await streamer.page.getByTestId('no-action').waitFor();

    // A notice, saved as a preset first and loaded back.
    await chooseType(streamer.page, 'notice');
    const notice = streamer.page.getByTestId('composer-notice');
    await notice.getByLabel('Title').fill('Giveaway');
    await notice.getByLabel('Message').fill('Tonight at 8 pm — stay tuned!');
    await notice.getByLabel('Duration (seconds)').fill('6');
    await streamer.page.getByTestId('preset-name').fill('Giveaway notice');
    await streamer.page.getByTestId('preset-save').click();
    await streamer.page.locator('[data-testid="preset-select"] option', { hasText: 'Giveaway notice' }).waitFor({ state: 'attached' });
    await chooseType(streamer.page, 'quiz');
    const presetId = await streamer.page.locator('[data-testid="preset-select"] option', { hasText: 'Giveaway notice' }).getAttribute('value');
    await streamer.page.getByTestId('preset-select').selectOption(presetId ?? '');
    await streamer.page.getByTestId('preset-load').click();
    await streamer.page.getByTestId('composer-notice').waitFor();
    assert.equal(await streamer.page.getByTestId('composer-notice').getByLabel('Title').inputValue(), 'Giveaway');
    await streamer.page.getByTestId('composer-notice').getByTestId('start-action').click();

    await viewer.page.getByTestId('notice-card').filter({ hasText: 'Tonight at 8 pm' }).waitFor();
    // Someone arriving now gets it from the snapshot, with its remaining time.
    const late = await newPage(browser);
    await late.page.goto(`${server.url}/${STREAMER}`);
    await late.page.getByTestId('notice-card').filter({ hasText: 'Giveaway' }).waitFor();
    const left = await late.page.getByTestId('overlay-countdown').innerText();
    assert.match(left, /0:0[1-6]/);
    await screenshot(viewer.page, 'channel-notice', { fullPage: false });
    await streamer.page.getByTestId('active-action').scrollIntoViewIfNeeded();
    await streamer.page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(streamer.page, 'manager-active-notice', { fullPage: false });
    await viewer.page.getByTestId('notice-card').waitFor({ state: 'detached', timeout: 12_000 });
    await late.page.getByTestId('notice-card').waitFor({ state: 'detached' });
    await late.context.close();

    // The preset can go again.
    await streamer.page.getByTestId('preset-select').selectOption(presetId ?? '');
    await streamer.page.getByTestId('preset-delete').click();
    await streamer.page.locator('[data-testid="preset-select"] option', { hasText: 'Giveaway notice' }).waitFor({ state: 'detached' });
    assert.deepEqual(viewer.errors, []);
  });

  it('a poll keeps counting after the streamer closes the manager, and viewers see the final tally', async () => {
    await chooseType(streamer.page, 'poll');
    const form = streamer.page.getByTestId('composer-poll');
    await form.getByLabel('Question').fill('Next game?');
    await form.getByLabel('Option A').fill('Chess');
    await form.getByLabel('Option B').fill('Go');
    await form.getByLabel('Duration (seconds)').fill('10');
    await form.getByTestId('start-action').click();
    await streamer.page.getByTestId('poll-results').getByTestId('poll-card').waitFor();

    const poll = viewer.page.getByTestId('poll-card');
    await poll.waitFor();
    // The streamer leaves: the poll lives on the server.
    await streamer.page.close();

    // An anonymous visitor sees the results and is asked to log in to vote.
    const anonymous = await newPage(browser);
    await anonymous.page.goto(`${server.url}/${STREAMER}`);
    await anonymous.page.getByTestId('poll-signin').waitFor();
    assert.equal(await anonymous.page.getByTestId('poll-vote').count(), 0);

    await poll.getByTestId('poll-vote').nth(1).click();
    await poll.getByTestId('poll-mine').waitFor();
    await viewer.page.waitForSelector('[data-testid="poll-option"][data-index="1"][data-votes="1"]');
    await anonymous.page.waitForSelector('[data-testid="poll-option"][data-index="1"][data-votes="1"]');
    await screenshot(viewer.page, 'channel-poll-voted', { fullPage: false });
    await anonymous.page.setViewportSize({ width: 390, height: 844 });
    await screenshot(anonymous.page, 'channel-poll-anonymous-phone');

    // At the deadline the server closes it; the final results stay up.
    await viewer.page.waitForSelector('[data-testid="poll-card"][data-closed="true"]', { timeout: 15_000 });
    assert.match(await poll.innerText(), /final results/i);
    assert.equal(await poll.locator('[data-testid="poll-option"][data-index="1"]').getAttribute('data-votes'), '1');
    assert.match(await poll.getByTestId('poll-total').innerText(), /1 vote/);
    await screenshot(viewer.page, 'channel-poll-final', { fullPage: false });
    await anonymous.context.close();

    // Back in the manager, the results are there.
    streamer.page = await streamer.context.newPage();
    await openManager(streamer.page);
    const results = streamer.page.getByTestId('poll-results');
    await results.locator('[data-testid="poll-card"][data-closed="true"]').waitFor();
    assert.equal(await results.locator('[data-testid="poll-option"][data-index="1"]').getAttribute('data-votes'), '1');
    assert.deepEqual(viewer.errors, []);
  });

  it('a viewer asks to join the stage, retracts, asks again and is accepted by the host', async () => {
    await streamer.page.getByTestId('stage-start').click();
    await streamer.page.waitForSelector('[data-testid="stage-host"][data-state="live"]');
    // (The stage is announced as it is made, then again with its host on it.)
    await streamer.page.waitForFunction(() => document.querySelector('[data-testid="stage-host-count"]')?.textContent === '1/12');

    const panel = viewer.page.getByTestId('stage-panel');
    await panel.waitFor();
    await viewer.page.getByTestId('player-stage-badge').waitFor();
    await viewer.page.waitForFunction(() => document.querySelector('[data-testid="stage-count"]')?.textContent === '1/12');
    await panel.getByTestId('stage-request').click();
    await panel.getByTestId('stage-pending').waitFor();
    await streamer.page.getByTestId('stage-request-row').filter({ hasText: VIEWER }).waitFor();

    await panel.getByTestId('stage-retract').click();
    await panel.getByTestId('stage-request').waitFor();
    await streamer.page.getByTestId('stage-queue-empty').waitFor();

    await panel.getByTestId('stage-request').click();
    await panel.getByTestId('stage-pending').waitFor();
    const row = streamer.page.getByTestId('stage-request-row').filter({ hasText: VIEWER });
    await row.waitFor();
    await screenshot(viewer.page, 'channel-stage-pending');
    await calm(streamer.page);
    await screenshot(streamer.page, 'manager-stage-request');

    await row.getByTestId('stage-accept').click();
    await panel.getByTestId('stage-accepted').waitFor();
    await panel.getByTestId('stage-token').filter({ hasText: /local mode/ }).waitFor();
    await streamer.page.waitForFunction(() => document.querySelector('[data-testid="stage-host-count"]')?.textContent === '2/12');
    await panel.locator('[data-testid="stage-publisher"][data-username="victor"]').waitFor();
    await screenshot(viewer.page, 'channel-stage-accepted');
    await viewer.page.setViewportSize({ width: 390, height: 844 });
    await screenshot(viewer.page, 'channel-stage-phone');
    await viewer.page.setViewportSize({ width: 1280, height: 800 });

    // An invite link for someone else, then the host ends the stage.
    await streamer.page.getByTestId('stage-invite-create').click();
    assert.match(await streamer.page.getByTestId('stage-invite').inputValue(), /\/stella\?invite=/);
    await streamer.page.getByTestId('stage-end').click();
    await streamer.page.locator('dialog[open] [data-testid="dialog-confirm"]').click();
    await panel.waitFor({ state: 'detached' });
    await streamer.page.waitForSelector('[data-testid="stage-host"][data-state="off"]');
    assert.deepEqual(viewer.errors, []);
  });

  it('a ban takes effect at once: the viewer’s chat is replaced by the banned state', async () => {
    await say(viewer.page, 'am I still welcome?');
    const line = chatLine(streamer.page, 'am I still welcome?');
    await line.getByTestId('mod-menu-button').click();
    await line.getByTestId('mod-ban').click();
    await streamer.page.locator('dialog[open] [data-testid="dialog-confirm"]').click();

    await viewer.page.getByTestId('chat-banned').waitFor();
    assert.equal(await viewer.page.getByTestId('chat-input').count(), 0);
    await streamer.page.locator('[data-testid="restriction"][data-username="victor"][data-kind="ban"]').waitFor();
    await screenshot(viewer.page, 'channel-banned');

    // It stays that way after a reload, and the API refuses the banned viewer's chat.
    await viewer.page.reload();
    await viewer.page.getByTestId('chat-banned').waitFor();
    const token = await loginToken(server.url, VIEWER);
    const refused = await callApi(server.url, token, 'POST', `/api/channels/${STREAMER}/chat`, { text: 'let me in' });
    assert.equal(refused.status, 403);

    // The streamer lifts the ban from the manager.
    await streamer.page.locator('[data-testid="restriction"][data-username="victor"]').getByTestId('restriction-lift').click();
    await streamer.page.getByTestId('no-restrictions').waitFor();
    await viewer.page.reload();
    await viewer.page.waitForSelector('[data-testid="chat-panel"][data-state="ready"]');

    await streamer.page.setViewportSize({ width: 390, height: 844 });
    await calm(streamer.page);
    await screenshot(streamer.page, 'manager-phone');
    // The 422s are the composer's deliberate validation failures above.
    assert.deepEqual(
      streamer.errors.filter((e) => !/422 \(Unprocessable Entity\)/.test(e)),
      [],
    );
  });
});
