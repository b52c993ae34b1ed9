// Real-client integration tests of a Socket.IO cluster over Redis: two "cluster test nodes"
// (the contract at the top of reference/cluster_node.js) share one real Redis server, the way
// Node's @socket.io/redis-adapter 8.x forms a cluster, and clients on both nodes check that
// rooms, broadcasts, the server-side utilities and server-side emits span the cluster.
//
// Runs with Node's built-in test runner and the real `socket.io-client` package:
//
//   # node A: the C++ cluster test node; node B: another C++ node (cpp) or the Node.js
//   # reference node (node), so that both directions of the wire format are checked
//   ROOMCAST_CLUSTER_NODE=/path/to/cluster_node ROOMCAST_PEER=cpp|node [ROOMCAST_THREADS=1|2] \
//     node --test tests/integration/cluster.test.mjs
//   # both nodes are the reference (socket.io + @socket.io/redis-adapter)
//   ROOMCAST_REFERENCE=1 node --test tests/integration/cluster.test.mjs
//
// Redis: /usr/bin/redis-server (or ROOMCAST_REDIS_SERVER), started on a free loopback port.
// Optional: ROOMCAST_WAIT_MS, ROOMCAST_STARTUP_MS, ROOMCAST_VERBOSE=1 (see harness.mjs).
//
// Conventions (as in quickstart.test.mjs):
//  * every client records every event it receives (onAny) from before it connects;
//  * every wait is bounded and fails at once if either node exits;
//  * a negative ("X does not receive Y") is proven by a marker: the node that would have
//    caused Y afterwards causes a message that X does receive. A node publishes to Redis in
//    order, Redis delivers one connection's messages to each subscriber in order, and a node
//    delivers to one client in order, so once the marker is in, Y would have been in as well.
//  * what a node does to its own sockets through the cluster (socketsJoin, socketsLeave,
//    disconnectSockets) may happen when its own request comes back from Redis, as
//    @socket.io/redis-adapter does it: it is proven by a message that B sends after it saw
//    the effect, which reaches A after A's own request.

