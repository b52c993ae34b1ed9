// HTTP long-polling and the upgrade to WebSocket, with socket.io-client as people configure
// it: the default (polling first, then the upgrade), and polling only. Against the conformance
// example (heartbeat every 300 ms, so pings and pongs cross polling all the time).
//
//   ROOMCAST_SERVER=/path/to/conformance node --test tests/integration/polling.test.mjs

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ServerProcess, Peer, sleep } from './harness.mjs';

const BINARY = process.env.ROOMCAST_SERVER;
if (!BINARY) throw new Error('Set ROOMCAST_SERVER to the conformance binary');

describe('long-polling and upgrade', () => {
  let server;
  const peers = [];
  const peer = async (name, opts) => {
    const p = new Peer(server, name, opts);
    peers.push(p);
    return p.connect();
  };
  const upgraded = p => p.server.bounded(new Promise(resolve => {
    const engine = p.socket.io.engine;
    if (engine.transport.name === 'websocket') return resolve();
    engine.once('upgrade', () => resolve());
  }), `${p.name} to upgrade to WebSocket`);

  before(async () => { server = await ServerProcess.start(BINARY); });
  after(async () => {
    for (const p of peers) p.close();
    await server?.stop();
  });

  it('a default client starts with polling and upgrades to WebSocket', async () => {
    const c = await peer('default', { transports: ['polling', 'websocket'], auth: { n: 1 } });
    assert.deepEqual(await c.next('auth'), [{ n: 1 }]);
    await upgraded(c);
    assert.equal(c.socket.io.engine.transport.name, 'websocket');
    c.emit('message', 'after', Buffer.from([9, 8]));
    const back = await c.next('message-back');
    assert.equal(back[0], 'after');
    assert.deepEqual(Buffer.from(back[1]), Buffer.from([9, 8]));
  });

  it('nothing is lost or reordered across the upgrade', async () => {
    const c = new Peer(server, 'burst', { transports: ['polling', 'websocket'] });
    peers.push(c);
    // Sent from the first moment: the packets cross polling, the probe and the switch.
    c.socket.on('connect', () => {
      for (let i = 0; i < 300; ++i) c.emit('message', i, i % 50 === 0 ? Buffer.from([i % 256]) : 'x');
    });
    await c.connect();
    const got = [];
    while (got.length < 300) {
      const [i, extra] = await c.next('message-back');
      got.push(i);
      if (i % 50 === 0) assert.deepEqual(Buffer.from(extra), Buffer.from([i % 256]));
    }
    assert.deepEqual(got, [...Array(300).keys()]);
    await upgraded(c);
  });

  it('a polling-only client: events, binary and acks both ways, namespaces, heartbeat', async () => {
    const c = await peer('poll', { transports: ['polling'] });
    assert.equal(c.socket.io.engine.transport.name, 'polling');
    assert.deepEqual(await c.next('auth'), [{}]);
    c.emit('message', { a: [1, 'é'] }, Buffer.from('bytes'));
    const back = await c.next('message-back');
    assert.deepEqual(back[0], { a: [1, 'é'] });
    assert.deepEqual(Buffer.from(back[1]), Buffer.from('bytes'));
    const r = await c.call('message-with-ack', 7, Buffer.from([0, 1, 2]));
    assert.equal(r[0], 7);
    assert.deepEqual(Buffer.from(r[1]), Buffer.from([0, 1, 2]));
    // Several ping intervals (300 ms) pass; the session stays, answered over polling.
    await sleep(1000);
    assert.equal(c.connected, true);
    const custom = await peer('poll-custom', { nsp: '/custom', transports: ['polling'] });
    assert.deepEqual(await custom.next('auth'), [{}]);
    assert.equal(custom.socket.io.engine.transport.name, 'polling');
  });

  it('a polling client that disconnects is gone at once, and the server keeps serving', async () => {
    const c = await peer('leaver', { transports: ['polling'] });
    await c.next('auth');
    c.close();
    const d = await peer('after', { transports: ['polling'] });
    d.emit('message', 'still here');
    assert.deepEqual(await d.next('message-back'), ['still here']);
  });
});
