// The conformance example, driven by real clients: its Engine.IO echo mode with a raw
// WebSocket (`ws`), its Socket.IO mode with socket.io-client. The official protocol suites
// test the same program; this file keeps its contract checked in CI.
//
//   ROOMCAST_SERVER=/path/to/conformance node --test tests/integration/conformance.test.mjs

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { ServerProcess, Peer } from './harness.mjs';

const BINARY = process.env.ROOMCAST_SERVER;
if (!BINARY) throw new Error('Set ROOMCAST_SERVER to the conformance binary');

/// A raw WebSocket that queues every frame it receives.
class Raw {
  constructor(server, path) {
    this.server = server;
    this.frames = [];
    this.waiting = null;
    this.closed = new Promise(resolve => { this.onClosed = resolve; });
    this.ws = new WebSocket(`ws://127.0.0.1:${server.port}${path}`);
    this.ws.on('message', (data, isBinary) => {
      this.frames.push({ data: isBinary ? Buffer.from(data) : data.toString(), isBinary });
      if (this.waiting) { const w = this.waiting; this.waiting = null; w(); }
    });
    this.ws.on('close', code => this.onClosed(code));
    this.ws.on('error', () => {});
    this.opened = server.bounded(new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('unexpected-response', (req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      this.ws.once('error', reject);
    }), `WebSocket to ${path} to open`);
  }

  async read() {
    while (this.frames.length === 0) {
      await this.server.bounded(new Promise(resolve => { this.waiting = resolve; }), 'a frame');
    }
    return this.frames.shift();
  }

  send(data, binary = false) { this.ws.send(data, { binary }); }
  close() { this.ws.terminate(); }
}

describe('conformance --engineio: Engine.IO echo on /engine.io/', () => {
  let server;
  before(async () => { server = await ServerProcess.start(BINARY, ['--engineio']); });
  after(async () => { await server?.stop(); });

  it('opens with the configured heartbeat and max payload, and echoes text and binary', async () => {
    const c = new Raw(server, '/engine.io/?EIO=4&transport=websocket');
    await c.opened;
    const open = await c.read();
    assert.equal(open.data[0], '0');
    const o = JSON.parse(open.data.slice(1));
    assert.deepEqual(Object.keys(o).sort(), ['maxPayload', 'pingInterval', 'pingTimeout', 'sid', 'upgrades']);
    assert.deepEqual([o.upgrades, o.pingInterval, o.pingTimeout, o.maxPayload], [[], 300, 200, 1000000]);
    c.send('4hello');
    assert.deepEqual(await c.read(), { data: '4hello', isBinary: false });
    c.send(Buffer.from([1, 2, 3, 250]), true);
    assert.deepEqual(await c.read(), { data: Buffer.from([1, 2, 3, 250]), isBinary: true });
    c.send('4{"unicode":"é✓"}');
    assert.deepEqual(await c.read(), { data: '4{"unicode":"é✓"}', isBinary: false });
    c.close();
  });

  it('pings every 300 ms and closes a session whose pong does not come', async () => {
    const c = new Raw(server, '/engine.io/?EIO=4&transport=websocket');
    await c.opened;
    await c.read(); // open
    const t0 = Date.now();
    assert.equal((await c.read()).data, '2');
    assert.ok(Date.now() - t0 >= 250, 'the first ping comes after the ping interval');
    c.send('3');
    assert.equal((await c.read()).data, '2');
    // No pong this time: closed after pingTimeout.
    await server.bounded(c.closed, 'the session to close on ping timeout', 2000);
  });

  it('keeps a polling session that nothing but its requests holds, and echoes over it', async () => {
    const base = `${server.url}/engine.io/?EIO=4&transport=polling`;
    const open = await (await fetch(base)).text();
    assert.equal(open[0], '0');
    const url = `${base}&sid=${JSON.parse(open.slice(1)).sid}`;
    const post = await fetch(url, { method: 'POST', body: '4hello\x1e4again' });
    assert.deepEqual([post.status, await post.text()], [200, 'ok']);
    const get = await fetch(url);
    assert.deepEqual([get.status, await get.text()], [200, '4hello\x1e4again']);
    const bye = await fetch(url, { method: 'POST', body: '1' });
    assert.equal(bye.status, 200);
    assert.equal((await fetch(url)).status, 400, 'the session is gone after its close packet');
  });

  it('answers only on its own path', async () => {
    const c = new Raw(server, '/socket.io/?EIO=4&transport=websocket');
    await assert.rejects(c.opened, /HTTP 404/);
  });
});

describe('conformance: Socket.IO on / and /custom', () => {
  let server;
  const peers = [];
  const peer = (name, opts) => { const p = new Peer(server, name, opts); peers.push(p); return p; };
  before(async () => { server = await ServerProcess.start(BINARY); });
  after(async () => {
    for (const p of peers) p.close();
    await server?.stop();
  });

  it('emits auth with the auth payload, or {} without one, on / and /custom', async () => {
    const plain = await peer('plain').connect();
    assert.deepEqual(await plain.next('auth'), [{}]);
    const token = await peer('token', { auth: { token: 'abc', n: [1, 2] } }).connect();
    assert.deepEqual(await token.next('auth'), [{ token: 'abc', n: [1, 2] }]);
    const custom = await peer('custom', { nsp: '/custom', auth: { x: 1 } }).connect();
    assert.deepEqual(await custom.next('auth'), [{ x: 1 }]);
  });

  it('answers message with message-back, same arguments, binary included', async () => {
    const c = await peer('echo').connect();
    c.emit('message', 1, 'two', { three: [3] }, Buffer.from([4, 5]), { nested: Buffer.from('six') });
    const back = await c.next('message-back');
    assert.deepEqual(back.slice(0, 3), [1, 'two', { three: [3] }]);
    assert.deepEqual(Buffer.from(back[3]), Buffer.from([4, 5]));
    assert.deepEqual(Buffer.from(back[4].nested), Buffer.from('six'));
    c.emit('message');
    assert.deepEqual(await c.next('message-back'), []);
  });

  it('acknowledges message-with-ack with the same arguments', async () => {
    const c = await peer('ack').connect();
    const r = await c.call('message-with-ack', 'a', { b: null }, Buffer.from([0, 255]));
    assert.deepEqual(r.slice(0, 2), ['a', { b: null }]);
    assert.deepEqual(Buffer.from(r[2]), Buffer.from([0, 255]));
  });

  it('has no other namespace', async () => {
    const err = await peer('random', { nsp: '/random' }).connectRefused();
    assert.equal(err.message, 'Invalid namespace');
  });

  it('closes an Engine.IO session that joins no namespace within the connect timeout', async () => {
    const c = new Raw(server, '/socket.io/?EIO=4&transport=websocket');
    await c.opened;
    await c.read(); // open
    const t0 = Date.now();
    // Answer pings so that only the connect timeout can close it.
    const pong = setInterval(() => {
      while (c.frames.length) if (c.frames.shift().data === '2') c.send('3');
    }, 20);
    try {
      await server.bounded(c.closed, 'the connect timeout', 3000);
    } finally {
      clearInterval(pong);
    }
    assert.ok(Date.now() - t0 >= 900, `closed after ${Date.now() - t0} ms, before the connect timeout`);
  });
});
