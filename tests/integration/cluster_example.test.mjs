// Real-client integration tests of the roomcast "cluster" example: the quickstart example on
// the Redis adapter. Three processes share one real Redis server: two C++ cluster examples
// and one Node.js reference (reference/cluster.js, socket.io + @socket.io/redis-adapter),
// and the quickstart events (userJoined, message, userLeft) of clients on any of them reach
// the room's members on all three, exactly once.
//
// Runs with Node's built-in test runner and the real `socket.io-client` package:
//
//   # C++, C++ and the Node.js reference (the C++ program runs as `cluster --port P
//   # --redis HOST:PORT`, plus `--threads N` when ROOMCAST_THREADS is set)
//   ROOMCAST_CLUSTER=/path/to/cluster [ROOMCAST_THREADS=1|2] node --test tests/integration/cluster_example.test.mjs
//   # three Node.js references
//   ROOMCAST_REFERENCE=1 node --test tests/integration/cluster_example.test.mjs
//
// Redis: /usr/bin/redis-server (or ROOMCAST_REDIS_SERVER), started on a free loopback port.
// Readiness: a process prints `listening on port P`; the cluster is formed once probe clients
// on the three processes see each other's room messages (polled, bounded by ROOMCAST_STARTUP_MS).
// Optional: ROOMCAST_WAIT_MS, ROOMCAST_STARTUP_MS, ROOMCAST_VERBOSE=1 (see harness.mjs).
//
// Conventions (as in quickstart.test.mjs): every client records every event from before it
// connects; every wait is bounded and fails at once if a process exits; "X does not receive
// Y" and "exactly once" are proven by a later marker from the process that caused Y (a
// process publishes to Redis in order, Redis delivers in order, a process delivers to one
// client in order).

import { describe, it, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as harness from './harness.mjs';
import {
  ServerProcess, RedisProcess, WAIT_MS, STARTUP_MS, STOP_MS, TEST_TIMEOUT_MS, sleep, unique,
} from './harness.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REFERENCE_SCRIPT = path.join(HERE, 'reference', 'cluster.js');

const USE_REFERENCE = process.env.ROOMCAST_REFERENCE === '1';
const CLUSTER_BINARY = process.env.ROOMCAST_CLUSTER || '';
const THREADS = process.env.ROOMCAST_THREADS || '';

if (!USE_REFERENCE && !CLUSTER_BINARY) {
  throw new Error(
    'Set ROOMCAST_CLUSTER=<path of the C++ cluster example> (optionally ROOMCAST_THREADS=1|2), ' +
    'or ROOMCAST_REFERENCE=1 to run three JavaScript references.');
}
if (THREADS && !/^[12]$/.test(THREADS)) throw new Error(`ROOMCAST_THREADS must be 1 or 2, got ${THREADS}`);

// ---------------------------------------------------------------------------
// Redis and the three processes (tests/integration/harness.mjs)
// ---------------------------------------------------------------------------

const KINDS = USE_REFERENCE ? ['node', 'node', 'node'] : ['cpp', 'cpp', 'node'];
const describeKind = kind =>
  (kind === 'cpp' ? `C++ ${CLUSTER_BINARY}${THREADS ? ` --threads ${THREADS}` : ''}` : 'JS reference');

let redis = null;
let procs = []; // P1, P2, P3

// Ready once it prints `listening on port P` (as every example does); the cluster itself is
// checked by waitClusterFormed.
function startProcess(kind) {
  const command = kind === 'cpp'
    ? port => [CLUSTER_BINARY, '--port', String(port), '--redis', redis.address, ...(THREADS ? ['--threads', THREADS] : [])]
    : port => [process.execPath, REFERENCE_SCRIPT, '--port', String(port), '--redis', redis.address];
  return ServerProcess.start(command, [], { readyLine: port => `listening on port ${port}` });
}

/// Bounded wait on `promise` that fails at once if any process dies.
async function bounded(promise, what, ms = WAIT_MS) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout, ...procs.map(p => p.died)]);
  } finally {
    clearTimeout(timer);
  }
}

function checkAlive() {
  for (const p of procs) p.checkAlive();
  redis?.checkAlive();
}

const tails = () => procs.map(p => p.tail()).join('');

// ---------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------

const clients = new Set();

/// The harness's Peer on process `proc`, for this protocol where every event carries exactly
/// one argument: predicates, `next` and `received` get that argument (the payload).
class Peer extends harness.Peer {
  constructor(proc, name) {
    super({ url: proc.url, bounded }, name);
    clients.add(this);
  }

  _matches(args, pred) { return pred(args[0]); }

  received(event, pred) { return super.received(event, pred).map(args => args[0]); }

