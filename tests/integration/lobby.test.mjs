// The lobby example's event contract, driven by socket.io-client.
//
//   ROOMCAST_SERVER=/path/to/lobby [ROOMCAST_THREADS=N] node --test tests/integration/lobby.test.mjs
//
// The server runs with --max-players 3 --max-rooms 3. A negative ("X does not get Y") is
// proven by a marker: after the event that would have caused Y, something X does get is sent
// through the same path; once X has it, Y would have come before it.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { ServerProcess, Peer, WAIT_MS, unique } from './harness.mjs';

const BINARY = process.env.ROOMCAST_SERVER;
const THREADS = process.env.ROOMCAST_THREADS || '1';
if (!BINARY) throw new Error('Set ROOMCAST_SERVER to the lobby binary');
const MAX_PLAYERS = 3;
const MAX_ROOMS = 3;

describe(`lobby (${THREADS} thread(s))`, () => {
  let server;
  let peers = [];
  let n = 0;
  const connect = async () => {
    const p = new Peer(server, `player#${++n}`);
    peers.push(p);
    return p.connect();
  };
  const games = async p => (await p.call('listGames'))[0];
  const gameOf = async (p, id) => (await games(p)).find(g => g.gameId === id);
  // Waits, within WAIT_MS, until `p` no longer sees game `id` listed.
  const gone = async (p, id) => {
    for (const end = Date.now() + WAIT_MS; Date.now() < end && await gameOf(p, id);)
      await new Promise(r => setTimeout(r, 10));
  };
  const error = async p => (await p.next('error'))[0].message;
  // A game created by `host` and joined by `others`, each join seen by the host.
  const gameWith = async (host, ...others) => {
    const id = unique('g');
    host.emit('createGame', { gameId: id });
    assert.deepEqual(await host.next('gameCreated'), [{ gameId: id }]);
    for (const p of others) {
      p.emit('joinGame', { gameId: id });
      await host.next('playerJoined', e => e.playerId === p.id);
    }
    return id;
  };

  before(async () => {
    server = await ServerProcess.start(BINARY, ['--threads', THREADS,
      '--max-players', String(MAX_PLAYERS), '--max-rooms', String(MAX_ROOMS)]);
  });
  afterEach(async () => {
    for (const p of peers) p.dispose();
    peers = [];
    // Wait until the server has seen them go: no game is left.
    const probe = new Peer(server, 'probe');
    await probe.connect();
    let left = [];
    for (let i = 0; i < 200; ++i) {
      left = await games(probe);
      if (left.length === 0) break;
      await new Promise(r => setTimeout(r, 20));
    }
    probe.dispose();
    assert.deepEqual(left, [], 'every game is deleted once its players are gone');
  });
  after(async () => { await server?.stop(); });

  it('createGame makes the creator host and only player; listGames shows it', async () => {
    const a = await connect();
    const id = await gameWith(a);
    assert.deepEqual(await gameOf(a, id), { gameId: id, players: 1, status: 'waiting', maxPlayers: MAX_PLAYERS });
    a.emit('createGame', { gameId: id });
    assert.equal(await error(a), 'Room exists');
    const b = await connect();
    b.emit('createGame', { gameId: id });
    assert.equal(await error(b), 'Room exists');
    assert.equal((await games(b)).length, 1);
  });

  it('joinGame adds the player and tells the whole room, the joiner included', async () => {
    const [a, b, c] = [await connect(), await connect(), await connect()];
    const id = await gameWith(a);
    b.emit('joinGame', { gameId: id });
    const joinedB = [{ playerId: b.id, totalPlayers: 2 }];
    assert.deepEqual(await a.next('playerJoined'), joinedB);
    assert.deepEqual(await b.next('playerJoined'), joinedB);
    c.emit('joinGame', { gameId: id });
    const joinedC = [{ playerId: c.id, totalPlayers: 3 }];
    for (const p of [a, b, c]) assert.deepEqual(await p.next('playerJoined'), joinedC);
    assert.equal((await gameOf(a, id)).players, 3);
    b.emit('joinGame', { gameId: id });
    assert.equal(await error(b), 'Already in game');
  });

  it('joinGame refuses an unknown game, a full game and a started game', async () => {
    const [a, b, c, d] = [await connect(), await connect(), await connect(), await connect()];
    d.emit('joinGame', { gameId: unique('nowhere') });
    assert.equal(await error(d), 'No such game');
    const full = await gameWith(a, b, c); // MAX_PLAYERS = 3
    d.emit('joinGame', { gameId: full });
    assert.equal(await error(d), 'Game full');
    assert.equal((await gameOf(d, full)).players, MAX_PLAYERS);

    const e = await connect();
    const started = await gameWith(d);
    d.emit('startGame', { gameId: started });
    await d.next('gameStarted');
    e.emit('joinGame', { gameId: started });
    assert.equal(await error(e), 'Game already started');
    assert.equal((await gameOf(e, started)).players, 1);
    // Refused players joined no room: the full game's news does not reach d.
    a.emit('startGame', { gameId: full });
    await c.next('gameStarted');
    d.emit('startGame', { gameId: started });
    assert.equal(await error(d), 'Game already started');
    assert.equal(d.count('gameStarted'), 1);
  });

  it('startGame is for the host only and tells the room', async () => {
    const [a, b] = [await connect(), await connect()];
    const id = await gameWith(a, b);
    b.emit('startGame', { gameId: id });
    assert.equal(await error(b), 'Only the host can start');
    assert.equal((await gameOf(a, id)).status, 'waiting');
    const before = Date.now();
    a.emit('startGame', { gameId: id });
    const [{ timestamp }] = await a.next('gameStarted');
    assert.deepEqual(await b.next('gameStarted'), [{ timestamp }]);
    assert.ok(Number.isInteger(timestamp) && timestamp >= before - 1000 && timestamp <= Date.now() + 1000,
      `timestamp ${timestamp} is milliseconds since the epoch`);
    assert.equal((await gameOf(a, id)).status, 'playing');
    b.emit('startGame', { gameId: unique('nowhere') });
    assert.equal(await error(b), 'No such game');
  });

  it('leaveGame tells the rest of the room, hands the host on and deletes an empty game', async () => {
    const [a, b, c] = [await connect(), await connect(), await connect()];
    const id = await gameWith(a, b, c);
    a.emit('leaveGame', { gameId: id }); // the host leaves: b is next
    const left = [{ playerId: a.id, totalPlayers: 2 }];
    for (const p of [b, c]) {
      assert.deepEqual(await p.next('playerLeft'), left);
      assert.deepEqual(await p.next('hostChanged'), [{ host: b.id }]);
    }
    // The new host can start, the old one cannot, and a (out of the room) hears nothing.
    a.emit('startGame', { gameId: id });
    assert.equal(await error(a), 'Only the host can start');
    c.emit('leaveGame', { gameId: id }); // not the host: no hostChanged
    assert.deepEqual(await b.next('playerLeft'), [{ playerId: c.id, totalPlayers: 1 }]);
    b.emit('startGame', { gameId: id });
    await b.next('gameStarted');
    assert.equal(a.count('playerLeft') + a.count('hostChanged') + a.count('gameStarted'), 0);
    assert.equal(b.count('hostChanged'), 1);
    c.emit('leaveGame', { gameId: id });
    assert.equal(await error(c), 'Not in game');
    b.emit('leaveGame', { gameId: id });
    await gone(a, id); // b's leave and a's question reach the server on different connections
    assert.equal(await gameOf(a, id), undefined, 'the empty game is deleted');
    a.emit('leaveGame', { gameId: id });
    assert.equal(await error(a), 'No such game');
    // Its id is free again.
    a.emit('createGame', { gameId: id });
    assert.deepEqual(await a.next('gameCreated'), [{ gameId: id }]);
  });

  it('a disconnect leaves every game of the socket, as leaveGame', async () => {
    const [a, b, c] = [await connect(), await connect(), await connect()];
    const one = await gameWith(a, b);
    const two = await gameWith(c, a);
    const aid = a.id; // gone from the client once it disconnects
    a.close();
    assert.deepEqual(await b.next('playerLeft'), [{ playerId: aid, totalPlayers: 1 }]);
    assert.deepEqual(await b.next('hostChanged'), [{ host: b.id }]);
    assert.deepEqual(await c.next('playerLeft'), [{ playerId: aid, totalPlayers: 1 }]);
    assert.equal((await gameOf(b, one)).players, 1);
    assert.equal((await gameOf(b, two)).players, 1);
    c.close();
    await gone(b, two);
    assert.equal(await gameOf(b, two), undefined, 'the game of a host alone is deleted on disconnect');
    assert.equal(c.count('hostChanged'), 0);
  });

  it('listGames lists every game in creation order', async () => {
    const [a, b] = [await connect(), await connect()];
    const first = await gameWith(a, b);
    const second = await gameWith(b);
    b.emit('startGame', { gameId: second });
    await b.next('gameStarted');
    assert.deepEqual(await games(a), [
      { gameId: first, players: 2, status: 'waiting', maxPlayers: MAX_PLAYERS },
      { gameId: second, players: 1, status: 'playing', maxPlayers: MAX_PLAYERS },
    ]);
  });

  it('a socket in --max-rooms rooms can neither create nor join another', async () => {
    const [a, b] = [await connect(), await connect()];
    const other = await gameWith(b);
    for (let i = 0; i < MAX_ROOMS; ++i) await gameWith(a);
    for (const [event, payload] of [['createGame', { gameId: unique('more') }],
      ['joinGame', { gameId: other }], ['createPrivateRoom', { participants: [b.id] }]]) {
      a.emit(event, payload);
      assert.equal(await error(a), 'Maximum rooms reached', event);
    }
    assert.equal((await games(a)).length, MAX_ROOMS + 1);
    assert.equal((await gameOf(a, other)).players, 1);
    assert.equal(b.count('playerJoined') + b.count('invitation'), 0);
    // A private room's invitee at the limit cannot join either.
    const c = await connect();
    c.emit('createPrivateRoom', { participants: [a.id] });
    const [{ roomId }] = await c.next('privateRoomCreated');
    await a.next('invitation');
    a.emit('joinPrivateRoom', { roomId });
    assert.equal(await error(a), 'Maximum rooms reached');
  });

  it('createPrivateRoom invites the participants; only they may join', async () => {
    const [a, b, c, d] = [await connect(), await connect(), await connect(), await connect()];
    a.emit('createPrivateRoom', { participants: [b.id, c.id] });
    const [{ roomId }] = await a.next('privateRoomCreated');
    assert.match(roomId, /^private:\d{13,}:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    for (const p of [b, c]) assert.deepEqual(await p.next('invitation'), [{ roomId, from: a.id }]);
    b.emit('joinPrivateRoom', { roomId });
    assert.deepEqual(await b.next('privateRoomJoined'), [{ roomId }]);
    d.emit('joinPrivateRoom', { roomId });
    assert.equal(await error(d), 'Access denied');
    d.emit('joinPrivateRoom', { roomId: `${roomId}x` });
    assert.equal(await error(d), 'Access denied');
    assert.equal(d.count('invitation'), 0);
    // Each room id is new.
    a.emit('createPrivateRoom', { participants: [] });
    const [{ roomId: second }] = await a.next('privateRoomCreated');
    assert.notEqual(second, roomId);
  });

  it('malformed payloads get an error naming the field, and change nothing', async () => {
    const a = await connect();
    a.emit('createGame', { gameId: 7 });
    assert.match(await error(a), /createGame.*gameId.*expected string, got number/);
    a.emit('joinGame', 'lobby');
    assert.match(await error(a), /joinGame.*expected object, got string/);
    a.emit('createPrivateRoom', { participants: 'everyone' });
    assert.match(await error(a), /participants.*expected array/);
    a.emit('createGame', { gameId: '' });
    assert.match(await error(a), /gameId/);
    assert.deepEqual(await games(a), []);
    assert.equal(a.count('gameCreated') + a.count('privateRoomCreated'), 0);
  });
});
