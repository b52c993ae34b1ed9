// Shared harness of the real-client integration tests: starts a server program on a free
// loopback port, waits for it to be ready (never a fixed sleep), bounds every wait, fails a
// wait at once if the server dies, and stops the process (SIGTERM, then SIGKILL) even when a
// test fails. Peers are real socket.io-client sockets that record every event from before
// they connect, so nothing is missed between an emit and a wait. RedisProcess runs a
// throwaway Redis server (cluster suites), with the same bounded start and stop.
//
// Environment (read by every suite): ROOMCAST_WAIT_MS (bound of every single wait, default
// 4000), ROOMCAST_STARTUP_MS (bound of server start-up, default 10000), ROOMCAST_VERBOSE=1
// (echo the server's output). With ROOMCAST_TLS_CERT and ROOMCAST_TLS_KEY (PEM files), a
// server program is given them (--tls-cert, --tls-key) and is reached over https:// and
// wss://, and clients trust that certificate and no other.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { io as ioClient } from 'socket.io-client';

export const WAIT_MS = Number(process.env.ROOMCAST_WAIT_MS || 4000);
export const STARTUP_MS = Number(process.env.ROOMCAST_STARTUP_MS || 10000);
export const STOP_MS = 3000;
export const TEST_TIMEOUT_MS = 30000; // per test, a last-resort bound above the per-wait bounds
const VERBOSE = process.env.ROOMCAST_VERBOSE === '1';
/// The certificate and key servers are started with, when the suite runs over TLS.
export const TLS = process.env.ROOMCAST_TLS_CERT
  ? { cert: process.env.ROOMCAST_TLS_CERT, key: process.env.ROOMCAST_TLS_KEY }
  : null;

export const sleep = ms => new Promise(r => setTimeout(r, ms));

/// Resolves with the arguments of `emitter`'s next `event`; rejects after `ms`.
export function nextEvent(emitter, event, ms = WAIT_MS) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    emitter.once(event, (...args) => { clearTimeout(timer); resolve(args); });
  });
}

let uniq = 0;
/// A name no other test of this run uses.
export const unique = prefix => `${prefix}-${process.pid}-${++uniq}`;

/// How a server that could not bind its port says so (Node, Boost.Asio, redis-server).
const PORT_TAKEN = /EADDRINUSE|address already in use/i;
/// Servers that lose their port to another process are started again on another port.
const PORT_ATTEMPTS = 4;

/// Whether process `p` (a ServerProcess or RedisProcess that failed to start) exited because
/// another took its port between freePort() and its bind (an outgoing connection of a test
/// running beside it may get that port, too).
async function lostPortRace(p) {
  if (!p.exited) return false;
  await Promise.race([p.closed, sleep(STOP_MS)]); // its last words may follow 'exit'
  return PORT_TAKEN.test(p.output);
}

/// A port nothing listens on now. Another process may still take it before the caller binds
/// it: ServerProcess and RedisProcess start again on another port when that happens.
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(err => (err ? reject(err) : resolve(port)));
    });
  });
}

