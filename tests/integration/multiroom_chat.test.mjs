// The multiroom_chat example's event contract, driven by socket.io-client.
//
//   ROOMCAST_SERVER=/path/to/multiroom_chat [ROOMCAST_THREADS=N] node --test tests/integration/multiroom_chat.test.mjs
//
// A negative ("X does not get Y") is proven by a marker: after the event that would have
// caused Y, something X does get is sent through the same path; once X has it, Y would
// have come before it.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { ServerProcess, Peer } from './harness.mjs';

const BINARY = process.env.ROOMCAST_SERVER;
const THREADS = process.env.ROOMCAST_THREADS || '1';
if (!BINARY) throw new Error('Set ROOMCAST_SERVER to the multiroom_chat binary');

describe(`multiroom_chat (${THREADS} thread(s))`, () => {
  let server;
  let peers = [];
  let n = 0;
  const connect = async (nsp = '/chat') => {
    const p = new Peer(server, `${nsp}#${++n}`, { nsp });
    peers.push(p);
    return p.connect();
  };
  const note = (p, text) => p.next('notification', t => t === text);
  const closeAll = async () => {
    for (const p of peers) p.close();
    peers = [];
    // Wait until the server has seen them go: the stats show no user left.
    const probe = new Peer(server, 'probe', { nsp: '/admin' });
    await probe.connect();
    for (let i = 0; i < 100; ++i) {
      const [s] = await probe.call('getStats');
      if (s.chatUsers === 0 && s.adminUsers === 1) break;
      await new Promise(r => setTimeout(r, 20));
    }
    probe.close();
  };
  const stats = async () => {
    const admin = await connect('/admin');
    admin.emit('getStats');
    const [s] = await admin.next('stats');
    admin.close();
    return s;
  };

  before(async () => { server = await ServerProcess.start(BINARY, ['--threads', THREADS]); });
  afterEach(closeAll);
  after(async () => { await server?.stop(); });

  it('a newcomer joins general, and general (newcomer included) is told', async () => {
    const a = await connect();
    assert.deepEqual(await note(a, 'New user joined general'), ['New user joined general']);
    const b = await connect();
    await note(a, 'New user joined general');
    await note(b, 'New user joined general');
    const [users] = await a.call('listUsers');
    assert.deepEqual([...users].sort(), [a.id, b.id].sort());
  });

  it('switchRoom leaves the old room (told without the switcher) and joins the new one', async () => {
    const a = await connect();
    const b = await connect();
    await note(a, 'New user joined general');
    await note(a, 'New user joined general');
    await note(b, 'New user joined general');
    a.emit('switchRoom', 'tech');
    assert.deepEqual(await a.next('notification', t => t.startsWith('User joined')), ['User joined tech']);
    assert.deepEqual(await a.next('roomChanged'), ['tech']);
    assert.deepEqual(await b.next('notification', t => t.startsWith('User left')), ['User left general']);
    // The switcher is no longer in general: it did not hear of its own leaving, and general's
    // messages do not reach it.
    b.emit('message', 'marker');
    await b.next('message', m => m.message === 'marker');
    assert.equal(a.received('notification').filter(([t]) => t === 'User left general').length, 0);
    assert.equal(a.received('message').length, 0);
    assert.deepEqual((await a.call('listUsers'))[0], [a.id]);
    // Switching on: tech is left, random joined.
    const c = await connect();
    c.emit('switchRoom', 'tech');
    await note(a, 'User joined tech');
    await note(c, 'User joined tech');
    a.emit('switchRoom', 'random');
    await note(c, 'User left tech');
    await note(a, 'User joined random');
    assert.deepEqual(await a.next('roomChanged'), ['random']);
  });

  it('an unknown room is an error, and nothing changes', async () => {
    const a = await connect();
    for (const bad of ['lobby', 'General', 42, { room: 'tech' }]) {
      a.emit('switchRoom', bad);
      assert.deepEqual(await a.next('error'), [{ message: 'Unknown room' }], `switchRoom ${JSON.stringify(bad)}`);
    }
    assert.equal(a.received('roomChanged').length, 0);
    const [users] = await a.call('listUsers');
    assert.ok(users.includes(a.id));
  });

  it('message reaches every member of the sender\'s room, and only them', async () => {
    const a = await connect();
    const b = await connect();
    const c = await connect();
    for (const p of [a, c]) {
      p.emit('switchRoom', 'tech');
      await p.next('roomChanged');
    }
    a.emit('message', 'hello tech');
    const expected = [{ room: 'tech', sender: a.id, message: 'hello tech' }];
    assert.deepEqual(await a.next('message'), expected);
    assert.deepEqual(await c.next('message'), expected);
    b.emit('message', 'hello general');
    assert.deepEqual(await b.next('message'), [{ room: 'general', sender: b.id, message: 'hello general' }]);
    c.emit('message', 'marker');
    await a.next('message', m => m.message === 'marker');
    assert.deepEqual(a.received('message').map(([m]) => m.message), ['hello tech', 'marker']);
    assert.equal(b.received('message').length, 1);
  });

  it('listUsers answers the socket ids of the caller\'s room', async () => {
    const peersIn = { general: [], random: [] };
    for (let i = 0; i < 5; ++i) {
      const p = await connect();
      const room = i % 2 ? 'random' : 'general';
      if (room === 'random') {
        p.emit('switchRoom', 'random');
        await p.next('roomChanged');
      }
      peersIn[room].push(p.id);
    }
    const asker = peers[0];
    assert.deepEqual([...(await asker.call('listUsers'))[0]].sort(), peersIn.general.sort());
    assert.deepEqual([...(await peers[1].call('listUsers'))[0]].sort(), peersIn.random.sort());
  });

  it('a disconnecting user is announced in its room and leaves no trace', async () => {
    const a = await connect();
    const b = await connect();
    for (const p of [a, b]) {
      p.emit('switchRoom', 'tech');
      await p.next('roomChanged');
    }
    a.close();
    await note(b, 'User left tech');
    assert.deepEqual((await b.call('listUsers'))[0], [b.id]);
    const s = await stats();
    assert.equal(s.chatUsers, 1);
    assert.deepEqual(s.rooms, { general: 0, tech: 1, random: 0 });
  });

  it('getStats counts /chat users, /admin users and the chat rooms', async () => {
    const chatters = [];
    for (let i = 0; i < 4; ++i) chatters.push(await connect());
    chatters[0].emit('switchRoom', 'tech');
    await chatters[0].next('roomChanged');
    chatters[1].emit('switchRoom', 'random');
    await chatters[1].next('roomChanged');
    const watcher = await connect('/admin');
    watcher.emit('getStats');
    const [s] = await watcher.next('stats');
    assert.deepEqual(s, { chatUsers: 4, adminUsers: 1, rooms: { general: 2, tech: 1, random: 1 } });
    assert.deepEqual(Object.keys(s), ['chatUsers', 'adminUsers', 'rooms']);
    assert.deepEqual(Object.keys(s.rooms).sort(), ['general', 'random', 'tech']);
  });

  it('/admin and /chat rooms are independent', async () => {
    const watcher = await connect('/admin');
    const a = await connect();
    await note(a, 'New user joined general');
    a.emit('message', 'to general');
    await a.next('message');
    watcher.emit('getStats');
    await watcher.next('stats');
    assert.equal(watcher.received('notification').length, 0);
    assert.equal(watcher.received('message').length, 0);
    // /admin has no switchRoom: its sockets cannot reach /chat's rooms.
    watcher.emit('switchRoom', 'general');
    watcher.emit('getStats');
    const [s] = await watcher.next('stats');
    assert.equal(s.rooms.general, 1);
  });
});
