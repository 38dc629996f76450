// @ts-check
// Sign-up, mailed links and logging in, against a server that requires a verified email.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PASSWORD, launchBrowser, newPage, register, screenshot, startServer, waitForLink } from './harness.mjs';

/** @type {import('./harness.mjs').Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  server = await startServer({ env: { SHOWRUNNER__ACCOUNTS__EMAIL_VERIFICATION: 'required' } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/**
 * The error shown for an input: the text of the elements its `aria-describedby` names.
 * @param {import('playwright-core').Locator} input
 */
async function describedError(input) {
  assert.equal(await input.getAttribute('aria-invalid'), 'true', 'the input is marked invalid');
  const ids = (await input.getAttribute('aria-describedby')) ?? '';
  const page = input.page();
  const texts = [];
  for (const id of ids.split(/\s+/).filter(Boolean)) texts.push(await page.locator(`[id="${id}"]`).innerText());
  return texts.join(' ');
}

describe('registration and verification', () => {
  it('a new user registers, follows the mailed link and logs in', async () => {
    const { context, page, errors } = await newPage(browser);
    await page.goto(`${server.url}/register`);
    await page.getByRole('heading', { name: 'Create your channel' }).waitFor();

    await page.getByLabel('Username').fill('nova_streams');
    await page.getByLabel('Email').fill('nova@example.com');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByTitle('Turquoise').click();
    await page.getByTitle('Hedgehog').click();
    assert.ok(await page.getByRole('radio', { name: 'Turquoise' }).isChecked());
    assert.ok(await page.getByRole('radio', { name: 'Hedgehog' }).isChecked());
    await screenshot(page, 'register');
    await page.getByRole('button', { name: 'Create account' }).click();

    await page.getByRole('heading', { name: 'Check your inbox' }).waitFor();
    assert.match(await page.getByTestId('register-sent').innerText(), /nova@example\.com/);
    await screenshot(page, 'register-check-inbox');

    const link = await waitForLink(server.dataDir, 'nova@example.com', '/verify');
    await page.goto(`${server.url}${link}`);
    await page.getByTestId('verify-success').waitFor();
    await screenshot(page, 'verify-success');

    await page.getByRole('link', { name: 'Log in' }).last().click();
    await page.waitForURL(`${server.url}/login`);
    await page.getByLabel('Username or email').fill('nova@example.com');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await screenshot(page, 'login');
    await page.getByRole('button', { name: 'Log in', exact: true }).click();

    await page.waitForURL(`${server.url}/`);
    assert.match(await page.getByTestId('account-menu').innerText(), /nova_streams/);
    const channel = await (await fetch(`${server.url}/api/channels/nova_streams`)).json();
    assert.equal(channel.color, 'turquoise');
    assert.equal(channel.avatar, 'hedgehog');
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('a bad registration shows each problem next to its input', async () => {
    await register(server.url, { username: 'TakenName' });
    const { context, page, errors } = await newPage(browser);
    await page.goto(`${server.url}/register`);
    const username = page.getByLabel('Username');
    const email = page.getByLabel('Email');
    const password = page.getByLabel('Password', { exact: true });

    // Checked in the page first: nothing is sent.
    await username.fill('ab');
    await email.fill('not-an-email');
    await password.fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();
    assert.match(await describedError(username), /4–20 characters/);
    assert.match(await describedError(email), /valid email address/);
    assert.match(await describedError(password), /at least 8 characters/);
    assert.equal(await username.evaluate((el) => el === document.activeElement), true, 'focus moves to the first problem');
    await screenshot(page, 'register-errors-local');

    // Refused by the server: its field errors land next to the same inputs.
    await username.fill('admin');
    await email.fill('someone@example.com');
    await password.fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByTestId('error-username').waitFor();
    assert.match(await describedError(username), /reserved/i);

    await username.fill('takenname');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByTestId('error-username').getByText(/already taken/i).waitFor();
    assert.match(await describedError(username), /already taken/i);
    assert.equal(await email.getAttribute('aria-invalid'), null, 'the email is fine');
    await screenshot(page, 'register-errors-server');
    assert.deepEqual(errors.filter((e) => !/(409|422)/.test(e)), []);
    await context.close();
  });

  it('logging in before verifying offers a new link', async () => {
    await register(server.url, { username: 'unverified1' });
    const { context, page } = await newPage(browser);
    await page.goto(`${server.url}/login`);
    await page.getByLabel('Username or email').fill('unverified1@example.com');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in', exact: true }).click();

    await page.getByTestId('verify-first').waitFor();
    assert.equal(await page.getByLabel('Email for a new link').inputValue(), 'unverified1@example.com');
    await page.getByRole('button', { name: 'Send a new link' }).click();
    await page.getByTestId('resend-sent').waitFor();
    await screenshot(page, 'login-unverified');
    await context.close();
  });

  it('a wrong password is said once, for the form', async () => {
    const { context, page } = await newPage(browser);
    await page.goto(`${server.url}/login`);
    await page.getByLabel('Username or email').fill('nobody_here');
    await page.getByLabel('Password', { exact: true }).fill('Wrong#Pass1');
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    await page.getByTestId('form-error').getByText(/don’t match/).waitFor();
    await screenshot(page, 'login-wrong-password');
    await context.close();
  });

  it('a forgotten password is replaced through the mailed link', async () => {
    const { context, page } = await newPage(browser);
    await page.goto(`${server.url}/reset`);
    await page.getByLabel('Email').fill('nova@example.com');
    await screenshot(page, 'reset-request');
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await page.getByTestId('reset-sent').waitFor();

    const link = await waitForLink(server.dataDir, 'nova@example.com', '/reset');
    await page.goto(`${server.url}${link}`);
    await page.getByLabel('New password', { exact: true }).fill('weakpass');
    await page.getByLabel('Repeat new password', { exact: true }).fill('weakpass');
    await page.getByRole('button', { name: 'Set new password' }).click();
    assert.match(await page.getByTestId('error-password').innerText(), /upper-case letter/);
    await screenshot(page, 'reset-new-password-errors');

    await page.getByLabel('New password', { exact: true }).fill('N3w#Password');
    await page.getByLabel('Repeat new password', { exact: true }).fill('N3w#Password');
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.getByTestId('reset-done').waitFor();

    const login = await fetch(`${server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: 'nova_streams', password: 'N3w#Password' }),
    });
    assert.equal(login.status, 200);

    // The link worked once.
    await page.goto(`${server.url}${link}`);
    await page.getByLabel('New password', { exact: true }).fill('An0ther#Pass');
    await page.getByLabel('Repeat new password', { exact: true }).fill('An0ther#Pass');
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.getByTestId('form-error').getByText(/invalid, expired or already used/).waitFor();
    await context.close();
  });

  it('a broken verification link says so and offers a new one', async () => {
    const { context, page } = await newPage(browser);
    await page.goto(`${server.url}/verify?token=not-a-real-token`);
    await page.getByTestId('verify-error').getByText(/invalid, expired or already used/).waitFor();
    await screenshot(page, 'verify-error');
    await context.close();
  });
});