  async next(event, pred, what) {
    const { args, ack } = await this.nextEntry(event, pred, what);
    assert.equal(args.length, 1, `${this.name}: '${event}' must carry exactly one argument, got ${JSON.stringify(args)}`);
    assert.equal(ack, null, `${this.name}: '${event}' must not ask for an acknowledgement`);
    return args[0];
  }

  // Abrupt: closes the WebSocket without a Socket.IO DISCONNECT packet.
  closeTransport() { this.socket.io.engine.close(); }
}

/// Connects one client per name on process `proc` (index 0..2).
const connectOn = (index, ...names) =>
  Promise.all(names.map(n => new Peer(procs[index], `${n}@P${index + 1}`).connect()));

async function join(peer, roomName) {
  peer.emit('joinRoom', { roomName, userName: peer.name });
  const ack = await peer.next('roomJoined', p => p?.roomName === roomName, `join of ${roomName}`);
  assert.deepEqual(ack, { roomName });
}

async function joinAll(peers, roomName) {
  for (const p of peers) await join(p, roomName);
}

// `sender` sends a unique marker message to `roomName`; waits until every one of
// `receivers` has it. Returns the marker text.
async function marker(sender, roomName, receivers) {
  const text = unique('marker');
  sender.emit('message', { roomName, text });
  await Promise.all(receivers.map(r => r.next('message', p => p?.text === text, `marker ${text} in ${roomName}`)));
  return text;
}

// Waits (bounded, polling) until a probe client on each process gets the room messages of
// the probes on the two others: the three processes are subscribed to Redis.
async function waitClusterFormed() {
  const room = unique('formation');
  const probes = [];
  for (let i = 0; i < 3; i++) probes.push(...await connectOn(i, 'probe'));
  await joinAll(probes, room);
  const deadline = Date.now() + STARTUP_MS;
  const heard = (p, q) => p.count('message', m => m?.sender === q.id) > 0;
  for (let n = 1; ; n++) {
    checkAlive();
    for (const p of probes) p.emit('message', { roomName: room, text: `formation-${n}` });
    await sleep(100);
    if (probes.every(p => probes.every(q => heard(p, q)))) break;
    if (Date.now() > deadline) {
      const missing = probes.flatMap(p => probes.filter(q => !heard(p, q)).map(q => `${q.name} -> ${p.name}`));
      throw new Error(`the three processes did not form a cluster within ${STARTUP_MS} ms ` +
        `(no room messages ${missing.join(', ')})${tails()}`);
    }
  }
  disconnectAll();
}

