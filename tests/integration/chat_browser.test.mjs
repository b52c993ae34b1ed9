// The chat example's page in a real browser: Debian's Chromium, driven by playwright-core.
//
//   ROOMCAST_SERVER=/path/to/chat [ROOMCAST_THREADS=N] [ROOMCAST_ARTIFACTS=dir] \
//       node --test tests/integration/chat_browser.test.mjs
//
// Three users, each in a browser context of their own (own storage, own connection): ann
// and bob in one channel, carl in another. What one sends the other sees on the page; carl
// does not, which is proven by a marker: a later message in carl's own channel reaches his
// page, and ann's would have come before it. Screenshots of the three pages go to
// ROOMCAST_ARTIFACTS (default build/artifacts under the working directory).
//
// Needs /usr/bin/chromium (Debian's `chromium`; `scripts/install-deps.sh test` installs it),
// or ROOMCAST_CHROMIUM=<executable>. Without it the test fails: it never skips silently.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ServerProcess, WAIT_MS, STARTUP_MS, unique } from './harness.mjs';

const BINARY = process.env.ROOMCAST_SERVER;
const THREADS = process.env.ROOMCAST_THREADS || '1';
const CHROMIUM = process.env.ROOMCAST_CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = path.resolve(process.env.ROOMCAST_ARTIFACTS || path.join('build', 'artifacts'));
if (!BINARY) throw new Error('Set ROOMCAST_SERVER to the chat binary');
if (!fs.existsSync(CHROMIUM)) {
  throw new Error(`No Chromium at ${CHROMIUM}: install Debian's chromium package ` +
    '(`sudo apt-get install chromium`, or `scripts/install-deps.sh test`), ' +
    'or set ROOMCAST_CHROMIUM');
}

const CLOSE_MS = 5000;

