// Real-client integration tests of the Socket.IO server features of roomcast, against the
// test server tests/integration/features_server.cpp (its header lists the events it exposes).
//
// Runs with Node's built-in test runner and the real `socket.io-client` package:
//
//   ROOMCAST_SERVER=/path/to/features_server [ROOMCAST_THREADS=1|2] node --test tests/integration/features.test.mjs
//
// Optional: ROOMCAST_WAIT_MS (bound of every single wait, default 4000),
//           ROOMCAST_STARTUP_MS (bound of server start-up, default 10000),
//           ROOMCAST_VERBOSE=1 (echo the server's output).
//
// Conventions (as in quickstart.test.mjs):
//  * every client records every event it receives (onAny) from before it connects;
//  * every wait is bounded and fails at once if the server process exits;
//  * a negative ("X does not receive Y") is proven by a marker: the same source that would
//    have caused Y afterwards causes a message that X does receive; the server handles one
//    socket's packets in order, posts to other shards in order and delivers to one client in
//    order, so once the marker is in, Y would have been in as well;
//  * if the server dies, the test that was running fails with the server's output and the
//    next test starts a fresh server, so one crash does not hide the other results.

import { describe, it, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { Manager } from 'socket.io-client';
import * as harness from './harness.mjs';
import {
  ServerProcess, NO_ANSWER, clientOptions, unique, WAIT_MS, STARTUP_MS, STOP_MS, TEST_TIMEOUT_MS,
} from './harness.mjs';

const SERVER_BINARY = process.env.ROOMCAST_SERVER || '';
const THREADS = process.env.ROOMCAST_THREADS || '1';

if (!SERVER_BINARY) {
  throw new Error('Set ROOMCAST_SERVER=<path of the features_server binary> (optionally ROOMCAST_THREADS=1|2)');
}
if (!/^[12]$/.test(THREADS)) throw new Error(`ROOMCAST_THREADS must be 1 or 2, got ${THREADS}`);

// ---------------------------------------------------------------------------
// Server process (tests/integration/harness.mjs)
// ---------------------------------------------------------------------------

const describeServer = () => `${SERVER_BINARY} --threads ${THREADS}`;

let server = null;

// Readiness: the server prints its "listening" line once it listens; never a fixed sleep.
async function startServer() {
  server = await ServerProcess.start(SERVER_BINARY, ['--threads', THREADS],
    { readyLine: port => `features listening on port ${port}` });
}

// ---------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------

const clients = new Set();   // Peers, disconnected after each test
const managers = new Set();  // Managers made by tests, closed after each test

function newManager() {
  const m = new Manager(server.url, clientOptions());
  managers.add(m);
  return m;
}

/// The harness's Peer on the current server, disconnected after each test. Predicates get the
/// event's argument list (an array); `next` and `received` give argument lists.
class Peer extends harness.Peer {
  constructor(name, opts) {
    super(server, name, opts);
    clients.add(this);
  }

  _matches(args, pred) { return pred(args); }
}

async function connectPeer(name, opts) {
  return new Peer(name, opts).connect();
}

// Sequentially: consecutive connections, so with 2 threads they alternate shards.
async function connectPeers(...names) {
  const peers = [];
  for (const n of names) peers.push(await connectPeer(n));
  return peers;
}

async function join(peer, room) {
  const [rooms] = await peer.call('join', room);
  assert.ok(Array.isArray(rooms) && rooms.includes(room), `${peer.name} did not join ${room}: ${JSON.stringify(rooms)}`);
  return rooms;
}

// Broadcast through the server: `event` with `data` to `room` of namespace `nsp`, sent by `from`.
async function bcast(from, room, event, data, nsp = undefined) {
  assert.deepEqual(await from.call('bcast', { ...(nsp ? { nsp } : {}), room, event, data }), [true]);
}

const bytes = (...b) => Buffer.from(b);

// A received binary attachment, as a Buffer (asserting it is one).
function asBuffer(x, what) {
  assert.ok(Buffer.isBuffer(x) || x instanceof ArrayBuffer || ArrayBuffer.isView(x),
    `${what} must arrive as binary, got ${JSON.stringify(x)}`);
  return Buffer.from(x instanceof ArrayBuffer ? new Uint8Array(x) : x);
}

function disconnectAll() {
  for (const c of clients) c.dispose();
  clients.clear();
  for (const m of managers) {
    try { m.engine?.close(); } catch { /* ignore */ }
  }
  managers.clear();
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

describe(`roomcast features over socket.io-client (${describeServer()})`, () => {
  before(startServer, { timeout: STARTUP_MS + 5000 });

  after(async () => {
    disconnectAll();
    await server?.stop();
  }, { timeout: STOP_MS * 2 + 2000 });

  beforeEach(async () => {
    // An earlier test crashed the server (and failed for it): start a fresh one.
    if (server.diedUnexpectedly) await startServer();
  }, { timeout: STARTUP_MS + 5000 });

  afterEach(() => {
    disconnectAll();
    server.checkAlive();
  });

  const t = (name, fn, opts = {}) => it(name, { timeout: TEST_TIMEOUT_MS, ...opts }, fn);

  // --- 1. namespaces --------------------------------------------------------

  t('namespaces: one Manager multiplexes / and /admin over one Engine.IO connection, each with its own handlers', async () => {
    const manager = newManager();
    const main = await connectPeer('main', { manager });
    const admin = await connectPeer('admin', { nsp: '/admin', manager });
    assert.equal(main.socket.io, admin.socket.io, 'both sockets must come from one Manager');
    assert.equal(main.socket.io.engine, admin.socket.io.engine, 'one Engine.IO connection');
    assert.notEqual(main.id, admin.id, 'each namespace has its own socket id');
    assert.deepEqual(await main.call('whoami'), [{ nsp: '/', id: main.id }]);
    assert.deepEqual(await admin.call('whoami'), [{ nsp: '/admin', id: admin.id, admin: true }]);
    assert.deepEqual(await admin.call('join', 'r'), [[admin.id, 'r']]);
    assert.deepEqual(await main.call('join', 'r'), [[main.id, 'r']]);
  });

  t('namespaces: rooms are per namespace (a /admin member of "r" gets no "/" broadcast to "r", and back)', async () => {
    const room = unique('r');
    const manager = newManager();
    await connectPeer('both(/)', { manager }); // "/" of the same connection, not in "/" room r
    const bothAdmin = await connectPeer('both(/admin)', { nsp: '/admin', manager });
    const mainMember = await connectPeer('mainMember');
    const adminMember = await connectPeer('adminMember', { nsp: '/admin' });
    await join(bothAdmin, room);
    await join(mainMember, room);
    await join(adminMember, room);

    // "/" room r: only mainMember.
    await bcast(mainMember, room, 'msg', 'main-r');
    assert.deepEqual(await mainMember.next('msg'), ['main-r']);
    // Marker from the same sender into /admin's room r.
    await bcast(mainMember, room, 'msg', 'admin-marker-1', '/admin');
    for (const p of [bothAdmin, adminMember]) assert.deepEqual(await p.next('msg'), ['admin-marker-1']);

    // "/admin" room r: bothAdmin and adminMember.
    await bcast(adminMember, room, 'msg', 'admin-r');
    for (const p of [bothAdmin, adminMember]) assert.deepEqual(await p.next('msg'), ['admin-r']);
    await bcast(adminMember, room, 'msg', 'main-marker', '/');
    assert.deepEqual(await mainMember.next('msg'), ['main-marker']);

    assert.deepEqual(mainMember.received('msg'), [['main-r'], ['main-marker']], 'mainMember got a /admin broadcast');
    for (const p of [bothAdmin, adminMember]) {
      assert.deepEqual(p.received('msg'), [['admin-marker-1'], ['admin-r']], `${p.name} got a "/" broadcast`);
    }
  });

  t('namespaces: disconnecting /admin keeps / of the same connection working', async () => {
    const manager = newManager();
    const main = await connectPeer('main', { manager });
    const admin = await connectPeer('admin', { nsp: '/admin', manager });
    const adminId = admin.id;
    admin.close();
    assert.equal(await admin.waitDisconnect(), 'io client disconnect');
    assert.equal(manager.engine.readyState, 'open', 'the shared Engine.IO connection must stay open');
    // Same connection, processed in order: the /admin DISCONNECT is handled before these.
    assert.deepEqual(await main.call('count', { nsp: '/admin', room: adminId }), [0]);
    assert.deepEqual(await main.call('count', { room: main.id }), [1]);
    assert.deepEqual(await main.call('echo', { still: 'here' }), [{ still: 'here' }]);
    assert.deepEqual(await main.call('whoami'), [{ nsp: '/', id: main.id }]);
    assert.ok(main.connected);
  });

  t('namespaces: an unknown namespace is refused with "Invalid namespace"', async () => {
    const err = await new Peer('nope', { nsp: '/nope' }).connectRefused();
    assert.equal(err.message, 'Invalid namespace');
    assert.equal(err.data, undefined);
    // On a multiplexed connection: the refusal does not disturb the connected namespace.
    const manager = newManager();
    const main = await connectPeer('main', { manager });
    const err2 = await new Peer('nope2', { nsp: '/admin2', manager }).connectRefused();
    assert.equal(err2.message, 'Invalid namespace');
    assert.deepEqual(await main.call('echo', 1), [1]);
  });

  // --- 2. connection middleware (auth) ----------------------------------------

  t('auth middleware: a good token is accepted; the middleware set data() and sees auth', async () => {
    const p = await connectPeer('authorized', { nsp: '/secure', auth: { token: 'let-me-in' } });
    assert.deepEqual(await p.call('whoami'), [{ user: 'alice', auth: { token: 'let-me-in' } }]);
  });

  for (const [label, auth] of [['a wrong token', { token: 'guess' }], ['no auth', undefined],
    ['a number token', { token: 401 }]]) {
    t(`auth middleware: ${label} is refused with message and data`, async () => {
      const err = await new Peer('intruder', { nsp: '/secure', auth }).connectRefused();
      assert.ok(err instanceof Error);
      assert.equal(err.message, 'not authorized');
      assert.deepEqual(err.data, { code: 401 });
    });
  }

  t('auth middleware guards /secure only: "/" on the same Manager connects without auth', async () => {
    const manager = newManager();
    const main = await connectPeer('main', { manager });
    const err = await new Peer('secure', { nsp: '/secure', manager }).connectRefused();
    assert.equal(err.message, 'not authorized');
    assert.deepEqual(err.data, { code: 401 });
    assert.deepEqual(await main.call('echo', 'ok'), ['ok']);
  });

  // --- 3. acknowledgements ----------------------------------------------------

  t('acks client->server: a returned value and an ack with two arguments', async () => {
    const [a] = await connectPeers('a');
    const v = { s: 'x', n: 1.5, b: false, z: null, arr: [1, 'two', { three: 3 }] };
    assert.deepEqual(await a.call('echo', v), [v]);
    assert.deepEqual(await a.call('pair', 'word', 7), [7, 'word']);
  });

  t('acks server->client: the client answers, the server gets the answer', async () => {
    const [a] = await connectPeers('a');
    a.answers.set('ask', q => [`answer to ${q}`, 42]);
    a.emit('askMe', { question: 'q1', timeoutMs: WAIT_MS });
    assert.deepEqual(await a.next('ask'), ['q1']);
    assert.deepEqual(await a.next('result'), [{ reply: ['answer to q1', 42] }]);
  });

  t('acks server->client: unanswered -> the server reports a timeout; a late answer is ignored', async () => {
    const [a] = await connectPeers('a');
    a.answers.set('ask', () => NO_ANSWER);
    const started = performance.now();
    a.emit('askMe', { question: 'q2', timeoutMs: 300 });
    const ask = await a.nextEntry('ask');
    assert.deepEqual(ask.args, ['q2']);
    assert.equal(typeof ask.ack, 'function', 'the server must ask for an acknowledgement');
    assert.deepEqual(await a.next('result'), [{ error: 'operation has timed out', code: 'timeout' }]);
    assert.ok(performance.now() - started >= 299, 'the timeout fired early');
    ask.ack('too late');
    assert.deepEqual(await a.call('echo', 'marker'), ['marker']);
    assert.equal(a.count('result'), 1, 'a late answer must not produce a second result');
  });

  t('acks: arguments that do not convert -> {error} ack and the error hook', async () => {
    const [a] = await connectPeers('a');
    const message = 'event "slowDouble": argument 1: value: expected integer, got string';
    assert.deepEqual(await a.call('slowDouble', 'x'), [{ error: message }]);
    assert.deepEqual(await a.next('error'), [{ message }]);
  });

  // --- 4. binary ----------------------------------------------------------------

  t('binary: a Buffer to a roomcast::binary parameter; binary back', async () => {
    const [a] = await connectPeers('a');
    assert.deepEqual(await a.call('binSingle', bytes(0, 1, 2, 255)), [4]);
    const [label, data] = await a.next('bin');
    assert.equal(label, 'single');
    assert.deepEqual([...asBuffer(data, 'bin')], [255, 2, 1, 0]);
    assert.equal(a.received('bin').at(-1).length, 2);
  });

  t('binary: nested in an object (a described struct with binary fields), and back', async () => {
    const [a] = await connectPeers('a');
    const reply = await a.call('binObject', { name: 'file.bin', data: bytes(1, 2, 3), parts: [bytes(9), bytes(), bytes(7, 8)] });
    assert.deepEqual(reply, [{ name: 'file.bin', size: 3, partSizes: [1, 0, 2] }]);
    const [label, obj] = await a.next('bin');
    assert.equal(label, 'object');
    assert.deepEqual(Object.keys(obj), ['name', 'data', 'parts']);
    assert.equal(obj.name, 'file.bin');
    assert.deepEqual([...asBuffer(obj.data, 'data')], [3, 2, 1]);
    assert.deepEqual(obj.parts.map((p, i) => [...asBuffer(p, `parts[${i}]`)]), [[9], [], [8, 7]]);
  });

  t('binary: in an array, and back', async () => {
    const [a] = await connectPeers('a');
    assert.deepEqual(await a.call('binArray', [bytes(1, 2), bytes(0), bytes(5, 6, 7)]), [[2, 1, 3]]);
    const [label, arr] = await a.next('bin');
    assert.equal(label, 'array');
    assert.deepEqual(arr.map((p, i) => [...asBuffer(p, `[${i}]`)]), [[2, 1], [0], [7, 6, 5]]);
  });

  t('binary: an ack answered with binary', async () => {
    const [a] = await connectPeers('a');
    const reply = await a.call('binAck', 'héllo');
    assert.equal(reply.length, 1);
    assert.deepEqual(asBuffer(reply[0], 'ack'), Buffer.from('héllo', 'utf8'));
  });

  t('binary: a string where binary is expected is an error, not a crash', async () => {
    const [a] = await connectPeers('a');
    const message = 'event "binSingle": argument 1: value: expected binary, got string';
    assert.deepEqual(await a.call('binSingle', 'not bytes'), [{ error: message }]);
    assert.deepEqual(await a.next('error'), [{ message }]);
    assert.deepEqual(await a.call('binSingle', bytes(1)), [1]);
  });

  // --- 5. volatile --------------------------------------------------------------

  t('volatile: io.to(room).volatile_().emit reaches a connected idle client', async () => {
    const room = unique('vol');
    const [idle, sender] = await connectPeers('idle', 'sender');
    await join(idle, room);
    assert.deepEqual(await sender.call('volatileTo', { room, data: { n: 1, s: 'v' } }), [true]);
    assert.deepEqual(await idle.next('vol'), [{ n: 1, s: 'v' }]);
    assert.equal(sender.count('vol'), 0);
  });

  // --- 6. server-side utilities across shards -----------------------------------

  t('shards: consecutive connections are served by different threads when there are two', async () => {
    const [a, b] = await connectPeers('a', 'b');
    const [ta] = await a.call('thread');
    const [tb] = await b.call('thread');
    assert.ok(Number.isInteger(ta) && Number.isInteger(tb));
    if (THREADS === '2') assert.notEqual(ta, tb, 'consecutive connections must alternate shards');
    else assert.equal(ta, tb);
  });

  t('fetch_sockets: ids, rooms and data of the room\'s sockets on every shard', async () => {
    const room = unique('fetch');
    const [a, b, c] = await connectPeers('a', 'b', 'c');
    await join(a, room);
    await join(b, room);
    assert.deepEqual(await a.call('setData', { who: 'a', n: 1 }), [true]);
    assert.deepEqual(await b.call('setData', ['b']), [true]);
    const expected = [
      { id: a.id, rooms: [a.id, room], data: { who: 'a', n: 1 } },
      { id: b.id, rooms: [b.id, room], data: ['b'] },
    ].sort((x, y) => (x.id < y.id ? -1 : 1));
    assert.deepEqual(await c.call('fetch', room), [expected]);
    assert.deepEqual(await c.call('fetch', unique('empty')), [[]]);
  });

  t('remote_socket: emit, join, leave and disconnect reach the sockets on their shards', async () => {
    const room = unique('remote');
    const target = unique('target');
    const [a, b, c] = await connectPeers('a', 'b', 'c');
    await join(a, room);
    await join(b, room);

    assert.deepEqual(await c.call('remote', { room, action: 'emit', event: 'remoteHello', data: { x: 1 } }), [2]);
    for (const p of [a, b]) assert.deepEqual(await p.next('remoteHello'), [{ x: 1 }]);

    assert.deepEqual(await c.call('remote', { room, action: 'join', target }), [2]);
    await bcast(c, target, 'inTarget', 't1');
    for (const p of [a, b]) assert.deepEqual(await p.next('inTarget'), ['t1']);
    assert.deepEqual(await c.call('count', { room: target }), [2]);

    assert.deepEqual(await c.call('remote', { room, action: 'leave', target }), [2]);
    assert.deepEqual(await c.call('count', { room: target }), [0]);
    await bcast(c, target, 'inTarget', 't2');
    await bcast(c, room, 'marker', 'm1');
    for (const p of [a, b]) {
      assert.deepEqual(await p.next('marker'), ['m1']);
      assert.deepEqual(p.received('inTarget'), [['t1']], `${p.name} still got a broadcast to the room it left`);
      assert.deepEqual(p.received('remoteHello'), [[{ x: 1 }]], `${p.name} got remoteHello more than once`);
    }
    assert.equal(c.count('remoteHello') + c.count('inTarget') + c.count('marker'), 0);

    assert.deepEqual(await c.call('remote', { room, action: 'disconnect' }), [2]);
    for (const p of [a, b]) assert.equal(await p.waitDisconnect(), 'io server disconnect');
    assert.deepEqual(await c.call('count', { room }), [0]);
    assert.ok(c.connected);
  });

  t('sockets_join / sockets_leave: the room\'s sockets on every shard join and leave', async () => {
    const room = unique('sj');
    const target = `${room}-t`;
    const [a, b, c] = await connectPeers('a', 'b', 'c');
    await join(a, room);
    await join(b, room);
    assert.deepEqual(await c.call('socketsJoin', { room, target }), [true]);
    await bcast(c, target, 'inTarget', 'joined');
    for (const p of [a, b]) assert.deepEqual(await p.next('inTarget'), ['joined']);
    assert.deepEqual(await c.call('count', { room: target }), [2]);
    assert.deepEqual(await c.call('allRooms', room), [[{ name: room, size: 2 }, { name: target, size: 2 }]]);

    assert.deepEqual(await c.call('socketsLeave', { room, target }), [true]);
    assert.deepEqual(await c.call('count', { room: target }), [0]);
    assert.deepEqual(await c.call('allRooms', room), [[{ name: room, size: 2 }]]);
    await bcast(c, target, 'inTarget', 'after leave');
    await bcast(c, room, 'marker', 'm');
    for (const p of [a, b]) {
      assert.deepEqual(await p.next('marker'), ['m']);
      assert.deepEqual(p.received('inTarget'), [['joined']], `${p.name} got a broadcast after sockets_leave`);
    }
  });

  t('disconnect_sockets: the room\'s sockets on every shard are disconnected, others stay', async () => {
    const room = unique('ds');
    const [a, b, c] = await connectPeers('a', 'b', 'c');
    await join(a, room);
    await join(b, room);
    assert.deepEqual(await c.call('disconnectSockets', room), [true]);
    for (const p of [a, b]) assert.equal(await p.waitDisconnect(), 'io server disconnect');
    assert.deepEqual(await c.call('count', { room }), [0]);
    assert.deepEqual(await c.call('echo', 'alive'), ['alive']);
    assert.ok(c.connected);
  });

  t('socket_count and all_rooms count members on every shard', async () => {
    const prefix = unique('ar');
    const [a, b, c] = await connectPeers('a', 'b', 'c');
    await join(a, `${prefix}-1`);
    await join(a, `${prefix}-2`);
    await join(b, `${prefix}-2`);
    assert.deepEqual(await c.call('count', { room: `${prefix}-1` }), [1]);
    assert.deepEqual(await c.call('count', { room: `${prefix}-2` }), [2]);
    assert.deepEqual(await c.call('count', { room: `${prefix}-none` }), [0]);
    assert.deepEqual(await c.call('allRooms', prefix),
      [[{ name: `${prefix}-1`, size: 1 }, { name: `${prefix}-2`, size: 2 }]]);
    // Sockets' own rooms are rooms too.
    assert.deepEqual(await c.call('allRooms', a.id), [[{ name: a.id, size: 1 }]]);
    await a.call('leave', `${prefix}-2`);
    assert.deepEqual(await c.call('allRooms', prefix),
      [[{ name: `${prefix}-1`, size: 1 }, { name: `${prefix}-2`, size: 1 }]]);
  });

  // --- 7. catch-alls ----------------------------------------------------------------

  t('on_any / on_any_outgoing see every incoming and outgoing event (acks are not events)', async () => {
    const spy = await connectPeer('spy', { nsp: '/spy' });
    spy.answers.set('spyAsk', x => [`A:${x}`]);
    spy.emit('ping', 1);
    assert.deepEqual(await spy.next('pong'), [1]);
    spy.emit('shoutMe', 'hey');
    assert.deepEqual(await spy.next('shouted'), ['hey']);
    spy.emit('nohandler', 'a', 2);
    spy.emit('askBack', 'q');
    assert.deepEqual(await spy.next('spyAsk'), ['q']);
    assert.deepEqual(await spy.next('spyAnswer'), ['A:q']);
    assert.deepEqual(await spy.call('report'), [{
      in: [['ping', 1], ['shoutMe', 'hey'], ['nohandler', 'a', 2], ['askBack', 'q'], ['report']],
      out: [['pong', 1], ['shouted', 'hey'], ['spyAsk', 'q'], ['spyAnswer', 'A:q']],
    }]);
  });

  // --- 8. packet middleware -----------------------------------------------------------

  t('packet middleware: a refused event reaches neither handler nor ack; the error hook reports it', async () => {
    const g = await connectPeer('guarded', { nsp: '/guarded' });
    g.emit('forbidden', 'x');
    assert.deepEqual(await g.next('error'), [{ message: 'forbidden event', event: 'forbidden' }]);
    assert.deepEqual(await g.call('allowed', { v: 1 }), [{ v: 1 }]);
    assert.equal(g.count('ranForbidden'), 0, 'the handler of a refused event ran');
    // With an acknowledgement asked: refused all the same, never answered.
    let answered = false;
    g.socket.emit('forbidden', 'y', () => { answered = true; });
    assert.deepEqual(await g.next('error'), [{ message: 'forbidden event', event: 'forbidden' }]);
    assert.deepEqual(await g.call('allowed', 2), [2]);
    assert.equal(answered, false, 'a refused event was acknowledged');
    assert.equal(g.count('ranForbidden'), 0);
    assert.equal(g.count('error'), 2);
  });

  t('packet middleware may rewrite the packet before the handler', async () => {
    const g = await connectPeer('guarded', { nsp: '/guarded' });
    assert.deepEqual(await g.call('rewrite', 'original'), ['rewritten by middleware']);
    assert.equal(g.count('error'), 0);
  });

  // --- 9. dynamic namespaces ------------------------------------------------------------

  t('dynamic namespaces: /dyn-1 and /dyn-2 are separate children with their own rooms', async () => {
    const room = unique('dr');
    const a = await connectPeer('a', { nsp: '/dyn-1' });
    const b = await connectPeer('b', { nsp: '/dyn-2' });
    const c = await connectPeer('c', { nsp: '/dyn-1' });
    assert.deepEqual(await a.next('welcome'), [{ nsp: '/dyn-1' }]);
    assert.deepEqual(await b.next('welcome'), [{ nsp: '/dyn-2' }]);
    assert.deepEqual(await c.next('welcome'), [{ nsp: '/dyn-1' }]);
    for (const p of [a, b, c]) assert.deepEqual(await p.call('join', room), [[p.id, room]]);

    assert.deepEqual(await a.call('dynBcast', { room, data: 'one' }), [true]);
    for (const p of [a, c]) assert.deepEqual(await p.next('dynMsg'), [{ nsp: '/dyn-1', data: 'one' }]);
    // Marker from the same sender through the parent: reaches the room in every child.
    assert.deepEqual(await a.call('dynBcastAll', { room, data: 'all' }), [true]);
    for (const p of [a, b, c]) assert.deepEqual(await p.next('dynMsg', x => x[0].nsp === '*'), [{ nsp: '*', data: 'all' }]);
    assert.deepEqual(b.received('dynMsg'), [[{ nsp: '*', data: 'all' }]], '/dyn-2 got a /dyn-1 room broadcast');

    assert.deepEqual(await b.call('dynBcast', { room, data: 'two' }), [true]);
    assert.deepEqual(await b.next('dynMsg'), [{ nsp: '/dyn-2', data: 'two' }]);
    assert.deepEqual(await b.call('dynBcastAll', { room, data: 'all2' }), [true]);
    for (const p of [a, c]) {
      await p.next('dynMsg', x => x[0].data === 'all2');
      assert.equal(p.count('dynMsg', x => x[0].data === 'two'), 0, `${p.name} got a /dyn-2 room broadcast`);
    }
  });

  for (const nsp of ['/dyn-x', '/dyn-', '/dyn-1/sub']) {
    t(`dynamic namespaces: ${nsp} does not match and is refused with "Invalid namespace"`, async () => {
      const err = await new Peer('bad', { nsp }).connectRefused();
      assert.equal(err.message, 'Invalid namespace');
    });
  }

  // --- 10. coroutine handler --------------------------------------------------------------

  t('coroutine handler: slowDouble answers 2x after its 50 ms timer', async () => {
    const [a] = await connectPeers('a');
    const started = performance.now();
    assert.deepEqual(await a.call('slowDouble', 21), [42]);
    assert.ok(performance.now() - started >= 49, 'answered before its 50 ms timer could fire');
    assert.deepEqual(await a.call('slowDouble', -4), [-8]);
    assert.equal(a.count('error'), 0);
  });

  // --- 6b. broadcast with acknowledgements (last: see the report if these crash the server) ---

  t('broadcast emit_with_ack: every member on every shard answers', async () => {
    const room = unique('poll');
    const [a, b, c] = await connectPeers('a', 'b', 'c');
    a.answers.set('poll', q => [`a:${q}`]);
    b.answers.set('poll', q => [`b:${q}`]);
    await join(a, room);
    await join(b, room);
    const [r] = await c.call('startPoll', { room, question: 'q', timeoutMs: WAIT_MS - 1000 });
    assert.deepEqual(Object.keys(r).sort(), ['error', 'responses']);
    assert.equal(r.error, null);
    assert.deepEqual([...r.responses].sort(), ['a:q', 'b:q']);
    for (const p of [a, b]) assert.deepEqual(p.received('poll'), [['q']]);
    assert.equal(c.count('poll'), 0);
  });

  t('broadcast emit_with_ack: a member that does not answer -> timeout with the answers so far', async () => {
    const room = unique('poll');
    const [a, b, c] = await connectPeers('a', 'b', 'c');
    a.answers.set('poll', q => [`a:${q}`]);
    b.answers.set('poll', () => NO_ANSWER);
    await join(a, room);
    await join(b, room);
    // Long enough for a's answer to come back on a busy machine, well inside the call's wait.
    assert.deepEqual(await c.call('startPoll', { room, question: 'q', timeoutMs: Math.floor(WAIT_MS / 4) }),
      [{ responses: ['a:q'], error: 'operation has timed out' }]);
  });

  t('broadcast emit_with_ack to an empty room completes at once with no answers', async () => {
    const [c] = await connectPeers('c');
    assert.deepEqual(await c.call('startPoll', { room: unique('nobody'), question: 'q', timeoutMs: WAIT_MS * 2 }),
      [{ responses: [], error: null }]);
  });
});
