// @ts-check
// Stream health: the real simulator plays a short broadcast with a starvation through a server with
// an events secret; the streamer watches it on the health pages (live, then ended), another user
// cannot open it. Also: local mode never loads the IVS SDKs, and with the platform answering
// `video: "ivs"` the channel page and the manager load them from this origin.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { BINARY, callApi, launchBrowser, logInThroughPage, loginToken, markLive, newPage, register, screenshot, startServer } from './harness.mjs';

const SECRET = 'e2e-stream-events-secret-0123456789';
const STREAMER = 'stella_streams';
const OTHER = 'otto_other';
const IVS_VIEWER = 'vera_vision';
/** Sessions made up in the past, so the list has more than one page (20). */
const OLD_SESSIONS = 21;
const SDK_REQUEST = /ivsPlayer|ivsBroadcast|wasmworker/;

/** @type {import('./harness.mjs').Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {string} */
let channelArn;

/**
 * Posts one IVS event to the ingest endpoint, shaped as EventBridge delivers it.
 * @param {{ type: string, name: string, at: number, streamId: string, id?: string }} e
 */
async function postEvent(e) {
  const field = e.type === 'IVS Limit Breach' ? 'limit_name' : 'event_name';
  const response = await fetch(`${server.url}/api/stream-events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-stream-events-secret': SECRET },
    body: JSON.stringify({
      version: '0',
      id: e.id ?? crypto.randomUUID(),
      'detail-type': e.type,
      source: 'aws.ivs',
      account: '123456789012',
      time: new Date(Math.floor(e.at / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
      region: 'us-east-1',
      resources: [channelArn],
      detail: { [field]: e.name, channel_name: STREAMER, stream_id: e.streamId },
    }),
  });
  assert.ok(response.ok, `event ${e.name}: ${response.status} ${await response.text()}`);
}

/** Runs the real simulator: a short session that starves from 6 s to its end at 16 s. */
function simulate() {
  const child = spawn(
    BINARY,
    ['simulate', '--channel', STREAMER, '--duration', '16s', '--starve-at', '6s', '--interval', '1s', '--server', server.url, '--secret', SECRET],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUST_LOG: 'warn' } },
  );
  let output = '';
  child.stdout.on('data', (c) => (output += c));
  child.stderr.on('data', (c) => (output += c));
  /** @type {Promise<void>} */
  const done = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the simulator did not finish within 60 s:\n${output}`));
    }, 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`the simulator exited with ${code}:\n${output}`));
    });
  });
  return { child, done };
}

/**
 * Waits until the API shows the streamer's newest session live.
 * @param {string} token
 * @returns {Promise<string>} its stream id
 */
