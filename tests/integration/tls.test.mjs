// TLS with the real socket.io-client: https:// long-polling, the upgrade to wss://, and a
// client that does not trust the server's certificate. The features suites also run whole
// over TLS (features_tls_*); this file holds what is TLS's own.
//
//   ROOMCAST_SERVER=/path/to/features_server ROOMCAST_TLS_CERT=cert.pem ROOMCAST_TLS_KEY=key.pem \
//     [ROOMCAST_THREADS=1|2] node --test tests/integration/tls.test.mjs

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { io as ioClient } from 'socket.io-client';
import {
  ServerProcess, clientOptions, nextEvent, TLS, WAIT_MS, STOP_MS, TEST_TIMEOUT_MS } from './harness.mjs';

const SERVER_BINARY = process.env.ROOMCAST_SERVER;
const THREADS = process.env.ROOMCAST_THREADS || '1';

describe('TLS with socket.io-client', { timeout: TEST_TIMEOUT_MS * 4 }, () => {
  let server;
  const sockets = [];
  before(async () => {
    assert.ok(SERVER_BINARY, 'ROOMCAST_SERVER must name the features_server binary');
    assert.ok(TLS, 'ROOMCAST_TLS_CERT and ROOMCAST_TLS_KEY must name the certificate and key');
    server = await ServerProcess.start(SERVER_BINARY, ['--threads', THREADS],
      { readyLine: port => `features listening on port ${port}` });
  });
  after(async () => {
    for (const s of sockets) s.close();
    await server?.stop();
  }, { timeout: STOP_MS * 2 + 2000 });

  function client(extra) {
    const s = ioClient(server.url, clientOptions({ forceNew: true, ...extra }));
    sockets.push(s);
    return s;
  }

  it('connects over https:// polling only, with acks both ways', async () => {
    const s = client({ transports: ['polling'] });
    s.connect();
    await nextEvent(s, 'connect');
    assert.equal(s.io.engine.transport.name, 'polling');
    assert.deepEqual(await s.timeout(WAIT_MS).emitWithAck('secure'), true);
    const big = 'p'.repeat(300 * 1024);
    assert.equal(await s.timeout(WAIT_MS).emitWithAck('echo', big), big);
    s.close();
  });

  it('upgrades from polling to wss:// and keeps the session', async () => {
    const s = client({ transports: ['polling', 'websocket'] });
    s.connect();
    await nextEvent(s, 'connect');
    const id = s.id;
    if (s.io.engine.transport.name !== 'websocket') await nextEvent(s.io.engine, 'upgrade');
    assert.equal(s.io.engine.transport.name, 'websocket');
    assert.equal(s.id, id);
    assert.deepEqual(await s.timeout(WAIT_MS).emitWithAck('secure'), true);
    const big = 'w'.repeat(600 * 1024);
    assert.equal(await s.timeout(WAIT_MS).emitWithAck('echo', big), big);
    const bytes = Buffer.from([1, 2, 3, 4, 5]);
    assert.equal(await s.timeout(WAIT_MS).emitWithAck('binSingle', bytes), 5);
    s.close();
  });

  for (const transports of [['websocket'], ['polling']]) {
    it(`refuses, by the client's own check, a client that does not trust the certificate (${transports})`, async () => {
      const s = client({ transports, ca: undefined });
      s.connect();
      const [err] = await nextEvent(s, 'connect_error');
      assert.ok(!s.connected);
      if (transports[0] === 'websocket') {
        // ws reports the verification error itself.
        const cause = err.description?.error ?? err.description ?? err;
        assert.match(String(cause?.message ?? cause), /certificate/i);
      } else {
        // xmlhttprequest-ssl reports only a failed request: the same client with `ca`
        // connects below, so the certificate is what differs.
        assert.equal(err.message, 'xhr poll error');
      }
      s.close();
      // The server goes on serving clients that trust it.
      const ok = client({ transports });
      ok.connect();
      await nextEvent(ok, 'connect');
      ok.close();
    });
  }
});
