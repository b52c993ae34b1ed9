// The dashboard example's event contract, driven by socket.io-client.
//
//   ROOMCAST_SERVER=/path/to/dashboard [ROOMCAST_THREADS=N] node --test tests/integration/dashboard.test.mjs
//
// A negative ("X does not get Y") is proven by a marker: after the event that would have
// caused Y, something X does get is sent through the same path; once X has it, Y would have
// come before it.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { ServerProcess, Peer, unique } from './harness.mjs';

const BINARY = process.env.ROOMCAST_SERVER;
const THREADS = process.env.ROOMCAST_THREADS || '1';
if (!BINARY) throw new Error('Set ROOMCAST_SERVER to the dashboard binary');

describe(`dashboard (${THREADS} thread(s))`, () => {
  let server;
  let peers = [];
  let n = 0;
  const connect = async () => {
    const p = new Peer(server, `dashboard#${++n}`);
    peers.push(p);
    return p.connect();
  };
  const subscribe = async (p, department, team) => {
    p.emit('subscribe', team === undefined ? { department } : { department, team });
    return (await p.next('subscribed'))[0].rooms;
  };
  const update = (p, type, id, metric, value) =>
    p.emit('updateMetric', { scope: { type, id }, metric, value });

  before(async () => { server = await ServerProcess.start(BINARY, ['--threads', THREADS]); });
  afterEach(() => { for (const p of peers) p.dispose(); peers = []; });
  after(async () => { await server?.stop(); });

  it('subscribe joins the department and the team, and answers every room of the socket', async () => {
    const a = await connect();
    const [sales, east, support] = [unique('sales'), unique('east'), unique('support')];
    assert.deepEqual(await subscribe(a, sales), [`dept:${sales}`]);
    assert.deepEqual(await subscribe(a, support, east), [`dept:${sales}`, `dept:${support}`, `team:${east}`]);
    // null is "no team".
    a.emit('subscribe', { department: sales, team: null });
    assert.deepEqual(await a.next('subscribed'), [{ rooms: [`dept:${sales}`, `dept:${support}`, `team:${east}`] }]);
  });

  it('updateMetric reaches the department or the team room, the sender included if a member', async () => {
    const [a, b, c, pub] = [await connect(), await connect(), await connect(), await connect()];
    const [dept, team, other] = [unique('eng'), unique('core'), unique('ops')];
    await subscribe(a, dept, team);
    await subscribe(b, dept);
    await subscribe(c, other);
    update(pub, 'department', dept, 'cpu', 0.75);
    for (const p of [a, b]) assert.deepEqual(await p.next('metricUpdate'), [{ metric: 'cpu', value: 0.75 }]);
    const value = { p50: 12, p99: [1, 2, { x: null }], ok: true, name: 'é' };
    update(pub, 'team', team, 'latency', value);
    assert.deepEqual(await a.next('metricUpdate'), [{ metric: 'latency', value }]);
    // The sender is a member: it gets its own update.
    update(a, 'department', dept, 'errors', 0);
    for (const p of [a, b]) assert.deepEqual(await p.next('metricUpdate'), [{ metric: 'errors', value: 0 }]);
    // Markers: b (not in the team), c (other department) and the publisher got nothing else.
    update(pub, 'department', other, 'marker', 'm');
    await c.next('metricUpdate', u => u.metric === 'marker');
    update(pub, 'department', dept, 'marker', 'm');
    await b.next('metricUpdate', u => u.metric === 'marker');
    assert.deepEqual(b.received('metricUpdate').map(([u]) => u.metric), ['cpu', 'errors', 'marker']);
    assert.deepEqual(c.received('metricUpdate').map(([u]) => u.metric), ['marker']);
    assert.equal(pub.count('metricUpdate'), 0);
  });

  it('a department id and a team id of the same name are different rooms', async () => {
    const [a, b, pub] = [await connect(), await connect(), await connect()];
    const name = unique('blue');
    await subscribe(a, name);
    await subscribe(b, unique('dept'), name);
    update(pub, 'team', name, 'only-team', 1);
    await b.next('metricUpdate');
    update(pub, 'department', name, 'only-dept', 2);
    assert.deepEqual(await a.next('metricUpdate'), [{ metric: 'only-dept', value: 2 }]);
    assert.deepEqual(b.received('metricUpdate').map(([u]) => u.metric), ['only-team']);
  });

  it('an unknown scope type is an error to the sender only', async () => {
    const [a, pub] = [await connect(), await connect()];
    const dept = unique('hr');
    await subscribe(a, dept);
    for (const type of ['company', 'Department', '']) {
      update(pub, type, dept, 'cpu', 1);
      assert.deepEqual(await pub.next('error'), [{ message: 'Unknown scope' }], `scope type ${JSON.stringify(type)}`);
    }
    update(pub, 'department', dept, 'marker', 1);
    await a.next('metricUpdate');
    assert.equal(a.count('metricUpdate') + a.count('error'), 1);
  });

  it('malformed payloads get an error naming the field, and change nothing', async () => {
    const a = await connect();
    a.emit('subscribe', { department: 5 });
    assert.match((await a.next('error'))[0].message, /subscribe.*department.*expected string, got number/);
    a.emit('subscribe', { team: 'x' });
    assert.match((await a.next('error'))[0].message, /department.*expected string, got nothing/);
    a.emit('updateMetric', { scope: 'dept', metric: 'cpu', value: 1 });
    assert.match((await a.next('error'))[0].message, /scope.*expected object, got string/);
    a.emit('updateMetric', { scope: { type: 'team', id: 'x' }, metric: 'cpu' });
    assert.match((await a.next('error'))[0].message, /value/);
    assert.equal(a.count('subscribed') + a.count('metricUpdate'), 0);
    assert.deepEqual(await subscribe(a, unique('after')), a.received('subscribed').at(-1)[0].rooms);
  });
});
