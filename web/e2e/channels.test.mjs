// @ts-check
// Channel pages, following, the directory and the following page.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  PASSWORD,
  callApi,
  launchBrowser,
  logInThroughPage,
  loginToken,
  markLive,
  newPage,
  register,
  screenshot,
  startServer,
} from './harness.mjs';

/** @type {import('./harness.mjs').Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  await register(server.url, { username: 'bob.builds', color: 'salmon', avatar: 'bear' });
  await register(server.url, { username: 'carol', color: 'blue', avatar: 'sheep' });
  await register(server.url, { username: 'dj_tiger', color: 'yellow', avatar: 'tiger' });
  await register(server.url, { username: 'jelly', color: 'lavender', avatar: 'jellyfish' });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe('channels and follows', () => {
  it('a logged-out visitor who presses Follow logs in and comes back following', async () => {
    const { context, page, errors } = await newPage(browser);
    await page.goto(`${server.url}/bob.builds`);
    await page.getByRole('heading', { name: 'bob.builds', level: 1 }).waitFor();

    // The shell the realtime slice fills: the player in local mode, chat and overlay regions.
    const player = page.getByTestId('player');
    assert.equal(await player.getAttribute('data-player-state'), 'offline');
    assert.match(await player.innerText(), /bob\.builds is offline/);
    assert.match(await page.getByTestId('local-mode').innerText(), /Local mode · no video service/);
    await page.getByTestId('chat-panel').waitFor();
    assert.equal(await page.getByTestId('overlay-layer').count(), 1);
    await screenshot(page, 'channel-logged-out');

    await page.getByTestId('follow-button').click();
    await page.waitForURL(/\/login\?next=/);
    await page.getByLabel('Username or email').fill('carol');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in', exact: true }).click();

    await page.waitForURL(`${server.url}/bob.builds`);
    const follow = page.getByTestId('follow-button');
    await page.waitForFunction(() => document.querySelector('[data-testid="follow-button"]')?.getAttribute('aria-pressed') === 'true');
    assert.equal((await follow.innerText()).trim(), 'Following');
    const token = await loginToken(server.url, 'carol');
    const following = await callApi(server.url, token, 'GET', '/api/me/following');
    assert.deepEqual(
      following.json.channels.map((/** @type {{ username: string }} */ c) => c.username),
      ['bob.builds'],
    );
    await screenshot(page, 'channel-following');

    // And back: unfollow is the same button.
    await follow.click();
    await page.waitForFunction(() => document.querySelector('[data-testid="follow-button"]')?.getAttribute('aria-pressed') === 'false');
    const after = await callApi(server.url, token, 'GET', '/api/me/following');
    assert.equal(after.json.channels.length, 0);
    await follow.click();
    await page.waitForFunction(() => document.querySelector('[data-testid="follow-button"]')?.getAttribute('aria-pressed') === 'true');
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('the directory shows live channels and, signed in, the followed carousel', async () => {
    const carol = await loginToken(server.url, 'carol');
    for (const name of ['dj_tiger', 'jelly']) assert.equal((await callApi(server.url, carol, 'PUT', `/api/me/following/${name}`)).status, 204);

    const anonymous = await newPage(browser);
    await anonymous.page.goto(`${server.url}/`);
    await anonymous.page.getByTestId('no-live-channels').waitFor();
    await anonymous.page.getByRole('link', { name: 'Create your channel' }).waitFor();
    await screenshot(anonymous.page, 'directory-logged-out-nobody-live');
    await anonymous.context.close();

    const live = await markLive(server.dataDir, 'dj_tiger');
    const { context, page, errors } = await newPage(browser);
    await logInThroughPage(page, server.url, 'carol');
    await page.goto(`${server.url}/`);
    const carousel = page.getByTestId('followed-carousel');
    await carousel.getByTestId('followed-chip').first().waitFor();
    const chips = await carousel.getByTestId('followed-chip').evaluateAll((els) => els.map((el) => el.getAttribute('data-username')));
    assert.deepEqual([...chips].sort(), ['bob.builds', 'dj_tiger', 'jelly']);
    if (live) {
      assert.equal(chips[0], 'dj_tiger', 'live channels come first');
      const card = page.getByTestId('live-grid').getByTestId('channel-card');
      assert.equal(await card.count(), 1);
      assert.equal(await card.getAttribute('data-username'), 'dj_tiger');
      await card.getByTestId('live-badge').waitFor();
    } else {
      console.warn('# could not mark a channel live in the store; the live state is not shown');
      await page.getByTestId('no-live-channels').waitFor();
    }
    await screenshot(page, 'directory-signed-in');

    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, 'directory-phone');
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('the following page lists followed channels with their live status', async () => {
    const { context, page, errors } = await newPage(browser);
    await logInThroughPage(page, server.url, 'carol');
    await page.getByRole('link', { name: 'Following', exact: true }).first().click();
    await page.waitForURL(`${server.url}/following`);
    await page.getByTestId('following-offline').waitFor();
    const offline = await page.getByTestId('following-offline').getByTestId('channel-card').evaluateAll((els) => els.map((el) => el.getAttribute('data-username')));
    assert.ok(offline.includes('bob.builds'));
    assert.ok(offline.includes('jelly'));
    assert.match(await page.getByTestId('following-summary').innerText(), /3 channels/);
    await screenshot(page, 'following');
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('a live channel says it cannot play video in local mode', async () => {
    const { context, page } = await newPage(browser);
    await page.goto(`${server.url}/dj_tiger`);
    await page.getByRole('heading', { name: 'dj_tiger', level: 1 }).waitFor();
    const state = await page.getByTestId('player').getAttribute('data-player-state');
    // `local` when the store could be marked live above, `offline` otherwise.
    assert.ok(state === 'local' || state === 'offline', String(state));
    if (state === 'local') assert.match(await page.getByTestId('player').innerText(), /no video service/);
    await screenshot(page, 'channel-live-local-mode');
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, 'channel-phone');
    await context.close();
  });

  it('an unknown channel is a friendly 404 and the header links work by keyboard', async () => {
    const { context, page } = await newPage(browser);
    await page.goto(`${server.url}/no_such_person`);
    await page.getByTestId('not-found').waitFor();
    await screenshot(page, 'channel-not-found');

    // Skip link first, then the brand link: Enter on it goes home without a reload.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${server.url}/`);
    await page.getByTestId('directory-page').waitFor();
    await context.close();
  });
});
