// The chat example's event contract and its HTTP front door, driven by socket.io-client.
//
//   ROOMCAST_SERVER=/path/to/chat [ROOMCAST_THREADS=N] node --test tests/integration/chat.test.mjs
//
// A negative ("X does not get Y") is proven by a marker: after the event that would have
// caused Y, something X does get is sent; once X has it, Y would have come before it. Every
// test uses channels of its own, so that late notices of one test never reach another.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { ServerProcess, Peer, WAIT_MS, freePort, unique } from './harness.mjs';

const BINARY = process.env.ROOMCAST_SERVER;
const THREADS = process.env.ROOMCAST_THREADS || '1';
if (!BINARY) throw new Error('Set ROOMCAST_SERVER to the chat binary');

/// Runs the binary with `args` to its (bounded) exit: {code, signal, output}.
function runToExit(args) {
  return new Promise((resolve, reject) => {
    const proc = spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout.on('data', d => { output += d; });
    proc.stderr.on('data', d => { output += d; });
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${BINARY} ${args.join(' ')} did not exit within ${WAIT_MS} ms: ${output}`));
    }, WAIT_MS);
    proc.once('error', err => { clearTimeout(timer); reject(err); });
    proc.once('close', (code, signal) => { // exited, and its output is all read
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

describe(`chat (${THREADS} thread(s))`, () => {
  let server;
  let peers = [];
  let n = 0;
  const connect = async () => {
    const p = new Peer(server, `chat#${++n}`);
    peers.push(p);
    return p.connect();
  };
  /// Joins `channel` as `username` and waits for the joiner's own userJoined.
  const join = async (p, channel, username) => {
    p.emit('joinChannel', { channelName: channel, username });
    assert.deepEqual(await p.next('userJoined', u => u?.username === username), [{ username }]);
    return p;
  };
  /// A connected peer in `channel` as `username`.
  const member = async (channel, username) => join(await connect(), channel, username);
  const send = (p, channel, message) => p.emit('sendMessage', { channel, message });
  const texts = p => p.received('newMessage').map(([m]) => m.text);
  /// Sends `text` to `channel` from `p` and waits until `p` has it back.
  const marker = async (p, channel, text = unique('marker')) => {
    send(p, channel, text);
    await p.next('newMessage', m => m.text === text, 'its own marker');
    return text;
  };

  before(async () => {
    server = await ServerProcess.start(BINARY, ['--threads', THREADS],
      { readyLine: port => `listening on port ${port}` });
  });
  afterEach(() => {
    for (const p of peers) p.dispose();
    peers = [];
  });
  after(async () => { await server?.stop(); });

  it('joinChannel: the channel, the joiner included, gets userJoined {username}', async () => {
    const [x, y] = [unique('x'), unique('y')];
    const ann = await member(x, 'ann');
    const other = await member(y, 'olga');
    const bob = await connect();
    bob.emit('joinChannel', { channelName: x, username: 'bob' });
    assert.deepEqual(await bob.next('userJoined'), [{ username: 'bob' }]);
    assert.deepEqual(await ann.next('userJoined'), [{ username: 'bob' }]);
    // Olga, in another channel, heard of nobody but herself.
    await marker(other, y);
    assert.deepEqual(other.received('userJoined'), [[{ username: 'olga' }]]);
    assert.equal(ann.count('userJoined'), 2);
    assert.equal(bob.count('userJoined'), 1, 'bob joined after ann: he is not told of her');
  });

  it('sendMessage reaches the channel, the sender included, as {from, text, timestamp}',
    async () => {
      const [x, y] = [unique('x'), unique('y')];
      const ann = await member(x, 'ann');
      const bob = await member(x, 'bob');
      await ann.next('userJoined', u => u.username === 'bob');
      const carl = await member(y, 'carl');

      const text = '<b>hello</b> ünïcödé 🎉 "quoted" \\ \n second line';
      const sentAt = Date.now();
      send(ann, x, text);
      const [[forAnn], [forBob]] = [await ann.next('newMessage'), await bob.next('newMessage')];
      const receivedAt = Date.now();
      for (const m of [forAnn, forBob]) {
        assert.deepEqual(Object.keys(m).sort(), ['from', 'text', 'timestamp']);
        assert.equal(m.from, 'ann');
        assert.equal(m.text, text);
        assert.equal(typeof m.timestamp, 'number');
        assert.ok(Number.isInteger(m.timestamp), `timestamp ${m.timestamp} is whole milliseconds`);
        assert.ok(m.timestamp >= sentAt - 1000 && m.timestamp <= receivedAt + 1000,
          `timestamp ${m.timestamp} is close to Date.now() (${sentAt}..${receivedAt})`);
      }
      assert.deepEqual(forAnn, forBob);

      // Bob answers; the sender is told by name.
      send(bob, x, 'hi ann');
      assert.equal((await ann.next('newMessage'))[0].from, 'bob');
      assert.equal((await bob.next('newMessage'))[0].from, 'bob');

      // Carl, in another channel, got neither; x got nothing of y's.
      const mark = await marker(carl, y);
      assert.deepEqual(texts(carl), [mark]);
      await marker(ann, x);
      assert.ok(!texts(ann).includes(mark) && !texts(bob).includes(mark));
    });

  it('from is the name the socket gave in its latest joinChannel', async () => {
    const [x, y] = [unique('x'), unique('y')];
    const p = await member(x, 'ann');
    await join(p, y, 'anna'); // in both channels now, as anna
    send(p, x, 'who am I');
    assert.deepEqual((await p.next('newMessage'))[0].from, 'anna');
  });

  it('leaveChannel: the rest of the channel gets userLeft {username}', async () => {
    const [x, y] = [unique('x'), unique('y')];
    const ann = await member(x, 'ann');
    const bob = await member(x, 'bob');
    ann.emit('leaveChannel', { channelName: x });
    assert.deepEqual(await bob.next('userLeft'), [{ username: 'ann' }]);
    // Ann left: she hears neither of her leaving nor of x's later messages.
    const later = await marker(bob, x);
    await join(ann, y, 'ann');
    await marker(ann, y);
    assert.equal(ann.count('userLeft'), 0);
    assert.ok(!texts(ann).includes(later));
    // ...and may no longer post there.
    send(ann, x, 'still here?');
    assert.match((await ann.next('error'))[0].message, /not in channel/);
    await marker(bob, x);
    assert.ok(!texts(bob).includes('still here?'));
  });

  it('on disconnect, every channel the socket was in gets userLeft {username}', async () => {
    const [x, y, z] = [unique('x'), unique('y'), unique('z')];
    const ann = await member(x, 'ann');
    await join(ann, y, 'ann');
    const bob = await member(x, 'bob');
    const carl = await member(y, 'carl');
    const dora = await member(z, 'dora');
    ann.close();
    assert.deepEqual(await bob.next('userLeft'), [{ username: 'ann' }]);
    assert.deepEqual(await carl.next('userLeft'), [{ username: 'ann' }]);
    await marker(dora, z);
    assert.equal(dora.count('userLeft'), 0);
    // Exactly one notice per channel.
    await marker(bob, x);
    await marker(carl, y);
    assert.equal(bob.count('userLeft'), 1);
    assert.equal(carl.count('userLeft'), 1);
  });

  it('a socket that never joined leaves silently', async () => {
    const x = unique('x');
    const ann = await member(x, 'ann');
    const quiet = await connect();
    quiet.close();
    await quiet.waitDisconnect();
    const bob = await member(x, 'bob');
    await ann.next('userJoined', u => u.username === 'bob');
    await marker(bob, x);
    assert.equal(ann.count('userLeft'), 0);
  });

  it('channels never reach sockets\' own rooms', async () => {
    const x = unique('x');
    const bob = await member(x, 'bob');
    const ann = await connect();
    await join(ann, bob.id, 'ann'); // a channel named like bob's socket id
    send(ann, bob.id, 'psst');
    await ann.next('newMessage', m => m.text === 'psst');
    await marker(bob, x);
    assert.equal(bob.count('userJoined'), 1, 'bob heard only of his own joining');
    assert.ok(!texts(bob).includes('psst'));
  });

  it('malformed requests get `error` {message} and change nothing', async () => {
    const x = unique('x');
    const p = await connect();
    const bad = [
      ['joinChannel'],
      ['joinChannel', 'general'],
      ['joinChannel', { channelName: x }],
      ['joinChannel', { channelName: 42, username: 'ann' }],
      ['joinChannel', { channelName: '', username: 'ann' }],
      ['joinChannel', { channelName: x, username: '' }],
      ['sendMessage', { channel: x, message: 'not a member' }],
      ['leaveChannel', { channelName: x }],
      ['leaveChannel', []],
    ];
    for (const [event, ...args] of bad) {
      p.emit(event, ...args);
      const [e] = await p.next('error', undefined, `${event} ${JSON.stringify(args)}`);
      assert.equal(typeof e.message, 'string');
      assert.ok(e.message.length > 0);
      assert.deepEqual(Object.keys(e), ['message']);
    }
    // Conversion errors name the event and the field.
    p.emit('joinChannel', { channelName: x, username: 7 });
    assert.match((await p.next('error'))[0].message, /joinChannel.*\.username.*string/);
    assert.equal(p.count('userJoined'), 0);

    // Still connected and able to chat; a member's bad sendMessage is an error too.
    await join(p, x, 'ann');
    for (const m of [{ channel: x }, { channel: x, message: 5 }, { channel: x, message: '' },
      'hi']) {
      p.emit('sendMessage', m);
      await p.next('error', undefined, `sendMessage ${JSON.stringify(m)}`);
    }
    const mark = await marker(p, x);
    assert.deepEqual(texts(p), [mark]);
    assert.ok(p.connected);
  });

  it('serves the page at / and the client bundle at /vendor/socket.io.min.js', async () => {
    const page = await fetch(`${server.url}/`, { signal: AbortSignal.timeout(WAIT_MS) });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type'), /^text\/html/);
    const html = await page.text();
    assert.match(html, /<script src="\/vendor\/socket\.io\.min\.js"><\/script>/);
    assert.match(html, /id="messages"/);

    const js = await fetch(`${server.url}/chat.js`, { signal: AbortSignal.timeout(WAIT_MS) });
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type'), /javascript/);
    // The page uses the default client: polling first, then the upgrade to WebSocket.
    assert.match(await js.text(), /const socket = io\(\);/);

    const bundle = await fetch(`${server.url}/vendor/socket.io.min.js`,
      { signal: AbortSignal.timeout(WAIT_MS) });
    assert.equal(bundle.status, 200);
    assert.match(bundle.headers.get('content-type'), /^text\/javascript/);
    const code = await bundle.text();
    assert.ok(code.length > 10000, `the bundle has ${code.length} bytes`);
    assert.match(code, /Socket\.IO v4\./);

    const missing = await fetch(`${server.url}/nothing-here.js`,
      { signal: AbortSignal.timeout(WAIT_MS) });
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
  });
});