function disconnectAll() {
  for (const c of clients) c.dispose();
  clients.clear();
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

describe(`roomcast cluster example, three processes on one Redis (${KINDS.map(describeKind).join(', ')})`, () => {
  before(async () => {
    redis = await RedisProcess.start();
    for (const kind of KINDS) procs.push(await startProcess(kind));
    await waitClusterFormed();
  }, { timeout: STARTUP_MS * 5 + 5000 });

  after(async () => {
    disconnectAll();
    const problems = [];
    for (const p of procs) {
      try { p.checkAlive(); } catch (err) { problems.push(err); } // a death no test saw
    }
    const stops = await Promise.allSettled(procs.map(p => p.stop()));
    const redisStop = await Promise.allSettled([redis?.stop()]);
    for (const r of [...stops, ...redisStop]) if (r.status === 'rejected') problems.push(r.reason);
    if (problems.length) throw problems[0];
  }, { timeout: STOP_MS * 5 + 2000 });

  beforeEach(checkAlive);

  afterEach(() => {
    disconnectAll();
    checkAlive();
  });

  const t = (name, fn) => it(name, { timeout: TEST_TIMEOUT_MS }, fn);

  t('joins are announced to the members on all three processes, exactly once', async () => {
    const room = unique('join');
    const [c1] = await connectOn(0, 'c1');
    const [c2] = await connectOn(1, 'c2');
    const [c3] = await connectOn(2, 'c3');
    const order = [c1, c2, c3];
    for (const p of order) {
      await join(p, room);
      // The joiner's own announcement, then each earlier member's.
      const self = await p.next('userJoined', m => m?.id === p.id, 'its own join');
      assert.equal(JSON.stringify(self), JSON.stringify({ userName: p.name, id: p.id }), 'userJoined is {userName, id}');
      for (const q of order.slice(0, order.indexOf(p))) {
        const seen = await q.next('userJoined', m => m?.id === p.id, `the join of ${p.name}`);
        assert.equal(JSON.stringify(seen), JSON.stringify({ userName: p.name, id: p.id }));
      }
    }
    for (const sender of order) await marker(sender, room, order);
    // A join on another process just before one's own may or may not arrive (its publication
    // races with the join), but never twice; later joins arrive exactly once.
    order.forEach((p, i) => order.forEach((q, j) => {
      const n = p.count('userJoined', m => m?.id === q.id);
      if (j >= i) assert.equal(n, 1, `${p.name} saw the join of ${q.name} ${n} times`);
      else assert.ok(n <= 1, `${p.name} saw the join of ${q.name} ${n} times`);
    }));
  });

  t('a message from any process reaches the members on all three exactly once, and no one else', async () => {
    const room = unique('chat');
    const other = unique('other');
    const members = [];
    const outsiders = [];
    for (let i = 0; i < 3; i++) {
      members.push(...await connectOn(i, 'm', 'n'));
      outsiders.push(...await connectOn(i, 'outsider'));
    }
    await joinAll(members, room);
    await joinAll(outsiders, other);
    for (const sender of [members[0], members[3], members[4], members[1]]) {
      const text = unique(`from-${sender.name}`);
      sender.emit('message', { roomName: room, text });
      for (const p of members) {
        const msg = await p.next('message', m => m?.text === text, `the message of ${sender.name}`);
        assert.equal(JSON.stringify(msg), JSON.stringify({ text, sender: sender.id }), 'message is {text, sender}');
      }
      await marker(sender, room, members);
      await marker(sender, other, outsiders);
      for (const p of members) assert.equal(p.count('message', m => m?.text === text), 1, `${p.name} got ${text} once`);
      for (const p of outsiders) assert.equal(p.count('message', m => m?.text === text), 0, `${p.name} got a room message`);
    }
  });

  for (let k = 0; k < 3; k++) {
    t(`leaveRoom on P${k + 1}: userLeft reaches the remaining members on all three once; the leaver gets no more`, async () => {
      const room = unique('leave');
      const own = unique('own');
      const members = [];
      for (let i = 0; i < 3; i++) members.push(...await connectOn(i, 'member'));
      const [leaver] = await connectOn(k, 'leaver');
      await joinAll([...members, leaver], room);
      await join(leaver, own);

      leaver.emit('leaveRoom', { roomName: room, userName: leaver.name });
      assert.deepEqual(await leaver.next('roomLeft'), { roomName: room });
      for (const p of members) {
        const left = await p.next('userLeft', undefined, `the leave of ${leaver.name}`);
        assert.equal(JSON.stringify(left), JSON.stringify({ userName: leaver.name, id: leaver.id }), 'userLeft is {userName, id}');
      }
      await marker(leaver, room, members); // a non-member may publish to the room
      for (const p of members) assert.equal(p.count('userLeft'), 1, `${p.name}: userLeft once`);
      assert.equal(leaver.count('userLeft'), 0, 'the leaver does not get its own userLeft');

      // Messages from each process no longer reach the leaver.
      for (const sender of members) {
        const text = await marker(sender, room, members);
        await marker(sender, own, [leaver]);
        assert.equal(leaver.count('message', m => m?.text === text), 0, `the leaver got a message from ${sender.name}`);
      }
    });
  }

  const modes = [
    ['graceful socket.disconnect()', p => p.close()],
    ['websocket closed without Socket.IO DISCONNECT', p => p.closeTransport()],
    ['graceful socket.disconnect()', p => p.close()],
  ];
  for (let k = 0; k < 3; k++) {
    const [mode, doDisconnect] = modes[k];
    t(`disconnect on P${k + 1} (${mode}): userLeft {id} once per room to the members on all three`, async () => {
      const r1 = unique('r1');
      const r2 = unique('r2');
      const members = [];
      for (let i = 0; i < 3; i++) members.push(...await connectOn(i, 'member'));
      const [x] = await connectOn(k, 'x');
      await joinAll([...members, x], r1);
      await joinAll([members[1], x], r2);
      const xid = x.id;

      doDisconnect(x);
      for (const p of members) assert.deepEqual(await p.next('userLeft', undefined, `userLeft of x in ${r1}`), { id: xid });
      assert.deepEqual(await members[1].next('userLeft', undefined, `userLeft of x in ${r2}`), { id: xid },
        'a member of both rooms gets one userLeft per room');

      // Markers from x's process close the window.
      const mate = members[k];
      await marker(mate, r1, members);
      await marker(mate, r2, [members[1]]);
      for (const p of members) {
        assert.equal(p.count('userLeft'), p === members[1] ? 2 : 1, `${p.name}: userLeft once per room`);
        assert.ok(p.received('userLeft').every(m => JSON.stringify(m) === JSON.stringify({ id: xid })));
      }
    });
  }
});