describe(`chat page in Chromium (${THREADS} thread(s))`, () => {
  let server;
  let browser;
  const users = [];

  /// `promise`, bounded, failing at once if the server dies.
  const step = (promise, what, ms = WAIT_MS + 1000) => server.bounded(promise, what, ms);

  /// A user's page: opened, connected, joined to `channel` as `name`.
  async function openAs(name, channel) {
    const context = await step(browser.newContext({ viewport: { width: 900, height: 600 } }),
      `a browser context for ${name}`);
    context.setDefaultTimeout(WAIT_MS);
    const page = await step(context.newPage(), `a page for ${name}`);
    const user = { name, channel, context, page, problems: [] };
    users.push(user);
    page.on('pageerror', err => user.problems.push(`page error: ${err.message}`));
    page.on('console', msg => {
      if (msg.type() === 'error') user.problems.push(`console error: ${msg.text()}`);
    });
    const res = await step(page.goto(`${server.url}/`), `${name}'s page to load`);
    assert.equal(res.status(), 200);
    await step(page.locator('[data-testid=status][data-state=connected]').waitFor(),
      `${name}'s page to connect; status: ${await page.locator('#status').textContent()}`);
    await join(user, channel);
    return user;
  }

  /// Joins (or switches to) `channel` through the form.
  async function join(user, channel) {
    const { page, name } = user;
    await page.fill('[data-testid=username]', name);
    await page.fill('[data-testid=channel]', channel);
    await page.click('[data-testid=join]');
    await step(notice(user, `You joined #${channel} as ${name}.`).waitFor(),
      `${name} to join #${channel}`);
    assert.equal(await page.getAttribute('[data-testid=current-channel]', 'data-channel'), channel);
    user.channel = channel;
  }

  const notice = ({ page }, text) =>
    page.locator('[data-testid=notice]').filter({ hasText: text });
  const messageOn = ({ page }, text) =>
    page.locator('[data-testid=message]').filter({ hasText: text });

  /// Types `text` into the composer and sends it with Enter.
  async function say(user, text) {
    await user.page.fill('[data-testid=message-input]', text);
    await user.page.press('[data-testid=message-input]', 'Enter');
  }

  /// Waits until `user`'s page shows `text` from `from`; returns the message element's data.
  async function sees(user, from, text) {
    const li = messageOn(user, text);
    await step(li.waitFor(), `${user.name}'s page to show '${text}'`);
    return {
      from: await li.getAttribute('data-from'),
      shownFrom: await li.locator('[data-testid=message-from]').textContent(),
      text: await li.locator('[data-testid=message-text]').textContent(),
      time: await li.locator('[data-testid=message-time]').textContent(),
      timestamp: Number(await li.getAttribute('data-timestamp')),
      expectedFrom: from,
    };
  }

  const shownTexts = user =>
    user.page.locator('[data-testid=message] [data-testid=message-text]').allTextContents();

  before(async () => {
    server = await ServerProcess.start(BINARY, ['--threads', THREADS],
      { readyLine: port => `listening on port ${port}` });
    // Playwright gives the browser a fresh temporary profile and removes it on close.
    browser = await step(chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      timeout: STARTUP_MS,
    }), `Chromium (${CHROMIUM}) to start`, STARTUP_MS + 1000);
  });

  after(async () => {
    try {
      if (browser) {
        let timer;
        await Promise.race([
          browser.close(),
          new Promise(resolve => { timer = setTimeout(resolve, CLOSE_MS); }),
        ]);
        clearTimeout(timer);
      }
    } finally {
      await server?.stop();
    }
  });

  it('two users in a channel chat; a user in another channel sees none of it', async () => {
    const [x, y] = [unique('lobby'), unique('other')];
    const ann = await openAs('ann', x);
    const bob = await openAs('bob', x);
    await step(notice(ann, 'bob joined.').waitFor(), 'ann to see bob join');
    const carl = await openAs('carl', y);

    const text = `hello bob <b>not bold</b> ${unique('m')}`;
    const before = Date.now();
    await say(ann, text);
    const got = await sees(bob, 'ann', text);
    assert.equal(got.from, 'ann');
    assert.equal(got.shownFrom, 'ann');
    assert.equal(got.text, text, 'shown as text, not HTML');
    assert.match(got.time, /\d/, 'the time is shown');
    assert.ok(Math.abs(got.timestamp - before) < 10000, `timestamp ${got.timestamp} vs ${before}`);
    await sees(ann, 'ann', text); // the sender sees her own message too
    assert.equal(await bob.page.locator('[data-testid=message] b').count(), 0);

    // Bob answers.
    await say(bob, 'hi ann');
    assert.equal((await sees(ann, 'bob', 'hi ann')).from, 'bob');

    // Carl, in another channel: his own later message arrives, ann's and bob's never did.
    const mark = `carl's marker ${unique('m')}`;
    await say(carl, mark);
    await sees(carl, 'carl', mark);
    assert.deepEqual(await shownTexts(carl), [mark]);
    assert.equal(await notice(carl, 'bob joined.').count(), 0);

    fs.mkdirSync(ARTIFACTS, { recursive: true });
    for (const u of [ann, bob, carl]) {
      await u.page.screenshot({ path: path.join(ARTIFACTS, `chat_browser_${u.name}.png`) });
    }
  });

  it('switching channel leaves the old one', async () => {
    assert.equal(users.length, 3, 'the users of the first test are needed');
    const [ann, bob, carl] = users;
    const y = carl.channel;
    await join(bob, y);
    await step(notice(ann, 'bob left.').waitFor(), 'ann to see bob leave');
    await step(notice(carl, 'bob joined.').waitFor(), 'carl to see bob join');
    assert.deepEqual(await shownTexts(bob), [], 'a new channel starts with an empty log');
    assert.equal(await notice(bob, `You left #${ann.channel}.`).count(), 1);

    await say(carl, 'welcome bob');
    await sees(bob, 'carl', 'welcome bob');
    // Ann's channel does not hear it: her own later message comes, carl's never did.
    const mark = `ann's marker ${unique('m')}`;
    await say(ann, mark);
    await sees(ann, 'ann', mark);
    assert.ok(!(await shownTexts(ann)).includes('welcome bob'));
    // Bob no longer hears ann's channel either.
    await say(bob, 'bob in the new channel');
    await sees(carl, 'bob', 'bob in the new channel');
    assert.ok(!(await shownTexts(bob)).includes(mark));

    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await bob.page.screenshot({ path: path.join(ARTIFACTS, 'chat_browser_bob_switched.png') });
  });

  it('closing a page tells its channel the user left', async () => {
    assert.equal(users.length, 3, 'the users of the first test are needed');
    const [ann, bob, carl] = users;
    await step(bob.context.close(), 'bob\'s page to close');
    await step(notice(carl, 'bob left.').waitFor(), 'carl to see bob leave');
    // Nothing went wrong in any page.
    for (const u of [ann, bob, carl]) assert.deepEqual(u.problems, [], `${u.name}'s page`);
  });
});
