// Checks that a server implements the benchmark contract (BENCH_CONTRACT.md): join, leave,
// publish and echo, acks, "sender included", the same object in the same key order, exact
// integers, per-publisher order, and the raw wire (open packet, 40{sid}, ping answer not needed).
//
//   node bench/contract-check.mjs [PORT]        (env HOST, default 127.0.0.1)
//
// Uses socket.io-client and ws from the repository's node_modules (`npm ci` at the top level).
// Exits 0 when every check passes, 1 otherwise.

import { io } from 'socket.io-client';
import WebSocket from 'ws';

const port = Number(process.argv[2] || process.env.PORT || 3000);
const host = process.env.HOST || '127.0.0.1';
const url = `http://${host}:${port}`;

let failures = 0;
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
};
const timeout = (ms, what) =>
  new Promise((_, reject) => setTimeout(() => reject(new Error(`timeout: ${what}`)), ms));
const within = (p, what, ms = 3000) => Promise.race([p, timeout(ms, what)]);

const connect = () =>
  within(new Promise((resolve, reject) => {
    const s = io(url, { transports: ['websocket'], forceNew: true, reconnection: false });
    s.on('connect', () => resolve(s));
    s.on('connect_error', reject);
  }), 'connect');
const ask = (s, event, arg) => within(s.emitWithAck(event, arg), `ack of ${event}`);
const collect = (s) => {
  const got = [];
  s.on('message', (m) => got.push(m));
  return got;
};
// Waits until `pred()` holds, or gives up after `ms`.
const until = async (pred, ms = 2000) => {
  const end = Date.now() + ms;
  while (!pred() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  return pred();
};

async function rawWire() {
  const ws = new WebSocket(`ws://${host}:${port}/socket.io/?EIO=4&transport=websocket`,
    { perMessageDeflate: false });
  const frames = [];
  let wake = null;
  ws.on('message', (data, isBinary) => {
    frames.push({ text: data.toString(), isBinary });
    if (wake) wake();
  });
  const next = () => within(new Promise((resolve) => {
    const take = () => { wake = null; resolve(frames.shift()); };
    frames.length ? take() : (wake = take);
  }), 'raw frame');
  await within(new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); }),
    'raw websocket open');
  const open = await next();
  check(!open.isBinary && open.text[0] === '0', `raw: first frame is an open packet (${open.text})`);
  const hs = JSON.parse(open.text.slice(1));
  check(typeof hs.sid === 'string' && Array.isArray(hs.upgrades) && hs.upgrades.length === 0 &&
    hs.pingInterval > 0 && hs.pingTimeout > 0 && hs.maxPayload >= 100000,
    'raw: open packet has sid, upgrades [], ping settings, maxPayload >= 100000');
  ws.send('40');
  const connected = await next();
  check(/^40\{"sid":"[^"]+"\}$/.test(connected.text), `raw: 40 answered ${connected.text}`);
  ws.send('421["join","raw-room"]');
  check((await next()).text === '431[true]', 'raw: 421["join",...] answered 431[true]');
  const msg = '{"room":"raw-room","p":7,"ts":1732240000123456,"pad":"xxxxxxxxxxxxxxxx"}';
  ws.send(`42["publish",${msg}]`);
  const got = await next();
  check(got.text === `42["message",${msg}]`, `raw: publish came back byte for byte (${got.text})`);
  ws.send('425["echo",{"ts":1732240000999999,"pad":"xxxxxxxxxxxxxxxx"}]');
  const echo = await next();
  check(echo.text === '435[{"ts":1732240000999999,"pad":"xxxxxxxxxxxxxxxx"}]',
    `raw: echo answered ${echo.text}`);
  ws.send('426["leave","raw-room"]');
  check((await next()).text === '436[true]', 'raw: leave answered 436[true]');
  ws.close();
}

