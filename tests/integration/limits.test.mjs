// The limits of docs/security.md as socket.io-client meets them, against
// `features_server --limits` (client_rate 20/s with a burst of 20, max_event_name_bytes 64,
// max_connections 3, allow_request refusing the Origin https://evil.example).
//
//   ROOMCAST_SERVER=/path/to/features_server node --test tests/integration/limits.test.mjs

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { io as ioClient } from 'socket.io-client';
import {
  ServerProcess, clientOptions, nextEvent, sleep, WAIT_MS, STOP_MS, TEST_TIMEOUT_MS } from './harness.mjs';

const SERVER_BINARY = process.env.ROOMCAST_SERVER;
// Clients that reconnect, and soon: a client that should not reconnect has every chance to.
const RECONNECTING = { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 };

describe('limits with socket.io-client', { timeout: TEST_TIMEOUT_MS * 4 }, () => {
  let server;
  const sockets = [];
  before(async () => {
    assert.ok(SERVER_BINARY, 'ROOMCAST_SERVER must name the features_server binary');
    server = await ServerProcess.start(SERVER_BINARY, ['--limits'],
      { readyLine: port => `features listening on port ${port}` });
  });
  after(async () => {
    for (const s of sockets) s.close();
    await server?.stop();
  }, { timeout: STOP_MS * 2 + 2000 });

  function client(extra = {}) {
    const s = ioClient(server.url, clientOptions({ forceNew: true, ...extra }));
    sockets.push(s);
    return s;
  }

  async function connected(extra) {
    const s = client(extra);
    s.connect();
    await nextEvent(s, 'connect');
    return s;
  }

  /// `s` is refused: an `error` event naming why, then `io server disconnect`, and no
  /// reconnection although it would reconnect after anything else.
  async function refused(s, trigger, why) {
    const error = nextEvent(s, 'error');
    const disconnect = nextEvent(s, 'disconnect');
    let attempts = 0;
    s.io.on('reconnect_attempt', () => { ++attempts; });
    trigger();
    const [payload] = await error;
    assert.match(payload.message, why);
    assert.deepEqual(await disconnect, ['io server disconnect', undefined]);
    assert.equal(s.active, false);
    await sleep(500); // five times the longest reconnection delay
    assert.equal(attempts, 0);
    assert.equal(s.connected, false);
  }

  it('a client past client_rate gets `error`, is disconnected and does not reconnect', async () => {
    const s = await connected(RECONNECTING);
    // Under the rate: answered.
    assert.equal(await s.timeout(WAIT_MS).emitWithAck('echo', 'fine'), 'fine');
    await refused(s, () => { for (let i = 0; i < 60; ++i) s.emit('echo', i); }, /rate/i);
  });

  it('an event name over max_event_name_bytes gets `error` and a disconnect', async () => {
    const s = await connected(RECONNECTING);
    await refused(s, () => s.emit('e'.repeat(65), 1), /event name/i);
    // A name at the limit is taken: the server handles a socket's packets in order, so the
    // echo after it is answered only if it was not refused.
    const t = await connected();
    t.emit('e'.repeat(64), 1);
    assert.equal(await t.timeout(WAIT_MS).emitWithAck('echo', 'still here'), 'still here');
    assert.equal(t.connected, true);
    t.close();
  });

  it('past max_connections the handshake gets 503 and the client retries until a place frees', async () => {
    const first = await Promise.all([0, 1, 2].map(() => connected(RECONNECTING)));
    const late = client({ ...RECONNECTING, transports: ['polling'] });
    const refusedOnce = nextEvent(late, 'connect_error');
    const retried = nextEvent(late.io, 'reconnect_attempt');
    late.connect();
    const [err] = await refusedOnce;
    assert.equal(err.message, 'xhr poll error');
    assert.equal(err.description, 503);
    await retried;
    assert.equal(late.connected, false);
    const joined = nextEvent(late, 'connect');
    first[0].close();
    await joined;
    assert.equal(await late.timeout(WAIT_MS).emitWithAck('echo', 'in'), 'in');
    for (const s of [late, ...first]) s.close();
  });

  it('allow_request refuses a WebSocket from a disallowed Origin; others connect', async () => {
    const evil = client({ extraHeaders: { origin: 'https://evil.example' } });
    const refusal = nextEvent(evil, 'connect_error');
    evil.connect();
    const [err] = await refusal;
    assert.equal(err.message, 'websocket error');
    assert.equal(evil.connected, false);
    const good = await connected({ extraHeaders: { origin: 'https://good.example' } });
    assert.equal(await good.timeout(WAIT_MS).emitWithAck('echo', 'ok'), 'ok');
    good.close();
  });
});
