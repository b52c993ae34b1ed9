// Real-client integration tests of the roomcast "quickstart" example server.
//
// Runs with Node's built-in test runner and the real `socket.io-client` package:
//
//   # against the C++ quickstart binary (N = 1 or 2 I/O threads, default 1)
//   ROOMCAST_SERVER=/path/to/quickstart [ROOMCAST_THREADS=N] node --test tests/integration/quickstart.test.mjs
//   # against the JavaScript reference on the real `socket.io` package
//   ROOMCAST_REFERENCE=1 node --test tests/integration/quickstart.test.mjs
//
// Optional: ROOMCAST_WAIT_MS (bound of every single wait, default 4000),
//           ROOMCAST_STARTUP_MS (bound of server start-up, default 10000),
//           ROOMCAST_VERBOSE=1 (echo the server's output).
//
// Conventions used throughout:
//  * every client records every event it receives (onAny) from before it connects,
//    so no event can be missed between an emit and the attachment of a listener;
//  * every wait is bounded and also fails at once if the server process exits;
//  * a negative ("X does not receive Y") is proven by a marker: the same socket that
//    would have caused Y afterwards sends a message that X does receive; the server
//    processes one socket's packets in order and delivers to one client in order,
//    so once the marker is in, Y would have been in as well.

import { describe, it, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as harness from './harness.mjs';
import { ServerProcess, WAIT_MS, STARTUP_MS, STOP_MS, TEST_TIMEOUT_MS, unique } from './harness.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REFERENCE_SCRIPT = path.join(HERE, 'reference', 'quickstart.js');

const USE_REFERENCE = process.env.ROOMCAST_REFERENCE === '1';
const SERVER_BINARY = process.env.ROOMCAST_SERVER || '';
const THREADS = process.env.ROOMCAST_THREADS || '1';

if (!USE_REFERENCE && !SERVER_BINARY) {
  throw new Error(
    'Set ROOMCAST_SERVER=<path of the C++ quickstart binary> (optionally ROOMCAST_THREADS=1|2), ' +
    'or ROOMCAST_REFERENCE=1 to run against the JavaScript reference.');
}
if (!/^[12]$/.test(THREADS)) throw new Error(`ROOMCAST_THREADS must be 1 or 2, got ${THREADS}`);

// ---------------------------------------------------------------------------
// Server process (tests/integration/harness.mjs)
// ---------------------------------------------------------------------------

function describeServer() {
  return USE_REFERENCE
    ? `JS reference (node ${REFERENCE_SCRIPT})`
    : `${SERVER_BINARY} --threads ${THREADS}`;
}

let server = null;

async function startServer() {
  server = await ServerProcess.start(USE_REFERENCE
    ? port => [process.execPath, REFERENCE_SCRIPT, '--port', String(port)]
    : port => [SERVER_BINARY, '--port', String(port), '--threads', THREADS]);
}

// ---------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------

const clients = new Set();

/// The harness's Peer, for this protocol where every event carries exactly one argument:
/// `next` and `received` give that argument (the payload), predicates get it too.
class Peer extends harness.Peer {
  constructor(name) { super(server, name); }

  // All payloads received so far for `event` that satisfy `pred`.
  received(event, pred) { return super.received(event, pred).map(args => args[0]); }

  // Waits for the first not-yet-consumed `event` whose payload satisfies `pred`;
  // consumes it and returns its payload.
  async next(event, pred, what) {
    const { args, ack } = await this.nextEntry(event, pred, what);
    assert.equal(args.length, 1,
      `${this.name}: '${event}' must carry exactly one argument, got ${JSON.stringify(args)}`);
    assert.equal(ack, null, `${this.name}: '${event}' must not ask for an acknowledgement`);
    return args[0];
  }

  // Abrupt: closes the WebSocket without a Socket.IO DISCONNECT packet.
  closeTransport() { this.socket.io.engine.close(); }

  // Most abrupt: destroys the TCP socket (no WebSocket close frame).
  destroyTcp() {
    const tcp = this.socket.io.engine.transport?.ws?._socket;
    assert.ok(tcp && typeof tcp.destroy === 'function',
      'cannot reach the TCP socket of the websocket transport (engine.io-client internals changed?)');
    tcp.destroy();
  }
}

async function connectPeer(name) {
  const peer = new Peer(name);
  clients.add(peer);
  await peer.connect();
  return peer;
}

const connectPeers = (...names) => Promise.all(names.map(connectPeer));

// Valid join; waits for the joiner's own roomJoined.
async function join(peer, roomName, userName = peer.name) {
  peer.emit('joinRoom', { roomName, userName });
  const ack = await peer.next('roomJoined', p => p?.roomName === roomName, `join of ${roomName}`);
  assert.deepEqual(ack, { roomName });
}

// `sender` sends a unique marker message to `roomName`; waits until every one of
// `receivers` has it. Returns the marker text.
async function marker(sender, roomName, receivers) {
  const text = unique('marker');
  sender.emit('message', { roomName, text });
  await Promise.all(receivers.map(r => r.next('message', p => p?.text === text, `marker ${text} in ${roomName}`)));
  return text;
}

// After every test, a fresh client must still get through a join round trip. Once
// that fails, the server is declared unresponsive and every later test fails at
// once instead of running into its own timeouts (keeps a hung server's run short).
let unresponsive = null;

async function probeServer() {
  const peer = new Peer('probe');
  try {
    await peer.connect();
    const roomName = unique('probe');
    peer.emit('joinRoom', { roomName, userName: 'probe' });
    await peer.next('roomJoined', p => p?.roomName === roomName, 'liveness probe');
  } catch (err) {
    unresponsive = err.message;
    throw new Error(`server no longer serves a fresh client: ${err.message}`);
  } finally {
    peer.dispose();
  }
}

function disconnectAll() {
  for (const c of clients) c.dispose();
  clients.clear();
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

describe(`roomcast quickstart over socket.io-client (${describeServer()})`, () => {
  before(startServer, { timeout: STARTUP_MS + 5000 });

  after(async () => {
    disconnectAll();
    server?.checkAlive(); // a death no test saw
    await server?.stop();
  }, { timeout: STOP_MS * 2 + 2000 });

  beforeEach(() => {
    server.checkAlive();
    if (unresponsive) throw new Error(`not run: the server stopped responding in an earlier test (${unresponsive})`);
  });

  afterEach(async () => {
    disconnectAll();
    server.checkAlive();
    if (!unresponsive) await probeServer();
  }, { timeout: WAIT_MS * 3 });

  const t = (name, fn, opts = {}) => it(name, { timeout: TEST_TIMEOUT_MS, ...opts }, fn);

  // --- join -----------------------------------------------------------------

  t('join: joiner gets userJoined (own id) then roomJoined; existing member gets userJoined of newcomer', async () => {
    const room = unique('join');
    const [alice, bob] = await connectPeers('alice', 'bob');

    alice.emit('joinRoom', { roomName: room, userName: 'alice' });
    const aliceSelf = await alice.next('userJoined');
    assert.deepEqual(aliceSelf, { userName: 'alice', id: alice.id });
    assert.equal(JSON.stringify(aliceSelf), JSON.stringify({ userName: 'alice', id: alice.id }),
      'key order of userJoined must be userName, id');
    const aliceAck = await alice.next('roomJoined');
    assert.deepEqual(aliceAck, { roomName: room });
    assert.equal(JSON.stringify(aliceAck), JSON.stringify({ roomName: room }));
    // Same socket, emitted in this order by the reference: room broadcast first, then the ack.
    assert.deepEqual(alice.log.map(e => e.event), ['userJoined', 'roomJoined'],
      'joiner must receive userJoined before roomJoined');

    bob.emit('joinRoom', { roomName: room, userName: 'bob' });
    const bobSelf = await bob.next('userJoined');
    assert.deepEqual(bobSelf, { userName: 'bob', id: bob.id });
    assert.deepEqual(await bob.next('roomJoined'), { roomName: room });
    assert.deepEqual(bob.log.map(e => e.event), ['userJoined', 'roomJoined']);

    const aliceSeesBob = await alice.next('userJoined');
    assert.deepEqual(aliceSeesBob, { userName: 'bob', id: bob.id });
    assert.notEqual(alice.id, bob.id);

    // Close the window: nothing else (no duplicate userJoined, no roomJoined for alice).
    await marker(bob, room, [alice, bob]);
    assert.deepEqual(alice.log.map(e => e.event), ['userJoined', 'roomJoined', 'userJoined', 'message']);
    assert.deepEqual(bob.log.map(e => e.event), ['userJoined', 'roomJoined', 'message']);
  });

  t('join: joining the same room twice does not duplicate membership', async () => {
    const room = unique('twice');
    const [a, b] = await connectPeers('a', 'b');
    await join(a, room);
    await join(a, room); // the reference re-broadcasts userJoined and re-acks
    await join(b, room);
    assert.equal(a.count('userJoined', p => p.id === a.id), 2, 'each join broadcasts userJoined');
    assert.equal(a.count('roomJoined'), 2, 'each join is acknowledged');
    const text = await marker(b, room, [a, b]);
    const second = await marker(b, room, [a, b]);
    assert.equal(a.count('message', p => p.text === text), 1, 'a member joined twice gets a message once');
    assert.ok(second);
  });

  t('missing userName: userJoined has no userName key', async () => {
    const room = unique('anon');
    const [member, anon] = await connectPeers('member', 'anon');
    await join(member, room);
    anon.emit('joinRoom', { roomName: room });
    const self = await anon.next('userJoined');
    assert.deepEqual(self, { id: anon.id });
    assert.ok(!Object.hasOwn(self, 'userName'), 'userName key must be omitted, not null');
    assert.equal(JSON.stringify(self), JSON.stringify({ id: anon.id }));
    assert.deepEqual(await anon.next('roomJoined'), { roomName: room });
    const seen = await member.next('userJoined', p => p.id === anon.id);
    assert.deepEqual(seen, { id: anon.id });

    // leaveRoom without userName: userLeft has no userName key either.
    anon.emit('leaveRoom', { roomName: room });
    assert.deepEqual(await anon.next('roomLeft'), { roomName: room });
    const left = await member.next('userLeft');
    assert.deepEqual(left, { id: anon.id });
    assert.equal(JSON.stringify(left), JSON.stringify({ id: anon.id }));
  });

  // --- broadcast ------------------------------------------------------------

  t('message: every member gets {text, sender} exactly once, sender included', async () => {
    const room = unique('chat');
    const other = unique('other');
    const [a, b, c, outsider] = await connectPeers('a', 'b', 'c', 'outsider');
    for (const p of [a, b, c]) await join(p, room);
    await join(outsider, other);

    a.emit('message', { roomName: room, text: 'hello room' });
    for (const p of [a, b, c]) {
      const msg = await p.next('message', m => m.text === 'hello room');
      assert.deepEqual(msg, { text: 'hello room', sender: a.id });
      assert.equal(JSON.stringify(msg), JSON.stringify({ text: 'hello room', sender: a.id }),
        'key order of message must be text, sender');
    }
    // Window closed by a second message from the same sender to both rooms.
    await marker(a, room, [a, b, c]);
    await marker(a, other, [outsider]);
    for (const p of [a, b, c]) {
      assert.equal(p.count('message', m => m.text === 'hello room'), 1, `${p.name} got the message once`);
    }
    assert.equal(outsider.count('message', m => m.text === 'hello room'), 0, 'a non-member got a room message');
  });

  t('message: a publisher that is not a member can send to a room (and does not receive it)', async () => {
    const room = unique('pub');
    const own = unique('pub-own');
    const [m1, m2, pub] = await connectPeers('m1', 'm2', 'publisher');
    await join(m1, room);
    await join(m2, room);
    await join(pub, own);

    pub.emit('message', { roomName: room, text: 'from outside' });
    for (const p of [m1, m2]) {
      assert.deepEqual(await p.next('message', m => m.text === 'from outside'), { text: 'from outside', sender: pub.id });
    }
    await marker(pub, own, [pub]);
    assert.equal(pub.count('message', m => m.text === 'from outside'), 0, 'non-member publisher got its own message');
    // Publishing did not make it a member: room members' userJoined never mentioned it.
    assert.equal(m1.count('userJoined', p => p.id === pub.id), 0);
  });

  t('message to a room nobody is in is silently dropped', async () => {
    const [a] = await connectPeers('a');
    const own = unique('own');
    await join(a, own);
    a.emit('message', { roomName: unique('empty'), text: 'into the void' });
    await marker(a, own, [a]);
    assert.equal(a.count('message', m => m.text === 'into the void'), 0);
    assert.equal(a.count('error'), 0);
  });

  // --- isolation ------------------------------------------------------------

  t('room isolation: clients in room B get nothing from room A', async () => {
    const roomA = unique('A');
    const roomB = unique('B');
    const [a1, a2, b1, b2] = await connectPeers('a1', 'a2', 'b1', 'b2');
    await join(b1, roomB);
    await join(b2, roomB);
    await join(a1, roomA);
    await join(a2, roomA); // userJoined of a2 goes to room A only

    a1.emit('message', { roomName: roomA, text: 'secret of A' });
    for (const p of [a1, a2]) await p.next('message', m => m.text === 'secret of A');
    a2.emit('leaveRoom', { roomName: roomA, userName: 'a2' }); // userLeft to room A only
    await a2.next('roomLeft');
    await a1.next('userLeft');
    // a1 then a2 mark room B: their earlier room-A traffic would be in before the markers.
    await marker(a1, roomB, [b1, b2]);
    await marker(a2, roomB, [b1, b2]);
    for (const p of [b1, b2]) {
      assert.equal(p.count('message', m => m.text === 'secret of A'), 0, `${p.name} got a room-A message`);
      assert.equal(p.count('userJoined', m => m.id === a1.id || m.id === a2.id), 0, `${p.name} got a room-A userJoined`);
      assert.equal(p.count('userLeft'), 0, `${p.name} got a room-A userLeft`);
    }
    assert.equal(b1.count('userJoined'), 2, 'b1 saw its own join and b2\'s');
    assert.equal(b2.count('userJoined'), 1, 'b2 saw only its own join');
  });

  // --- leave ----------------------------------------------------------------

  t('leave: userLeft to remaining members (not the leaver), roomLeft to the leaver, then no more messages', async () => {
    const room = unique('leave');
    const keep = unique('keep');
    const [a, b, c] = await connectPeers('a', 'b', 'carol');
    await join(a, room);
    await join(b, room);
    await join(c, room);
    await join(c, keep); // c stays in this room: used to prove negatives for c

    c.emit('leaveRoom', { roomName: room, userName: 'carol' });
    const ack = await c.next('roomLeft');
    assert.deepEqual(ack, { roomName: room });
    for (const p of [a, b]) {
      const left = await p.next('userLeft');
      assert.deepEqual(left, { userName: 'carol', id: c.id });
      assert.equal(JSON.stringify(left), JSON.stringify({ userName: 'carol', id: c.id }),
        'key order of userLeft must be userName, id');
    }

    a.emit('message', { roomName: room, text: 'after carol left' });
    for (const p of [a, b]) await p.next('message', m => m.text === 'after carol left');
    await marker(a, keep, [c]); // c is still in its other room
    assert.equal(c.count('userLeft'), 0, 'the leaver must not get its own userLeft');
    assert.equal(c.count('message', m => m.text === 'after carol left'), 0, 'the leaver still gets room messages');
    assert.equal(c.count('roomLeft'), 1);
    await marker(a, room, [a, b]);
    for (const p of [a, b]) assert.equal(p.count('userLeft'), 1, `${p.name} got userLeft once`);
  });

  t('leave: leaving a room one is not in still broadcasts userLeft and acknowledges', async () => {
    // Faithful to the reference: socket.leave() of a non-member is a no-op, the
    // handler goes on with the broadcast and the ack.
    const room = unique('notin');
    const [member, stranger] = await connectPeers('member', 'stranger');
    await join(member, room);
    stranger.emit('leaveRoom', { roomName: room, userName: 'stranger' });
    assert.deepEqual(await stranger.next('roomLeft'), { roomName: room });
    assert.deepEqual(await member.next('userLeft'), { userName: 'stranger', id: stranger.id });
  });

  // --- disconnect cleanup ---------------------------------------------------

  const disconnectModes = [
    ['graceful socket.disconnect()', p => p.close()],
    ['websocket closed without Socket.IO DISCONNECT', p => p.closeTransport()],
    ['TCP connection destroyed', p => p.destroyTcp()],
  ];
  for (const [mode, doDisconnect] of disconnectModes) {
    t(`disconnect cleanup (${mode}): userLeft {id} once per room to remaining members`, async () => {
      const r1 = unique('r1');
      const r2 = unique('r2');
      const [x, m1, m2, m12] = await connectPeers('x', 'm1', 'm2', 'm12');
      await join(m1, r1);
      await join(m12, r1);
      await join(m2, r2);
      await join(m12, r2);
      await join(x, r1);
      await join(x, r2);
      const xid = x.id;

      doDisconnect(x);
      const l1 = await m1.next('userLeft');
      assert.deepEqual(l1, { id: xid });
      assert.equal(JSON.stringify(l1), JSON.stringify({ id: xid }));
      assert.deepEqual(await m2.next('userLeft'), { id: xid });
      assert.deepEqual(await m12.next('userLeft'), { id: xid });
      assert.deepEqual(await m12.next('userLeft'), { id: xid }, 'member of both rooms gets one userLeft per room');

      // Close the count window with markers in both rooms, then count.
      await marker(m1, r1, [m1, m12]);
      await marker(m2, r2, [m2, m12]);
      assert.equal(m1.count('userLeft'), 1, 'm1: userLeft exactly once');
      assert.equal(m2.count('userLeft'), 1, 'm2: userLeft exactly once');
      assert.equal(m12.count('userLeft'), 2, 'm12: userLeft exactly once per room');

      // The departed socket is no longer a member; the server keeps working.
      m1.emit('message', { roomName: r1, text: 'after x left' });
      for (const p of [m1, m12]) {
        assert.deepEqual(await p.next('message', m => m.text === 'after x left'), { text: 'after x left', sender: m1.id });
      }
      assert.equal(x.count('message', m => m.text === 'after x left'), 0);
      const [late] = await connectPeers('late');
      late.emit('joinRoom', { roomName: r1, userName: 'late' });
      await late.next('roomJoined');
      assert.deepEqual(await m1.next('userJoined', p => p.id === late.id), { userName: 'late', id: late.id });
      await marker(late, r1, [m1, m12, late]);
    });
  }

  // --- load -----------------------------------------------------------------

  t('50 clients in one room: one message is received exactly once by each', async () => {
    const room = unique('crowd');
    const names = Array.from({ length: 50 }, (_, i) => `c${i}`);
    const peers = await connectPeers(...names);
    await Promise.all(peers.map(p => join(p, room)));
    const ids = new Set(peers.map(p => p.id));
    assert.equal(ids.size, 50, 'socket ids must be unique');

    const sender = peers[17];
    sender.emit('message', { roomName: room, text: 'to the crowd' });
    await Promise.all(peers.map(p => p.next('message', m => m.text === 'to the crowd')));
    await marker(sender, room, peers); // closes the counting window
    for (const p of peers) {
      assert.deepEqual(p.received('message', m => m.text === 'to the crowd'), [{ text: 'to the crowd', sender: sender.id }],
        `${p.name} must get the message exactly once`);
      assert.equal(p.count('roomJoined'), 1);
    }
    // Every join was broadcast to the room: 50 joins, each seen by its joiner and all
    // earlier members; in total between 50 and 50*50, and each peer saw its own once.
    for (const p of peers) assert.equal(p.count('userJoined', m => m.id === p.id), 1, `${p.name} saw its own join once`);
  });

  // --- bad payloads (C++ server only: the JS reference crashes on these) ------

  // Each entry: event, label, room => argument list. Wherever a room name fits, the
  // test's room is used, so a bad packet that is wrongly acted upon shows up at m1/m2.
  const badPayloads = [
    ['joinRoom', 'no payload', () => []],
    ['joinRoom', 'a string', room => [room]],
    ['joinRoom', 'null', () => [null]],
    ['joinRoom', 'a number as roomName', () => [{ roomName: 5, userName: 'x' }]],
    ['joinRoom', 'a number as userName', room => [{ roomName: room, userName: 5 }]],
    ['joinRoom', 'an array', room => [[room, 'x']]],
    ['leaveRoom', 'no payload', () => []],
    ['leaveRoom', 'a string', room => [room]],
    ['leaveRoom', 'a number as roomName', () => [{ roomName: 5, userName: 'x' }]],
    ['leaveRoom', 'a number as userName', room => [{ roomName: room, userName: 5 }]],
    ['leaveRoom', 'an array', room => [[room, 'x']]],
    ['message', 'no payload', () => []],
    ['message', 'a string', room => [room]],
    ['message', 'a number as text', room => [{ roomName: room, text: 5 }]],
    ['message', 'a number as roomName', () => [{ roomName: 5, text: 'hi' }]],
    ['message', 'an array', room => [[room, 'hi']]],
  ];
  const skipBad = USE_REFERENCE ? 'the JS reference crashes on malformed payloads' : false;

  for (const [event, label, makeArgs] of badPayloads) {
    t(`bad payload: ${event} with ${label} -> error event, still connected, server still serves`, async () => {
      const room = unique('bad');
      const [bad, m1, m2] = await connectPeers('bad', 'm1', 'm2');
      await join(m1, room);
      await join(m2, room);

      bad.emit(event, ...makeArgs(room));
      const err = await bad.next('error', () => true, `error answer to ${event} with ${label}`);
      assert.ok(err && typeof err === 'object' && !Array.isArray(err), `error argument must be an object, got ${JSON.stringify(err)}`);
      assert.equal(typeof err.message, 'string', `error must have a string message, got ${JSON.stringify(err)}`);
      assert.ok(err.message.includes(event), `error message must name the event '${event}': ${JSON.stringify(err.message)}`);
      assert.ok(bad.connected, `the offending socket was disconnected (${bad.disconnectReason})`);

      // The others are unaffected: no error, and the room still works.
      const before = await marker(m1, room, [m1, m2]);
      // Still connected and usable: a valid join afterwards works.
      await join(bad, room);
      assert.deepEqual(await m1.next('userJoined', p => p.id === bad.id), { userName: 'bad', id: bad.id });
      await marker(bad, room, [bad, m1, m2]);
      assert.ok(bad.connected);
      assert.equal(bad.count('error'), 1, 'exactly one error for one bad packet');
      assert.equal(bad.count('roomJoined'), 1, 'the bad packet must not be acknowledged');
      assert.equal(bad.count('roomLeft'), 0);
      // Delivered to the room before bad's valid join: bad must not have been in the room.
      assert.equal(bad.count('message', m => m.text === before), 0, 'the bad packet must not make the socket join');
      for (const p of [m1, m2]) {
        assert.equal(p.count('error'), 0, `${p.name} got an error meant for another socket`);
        assert.equal(p.count('userJoined', m => m.id === bad.id), 1, `${p.name}: only the valid join is broadcast`);
        assert.equal(p.count('userLeft'), 0, `${p.name}: the bad packet must not broadcast userLeft`);
        assert.equal(p.count('message', m => m.sender === bad.id), 1, `${p.name}: the bad packet must not broadcast a message`);
      }
    }, { skip: skipBad });
  }
});