async function main() {
  await rawWire();

  const [a, b, c] = await Promise.all([connect(), connect(), connect()]);
  const [ga, gb, gc] = [collect(a), collect(b), collect(c)];

  check(await ask(a, 'join', 'room-1') === true, 'join answers true');
  check(await ask(b, 'join', 'room-1') === true, 'a second member joins');
  check(await ask(a, 'join', 'room-1') === true, 'joining twice answers true');
  check(await ask(c, 'join', 42) === false, 'join with a number answers false');
  check(await ask(c, 'leave', { room: 'room-1' }) === false, 'leave with an object answers false');

  const obj = { room: 'room-1', p: 7, ts: 2 ** 53 - 1, pad: 'xxxxxxxx', z: [1, { y: null }],
    a: 'é"\\', neg: -12345678901234, f: 1.5 };
  check(await ask(a, 'publish', obj) === true, 'publish answers true');
  await until(() => ga.length >= 1 && gb.length >= 1);
  check(ga.length === 1 && JSON.stringify(ga[0]) === JSON.stringify(obj),
    'the sender, a member, gets the same object (key order, exact integers)');
  check(gb.length === 1 && JSON.stringify(gb[0]) === JSON.stringify(obj),
    'another member gets the same object');
  check(await ask(c, 'publish', { room: 'room-1', p: 1, ts: 5, pad: '' }) === true,
    'a non-member may publish');
  await until(() => ga.length >= 2 && gb.length >= 2);
  check(ga.length === 2 && gb.length === 2 && gc.length === 0,
    'a non-member publisher reaches the members, not itself');

  check(await ask(a, 'publish', { p: 1, ts: 1 }) === false, 'publish without room answers false');
  check(await ask(a, 'publish', { room: 3 }) === false, 'publish with a number room answers false');
  check(await ask(a, 'publish', 'room-1') === false, 'publish with a string answers false');

  for (const v of [{ ts: 1732240000999999, pad: 'xx' }, [1, 'two', null, true], 'text', 0,
    -(2 ** 53) + 1, 3.25, null, false, { nested: { deep: [[], {}] } }]) {
    const r = await ask(a, 'echo', v);
    check(JSON.stringify(r) === JSON.stringify(v), `echo ${JSON.stringify(v)}`);
  }

  // Order: one publisher, many messages without acks, each member sees them in order.
  const before = gb.length;
  for (let i = 0; i < 200; i++) a.emit('publish', { room: 'room-1', p: 0, ts: i, pad: 'o' });
  await until(() => gb.length >= before + 200 && ga.length >= before + 200);
  const seq = gb.slice(before).map((m) => m.ts);
  check(seq.length === 200 && seq.every((t, i) => t === i), 'per-publisher order kept (200 messages)');

  // Unknown events are ignored, the connection lives on.
  a.emit('no-such-event', 1);
  check(await ask(a, 'echo', 'alive') === 'alive', 'an unknown event is ignored');

  // Leave takes effect before its ack.
  check(await ask(b, 'leave', 'room-1') === true, 'leave answers true');
  check(await ask(b, 'leave', 'room-1') === true, 'leaving again answers true');
  const nb = gb.length, na = ga.length;
  check(await ask(a, 'publish', { room: 'room-1', p: 0, ts: 1, pad: '' }) === true,
    'publish after the leave');
  await until(() => ga.length > na);
  await ask(b, 'echo', 0); // b's connection has caught up
  check(ga.length === na + 1 && gb.length === nb, 'a socket that left gets nothing more');

  // Many rooms, one socket: each room reached separately.
  check(await ask(c, 'join', 'room-2') === true && await ask(c, 'join', 'room-3') === true,
    'a socket joins several rooms');
  const nc = gc.length;
  await ask(a, 'publish', { room: 'room-3', p: 0, ts: 1, pad: '' });
  await until(() => gc.length > nc);
  check(gc.length === nc + 1 && gc[nc].room === 'room-3', 'publish reaches only its room');

  for (const s of [a, b, c]) s.disconnect();
}

main().then(() => {
  console.log(failures ? `${failures} check(s) failed` : 'all checks passed');
  process.exit(failures ? 1 : 0);
}, (e) => {
  console.log(`FAIL ${e.message}`);
  process.exit(1);
});
