// The collab example's event contract, driven by socket.io-client.
//
//   ROOMCAST_SERVER=/path/to/collab [ROOMCAST_THREADS=N] node --test tests/integration/collab.test.mjs
//
// A negative ("X does not get Y") is proven by a marker: after the event that would have
// caused Y, something X does get is sent through the same path; once X has it, Y would have
// come before it.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { ServerProcess, Peer, unique } from './harness.mjs';

const BINARY = process.env.ROOMCAST_SERVER;
const THREADS = process.env.ROOMCAST_THREADS || '1';
if (!BINARY) throw new Error('Set ROOMCAST_SERVER to the collab binary');

const isNow = (t, since) => Number.isInteger(t) && t >= since - 1000 && t <= Date.now() + 1000;

describe(`collab (${THREADS} thread(s))`, () => {
  let server;
  let peers = [];
  let n = 0;
  const connect = async () => {
    const p = new Peer(server, `editor#${++n}`);
    peers.push(p);
    return p.connect();
  };
  // Opens the document for `p`, and waits until every one of `seen` has heard of it.
  const open = async (p, docId, ...seen) => {
    p.emit('openDocument', { docId });
    for (const q of [p, ...seen]) await q.next('userJoined', e => e.userId === p.id);
  };

  before(async () => { server = await ServerProcess.start(BINARY, ['--threads', THREADS]); });
  afterEach(() => { for (const p of peers) p.dispose(); peers = []; });
  after(async () => { await server?.stop(); });

  it('openDocument tells the document\'s room, the opener included', async () => {
    const [a, b] = [await connect(), await connect()];
    const doc = unique('doc');
    const since = Date.now();
    a.emit('openDocument', { docId: doc });
    const [joined] = await a.next('userJoined');
    assert.deepEqual(Object.keys(joined).sort(), ['timestamp', 'userId']);
    assert.equal(joined.userId, a.id);
    assert.ok(isNow(joined.timestamp, since), `timestamp ${joined.timestamp} is ms since the epoch`);
    b.emit('openDocument', { docId: doc });
    for (const p of [a, b]) assert.equal((await p.next('userJoined'))[0].userId, b.id);
  });

  it('edit passes the changes through to the whole room', async () => {
    const [a, b, c] = [await connect(), await connect(), await connect()];
    const [doc, other] = [unique('doc'), unique('doc')];
    await open(a, doc);
    await open(b, doc, a);
    await open(c, other);
    const changes = [{ op: 'insert', at: 3, text: 'héllo' }, { op: 'delete', range: [1, 2] }, null, 4.5];
    const since = Date.now();
    a.emit('edit', { docId: doc, changes });
    for (const p of [a, b]) {
      const [e] = await p.next('documentChanged');
      assert.deepEqual({ userId: e.userId, changes: e.changes }, { userId: a.id, changes });
      assert.ok(isNow(e.timestamp, since));
      assert.deepEqual(Object.keys(e).sort(), ['changes', 'timestamp', 'userId']);
    }
    b.emit('edit', { docId: doc, changes: 'any JSON' });
    assert.equal((await a.next('documentChanged'))[0].changes, 'any JSON');
    c.emit('edit', { docId: other, changes: 'marker' });
    await c.next('documentChanged');
    assert.equal(c.count('documentChanged'), 1, 'another document\'s edits do not reach c');
  });

  it('cursor tells the whole room where the user is', async () => {
    const [a, b] = [await connect(), await connect()];
    const doc = unique('doc');
    await open(a, doc);
    await open(b, doc, a);
    b.emit('cursor', { docId: doc, position: { line: 4, column: 17 } });
    for (const p of [a, b]) {
      assert.deepEqual(await p.next('cursorMoved'), [{ userId: b.id, position: { line: 4, column: 17 } }]);
    }
  });

  it('edit, cursor and closeDocument on a document not open are errors, and reach nobody', async () => {
    const [a, b] = [await connect(), await connect()];
    const doc = unique('doc');
    await open(a, doc);
    b.emit('edit', { docId: doc, changes: [] });
    assert.deepEqual(await b.next('error'), [{ message: 'Document not open' }]);
    b.emit('cursor', { docId: doc, position: 1 });
    assert.deepEqual(await b.next('error'), [{ message: 'Document not open' }]);
    b.emit('closeDocument', { docId: doc });
    assert.deepEqual(await b.next('error'), [{ message: 'Document not open' }]);
    a.emit('cursor', { docId: doc, position: 'marker' });
    await a.next('cursorMoved');
    assert.equal(a.count('documentChanged') + a.count('userLeft') + a.count('error'), 0);
    assert.equal(a.count('cursorMoved'), 1);
  });

  it('closeDocument leaves; the rest of the room is told, and the closer hears no more', async () => {
    const [a, b] = [await connect(), await connect()];
    const doc = unique('doc');
    await open(a, doc);
    await open(b, doc, a);
    b.emit('closeDocument', { docId: doc });
    assert.deepEqual(await a.next('userLeft'), [{ userId: b.id }]);
    b.emit('edit', { docId: doc, changes: 1 });
    assert.deepEqual(await b.next('error'), [{ message: 'Document not open' }]);
    a.emit('edit', { docId: doc, changes: 'marker' });
    await a.next('documentChanged');
    assert.equal(b.count('userLeft') + b.count('documentChanged'), 0);
  });

  it('a disconnect tells every document the socket had open', async () => {
    const [a, b, c] = [await connect(), await connect(), await connect()];
    const [one, two, three] = [unique('doc'), unique('doc'), unique('doc')];
    await open(a, one);
    await open(a, two);
    await open(a, three);
    await open(b, one, a);
    await open(c, two, a);
    b.emit('closeDocument', { docId: one });
    await a.next('userLeft');
    const aid = a.id;
    a.close();
    assert.deepEqual(await c.next('userLeft'), [{ userId: aid }]);
    // b closed `one` before: it hears of nothing.
    c.emit('openDocument', { docId: one });
    await c.next('userJoined', e => e.userId === c.id);
    assert.equal(b.count('userLeft'), 0);
    assert.equal(c.count('userLeft'), 1);
  });

  it('malformed payloads get an error naming the field', async () => {
    const a = await connect();
    a.emit('openDocument', { docId: 1 });
    assert.match((await a.next('error'))[0].message, /openDocument.*docId.*expected string, got number/);
    a.emit('edit', { docId: 'x' });
    assert.match((await a.next('error'))[0].message, /edit.*changes/);
    a.emit('openDocument', { docId: '' });
    assert.match((await a.next('error'))[0].message, /docId/);
    assert.equal(a.count('userJoined'), 0);
  });
});
