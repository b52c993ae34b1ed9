// Redis outages under a Socket.IO cluster: two "cluster test nodes" (the contract at the top
// of reference/cluster_node.js) share one real Redis server, with clients in one room on each
// node. While Redis is down, a node must keep serving its own clients (local delivery never
// stops) and must not crash; once Redis is back on the same port, cluster delivery must resume
// in both directions by itself, within a bounded time.
//
// Runs with Node's built-in test runner and the real `socket.io-client` package:
//
//   ROOMCAST_CLUSTER_NODE=/path/to/cluster_node ROOMCAST_PEER=cpp|node [ROOMCAST_THREADS=1|2] \
//     node --test tests/integration/cluster_faults.test.mjs
//   ROOMCAST_REFERENCE=1 node --test tests/integration/cluster_faults.test.mjs
//
// Redis: /usr/bin/redis-server (or ROOMCAST_REDIS_SERVER), started on a free loopback port.
// Optional: ROOMCAST_WAIT_MS, ROOMCAST_STARTUP_MS, ROOMCAST_VERBOSE=1 (see harness.mjs),
//           ROOMCAST_RESUME_MS (bound of the resumption after Redis is back, default 15000).
//
// Conventions as in cluster.test.mjs: every client records every event from before it
// connects, every wait is bounded and fails at once if a node exits, and "exactly once" is
// proven by a later marker from the same sender.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as harness from './harness.mjs';
import { ServerProcess, RedisProcess, WAIT_MS, STARTUP_MS, STOP_MS, sleep, unique } from './harness.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REFERENCE_NODE = path.join(HERE, 'reference', 'cluster_node.js');

const USE_REFERENCE = process.env.ROOMCAST_REFERENCE === '1';
const NODE_BINARY = process.env.ROOMCAST_CLUSTER_NODE || '';
const PEER = process.env.ROOMCAST_PEER || 'cpp';
const THREADS = process.env.ROOMCAST_THREADS || '1';
const RESUME_MS = Number(process.env.ROOMCAST_RESUME_MS || 15000);
const OUTAGE_ROUNDS = 3;       // local broadcasts from each node while Redis is down...
const OUTAGE_ROUND_MS = 300;   // ...this far apart, so that the nodes go through reconnection attempts

if (!USE_REFERENCE && !NODE_BINARY) {
  throw new Error(
    'Set ROOMCAST_CLUSTER_NODE=<path of the C++ cluster_node binary> with ROOMCAST_PEER=cpp|node ' +
    '(optionally ROOMCAST_THREADS=1|2), or ROOMCAST_REFERENCE=1 to run two reference nodes.');
}
if (!/^(cpp|node)$/.test(PEER)) throw new Error(`ROOMCAST_PEER must be cpp or node, got ${PEER}`);
if (!/^[12]$/.test(THREADS)) throw new Error(`ROOMCAST_THREADS must be 1 or 2, got ${THREADS}`);

const KIND_A = USE_REFERENCE ? 'node' : 'cpp';
const KIND_B = USE_REFERENCE ? 'node' : PEER;
const NAME_A = 'node-a';
const NAME_B = 'node-b';

// ---------------------------------------------------------------------------
// Redis and the two nodes (tests/integration/harness.mjs)
// ---------------------------------------------------------------------------

const describeKind = kind => (kind === 'cpp' ? `C++ ${NODE_BINARY} --threads ${THREADS}` : 'JS reference');

let redis = null;
let A = null;
let B = null;
const nodes = () => [A, B].filter(Boolean);

function startNode(kind, name) {
  const command = kind === 'cpp'
    ? port => [NODE_BINARY, '--port', String(port), '--redis', redis.address, '--name', name, '--threads', THREADS]
    : port => [process.execPath, REFERENCE_NODE, '--port', String(port), '--redis', redis.address, '--name', name];
  return ServerProcess.start(command, [], { readyLine: port => `cluster node ${name} ready on port ${port}` });
}

/// Bounded wait on `promise` that fails at once if either node dies.
async function bounded(promise, what, ms = WAIT_MS) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout, ...nodes().map(n => n.died)]);
  } finally {
    clearTimeout(timer);
  }
}

function checkNodesAlive() {
  for (const n of nodes()) n.checkAlive();
}

// ---------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------

const clients = new Set();

/// The harness's Peer on node `node`; its waits fail at once if either node dies.
class Peer extends harness.Peer {
  constructor(node, name) {
    super({ url: node.url, bounded }, name);
    clients.add(this);
  }

  async ask(event) {
    const [answer] = await this.call(event);
    return answer;
  }
}

const connect = (node, name) => new Peer(node, name).connect();

async function join(peer, roomName) {
  peer.emit('joinRoom', { roomName, userName: peer.name });
  await peer.next('roomJoined', p => p?.roomName === roomName, `join of ${roomName}`);
}

// `sender` sends `text` to `roomName`; waits until every one of `receivers` has it.
async function deliver(sender, roomName, receivers, text = unique('msg')) {
  sender.emit('message', { roomName, text });
  await Promise.all(receivers.map(r => r.next('message', p => p?.text === text, `${text} from ${sender.name}`)));
  return text;
}

// Exactly once: `text` was received once by each of `receivers`, proven by a later marker
// from the same sender.
async function deliveredOnce(sender, roomName, receivers, text) {
  await deliver(sender, roomName, receivers);
  for (const r of receivers) {
    assert.equal(r.count('message', p => p?.text === text), 1, `${r.name} got ${text} from ${sender.name} once`);
  }
}

