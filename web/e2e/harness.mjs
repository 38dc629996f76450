// @ts-check
// End-to-end harness: a real Showrunner server (the debug binary) on a free loopback port with a
// fresh data dir, Debian's Chromium driven by playwright-core, and the mail outbox read back.

import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { chromium } from 'playwright-core';

export const WEB_DIR = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
export const REPO_DIR = path.resolve(WEB_DIR, '..');
export const RESULTS_DIR = path.join(WEB_DIR, 'test-results');
export const BINARY = process.env.SHOWRUNNER_BIN ?? path.join(REPO_DIR, 'target/debug/showrunner');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** A password every policy check accepts. */
export const PASSWORD = 'Sup3r#Secret';

/** @returns {Promise<number>} */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * @typedef {{ url: string, dataDir: string, stop: () => Promise<void>, restart: () => Promise<void>, log: () => string }} Server
 */

/**
 * Starts the server and waits until it is ready.
 * @param {{ env?: Record<string, string> }} [options]
 * @returns {Promise<Server>}
 */
export async function startServer(options = {}) {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run \`cargo build\` first`);
  if (!existsSync(path.join(WEB_DIR, 'dist/index.html'))) throw new Error('web/dist is missing: run `npm run build` first');
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'showrunner-e2e-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';

  /** Spawns the binary on `port` with `dataDir` and waits for `/readyz`. */
  async function spawnReady() {
    const child = spawn(BINARY, ['serve', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`], {
      env: {
        ...process.env,
        RUST_LOG: process.env.TEST_LOG ? 'info' : 'warn',
        SHOWRUNNER__HTTP__WEB_DIR: path.join(WEB_DIR, 'dist'),
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    if (process.env.TEST_LOG) {
      child.stdout.pipe(process.stderr);
      child.stderr.pipe(process.stderr);
    }
    /** @type {Promise<number | null>} */
    const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));

    const deadline = Date.now() + 30_000;
    for (;;) {
      const early = await Promise.race([exited, new Promise((r) => setTimeout(() => r(undefined), 100))]);
      if (early !== undefined) throw new Error(`the server exited (${early}) before it was ready:\n${output}`);
      try {
        const response = await fetch(`${url}/readyz`);
        if (response.ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`the server was not ready within 30 s:\n${output}`);
      }
    }
    return { child, exited };
  }

  /** Stops it the way an operator would (SIGTERM: orderly shutdown), SIGKILL after 5 s. */
  async function halt(/** @type {Awaited<ReturnType<typeof spawnReady>>} */ running) {
    if (running.child.exitCode !== null) return;
    running.child.kill('SIGTERM');
    const timer = setTimeout(() => running.child.kill('SIGKILL'), 5_000);
    await running.exited;
    clearTimeout(timer);
  }

  let running = await spawnReady();
  return {
    url,
    dataDir,
    log: () => output,
    /** Stops the server and starts it again on the same address and data. */
    async restart() {
      await halt(running);
      running = await spawnReady();
    },
    async stop() {
      await halt(running);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Debian's Chromium, headless, with a fresh profile (Playwright makes one per launch).
 * @param {string[]} [extraArgs] e.g. a fake camera for broadcast tests
 */
export function launchBrowser(extraArgs = []) {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
}

/**
 * A browser context that fails the test on any page error, and keeps console errors for asserts.
 * @param {import('playwright-core').Browser} browser
 * @param {import('playwright-core').BrowserContextOptions} [options]
 */
export async function newPage(browser, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  const page = await context.newPage();
  /** @type {string[]} */
  const errors = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    // A 401 from the refresh on load is how an anonymous visit starts; everything else counts.
    if (message.type() === 'error' && !/401 \(Unauthorized\)/.test(message.text())) errors.push(`console: ${message.text()}`);
  });
  page.setDefaultTimeout(10_000);
  return { context, page, errors };
}

/**
 * Saves a screenshot (of the full page unless `fullPage` is false) to web/test-results/<name>.png.
 * @param {import('playwright-core').Page} page
 * @param {string} name
 * @param {{ fullPage?: boolean }} [options]
 */
export async function screenshot(page, name, { fullPage = true } = {}) {
  await mkdir(RESULTS_DIR, { recursive: true });
  // Let transitions and toasts settle so the picture shows the resting state.
  await page.waitForTimeout(250);
  // A full-page capture draws the sticky header where the page is scrolled to: start at the top.
  if (fullPage) await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(RESULTS_DIR, `${name}.png`), fullPage });
}

/** @param {string} text */
function decodeQuotedPrintable(text) {
  const bytes = [];
  const soft = text.replace(/=\r?\n/g, '');
  for (let i = 0; i < soft.length; i++) {
    const c = soft[i];
    if (c === '=' && /^[0-9A-F]{2}$/i.test(soft.slice(i + 1, i + 3))) {
      bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(/** @type {string} */ (c), 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * The mails in the outbox, oldest first, with decoded bodies.
 * @param {string} dataDir
 * @returns {Promise<{ file: string, to: string, subject: string, body: string }[]>}
 */
export async function readOutbox(dataDir) {
  const dir = path.join(dataDir, 'outbox');
  if (!existsSync(dir)) return [];
  const files = (await readdir(dir)).filter((f) => f.endsWith('.eml')).sort();
  const mails = [];
  for (const file of files) {
    const raw = await readFile(path.join(dir, file), 'utf8');
    const split = raw.search(/\r?\n\r?\n/);
    const head = raw.slice(0, split);
    let body = raw.slice(split).trim();
    const header = (/** @type {string} */ name) => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(head)?.[1]?.trim() ?? '';
    if (/quoted-printable/i.test(header('Content-Transfer-Encoding'))) body = decodeQuotedPrintable(body);
    else if (/base64/i.test(header('Content-Transfer-Encoding'))) body = Buffer.from(body, 'base64').toString('utf8');
    mails.push({ file, to: header('To'), subject: header('Subject'), body });
  }
  return mails;
}

/**
 * Waits for a mail to `to` whose body links to `linkPath`, and returns that link's path and query.
 * @param {string} dataDir
 * @param {string} to
 * @param {string} linkPath e.g. `/verify`
 */
export async function waitForLink(dataDir, to, linkPath) {
  const deadline = Date.now() + 10_000;
  const pattern = new RegExp(`https?://[^\\s"<>]+${linkPath.replace('/', '\\/')}\\?token=[A-Za-z0-9_.~%-]+`);
  for (;;) {
    for (const mail of (await readOutbox(dataDir)).reverse()) {
      const link = mail.to.includes(to) ? pattern.exec(mail.body)?.[0] : undefined;
      if (link) {
        const url = new URL(link);
        return url.pathname + url.search;
      }
    }
    if (Date.now() > deadline) throw new Error(`no mail to ${to} with a ${linkPath} link`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Creates an account through the API (the fixtures a test needs but does not test).
 * @param {string} base
 * @param {{ username: string, email?: string, password?: string, color?: string, avatar?: string }} account
 */
export async function register(base, account) {
  const response = await fetch(`${base}/api/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: `${account.username.toLowerCase()}@example.com`, password: PASSWORD, ...account }),
  });
  if (response.status !== 201) throw new Error(`register ${account.username}: ${response.status} ${await response.text()}`);
  return response.json();
}

/**
 * @param {string} base
 * @param {string} login
 * @param {string} [password]
 * @returns {Promise<string>} an access token
 */
export async function loginToken(base, login, password = PASSWORD) {
  const response = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login, password }),
  });
  if (!response.ok) throw new Error(`login ${login}: ${response.status} ${await response.text()}`);
  return (await response.json()).access_token;
}

/**
 * Calls the API as a user.
 * @param {string} base
 * @param {string} token
 * @param {string} method
 * @param {string} apiPath
 * @param {unknown} [body]
 */
export async function callApi(base, token, method, apiPath, body) {
  const response = await fetch(`${base}${apiPath}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

/** Logs in through the login page and waits until the header shows the account. */
export async function logInThroughPage(/** @type {import('playwright-core').Page} */ page, /** @type {string} */ base, /** @type {string} */ login) {
  await page.goto(`${base}/login`);
  await page.getByLabel('Username or email').fill(login);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await page.getByTestId('account-menu').waitFor();
}

/**
 * Marks a channel live in the embedded store. The local stand-in for the video service has no
 * ingest to go live from, so this is the only way to see the live state in a browser. Returns
 * false if the store's layout changed (the caller then skips what needs it).
 * @param {string} dataDir
 * @param {string} username
 */
export function markLive(dataDir, username) {
  const script = [
    'import sqlite3, sys, time',
    'db = sqlite3.connect(sys.argv[1], timeout=5)',
    'n = db.execute("UPDATE accounts SET live_since = ? WHERE lower(username) = lower(?)", (int(time.time() * 1000) - 25 * 60 * 1000, sys.argv[2])).rowcount',
    'db.commit()',
    'sys.exit(0 if n == 1 else 3)',
  ].join('\n');
  return new Promise((resolve) => {
    execFile('python3', ['-c', script, path.join(dataDir, 'showrunner.db'), username], (error) => resolve(!error));
  });
}

/**
 * @param {Buffer} buffer
 * @param {number} [n]
 */
function crc32(buffer, n = 0xffffffff) {
  for (const byte of buffer) {
    n ^= byte;
    for (let k = 0; k < 8; k++) n = n & 1 ? (n >>> 1) ^ 0xedb88320 : n >>> 1;
  }
  return (n ^ 0xffffffff) >>> 0;
}

/**
 * A real PNG: a `size`×`size` picture, a disc of `fg` on `bg`.
 * @param {number} size
 * @param {[number, number, number]} fg
 * @param {[number, number, number]} bg
 */
export function pngImage(size, fg, bg) {
  const rows = [];
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 3);
    for (let x = 0; x < size; x++) {
      const d = Math.hypot(x - size / 2, y - size / 2);
      const [r, g, b] = d < size * 0.35 ? fg : bg;
      row.set([r, g, b], 1 + x * 3);
    }
    rows.push(row);
  }
  /** @param {string} type @param {Buffer} data */
  const chunk = (type, data) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
