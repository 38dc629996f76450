// @ts-check
// The settings page: profile color, avatar upload, stream key — and the session that carries it.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { callApi, launchBrowser, logInThroughPage, loginToken, newPage, pngImage, register, screenshot, startServer } from './harness.mjs';

/** @type {import('./harness.mjs').Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  await register(server.url, { username: 'erin_live', color: 'purple', avatar: 'dog2' });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe('settings', () => {
  it('changes the profile color, uploads an avatar and resets the stream key', async () => {
    const { context, page, errors } = await newPage(browser);
    await logInThroughPage(page, server.url, 'erin_live');
    await page.goto(`${server.url}/settings`);
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
    await screenshot(page, 'settings');

    // Color: saved as soon as it is picked.
    await page.getByTitle('Green').click();
    await page.getByTestId('toasts').getByText('Color saved').waitFor();
    const token = await loginToken(server.url, 'erin_live');
    assert.equal((await callApi(server.url, token, 'GET', '/api/me')).json.color, 'green');

    // Avatar: a PNG picked from disk is uploaded and shown in the header and the preview.
    await page.getByTestId('avatar-file').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: pngImage(96, [250, 250, 250], [30, 140, 90]) });
    await page.getByTestId('toasts').getByText('Avatar uploaded').waitFor();
    const headerImage = page.getByTestId('account-menu').locator('img');
    await headerImage.waitFor();
    assert.match((await headerImage.getAttribute('src')) ?? '', /\/assets\//);
    await page.waitForFunction(() => {
      const img = document.querySelector('[data-testid="account-menu"] img');
      return img instanceof HTMLImageElement && img.complete && img.naturalWidth > 0;
    });
    assert.equal((await callApi(server.url, token, 'GET', '/api/me')).json.avatar, 'custom');

    // A file that is not an image is refused before upload, next to the input.
    await page.getByTestId('avatar-file').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
    await page.getByText('Choose a PNG, JPEG or WebP image.').waitFor();

    // Stream key: hidden until asked, replaced after a confirmation.
    const key = page.getByTestId('stream-key');
    assert.equal(await key.getAttribute('type'), 'password');
    await page.getByTestId('stream-key-toggle').click();
    assert.equal(await key.getAttribute('type'), 'text');
    const before = await key.inputValue();
    assert.match(before, /^sk_/);
    assert.match(await page.getByTestId('ingest-server').inputValue(), /^rtmps:\/\//);
    await page.getByTestId('reset-stream-key').click();
    await page.getByRole('dialog', { name: 'Reset your stream key?' }).waitFor();
    await screenshot(page, 'settings-reset-key-dialog', { fullPage: false });
    await page.getByTestId('dialog-confirm').click();
    await page.getByTestId('toasts').getByText('New stream key created').waitFor();
    await page.waitForFunction(
      (old) => /** @type {HTMLInputElement | null} */ (document.querySelector('[data-testid="stream-key"]'))?.value !== old,
      before,
    );
    const after = await key.inputValue();
    assert.notEqual(after, before);
    assert.equal((await callApi(server.url, token, 'GET', '/api/me')).json.channel.stream_key, after);

    // The confirmations fade after a few seconds; the picture is of the page at rest.
    await page.waitForFunction(() => document.querySelector('[data-testid="toasts"]')?.childElementCount === 0);
    await screenshot(page, 'settings-after-changes');
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, 'settings-phone');
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('uploads and removes a banner, and renames the channel', async () => {
    await register(server.url, { username: 'hana_plays', color: 'salmon', avatar: 'bird' });
    const { context, page, errors } = await newPage(browser);
    await logInThroughPage(page, server.url, 'hana_plays');
    await page.goto(`${server.url}/settings`);

    await page.getByTestId('banner-file').setInputFiles({ name: 'banner.png', mimeType: 'image/png', buffer: pngImage(240, [255, 200, 80], [120, 40, 160]) });
    await page.getByTestId('banner-preview').waitFor();
    await page.waitForFunction(() => {
      const img = document.querySelector('[data-testid="banner-preview"]');
      return img instanceof HTMLImageElement && img.complete && img.naturalWidth > 0;
    });
    await page.goto(`${server.url}/hana_plays`);
    await page.getByTestId('channel-banner').waitFor();
    await screenshot(page, 'channel-with-banner');

    await page.goto(`${server.url}/settings`);
    await page.getByTestId('remove-banner').click();
    await page.getByTestId('banner-preview').waitFor({ state: 'detached' });

    const rename = page.getByTestId('username-form');
    await rename.getByLabel('New username').fill('hana_live');
    await rename.getByRole('button', { name: 'Change username' }).click();
    await page.getByTestId('toasts').getByText('Username changed').waitFor();
    assert.match(await page.getByTestId('account-menu').innerText(), /hana_live/);
    assert.equal((await fetch(`${server.url}/api/channels/hana_live`)).status, 200);
    assert.equal((await fetch(`${server.url}/api/channels/hana_plays`)).status, 404);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('a reload keeps the session through the refresh cookie, and two tabs loading at once both stay signed in', async () => {
    await register(server.url, { username: 'frank_ok' });
    const { context, page, errors } = await newPage(browser);
    await logInThroughPage(page, server.url, 'frank_ok');

    /** @type {string[]} */
    const refreshes = [];
    page.on('request', (request) => {
      if (request.url().endsWith('/api/auth/refresh')) refreshes.push(request.url());
    });
    await page.goto(`${server.url}/settings`);
    await page.getByTestId('settings-page').waitFor();
    assert.equal(refreshes.length, 1, 'one refresh on load');

    // Two tabs loading at once: the Web Lock makes them take turns, so neither replays a spent
    // refresh token (which would revoke the session).
    const second = await context.newPage();
    await Promise.all([page.reload(), second.goto(`${server.url}/following`)]);
    await page.getByTestId('settings-page').waitFor();
    await second.getByTestId('following-page').waitFor();
    await page.reload();
    await page.getByTestId('settings-page').waitFor();
    assert.match(await page.getByTestId('account-menu').innerText(), /frank_ok/);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('logging out ends the session and protected pages send you to log in', async () => {
    const { context, page } = await newPage(browser);
    await logInThroughPage(page, server.url, 'frank_ok');
    await page.getByTestId('account-menu').click();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('link', { name: 'Log in' }).first().waitFor();

    await page.goto(`${server.url}/settings`);
    await page.waitForURL(`${server.url}/login?next=%2Fsettings`);
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await context.close();
  });

  it('deleting the account needs the password', async () => {
    await register(server.url, { username: 'gone_soon' });
    const { context, page } = await newPage(browser);
    await logInThroughPage(page, server.url, 'gone_soon');
    await page.goto(`${server.url}/settings#danger`);
    await page.getByTestId('delete-account').click();
    await page.getByLabel('Your password, to confirm').fill('Wrong#Pass1');
    await page.getByRole('button', { name: 'Delete account forever' }).click();
    await page.getByTestId('error-password').waitFor();
    await screenshot(page, 'settings-delete-wrong-password');

    await page.getByLabel('Your password, to confirm').fill('Sup3r#Secret');
    await page.getByRole('button', { name: 'Delete account forever' }).click();
    await page.waitForURL(`${server.url}/`);
    await page.getByRole('link', { name: 'Sign up' }).waitFor();
    assert.equal((await fetch(`${server.url}/api/channels/gone_soon`)).status, 404);
    await context.close();
  });
});