// Polls until `sender`'s room broadcasts reach `receiver` through Redis: sends numbered
// messages until one arrives, bounded by RESUME_MS. Returns the time it took.
async function waitResumed(sender, receiver, roomName) {
  const prefix = unique(`resume-${sender.name}`);
  const start = Date.now();
  for (let n = 1; ; n++) {
    checkNodesAlive();
    sender.emit('message', { roomName, text: `${prefix}-${n}` });
    await sleep(100);
    if (receiver.count('message', p => p?.text?.startsWith(`${prefix}-`)) > 0) return Date.now() - start;
    if (Date.now() - start > RESUME_MS) {
      throw new Error(`room broadcasts from ${sender.name} did not reach ${receiver.name} within ${RESUME_MS} ms ` +
        `of Redis's restart (${n} numbered messages sent)${A.tail()}${B.tail()}`);
    }
  }
}

async function waitServers(peers, expected) {
  const deadline = Date.now() + STARTUP_MS;
  for (;;) {
    const counts = [];
    for (const p of peers) counts.push(await p.ask('servers'));
    if (counts.every(c => c === expected)) return;
    if (Date.now() > deadline) {
      throw new Error(`servers did not answer ${expected} on every node within ${STARTUP_MS} ms ` +
        `(got ${JSON.stringify(counts)})${A.tail()}${B.tail()}`);
    }
    await sleep(50);
  }
}

function disconnectAll() {
  for (const c of clients) c.dispose();
  clients.clear();
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

describe(`Socket.IO cluster across Redis outages (A: ${describeKind(KIND_A)}; B: ${describeKind(KIND_B)})`, () => {
  before(async () => {
    redis = await RedisProcess.start();
    A = await startNode(KIND_A, NAME_A);
    B = await startNode(KIND_B, NAME_B);
    const ctl = [await connect(A, 'ctl-a'), await connect(B, 'ctl-b')];
    await waitServers(ctl, 2);
    disconnectAll();
  }, { timeout: STARTUP_MS * 4 + 5000 });

  after(async () => {
    disconnectAll();
    const problems = [];
    for (const n of nodes()) {
      try { n.checkAlive(); } catch (err) { problems.push(err); } // a death no test saw
    }
    const stops = await Promise.allSettled([...nodes().map(n => n.stop())]);
    const redisStop = await Promise.allSettled([redis?.stop()]);
    for (const r of [...stops, ...redisStop]) if (r.status === 'rejected') problems.push(r.reason);
    if (problems.length) throw problems[0];
  }, { timeout: STOP_MS * 4 + 2000 });

  afterEach(() => {
    disconnectAll();
    checkNodesAlive();
  });

  // Twice: recovering once is not enough.
  for (const outage of [1, 2]) {
    it(`outage ${outage}: local delivery goes on while Redis is down; cluster delivery resumes after its restart`,
      { timeout: RESUME_MS * 2 + 15000 }, async () => {
        checkNodesAlive();
        const room = unique(`outage${outage}`);
        const [a1, a2] = [await connect(A, 'a1'), await connect(A, 'a2')];
        const [b1, b2] = [await connect(B, 'b1'), await connect(B, 'b2')];
        for (const p of [a1, a2, b1, b2]) await join(p, room);
        const all = [a1, a2, b1, b2];
        // Cluster delivery works before the outage.
        await deliver(a1, room, all);
        await deliver(b1, room, all);

        await redis.stop();
        const localA = [a1, a2];
        const localB = [b1, b2];
        for (let round = 1; round <= OUTAGE_ROUNDS; round++) {
          // Each node still delivers to its own members (what reaches the other node once
          // Redis is back, if anything, is not checked).
          await Promise.all([
            deliver(a1, room, localA, unique(`down-a-${round}`)),
            deliver(b2, room, localB, unique(`down-b-${round}`)),
          ]);
          checkNodesAlive();
          await sleep(OUTAGE_ROUND_MS);
        }
        // A newcomer on each node is served: connection, join, room broadcast of its join.
        const a3 = await connect(A, 'a3');
        const b3 = await connect(B, 'b3');
        await join(a3, room);
        await join(b3, room);
        await a1.next('userJoined', p => p?.id === a3.id, 'the join of a3 during the outage');
        await b1.next('userJoined', p => p?.id === b3.id, 'the join of b3 during the outage');
        await deliver(a3, room, [a1, a2, a3]);
        await deliver(b3, room, [b1, b2, b3]);
        checkNodesAlive();

        await redis.restart();
        const [toB, toA] = await Promise.all([waitResumed(a1, b1, room), waitResumed(b1, a1, room)]);
        if (process.env.ROOMCAST_VERBOSE === '1') console.log(`resumed after ${toB} ms (A to B), ${toA} ms (B to A)`);

        // Resumed for good: every member on both nodes gets a new broadcast exactly once,
        // whichever node it comes from.
        const everyone = [a1, a2, a3, b1, b2, b3];
        for (const sender of [a2, b2, a3, b3]) {
          const text = await deliver(sender, room, everyone, unique(`after-${sender.name}`));
          await deliveredOnce(sender, room, everyone, text);
        }
        await waitServers([a1, b1], 2);
        checkNodesAlive();
      });
  }
});