import { describe, it, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as harness from './harness.mjs';
import {
  ServerProcess, RedisProcess, NO_ANSWER, WAIT_MS, STARTUP_MS, STOP_MS, TEST_TIMEOUT_MS, sleep, unique,
} from './harness.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REFERENCE_NODE = path.join(HERE, 'reference', 'cluster_node.js');

const USE_REFERENCE = process.env.ROOMCAST_REFERENCE === '1';
const NODE_BINARY = process.env.ROOMCAST_CLUSTER_NODE || '';
const PEER = process.env.ROOMCAST_PEER || 'cpp';
const THREADS = process.env.ROOMCAST_THREADS || '1';

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

function checkAlive() {
  for (const n of nodes()) n.checkAlive();
  redis?.checkAlive();
}

// ---------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------

const clients = new Set();

/// The harness's Peer on node `node`; its waits fail at once if either node dies.
/// Predicates get the event's arguments spread; `next` and `received` give argument lists.
class Peer extends harness.Peer {
  constructor(node, name, opts) {
    super({ url: node.url, bounded }, name, opts);
    this.node = node;
    clients.add(this);
  }

  /// Emits `event` (with `payload` unless undefined) and returns the one-argument answer.
  async ask(event, payload) {
    const reply = payload === undefined ? await this.call(event) : await this.call(event, payload);
    assert.equal(reply.length, 1, `${this.name}: '${event}' must be answered with one argument, got ${JSON.stringify(reply)}`);
    return reply[0];
  }

  /// The `emit` event of the contract; waits for its "ok".
  async broadcast(spec) {
    assert.equal(await this.ask('emit', spec), 'ok', `${this.name}: emit ${JSON.stringify(spec)}`);
  }
}

async function connect(node, name, opts) {
  return new Peer(node, name, opts).connect();
}

const connectAll = (node, ...names) => Promise.all(names.map(n => connect(node, n)));

// Valid join; waits for the joiner's own roomJoined.
async function join(peer, roomName, userName = peer.name) {
  peer.emit('joinRoom', { roomName, userName });
  await peer.next('roomJoined', p => p?.roomName === roomName, `join of ${roomName}`);
}

async function joinAll(peers, roomName) {
  for (const p of peers) await join(p, roomName);
}

// `sender` sends a unique quickstart message to `roomName`; waits until every one of
// `receivers` has it. Returns its text.
async function marker(sender, roomName, receivers) {
  const text = unique('marker');
  sender.emit('message', { roomName, text });
  await Promise.all(receivers.map(r => r.next('message', p => p?.text === text, `marker ${text} in ${roomName}`)));
  return text;
}

// `sender` emits `event` with the unique tag to `rooms` (everyone in them, the sender
// included, across the cluster) and waits until every one of `receivers` has it.
async function eventMarker(sender, rooms, event, receivers) {
  const tag = unique(`${event}-marker`);
  await sender.broadcast({ rooms, event, args: [tag], self: true });
  await Promise.all(receivers.map(r => r.next(event, a => a === tag, `marker ${tag}`)));
  return tag;
}

const countTag = (peer, event, tag) => peer.count(event, a => a === tag);

function bytes(value, what) {
  if (Buffer.isBuffer(value)) return [...value];
  if (value instanceof ArrayBuffer) return [...new Uint8Array(value)];
  if (ArrayBuffer.isView(value)) return [...new Uint8Array(value.buffer, value.byteOffset, value.byteLength)];
  assert.fail(`${what}: expected binary data, got ${JSON.stringify(value)}`);
}

const sortedIds = peers => peers.map(p => p.id).sort();

// Waits (bounded, polling) until `servers` answers 2 on both nodes.
async function waitClusterFormed() {
  const ctlA = await connect(A, 'ctl-a');
  const ctlB = await connect(B, 'ctl-b');
  const deadline = Date.now() + STARTUP_MS;
  let counts;
  for (;;) {
    counts = [await ctlA.ask('servers'), await ctlB.ask('servers')];
    if (counts[0] === 2 && counts[1] === 2) break;
    if (Date.now() > deadline) {
      throw new Error(`the nodes did not see each other within ${STARTUP_MS} ms (servers: A ${counts[0]}, ` +
        `B ${counts[1]})${A.tail()}${B.tail()}`);
    }
    await sleep(50);
  }
  ctlA.dispose();
  ctlB.dispose();
  clients.delete(ctlA);
  clients.delete(ctlB);
}

// After every test, a fresh client on each node must still get `servers` = 2. Once that
// fails, every later test fails at once instead of running into its own timeouts.
let unresponsive = null;

async function probeCluster() {
  const probes = [];
  try {
    for (const node of [A, B]) {
      const p = new harness.Peer({ url: node.url, bounded }, `probe ${node === A ? NAME_A : NAME_B}`);
      probes.push(p);
      await p.connect();
      const [count] = await p.call('servers');
      assert.equal(count, 2, 'servers');
    }
  } catch (err) {
    unresponsive = err.message;
    throw new Error(`the cluster no longer serves a fresh client: ${err.message}`);
  } finally {
    for (const p of probes) p.dispose();
  }
}

function disconnectAll() {
  for (const c of clients) c.dispose();
  clients.clear();
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

describe(`Socket.IO cluster over Redis (A: ${describeKind(KIND_A)}; B: ${describeKind(KIND_B)})`, () => {
  before(async () => {
    redis = await RedisProcess.start();
    A = await startNode(KIND_A, NAME_A);
    B = await startNode(KIND_B, NAME_B);
    await waitClusterFormed();
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

  beforeEach(() => {
    checkAlive();
    if (unresponsive) throw new Error(`not run: the cluster stopped responding in an earlier test (${unresponsive})`);
  });

  afterEach(async () => {
    disconnectAll();
    checkAlive();
    if (!unresponsive) await probeCluster();
  }, { timeout: WAIT_MS * 4 });

  const t = (name, fn, opts = {}) => it(name, { timeout: TEST_TIMEOUT_MS, ...opts }, fn);

  // --- the cluster itself ---------------------------------------------------

  t('whoami and servers: two named nodes, each counting two servers', async () => {
    const a = await connect(A, 'a');
    const b = await connect(B, 'b');
    assert.deepEqual(await a.ask('whoami'), { id: a.id, node: NAME_A });
    assert.deepEqual(await b.ask('whoami'), { id: b.id, node: NAME_B });
    assert.equal(await a.ask('servers'), 2);
    assert.equal(await b.ask('servers'), 2);
  });

  // --- room broadcasts (the quickstart events) ------------------------------

  t('room broadcast from either node reaches members on both nodes exactly once; non-members get nothing', async () => {
    const room = unique('room');
    const other = unique('other');
    const [a1, a2, oa] = await connectAll(A, 'a1', 'a2', 'outsider-a');
    const b1 = await connect(B, 'b1');
    const b2 = await connect(B, 'b2 (polling)', { transports: ['polling'] });
    const ob = await connect(B, 'outsider-b');
    const members = [a1, a2, b1, b2];
    await joinAll([oa, ob], other);
    await joinAll([a1, b1, a2, b2], room);
    // Joins are room broadcasts too: the newcomer is announced on both nodes.
    assert.deepEqual(await a1.next('userJoined', p => p.id === b1.id), [{ userName: 'b1', id: b1.id }]);
    assert.deepEqual(await b1.next('userJoined', p => p.id === a2.id), [{ userName: 'a2', id: a2.id }]);

    for (const sender of [a1, b1, b2]) {
      const text = unique(`from-${sender.name}`);
      sender.emit('message', { roomName: room, text });
      for (const p of members) {
        assert.deepEqual(await p.next('message', m => m.text === text), [{ text, sender: sender.id }],
          `${p.name} gets the message of ${sender.name}`);
      }
      // Markers from the same sender close the window for duplicates and for non-members.
      await marker(sender, room, members);
      await marker(sender, other, [oa, ob]);
      for (const p of members) assert.equal(p.count('message', m => m.text === text), 1, `${p.name} got ${text} once`);
      for (const p of [oa, ob]) assert.equal(p.count('message', m => m.text === text), 0, `${p.name} got a room message`);
    }
    // Each join is announced exactly once to each member that was in the room then. A join
    // on the other node just before one's own may or may not arrive (its publication races
    // with the join), but never twice.
    const order = [a1, b1, a2, b2];
    order.forEach((p, i) => order.forEach((q, j) => {
      const n = p.count('userJoined', m => m.id === q.id);
      if (j >= i) assert.equal(n, 1, `${p.name} saw the join of ${q.name} ${n} times`);
      else assert.ok(n <= 1, `${p.name} saw the join of ${q.name} ${n} times`);
    }));
    for (const p of [oa, ob]) assert.equal(p.count('userJoined', m => members.some(q => q.id === m.id)), 0);
  });

  t('leaveRoom and disconnect notices reach members on the other node', async () => {
    const room = unique('leave');
    const [a1, a2] = await connectAll(A, 'a1', 'a2');
    const [b1, b2] = await connectAll(B, 'b1', 'b2');
    await joinAll([a1, a2, b1, b2], room);

    b1.emit('leaveRoom', { roomName: room, userName: 'b1' });
    assert.deepEqual(await b1.next('roomLeft'), [{ roomName: room }]);
    for (const p of [a1, a2, b2]) assert.deepEqual(await p.next('userLeft'), [{ userName: 'b1', id: b1.id }]);

    const a2id = a2.id;
    a2.close();
    for (const p of [a1, b2]) assert.deepEqual(await p.next('userLeft'), [{ id: a2id }]);

    await marker(b2, room, [a1, b2]); // B's notice (b1 left) came before
    await marker(a1, room, [a1, b2]); // A's notice (a2 left) came before
    assert.equal(a1.count('userLeft'), 2);
    assert.equal(b2.count('userLeft'), 2);
    assert.equal(b1.count('userLeft'), 0, 'the leaver is no longer a member');
    assert.equal(b1.count('message'), 0, 'the leaver gets no more room messages');
  });

  // --- emit: except, sender exclusion, local, binary -------------------------

  t('except and sender exclusion hold across nodes', async () => {
    const room = unique('room');
    const excluded = unique('excluded');
    const [a1, a2] = await connectAll(A, 'a1', 'a2');
    const [b1, b2, b3] = await connectAll(B, 'b1', 'b2', 'b3');
    const all = [a1, a2, b1, b2, b3];
    await joinAll(all, room);
    await joinAll([a2, b2], excluded);

    for (const [sender, target] of [[a1, b1], [b1, a1]]) {
      const tag = unique(`news-${sender.name}`);
      // To the room, except room `excluded` and socket b3 (an id room), sender excluded.
      await sender.broadcast({ rooms: [room], except: [excluded, b3.id], event: 'news', args: [tag] });
      assert.deepEqual(await target.next('news', a => a === tag), [tag]);
      await eventMarker(sender, [room], 'news', all);
      for (const p of all) {
        assert.equal(countTag(p, 'news', tag), p === target ? 1 : 0, `${p.name}: news from ${sender.name}`);
      }
    }
  });

  t('a broadcast without rooms reaches every socket of the cluster but the sender', async () => {
    const [a1, a2] = await connectAll(A, 'a1', 'a2');
    const [b1, b2] = await connectAll(B, 'b1', 'b2');
    const all = [a1, a2, b1, b2];
    for (const sender of [a1, b2]) {
      const tag = unique(`all-${sender.name}`);
      await sender.broadcast({ event: 'everyone', args: [tag] });
      const others = all.filter(p => p !== sender);
      await Promise.all(others.map(p => p.next('everyone', a => a === tag)));
      await eventMarker(sender, [], 'everyone', all);
      for (const p of all) assert.equal(countTag(p, 'everyone', tag), p === sender ? 0 : 1, `${p.name}: ${tag}`);
    }
  });

  t('local broadcasts stay on their node', async () => {
    const room = unique('local');
    const [a1, a2] = await connectAll(A, 'a1', 'a2');
    const [b1, b2] = await connectAll(B, 'b1', 'b2');
    const all = [a1, a2, b1, b2];
    await joinAll(all, room);
    for (const [sender, mate, remote] of [[a1, a2, [b1, b2]], [b1, b2, [a1, a2]]]) {
      const selfTag = unique('local-self');
      await sender.broadcast({ rooms: [room], event: 'loc', args: [selfTag], self: true, local: true });
      const otherTag = unique('local-broadcast');
      await sender.broadcast({ rooms: [room], event: 'loc', args: [otherTag], local: true });
      await sender.next('loc', a => a === selfTag);
      await mate.next('loc', a => a === selfTag);
      await mate.next('loc', a => a === otherTag);
      await eventMarker(sender, [room], 'loc', all); // not local: reaches the other node
      for (const p of remote) {
        assert.equal(countTag(p, 'loc', selfTag) + countTag(p, 'loc', otherTag), 0,
          `${p.name} got a local broadcast of the other node`);
      }
      assert.equal(countTag(sender, 'loc', otherTag), 0, 'socket.broadcast.local excludes the sender');
      assert.equal(countTag(mate, 'loc', selfTag), 1);
      assert.equal(countTag(mate, 'loc', otherTag), 1);
    }
  });

  t('binary arguments arrive as binary on both nodes', async () => {
    const room = unique('bin');
    const a1 = await connect(A, 'a1');
    const b1 = await connect(B, 'b1');
    await joinAll([a1, b1], room);
    for (const sender of [a1, b1]) {
      const tag = unique(`bin-${sender.name}`);
      await sender.broadcast({ rooms: [room], event: 'bin', args: [tag, { n: 1, s: 'x' }], binary: true, self: true });
      for (const p of [a1, b1]) {
        const args = await p.next('bin', a => a === tag);
        assert.equal(args.length, 3, `${p.name}: ${JSON.stringify(args)}`);
        assert.deepEqual(args.slice(0, 2), [tag, { n: 1, s: 'x' }]);
        assert.deepEqual(bytes(args[2], `${p.name}, from ${sender.name}`), [1, 2, 3]);
      }
    }
  });

  // --- server-side utilities across the cluster -------------------------------

  t('fetch from each node sees the sockets of both nodes with their rooms', async () => {
    const room = unique('fetch');
    const extraA = unique('extra-a');
    const extraB = unique('extra-b');
    const other = unique('other');
    const [a1, a2, oa] = await connectAll(A, 'a1', 'a2', 'oa');
    const [b1, b2, ob] = await connectAll(B, 'b1', 'b2', 'ob');
    await joinAll([a1, a2, b1, b2], room);
    await join(a1, extraA);
    await join(b1, extraB);
    await joinAll([oa, ob], other);
    const entry = (p, ...rooms) => ({ id: p.id, rooms: [p.id, ...rooms].sort() });
    const expected = list => ({ sockets: list.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0)) });

    for (const asker of [oa, ob]) {
      assert.deepEqual(await asker.ask('fetch', { rooms: [room] }), expected([
        entry(a1, room, extraA), entry(a2, room), entry(b1, room, extraB), entry(b2, room)]), `fetch from ${asker.name}`);
      assert.deepEqual(await asker.ask('fetch', { rooms: [room], except: [extraA, b2.id] }),
        expected([entry(a2, room), entry(b1, room, extraB)]), `fetch with except from ${asker.name}`);
      assert.deepEqual(await asker.ask('fetch', { rooms: [extraB, other] }),
        expected([entry(b1, room, extraB), entry(oa, other), entry(ob, other)]), `fetch of two rooms from ${asker.name}`);
      assert.deepEqual(await asker.ask('fetch', { rooms: [unique('nobody')] }), { sockets: [] });
    }
  });

  t('socketsJoin and socketsLeave from A move sockets on B (and on A)', async () => {
    const room = unique('room');
    const target = unique('target');
    const [ctl, a1] = await connectAll(A, 'ctl', 'a1');
    const [b1, b2, b3] = await connectAll(B, 'b1', 'b2', 'b3');
    await joinAll([a1, b1, b2, b3], room);

    assert.equal(await ctl.ask('socketsJoin', { rooms: [room], except: [b3.id], target }), 'ok');
    // A's broadcast after the request: B has applied it.
    const t1 = unique('t1');
    await ctl.broadcast({ rooms: [target], event: 'tgt', args: [t1] });
    await Promise.all([b1, b2].map(p => p.next('tgt', a => a === t1)));
    // B's broadcast after that: A has applied its own request too.
    const t2 = unique('t2');
    await b1.broadcast({ rooms: [target], event: 'tgt', args: [t2], self: true });
    await Promise.all([a1, b1, b2].map(p => p.next('tgt', a => a === t2)));
    await eventMarker(ctl, [room], 'tgt', [a1, b1, b2, b3]);
    await eventMarker(b1, [room, ctl.id], 'tgt', [ctl, a1, b1, b2, b3]);
    assert.equal(countTag(b3, 'tgt', t1) + countTag(b3, 'tgt', t2), 0, 'the excepted socket joined');
    assert.equal(countTag(ctl, 'tgt', t2), 0, 'a socket outside the selection joined');
    const fetched = await ctl.ask('fetch', { rooms: [target] });
    assert.deepEqual(fetched.sockets?.map(s => s.id), sortedIds([a1, b1, b2]));
    assert.ok(fetched.sockets.every(s => s.rooms.includes(target) && s.rooms.includes(room)));

    assert.equal(await ctl.ask('socketsLeave', { rooms: [target], except: [b2.id], target }), 'ok');
    const l1 = unique('l1');
    await ctl.broadcast({ rooms: [target], event: 'tgt', args: [l1] });
    await b2.next('tgt', a => a === l1);
    const l2 = unique('l2');
    await b2.broadcast({ rooms: [target], event: 'tgt', args: [l2], self: true });
    await b2.next('tgt', a => a === l2);
    await eventMarker(ctl, [room], 'tgt', [a1, b1, b2, b3]);
    await eventMarker(b2, [room], 'tgt', [a1, b1, b2, b3]);
    // (a1 may still get l1: A's own request may come back from Redis after A's broadcast.)
    assert.equal(countTag(b1, 'tgt', l1) + countTag(b1, 'tgt', l2), 0, `b1 is still in ${target}`);
    assert.equal(countTag(a1, 'tgt', l2), 0, `a1 is still in ${target}`);
    assert.deepEqual((await b1.ask('fetch', { rooms: [target] })).sockets?.map(s => s.id), [b2.id]);
    // Leaving `target` kept the other rooms.
    assert.deepEqual((await b1.ask('fetch', { rooms: [room] })).sockets?.map(s => s.id), sortedIds([a1, b1, b2, b3]));
  });

  for (const close of [false, true]) {
    t(`disconnectSockets(${close}) from A disconnects the room's members on B (and A), and only them`, async () => {
      const room = unique('doomed');
      const spared = unique('spared');
      const other = unique('other');
      const [ctl, a1, oa] = await connectAll(A, 'ctl', 'a1', 'oa');
      const [b1, b2, b3, ob] = await connectAll(B, 'b1', 'b2', 'b3', 'ob');
      await joinAll([a1, b1, b2, b3], room);
      await join(b3, spared);
      await joinAll([oa, ob], other);
      const ids = Object.fromEntries([a1, b1, b2].map(p => [p.name, p.id]));

      assert.equal(await ctl.ask('disconnectSockets', { rooms: [room], except: [spared], close }), 'ok');
      // socket.io sends a DISCONNECT packet before closing the connection (close = true).
      const reasons = close ? ['io server disconnect', 'transport close'] : ['io server disconnect'];
      for (const p of [b1, b2, a1]) {
        const reason = await p.waitDisconnect();
        assert.ok(reasons.includes(reason), `${p.name}'s disconnect reason: ${reason}`);
      }
      // The disconnecting notices of the others (the quickstart events) reach b3.
      for (const name of ['a1', 'b1', 'b2']) await b3.next('userLeft', m => m.id === ids[name], `userLeft of ${name}`);

      // A's broadcast after the request: everybody else is still there.
      await eventMarker(ctl, [room, other], 'after', [b3, oa, ob]);
      await eventMarker(b3, [room, other], 'after', [b3, oa, ob]);
      for (const p of [ctl, b3, oa, ob]) assert.ok(p.connected, `${p.name} was disconnected (${p.disconnectReason})`);
      assert.deepEqual((await ctl.ask('fetch', { rooms: [room, other] })).sockets?.map(s => s.id), sortedIds([b3, oa, ob]));
    });
  }

  t('allRooms from either node includes the rooms of both nodes', async () => {
    const roomA = unique('only-a');
    const roomB = unique('only-b');
    const a1 = await connect(A, 'a1');
    const b1 = await connect(B, 'b1');
    await join(a1, roomA);
    await join(b1, roomB);
    for (const asker of [a1, b1]) {
      const rooms = await asker.ask('allRooms');
      assert.ok(Array.isArray(rooms), `${asker.name}: allRooms must answer an array, got ${JSON.stringify(rooms)}`);
      assert.deepEqual(rooms, [...rooms].sort(), 'allRooms must be sorted');
      assert.equal(new Set(rooms).size, rooms.length, 'allRooms must not repeat a room');
      for (const r of [roomA, roomB, a1.id, b1.id]) assert.ok(rooms.includes(r), `${asker.name}: allRooms lacks ${r}`);
    }
    b1.emit('leaveRoom', { roomName: roomB, userName: 'b1' });
    await b1.next('roomLeft');
    const rooms = await a1.ask('allRooms');
    assert.ok(!rooms.includes(roomB), 'an empty room of B is still listed');
    assert.ok(rooms.includes(roomA));
  });

  t('ask collects the answers of clients on both nodes', async () => {
    const room = unique('ask');
    const [ctlA, a1, a2] = await connectAll(A, 'ctl-a', 'a1', 'a2');
    const [ctlB, b1, b2] = await connectAll(B, 'ctl-b', 'b1', 'b2');
    const members = [a1, a2, b1, b2];
    for (const p of [ctlA, ctlB, ...members]) p.answers.set('question', () => [p.id]);
    await joinAll(members, room);

    for (const [asker, node] of [[ctlA, NAME_A], [ctlB, NAME_B]]) {
      assert.deepEqual(await asker.ask('ask', { rooms: [room], timeout: WAIT_MS - 1000 }),
        { error: null, responses: sortedIds(members) }, `ask from ${asker.name}`);
      for (const p of members) assert.deepEqual(await p.next('question'), [node], `${p.name}: the question names the asking node`);
    }
    assert.deepEqual(await ctlA.ask('ask', { rooms: [room], except: [b2.id], timeout: WAIT_MS - 1000 }),
      { error: null, responses: sortedIds([a1, a2, b1]) });
    assert.deepEqual(await b1.ask('ask', { rooms: [unique('nobody')], timeout: WAIT_MS - 1000 }),
      { error: null, responses: [] });
    for (const p of [ctlA, ctlB]) assert.equal(p.count('question'), 0, `${p.name} is not in the room`);

    // A client on B that never answers: the ask from A times out.
    const silentRoom = unique('silent');
    const silent = await connect(B, 'silent');
    silent.answers.set('question', () => NO_ANSWER);
    await joinAll([a1, silent], silentRoom);
    const r = await ctlA.ask('ask', { rooms: [silentRoom], timeout: 500 });
    assert.equal(typeof r?.error, 'string', `a timed-out ask must answer an error message, got ${JSON.stringify(r)}`);
    assert.ok(r.error.length > 0);
    // socket.io's emitWithAck drops the answers when it rejects; the answers received in
    // time are allowed too.
    assert.ok([[], [a1.id]].some(v => JSON.stringify(v) === JSON.stringify(r.responses)),
      `a timed-out ask answers [] or the answers received in time, got ${JSON.stringify(r.responses)}`);
    assert.deepEqual(await silent.next('question'), [NAME_A]);
  });

  t('serverEmit reaches the other node, never the sending node', async () => {
    const [a1, a2] = await connectAll(A, 'a1', 'a2');
    const b1 = await connect(B, 'b1');
    const tag1 = unique('hello-1');
    const tag2 = unique('hello-2');
    const tag3 = unique('hello-3');
    const is = tag => h => h?.args?.[0] === tag;

    assert.equal(await a1.ask('serverEmit', { event: 'hello', args: [tag1, 2, { three: [3] }] }), 'ok');
    assert.deepEqual(await b1.next('serverHello', is(tag1)), [{ node: NAME_B, args: [tag1, 2, { three: [3] }] }]);
    assert.equal(await b1.ask('serverEmit', { event: 'hello', args: [tag2] }), 'ok');
    for (const p of [a1, a2]) assert.deepEqual(await p.next('serverHello', is(tag2)), [{ node: NAME_A, args: [tag2] }]);
    assert.equal(await a2.ask('serverEmit', { event: 'hello', args: [tag3] }), 'ok');
    assert.deepEqual(await b1.next('serverHello', is(tag3)), [{ node: NAME_B, args: [tag3] }]);

    // A handled tag2 after tag1 would have come back to it, B handled tag3 after tag2.
    for (const p of [a1, a2]) assert.equal(p.count('serverHello', is(tag1)), 0, `${p.name}: A received its own serverEmit`);
    assert.equal(b1.count('serverHello', is(tag2)), 0, 'B received its own serverEmit');
    for (const p of [a1, a2, b1]) {
      for (const tag of [tag1, tag2, tag3]) assert.ok(p.count('serverHello', is(tag)) <= 1, `${p.name}: ${tag} twice`);
    }
  });

  t('serverAsk gets the answer of the other node only', async () => {
    const a1 = await connect(A, 'a1');
    const b1 = await connect(B, 'b1');
    assert.deepEqual(await a1.ask('serverAsk', {}), { error: null, responses: [NAME_B] });
    assert.deepEqual(await b1.ask('serverAsk', {}), { error: null, responses: [NAME_A] });
  });
});
