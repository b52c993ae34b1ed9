// Shared harness of the real-client integration tests: starts a server program on a free
// loopback port, waits for it to accept connections (never a fixed sleep), bounds every wait,
// and stops the process even when a test fails. Peers are real socket.io-client sockets that
// record every event from before they connect, so nothing is missed between an emit and a
// wait.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { io as ioClient } from 'socket.io-client';

export const WAIT_MS = Number(process.env.ROOMCAST_WAIT_MS || 4000);
const STARTUP_MS = Number(process.env.ROOMCAST_STARTUP_MS || 10000);
const STOP_MS = 3000;
const VERBOSE = process.env.ROOMCAST_VERBOSE === '1';

export const sleep = ms => new Promise(r => setTimeout(r, ms));

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

const running = new Set();
process.on('exit', () => {
  for (const s of running) {
    try { s.proc.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

/// A server process: `await ServerProcess.start(binary, extraArgs)` runs
/// `binary --port <free port> ...extraArgs`.
export class ServerProcess {
  static async start(binary, extraArgs = []) {
    const s = new ServerProcess();
    await s._start(binary, extraArgs);
    return s;
  }

  async _start(binary, extraArgs) {
    this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    this.output = '';
    this.exited = null;
    this.stopping = false;
    this.what = [binary, '--port', this.port, ...extraArgs].join(' ');
    this.died = new Promise((_, reject) => { this.rejectDied = reject; });
    this.died.catch(() => {}); // observed through bounded waits, never unhandled
    this.proc = spawn(binary, ['--port', String(this.port), ...extraArgs],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(this);
    const collect = chunk => {
      const text = chunk.toString();
      this.output = (this.output + text).slice(-20000);
      if (VERBOSE) process.stderr.write(`[server] ${text}`);
    };
    this.proc.stdout.on('data', collect);
    this.proc.stderr.on('data', collect);
    this.exitPromise = new Promise(resolve => {
      this.proc.once('exit', (code, signal) => {
        this.exited = { code, signal };
        running.delete(this);
        if (!this.stopping) {
          this.rejectDied(new Error(`server ${this.what} exited unexpectedly ` +
            `(code ${code}, signal ${signal})${this.tail()}`));
        }
        resolve(this.exited);
      });
    });
    this.proc.once('error', err => this.rejectDied(new Error(`cannot start ${this.what}: ${err.message}`)));
    const deadline = Date.now() + STARTUP_MS;
    for (;;) {
      if (this.exited) await this.died;
      if (await tryConnect(this.port)) return;
      if (Date.now() > deadline) {
        throw new Error(`${this.what} did not accept connections within ${STARTUP_MS} ms${this.tail()}`);
      }
      await sleep(50);
    }
  }

  tail() {
    const t = this.output.slice(-4000);
    return t ? `\n--- server output (tail) ---\n${t}\n--- end ---` : ' (server printed nothing)';
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
      throw new Error(`${this.what} did not stop within ${STOP_MS} ms of SIGTERM`);
    }
    assert.equal(this.exited.code, 0, `${this.what} exited with ${JSON.stringify(this.exited)}${this.tail()}`);
  }
}

/// A socket.io-client socket over WebSocket that records every event it receives.
export class Peer {
  constructor(server, name, { nsp = '/', auth, manager } = {}) {
    this.server = server;
    this.name = name;
    this.log = []; // {event, args, taken}
    this.waiters = [];
    this.disconnectReason = null;
    const opts = { transports: ['websocket'], reconnection: false, autoConnect: false, timeout: WAIT_MS };
    if (auth) opts.auth = auth;
    this.socket = manager ? manager.socket(nsp, opts) : ioClient(server.url + (nsp === '/' ? '' : nsp), { ...opts, forceNew: true });
    this.socket.onAny((event, ...args) => this._record(event, args));
    this.socket.on('disconnect', reason => {
      this.disconnectReason = reason;
      this._record('disconnect', [reason]);
    });
  }

  get id() { return this.socket.id; }
  emit(event, ...args) { this.socket.emit(event, ...args); }

  /// Emits with an acknowledgement; resolves with the ack's arguments.
  ask(event, ...args) {
    return this.server.bounded(new Promise(resolve => this.socket.emit(event, ...args, (...r) => resolve(r))),
      `${this.name}: ack of '${event}'`);
  }

  _record(event, args) {
    const entry = { event, args, taken: false };
    this.log.push(entry);
    for (const w of [...this.waiters]) {
      if (!entry.taken && w.match(entry)) {
        entry.taken = true;
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(entry);
      }
    }
  }

  /// All argument lists received so far for `event`.
  received(event) { return this.log.filter(e => e.event === event).map(e => e.args); }

  /// Waits for the first not-yet-consumed `event` whose arguments satisfy `pred`; consumes it
  /// and returns its arguments.
  async next(event, pred = () => true) {
    const match = e => e.event === event && pred(...e.args);
    let entry = this.log.find(e => !e.taken && match(e));
    if (entry) {
      entry.taken = true;
      return entry.args;
    }
    let waiter;
    const p = new Promise(resolve => { waiter = { match, resolve }; this.waiters.push(waiter); });
    try {
      entry = await this.server.bounded(p, `${this.name} to receive '${event}'; it has: ${this.summary()}`);
    } finally {
      const i = this.waiters.indexOf(waiter);
      if (i >= 0) this.waiters.splice(i, 1);
    }
    return entry.args;
  }

  summary() {
    const s = this.log.map(e => `${e.event} ${JSON.stringify(e.args)}`).join('; ');
    return s.length > 1500 ? `${s.slice(0, 1500)}...` : (s || '(nothing)');
  }

  async connect() {
    const p = new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('connect_error', err => reject(new Error(`${this.name}: connect_error: ${err.message}`)));
    });
    this.socket.connect();
    await this.server.bounded(p, `${this.name} to connect`);
    return this;
  }

  /// Connects, expecting a refusal; returns the client's Error.
  async refused() {
    const p = new Promise((resolve, reject) => {
      this.socket.once('connect', () => reject(new Error(`${this.name}: connected, refusal expected`)));
      this.socket.once('connect_error', resolve);
    });
    this.socket.connect();
    return this.server.bounded(p, `${this.name} to be refused`);
  }

  close() { this.socket.disconnect(); }
}