async function waitForLiveSession(token) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const list = await callApi(server.url, token, 'GET', '/api/me/stream-sessions');
    const first = list.json?.sessions?.[0];
    if (first?.live) return first.stream_id;
    if (Date.now() > deadline) throw new Error(`no live session: ${JSON.stringify(list.json)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

before(async () => {
  server = await startServer({ env: { SHOWRUNNER__STREAMS__EVENTS_SECRET: SECRET } });
  browser = await launchBrowser(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);
  await register(server.url, { username: STREAMER, color: 'turquoise', avatar: 'bird' });
  await register(server.url, { username: OTHER, color: 'salmon', avatar: 'hippo' });
  await register(server.url, { username: IVS_VIEWER, color: 'yellow', avatar: 'horse' });
  const lookup = await fetch(`${server.url}/api/stream-events/channels/${STREAMER}`, { headers: { 'x-stream-events-secret': SECRET } });
  assert.equal(lookup.status, 200);
  channelArn = (await lookup.json()).channel_arn;
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe('stream health', () => {
  /** @type {string} */
  let streamId;

  it('a streamer with no broadcasts is told how to go live, and in local mode how to run the simulator', async () => {
    const { context, page, errors } = await newPage(browser);
    await logInThroughPage(page, server.url, STREAMER);
    await page.getByRole('link', { name: 'Health', exact: true }).click();
    await page.waitForURL(`${server.url}/health`);
    await page.getByTestId('health-empty').waitFor();
    assert.match(await page.getByTestId('health-empty').innerText(), /No streams yet/);
    assert.match(await page.getByTestId('simulator-command').innerText(), new RegExp(`simulate --channel ${STREAMER}`));
    await screenshot(page, 'health-empty');
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('shows a simulated broadcast live — starving, then a limit breach — and complete once it ends', async () => {
    // Older broadcasts, one with a limit breach, so the list has a second page.
    const day = 86_400_000;
    for (let i = 0; i < OLD_SESSIONS; i++) {
      const start = Date.now() - (i + 1) * day;
      const streamId = `st-e2eOld${String(i).padStart(2, '0')}`;
      await postEvent({ type: 'IVS Stream State Change', name: 'Session Created', at: start, streamId });
      await postEvent({ type: 'IVS Stream State Change', name: 'Stream Start', at: start + 2_000, streamId });
      if (i === 0) await postEvent({ type: 'IVS Limit Breach', name: 'Ingest Resolution', at: start + 60_000, streamId });
      await postEvent({ type: 'IVS Stream State Change', name: 'Stream End', at: start + (45 + i) * 60_000, streamId });
      await postEvent({ type: 'IVS Stream State Change', name: 'Session Ended', at: start + (45 + i) * 60_000, streamId });
    }

    const token = await loginToken(server.url, STREAMER);
    const sim = simulate();
    try {
      streamId = await waitForLiveSession(token);
      const { context, page, errors } = await newPage(browser);
      /** @type {string[]} */
      const sdkRequests = [];
      page.on('request', (r) => SDK_REQUEST.test(r.url()) && sdkRequests.push(r.url()));
      await logInThroughPage(page, server.url, STREAMER);

      // The list: the live broadcast on top.
      await page.goto(`${server.url}/health`);
      const top = page.getByTestId('session-row').first();
      await top.waitFor();
      assert.equal(await top.getAttribute('data-stream-id'), streamId);
      assert.equal(await top.getAttribute('data-state'), 'live');
      await top.getByTestId('live-badge').waitFor();
      assert.equal(await page.getByTestId('session-row').count(), 20);

      // The session page while live: it updates itself, and flags the starvation (from 6 s).
      await top.getByRole('link').click();
      await page.waitForURL(`${server.url}/health/${streamId}`);
      const view = page.getByTestId('session-page');
      await view.waitFor();
      assert.equal(await view.getAttribute('data-state'), 'live');
      await page.getByTestId('live-refresh').waitFor();
      await view.getByTestId('flag-starving').waitFor({ timeout: 20_000 });
      assert.match(await page.getByTestId('stat-starving').innerText(), /1 time/);
      await page.locator('[data-testid="timeline-event"][data-name="Starvation Start"]').waitFor();
      await screenshot(page, 'health-session-live-starving');

      // A limit breach while live (EventBridge sends those without a stream id's help; this one
      // names it): the error flag shows on the next refresh.
      await postEvent({ type: 'IVS Limit Breach', name: 'Ingest Bitrate', at: Date.now(), streamId });
      await view.getByTestId('flag-error').waitFor({ timeout: 10_000 });

      // The end arrives by itself.
      await sim.done;
      await page.waitForFunction(() => document.querySelector('[data-testid="session-page"]')?.getAttribute('data-state') === 'ended', null, { timeout: 15_000 });
      assert.equal(await page.getByTestId('live-refresh').count(), 0);
      const names = await page.getByTestId('timeline-event').evaluateAll((els) => els.map((e) => e.getAttribute('data-name')));
      for (const name of ['Session Created', 'Stream Start', 'Starvation Start', 'Ingest Bitrate', 'Stream End', 'Session Ended']) {
        assert.ok(names.includes(name), `the timeline has ${name}: ${names.join(', ')}`);
      }
      assert.equal(names[0], 'Session Created');
      assert.match(await page.getByTestId('stat-breaches').innerText(), /^1$/);

      // Four charts, each with points and drawn on a canvas.
      const charts = page.getByTestId('metric-chart');
      assert.equal(await charts.count(), 4);
      const metrics = await charts.evaluateAll((els) => els.map((e) => [e.getAttribute('data-metric'), Number(e.getAttribute('data-points')), !!e.querySelector('canvas')]));
      assert.deepEqual(
        metrics.map(([name]) => name),
        ['IngestVideoBitrate', 'IngestFramerate', 'KeyframeInterval', 'ConcurrentViews'],
      );
      for (const [name, points, canvas] of metrics) {
        assert.ok(Number(points) > 0, `${name} has points`);
        assert.ok(canvas, `${name} is drawn`);
      }
      assert.match(await page.getByTestId('encoder-settings').innerText(), /1280 × 720/);
      await screenshot(page, 'health-session');

      // Back to the list: ended, flagged, and the second page behind "load more".
      await page.getByRole('link', { name: 'All streams' }).click();
      await page.waitForURL(`${server.url}/health`);
      const row = page.locator(`[data-testid="session-row"][data-stream-id="${streamId}"]`);
      await row.waitFor();
      assert.equal(await row.getAttribute('data-state'), 'ended');
      await row.getByTestId('flag-error').waitFor();
      await page.locator('[data-testid="session-row"][data-stream-id="st-e2eOld00"]').getByTestId('flag-error').waitFor();
      await screenshot(page, 'health-list');
      await page.getByTestId('load-more').click();
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid="session-row"]').length === n, OLD_SESSIONS + 1);
      assert.equal(await page.getByTestId('load-more').count(), 0);
      const ids = await page.getByTestId('session-row').evaluateAll((els) => els.map((e) => e.getAttribute('data-stream-id')));
      assert.equal(new Set(ids).size, ids.length, 'no session twice');
      assert.equal(ids.at(-1), `st-e2eOld${String(OLD_SESSIONS - 1).padStart(2, '0')}`);

      // Local mode never fetched an IVS SDK on any of these pages, nor on the channel or manager.
      await page.goto(`${server.url}/${STREAMER}`);
      await page.getByTestId('local-mode').waitFor();
      await page.goto(`${server.url}/manager`);
      await page.getByTestId('golive-local').waitFor();
      assert.equal(await page.getByTestId('browser-broadcast').count(), 0);
      assert.deepEqual(sdkRequests, []);
      assert.deepEqual(errors.filter((e) => !/404 \(Not Found\)/.test(e)), []);
      await context.close();
    } finally {
      sim.child.kill('SIGKILL');
      await sim.done.catch(() => undefined);
    }
  });

  it('works at phone width', async () => {
    const { context, page, errors } = await newPage(browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await logInThroughPage(page, server.url, STREAMER);
    await page.goto(`${server.url}/health`);
    await page.getByTestId('session-row').first().waitFor();
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok((await overflow()) <= 0, 'the list fits the phone');
    await screenshot(page, 'health-list-phone');
    await page.goto(`${server.url}/health/${streamId}`);
    await page.getByTestId('metric-chart').first().locator('canvas').first().waitFor();
    const wider = await overflow();
    assert.ok(wider <= 0, `the page is ${wider}px wider than the phone`);
    await screenshot(page, 'health-session-phone');
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('another user cannot see the session: the page says not found', async () => {
    const other = await loginToken(server.url, OTHER);
    assert.equal((await callApi(server.url, other, 'GET', `/api/me/stream-sessions/${streamId}`)).status, 404);
    const { context, page } = await newPage(browser);
    await logInThroughPage(page, server.url, OTHER);
    await page.goto(`${server.url}/health/${streamId}`);
    await page.getByTestId('not-found').waitFor();
    assert.match(await page.getByTestId('not-found').innerText(), /No such stream/);
    await screenshot(page, 'health-session-not-found');
    await page.goto(`${server.url}/health`);
    await page.getByTestId('health-empty').waitFor();
    await context.close();
  });
});

describe('AWS mode, as far as it goes without AWS', () => {
  it('with video "ivs" the channel page loads the IVS Player from this origin, and the manager the broadcast SDK', async () => {
    const { context, page, errors } = await newPage(browser);
    /** @type {string[]} */
    const requests = [];
    page.on('request', (r) => requests.push(r.url()));
    // The platform answers as an AWS deployment would; everything else is the real local server.
    await page.route('**/api/platform', (route) =>
      route.fulfill({ json: { backend: 'aws', video: 'ivs', chat: 'builtin', product_search: false, stage_capacity: 12, protocol_version: 1 } }),
    );
    assert.ok(await markLive(server.dataDir, IVS_VIEWER), 'the channel is marked live');
    await page.goto(`${server.url}/${IVS_VIEWER}`);
    const player = page.getByTestId('player');
    await page.waitForFunction(() => document.querySelector('[data-testid="player"]')?.getAttribute('data-player-state') === 'video');
    assert.equal(await page.getByTestId('local-mode').count(), 0);
    // The local playback URL has no video: the player loads, tries, and says so.
    await player.getByTestId('video-error').waitFor({ timeout: 20_000 });
    const own = new URL(server.url).origin;
    assert.ok(requests.some((u) => /\/static\/ivsPlayer-[^/]+\.js$/.test(u)), 'the player chunk was loaded');
    assert.ok(requests.some((u) => /\/static\/amazon-ivs-wasmworker\.min-[^/]+\.js$/.test(u)), 'the wasm worker came from /static/');
    assert.ok(requests.some((u) => /\/static\/amazon-ivs-wasmworker\.min-[^/]+\.wasm$/.test(u)), 'the wasm binary came from /static/');
    assert.deepEqual(
      requests.filter((u) => !u.startsWith(own) && !u.startsWith('data:') && !u.startsWith('blob:')),
      [],
      'nothing was fetched from another origin',
    );
    await screenshot(page, 'channel-ivs-mode-no-video');

    // The manager: the camera (Chromium's fake one) previewed through the Web Broadcast SDK. The
    // SDK only takes IVS ingest hosts, so the account answers with one (nothing is sent to it).
    await page.route('**/api/me', async (route) => {
      const response = await route.fetch();
      const me = await response.json();
      route.fulfill({ response, json: { ...me, channel: { ...me.channel, ingest_endpoint: 'e2e0example.global-contribute.live-video.net' } } });
    });
    await logInThroughPage(page, server.url, IVS_VIEWER);
    await page.goto(`${server.url}/manager#go-live`);
    const broadcast = page.getByTestId('browser-broadcast');
    await broadcast.waitFor();
    await broadcast.getByTestId('camera-on').click();
    await page
      .waitForFunction(() => document.querySelector('[data-testid="browser-broadcast"]')?.getAttribute('data-state') === 'preview', null, { timeout: 20_000 })
      .catch(async (e) => {
        throw new Error(`no camera preview: ${await broadcast.innerText()}\n${errors.join('\n')}`, { cause: e });
      });
    assert.ok(requests.some((u) => /\/static\/ivsBroadcast-[^/]+\.js$/.test(u)), 'the broadcast chunk was loaded');
    await broadcast.scrollIntoViewIfNeeded();
    await screenshot(page, 'manager-ivs-mode-camera', { fullPage: false });
    await context.close();
  });
});