function tryConnect(port) {
  return new Promise(resolve => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const done = ok => { sock.removeAllListeners(); sock.destroy(); resolve(ok); };
    sock.setTimeout(500, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

// Last resort if the test process dies without stopping its servers.
const running = new Set();
process.on('exit', () => {
  for (const s of running) {
    try { s.proc.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

/// A server process.
///  * `await ServerProcess.start(binary, extraArgs)` runs `binary --port <free port> ...extraArgs`;
///  * `await ServerProcess.start(port => [program, ...args])` runs the command line made for the
///    port (e.g. when the port argument does not come right after the program).
/// It is ready once it accepts a TCP connection, or, with the option `readyLine: port => text`,
/// once it has printed that text.
export class ServerProcess {
  static async start(command, extraArgs = [], { readyLine } = {}) {
    if (typeof command === 'function') {
      assert.equal(extraArgs.length, 0, 'a command line function takes no extra arguments');
    } else {
      const binary = command;
      const tlsArgs = TLS ? ['--tls-cert', TLS.cert, '--tls-key', TLS.key] : [];
      command = port => [binary, '--port', String(port), ...extraArgs, ...tlsArgs];
    }
    for (let attempt = 1; ; ++attempt) {
      const s = new ServerProcess();
      try {
        await s._start(command, readyLine);
        return s;
      } catch (err) {
        s.stopping = true; // not ready: do not leave it running
        if (s.proc && !s.exited) s.proc.kill('SIGKILL');
        if (!(attempt < PORT_ATTEMPTS && await lostPortRace(s))) throw err;
      }
    }
  }

  async _start(command, readyLine) {
    this.port = await freePort();
    this.url = `${TLS ? 'https' : 'http'}://127.0.0.1:${this.port}`;
    this.output = '';
    this.exited = null;   // {code, signal} once the process has exited
    this.stopping = false;
    const argv = command(this.port);
    this.what = argv.join(' ');
    // Rejected if the process exits while we did not stop it.
    this.died = new Promise((_, reject) => { this.rejectDied = reject; });
    this.died.catch(() => {}); // observed through bounded waits, never unhandled
    const readyText = readyLine ? readyLine(this.port) : null;
    let markReady;
    const printedReady = new Promise(resolve => { markReady = resolve; });
    this.proc = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.closed = new Promise(resolve => this.proc.once('close', resolve)); // output complete
    running.add(this);
    const collect = chunk => {
      const text = chunk.toString();
      this.output = (this.output + text).slice(-20000);
      if (VERBOSE) process.stderr.write(`[server] ${text}`);
      if (readyText && this.output.includes(readyText)) markReady();
    };
    this.proc.stdout.on('data', collect);
    this.proc.stderr.on('data', collect);
    this.exitPromise = new Promise(resolve => {
      this.proc.once('exit', (code, signal) => {
        this.exited = { code, signal };
        running.delete(this);
        if (!this.stopping) this.rejectDied(this._deathError());
        resolve(this.exited);
      });
    });
    this.proc.once('error', err => {
      this.exited = this.exited || { code: null, signal: null, error: err };
      running.delete(this);
      this.rejectDied(new Error(`cannot start ${this.what}: ${err.message}`));
    });

    if (readyText) {
      await this.bounded(printedReady, `${this.what} to print '${readyText}'`, STARTUP_MS)
        .catch(err => { throw this.exited ? err : new Error(`${err.message}${this.tail()}`); });
      return;
    }
    const deadline = Date.now() + STARTUP_MS;
    for (;;) {
      if (this.exited) await this.died; // throws the "exited unexpectedly" error
      if (await tryConnect(this.port)) return;
      if (Date.now() > deadline) {
        throw new Error(`${this.what} did not accept TCP connections on 127.0.0.1:${this.port} ` +
          `within ${STARTUP_MS} ms${this.tail()}`);
      }
      await sleep(50);
    }
  }

  tail() {
    const t = this.output.slice(-4000);
    return t ? `\n--- server output (tail) ---\n${t}\n--- end of server output ---` : ' (server printed nothing)';
  }

  _deathError() {
    return new Error(`server ${this.what} exited unexpectedly ` +
      `(code ${this.exited.code}, signal ${this.exited.signal})${this.tail()}`);
  }

  /// Whether the process has exited without being stopped.
  get diedUnexpectedly() { return Boolean(this.exited) && !this.stopping; }

  /// Throws, with the server's output, if the process has exited without being stopped.
  checkAlive() {
    if (this.diedUnexpectedly) throw this._deathError();
  }

  /// Bounded wait on `promise`; fails at once if the server dies.
  async bounded(promise, what, ms = WAIT_MS) {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    });
    try {
      return await Promise.race([promise, timeout, this.died]);
    } finally {
      clearTimeout(timer);
    }
  }

  /// SIGTERM, then SIGKILL after STOP_MS; fails unless it exits with status 0 on SIGTERM.
  async stop() {
    if (!this.proc || this.exited) return;
    this.stopping = true;
    this.proc.kill('SIGTERM');
    let timer;
    const r = await Promise.race([
      this.exitPromise,
      new Promise(res => { timer = setTimeout(() => res('timeout'), STOP_MS); }),
    ]);
    clearTimeout(timer);
    if (r === 'timeout') {
      this.proc.kill('SIGKILL');
      await this.exitPromise;
      throw new Error(`${this.what} did not stop within ${STOP_MS} ms of SIGTERM${this.tail()}`);
    }
    assert.equal(this.exited.code, 0, `${this.what} exited with ${JSON.stringify(this.exited)}${this.tail()}`);
  }
}

/// Options of socket.io-client connections and Managers: WebSocket only, no reconnection,
/// connected explicitly.
export function clientOptions(extra = {}) {
  return {
    transports: ['websocket'], reconnection: false, autoConnect: false, timeout: WAIT_MS,
    ...(TLS ? { ca: fs.readFileSync(TLS.cert) } : {}), ...extra,
  };
}

/// Returned by a function of `Peer.answers`: leave the server's acknowledgement unanswered.
export const NO_ANSWER = Symbol('no answer');

/// A socket.io-client socket on namespace `nsp` of `server` (its own connection, or one of
/// `manager`'s) that records every event it receives: log entries {event, args, ack, taken}.
/// An event that asks for an acknowledgement is answered by `answers.get(event)(...args)`
/// (the reply's argument list, or NO_ANSWER); without an answer its `ack` stays in the log.
/// Predicates get the event's arguments spread (see `_matches`).
export class Peer {
  constructor(server, name, { nsp = '/', auth, manager, transports } = {}) {
    this.server = server;
    this.name = name;
    this.nsp = nsp;
    this.log = [];
    this.waiters = [];
    this.answers = new Map();
    this.disconnectReason = null;
    this.socket = manager
      ? manager.socket(nsp, auth ? { auth } : {})
      : ioClient(server.url + nsp, clientOptions({
        forceNew: true, ...(auth ? { auth } : {}), ...(transports ? { transports } : {}),
      }));
    this.transports = transports;
    this.socket.onAny((event, ...args) => this._record(event, args));
    this.socket.on('disconnect', reason => { this.disconnectReason = reason; this._wake(); });
  }

  get id() { return this.socket.id; }
  get connected() { return this.socket.connected; }

  emit(event, ...args) { this.socket.emit(event, ...args); }

  _record(event, args) {
    let ack = null;
    if (args.length && typeof args[args.length - 1] === 'function') ack = args.pop();
    const entry = { event, args, ack, taken: false };
    const answer = this.answers.get(event);
    if (ack && answer) {
      const reply = answer(...args);
      if (reply !== NO_ANSWER) {
        ack(...reply);
        entry.ack = null;
      }
    }
    this.log.push(entry);
    this._wake();
  }

  _wake() {
    for (const w of [...this.waiters]) {
      if (w.check()) this.waiters.splice(this.waiters.indexOf(w), 1);
    }
  }

  /// Whether an event's argument list `args` satisfies `pred`.
  _matches(args, pred) { return pred(...args); }

  /// Waits (bounded) until `cond()` returns a truthy value, and returns it.
  async until(cond, what) {
    const now = cond();
    if (now) return now;
    let waiter;
    const p = new Promise(resolve => {
      waiter = { check: () => { const v = cond(); if (v) resolve(v); return Boolean(v); } };
      this.waiters.push(waiter);
    });
    try {
      return await this.server.bounded(p, `${this.name} ${what}; it received so far: ${this.summary()}`);
    } finally {
      const i = this.waiters.indexOf(waiter);
      if (i >= 0) this.waiters.splice(i, 1);
    }
  }

  /// Waits for the first not-yet-consumed `event` whose arguments satisfy `pred`; consumes it
  /// and returns its whole entry.
  nextEntry(event, pred = () => true, what = '') {
    return this.until(() => {
      const entry = this.log.find(e => !e.taken && e.event === event && this._matches(e.args, pred));
      if (entry) entry.taken = true;
      return entry;
    }, `to receive '${event}'${what ? ` (${what})` : ''}`);
  }

  /// Same, returning the argument list.
  async next(event, pred, what) { return (await this.nextEntry(event, pred, what)).args; }

  /// All argument lists received so far for `event` (consumed or not) that satisfy `pred`.
  received(event, pred = () => true) {
    return this.log.filter(e => e.event === event && this._matches(e.args, pred)).map(e => e.args);
  }

  count(event, pred) { return this.received(event, pred).length; }

  summary() {
    const s = this.log.map(e => `${e.event} ${JSON.stringify(e.args)}`).join('; ');
    const state = this.connected ? '' : ` [${this.name} is disconnected: ${this.disconnectReason ?? 'never connected'}]`;
    return (s.length > 1500 ? `${s.slice(0, 1500)}...` : (s || '(nothing)')) + state;
  }

  /// Emits with an acknowledgement; returns the server's answer as an argument list.
  async call(event, ...args) {
    assert.ok(this.connected, `${this.name} cannot call '${event}': disconnected (${this.disconnectReason})`);
    const p = new Promise(resolve => this.socket.emit(event, ...args, (...reply) => resolve(reply)));
    return this.server.bounded(p, `${this.name}: acknowledgement of '${event}' ${JSON.stringify(args)}; ` +
      `it received so far: ${this.summary()}`);
  }

  _connectOutcome() {
    return new Promise(resolve => {
      const onConnect = () => { this.socket.off('connect_error', onError); resolve({ ok: true }); };
      const onError = err => { this.socket.off('connect', onConnect); resolve({ ok: false, err }); };
      this.socket.once('connect', onConnect);
      this.socket.once('connect_error', onError);
    });
  }

  /// Connects over WebSocket; returns this Peer.
  async connect() {
    const p = this._connectOutcome();
    this.socket.connect();
    const r = await this.server.bounded(p, `${this.name} to connect to ${this.nsp} at ${this.server.url}`);
    if (!r.ok) assert.fail(`${this.name}: connect_error on ${this.nsp}: ${r.err.message} ${JSON.stringify(r.err.data)}`);
    assert.equal(typeof this.id, 'string', `${this.name} has no socket id after connect`);
    if (!this.transports) assert.equal(this.socket.io.engine.transport.name, 'websocket');
    return this;
  }

  /// Connects expecting a refusal; returns the Error of connect_error.
  async connectRefused() {
    const p = this._connectOutcome();
    this.socket.connect();
    const r = await this.server.bounded(p, `${this.name}: the outcome of connecting to ${this.nsp}`);
    assert.equal(r.ok, false, `${this.name}: connecting to ${this.nsp} must be refused, but it was accepted`);
    assert.equal(this.connected, false);
    return r.err;
  }

  /// Waits until disconnected; returns the reason.
  waitDisconnect() {
    return this.until(() => this.disconnectReason, 'to be disconnected');
  }

  /// Graceful disconnect: sends a Socket.IO DISCONNECT packet, then closes.
  close() { this.socket.disconnect(); }

  /// Disconnects and drops every listener (after a test).
  dispose() {
    try { this.socket.disconnect(); } catch { /* ignore */ }
    this.socket.removeAllListeners();
  }
}

const REDIS_SERVER = process.env.ROOMCAST_REDIS_SERVER || '/usr/bin/redis-server';

/// Whether a Redis server answers PING on 127.0.0.1:`port` (raw RESP over TCP).
function redisPing(port) {
  return new Promise(resolve => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = ok => { sock.removeAllListeners(); sock.destroy(); resolve(ok); };
    sock.setTimeout(500, () => done(false));
    sock.once('connect', () => sock.write('*1\r\n$4\r\nPING\r\n'));
    sock.on('data', chunk => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG\r\n'));
    });
    sock.once('error', () => done(false));
    sock.once('close', () => done(false));
  });
}

/// A Redis server (`/usr/bin/redis-server`, or ROOMCAST_REDIS_SERVER) on a free loopback port,
/// without persistence. `await RedisProcess.start()` returns once it answers PING; `stop()`
/// (SIGTERM, then SIGKILL after STOP_MS) and `restart()` (on the same port) simulate an outage.
/// `url` is redis://127.0.0.1:P, `address` is 127.0.0.1:P (the --redis argument of the nodes).
export class RedisProcess {
  static async start() {
    for (let attempt = 1; ; ++attempt) {
      const r = new RedisProcess();
      r.port = await freePort();
      r.output = '';
      try {
        await r._start();
        return r;
      } catch (err) {
        if (!(attempt < PORT_ATTEMPTS && await lostPortRace(r))) throw err;
      }
    }
  }

  get url() { return `redis://127.0.0.1:${this.port}`; }
  get address() { return `127.0.0.1:${this.port}`; }

  async _start() {
    this.exited = null;
    this.stopping = false;
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    this.what = `${REDIS_SERVER} --port ${this.port}`;
    this.proc = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.closed = new Promise(resolve => this.proc.once('close', resolve)); // output complete
    running.add(this);
    const collect = chunk => {
      const text = chunk.toString();
      this.output = (this.output + text).slice(-20000);
      if (VERBOSE) process.stderr.write(`[redis] ${text}`);
    };
    this.proc.stdout.on('data', collect);
    this.proc.stderr.on('data', collect);
    this.exitPromise = new Promise(resolve => {
      this.proc.once('exit', (code, signal) => {
        this.exited = { code, signal };
        running.delete(this);
        resolve(this.exited);
      });
    });
    this.proc.once('error', err => {
      this.exited = this.exited || { code: null, signal: null, error: err };
      running.delete(this);
    });
    const deadline = Date.now() + STARTUP_MS;
    try {
      for (;;) {
        if (this.exited) {
          throw new Error(`${this.what} exited during start-up (${this.exited.error?.message ??
            `code ${this.exited.code}, signal ${this.exited.signal}`})${this.tail()}`);
        }
        if (await redisPing(this.port)) return;
        if (Date.now() > deadline) {
          throw new Error(`${this.what} did not answer PING on 127.0.0.1:${this.port} within ${STARTUP_MS} ms${this.tail()}`);
        }
        await sleep(50);
      }
    } catch (err) {
      this.stopping = true; // not ready: do not leave it running
      if (!this.exited) this.proc.kill('SIGKILL');
      throw err;
    }
  }

  tail() {
    const t = this.output.slice(-4000);
    return t ? `\n--- redis output (tail) ---\n${t}\n--- end of redis output ---` : ' (redis printed nothing)';
  }

  /// Whether the process has exited without being stopped.
  get diedUnexpectedly() { return Boolean(this.exited) && !this.stopping; }

  /// Throws, with Redis's output, if the process has exited without being stopped.
  checkAlive() {
    if (this.diedUnexpectedly) {
      throw new Error(`${this.what} exited unexpectedly (code ${this.exited.code}, signal ${this.exited.signal})${this.tail()}`);
    }
  }

  /// SIGTERM, then SIGKILL after STOP_MS; fails unless it exits with status 0 on SIGTERM.
  async stop() {
    if (!this.proc || this.exited) return;
    this.stopping = true;
    this.proc.kill('SIGTERM');
    let timer;
    const r = await Promise.race([
      this.exitPromise,
      new Promise(res => { timer = setTimeout(() => res('timeout'), STOP_MS); }),
    ]);
    clearTimeout(timer);
    if (r === 'timeout') {
      this.proc.kill('SIGKILL');
      await this.exitPromise;
      throw new Error(`${this.what} did not stop within ${STOP_MS} ms of SIGTERM${this.tail()}`);
    }
    assert.equal(this.exited.code, 0, `${this.what} exited with ${JSON.stringify(this.exited)}${this.tail()}`);
  }

  /// Stops it (if running) and starts it again on the same port, empty.
  async restart() {
    await this.stop();
    await this._start();
  }
}