describe('chat start-up', () => {
  it('refuses to start without the client bundle, saying to run npm install', async () => {
    const port = await freePort();
    const r = await runToExit(
      ['--port', String(port), '--client-bundle', '/nonexistent/socket.io.min.js']);
    assert.notEqual(r.code, 0, `exit ${JSON.stringify(r)}`);
    assert.match(r.output, /npm install/);
    assert.doesNotMatch(r.output, /listening on port/);
  });

  it('refuses to start with a --public folder that has no index.html', async () => {
    const port = await freePort();
    const r = await runToExit(['--port', String(port), '--public', '/nonexistent-chat-public']);
    assert.notEqual(r.code, 0, `exit ${JSON.stringify(r)}`);
    assert.match(r.output, /index\.html/);
  });

  /// A port that this test holds, on every address (as the chat listens).
  async function holdPort() {
    const taken = net.createServer();
    await new Promise((resolve, reject) => {
      taken.once('error', reject);
      taken.listen(0, '0.0.0.0', resolve);
    });
    return taken;
  }

  it('says that its port is in use and exits with status 1', async () => {
    const taken = await holdPort();
    try {
      const { port } = taken.address();
      const r = await runToExit(['--port', String(port)]);
      assert.equal(r.code, 1, `exit ${JSON.stringify(r)}`);
      assert.match(r.output, new RegExp(`cannot listen on [0-9.]+:${port}: Address already in use`));
      assert.doesNotMatch(r.output, /listening on port/);
    } finally {
      taken.close();
    }
  });

  it('is started again on another port by the test harness when its port was taken', async () => {
    const taken = await holdPort();
    let attempts = 0;
    const { port: held } = taken.address();
    const s = await ServerProcess.start(
      port => [BINARY, '--port', String(++attempts === 1 ? held : port)]);
    try {
      assert.equal(attempts, 2);
      assert.notEqual(s.port, held);
      const page = await fetch(`${s.url}/`, { signal: AbortSignal.timeout(WAIT_MS) });
      assert.equal(page.status, 200);
      await page.body?.cancel();
    } finally {
      taken.close();
      await s.stop();
    }
  });

  it('rejects unknown arguments with a usage line', async () => {
    const r = await runToExit(['--bogus']);
    assert.equal(r.code, 2);
    assert.match(r.output, /usage: .*--client-bundle/);
  });
});
