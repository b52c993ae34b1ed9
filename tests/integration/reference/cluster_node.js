#!/usr/bin/env node
// Reference "cluster test node": a Socket.IO server on the real `socket.io` npm package with
// `@socket.io/redis-adapter` (node-redis v4), driven by tests/integration/cluster.test.mjs and
// cluster_faults.test.mjs. tests/integration/cluster_node.cpp implements the same contract on
// roomcast's Redis adapter; any mix of the two, sharing one Redis, forms one cluster.
//
// ---- Cluster test node contract --------------------------------------------------------------
//
// Command line: --port P --redis HOST:PORT [--name NAME] [--threads N]
//   --port     TCP port, on 127.0.0.1
//   --redis    the Redis server shared by the cluster
//   --name     the node's name in answers (default: node-P)
//   --threads  I/O threads (the JavaScript node accepts and ignores it)
// Path /socket.io/, namespace "/" only; WebSocket and HTTP long-polling transports (and the
// upgrade) allowed. Prints the line `cluster node NAME ready on port P` once it is connected
// to Redis (subscribed) and accepts connections (it may print it again after reconnecting to
// Redis). Exits with status 0 on SIGTERM and SIGINT. Redis going away and coming back is
// survived: local delivery never stops, cluster delivery resumes once Redis is back.
//
// Events a client sends. `rooms` and `except` are arrays of room names (absent = []); below,
// `sel` is `io.in(rooms).except(except)` (every socket of the cluster when rooms is empty).
// Every event but the quickstart ones comes with an acknowledgement callback, answered as
// stated (sorting: strings in code-unit order, as JavaScript's default sort).
//  * joinRoom {roomName, userName?}, leaveRoom {roomName, userName?}, message {roomName, text},
//    and the disconnecting notice: exactly as the quickstart example (reference/quickstart.js):
//      joinRoom:  socket.join(roomName); io.to(roomName).emit("userJoined", {userName, id});
//                 socket.emit("roomJoined", {roomName})
//      leaveRoom: socket.leave(roomName); io.to(roomName).emit("userLeft", {userName, id});
//                 socket.emit("roomLeft", {roomName})
//      message:   io.to(roomName).emit("message", {text, sender: socket.id})
//      disconnecting: io.to(room).emit("userLeft", {id}) for each room but the socket's own
//    (an absent userName is an absent key). No acknowledgement.
//  * whoami -> ack({id: socket.id, node: NAME})
//  * servers -> ack(number of servers in the cluster): io.of("/").adapter.serverCount()
//  * emit {rooms?, except?, event, args: [], self?: bool, local?: bool, binary?: bool}
//      operator = self ? io : socket.broadcast (the sender excluded); then .to(rooms),
//      .except(except), and .local when local; if binary, Buffer.from([1, 2, 3]) is appended
//      as the last argument; operator.emit(event, ...args); then ack("ok").
//  * fetch {rooms?, except?} -> sel.fetchSockets()
//      -> ack({sockets: [{id, rooms: [sorted room names, the socket's own id included]}],
//              sorted by id}), or ack({error: err.message}) when it fails (e.g. a timeout).
//  * socketsJoin {rooms?, except?, target: string} -> sel.socketsJoin(target); ack("ok")
//  * socketsLeave {rooms?, except?, target: string} -> sel.socketsLeave(target); ack("ok")
//  * disconnectSockets {rooms?, except?, close?: bool}
//      -> ack("ok") first, then sel.disconnectSockets(close === true)
//    (socketsJoin, socketsLeave, disconnectSockets: "ok" does not wait for the effect. The
//    other nodes apply the request in the order of the node's publications; socket.io applies
//    it to the sending node's own sockets when its own request comes back from Redis.)
//  * allRooms -> ack(sorted array of await io.of("/").adapter.allRooms()) (every node's
//      rooms, sockets' own id rooms included), or ack({error: err.message}) when it fails.
//  * ask {rooms?, except?, timeout (ms)}
//      -> io.to(rooms).except(except).timeout(timeout).emitWithAck("question", NAME)
//      -> ack({error: null, responses: sorted answers}) or, when it rejects (socket.io:
//         "operation has timed out"), ack({error: err.message, responses: []}): socket.io's
//         emitWithAck drops the answers; a node may instead give the answers received in
//         time, sorted. (Test clients answer `question` with their own socket id.)
//  * serverEmit {event, args: []} -> io.serverSideEmit(event, ...args); ack("ok").
//      Every node listens: io.on("hello", (...args) => io.local.emit("serverHello",
//      {node: NAME, args})); serverSideEmit never reaches the sending node itself.
//  * serverAsk {} -> io.serverSideEmitWithAck("whoareyou")
//      -> ack({error: null, responses: sorted answers}) or, when it rejects,
//         ack({error: err.message, responses: sorted answers received in time}).
//      Every node answers: io.on("whoareyou", cb => cb(NAME)) (the asking node does not
//      answer itself: with two nodes the answer is [name of the other node]).
// ----------------------------------------------------------------------------------------------
'use strict';

const http = require('node:http');
const { Server } = require('socket.io');
const { createClient } = require('redis');
const { createAdapter } = require('@socket.io/redis-adapter');

function parseArgs(argv) {
  const opts = { port: null, redis: null, name: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (arg === '--port') { opts.port = Number(value); i++; }
    else if (arg === '--redis') { opts.redis = value; i++; }
    else if (arg === '--name') { opts.name = value; i++; }
    else if (arg === '--threads') { i++; }
    else if (arg === '--help' || arg === '-h') {
      console.log('usage: node cluster_node.js --port P --redis HOST:PORT [--name NAME] [--threads N]');
      process.exit(0);
    } else {
      console.error(`cluster_node.js: unknown argument ${arg}`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
    console.error('cluster_node.js: --port needs an integer in 0..65535');
    process.exit(2);
  }
  if (!opts.redis || !/^[^:\s]+:\d+$/.test(opts.redis)) {
    console.error('cluster_node.js: --redis HOST:PORT is required');
    process.exit(2);
  }
  if (typeof opts.name !== 'string' || !opts.name) opts.name = `node-${opts.port}`;
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const NAME = opts.name;

// node-redis reconnects on its own (and resubscribes the subscriber); errors are reported,
// once per change, never fatal: without an 'error' listener a lost connection would crash.
function watch(client, label) {
  let last = null;
  client.on('error', err => {
    if (err.message !== last) console.error(`cluster_node ${NAME}: redis ${label}: ${err.message}`);
    last = err.message;
  });
  client.on('ready', () => {
    if (last !== null) console.log(`cluster_node ${NAME}: redis ${label}: connected again`);
    last = null;
  });
  return client;
}

// The adapter publishes without waiting for the reply: a command in flight when the Redis
// connection drops is rejected with nobody listening. Report it, keep serving.
process.on('unhandledRejection', err => {
  console.error(`cluster_node ${NAME}: unhandled rejection: ${err && err.message ? err.message : err}`);
});

const pubClient = watch(createClient({ url: `redis://${opts.redis}` }), 'pub');
const subClient = watch(pubClient.duplicate(), 'sub');
let io = null;

let stopping = false;
function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`cluster_node ${NAME}: ${signal}, shutting down`);
  // Never hang on shutdown (Redis may be gone): force the exit if closing takes too long.
  setTimeout(() => process.exit(0), 2000).unref();
  const closeRedis = () => Promise.allSettled([pubClient.disconnect(), subClient.disconnect()])
    .then(() => process.exit(0));
  if (io) io.close(closeRedis);
  else closeRedis();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

const list = v => (Array.isArray(v) ? v : []);
const byId = (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const sorted = v => [...v].sort();

// The event's payload object (or {}) and its acknowledgement callback (or a no-op).
function request(args) {
  const ack = typeof args[args.length - 1] === 'function' ? args.pop() : () => {};
  const o = args[0] && typeof args[0] === 'object' && !Array.isArray(args[0]) ? args[0] : {};
  return [o, ack];
}

const select = o => io.in(list(o.rooms)).except(list(o.except));

function onConnection(socket) {
  // ---- the quickstart example, verbatim ---------------------------------------------------
  socket.on('joinRoom', ({ roomName, userName }) => {
    socket.join(roomName);
    io.to(roomName).emit('userJoined', { userName, id: socket.id });
    socket.emit('roomJoined', { roomName });
  });
  socket.on('leaveRoom', ({ roomName, userName }) => {
    socket.leave(roomName);
    io.to(roomName).emit('userLeft', { userName, id: socket.id });
    socket.emit('roomLeft', { roomName });
  });
  socket.on('message', ({ roomName, text }) => {
    io.to(roomName).emit('message', { text, sender: socket.id });
  });
  socket.on('disconnecting', () => {
    for (const room of socket.rooms)
      if (room !== socket.id) io.to(room).emit('userLeft', { id: socket.id });
  });
  // ------------------------------------------------------------------------------------------

  socket.on('whoami', (...args) => {
    const [, ack] = request(args);
    ack({ id: socket.id, node: NAME });
  });

  socket.on('servers', async (...args) => {
    const [, ack] = request(args);
    ack(await io.of('/').adapter.serverCount());
  });

  socket.on('emit', (...args) => {
    const [o, ack] = request(args);
    let op = o.self ? io : socket.broadcast;
    op = op.to(list(o.rooms)).except(list(o.except));
    if (o.local) op = op.local;
    const eventArgs = [...list(o.args)];
    if (o.binary) eventArgs.push(Buffer.from([1, 2, 3]));
    op.emit(o.event, ...eventArgs);
    ack('ok');
  });

  socket.on('fetch', async (...args) => {
    const [o, ack] = request(args);
    try {
      const sockets = await select(o).fetchSockets();
      ack({ sockets: sockets.map(s => ({ id: s.id, rooms: sorted(s.rooms) })).sort(byId) });
    } catch (err) {
      ack({ error: err.message });
    }
  });

  socket.on('socketsJoin', (...args) => {
    const [o, ack] = request(args);
    select(o).socketsJoin(o.target);
    ack('ok');
  });

  socket.on('socketsLeave', (...args) => {
    const [o, ack] = request(args);
    select(o).socketsLeave(o.target);
    ack('ok');
  });

  socket.on('disconnectSockets', (...args) => {
    const [o, ack] = request(args);
    ack('ok');
    select(o).disconnectSockets(o.close === true);
  });

  socket.on('allRooms', async (...args) => {
    const [, ack] = request(args);
    try {
      ack(sorted(await io.of('/').adapter.allRooms()));
    } catch (err) {
      ack({ error: err.message });
    }
  });

  socket.on('ask', async (...args) => {
    const [o, ack] = request(args);
    try {
      const responses = await io.to(list(o.rooms)).except(list(o.except))
        .timeout(Number(o.timeout)).emitWithAck('question', NAME);
      ack({ error: null, responses: sorted(responses) });
    } catch (err) {
      ack({ error: err.message, responses: [] });
    }
  });

  socket.on('serverEmit', (...args) => {
    const [o, ack] = request(args);
    io.serverSideEmit(o.event, ...list(o.args));
    ack('ok');
  });

  socket.on('serverAsk', async (...args) => {
    const [, ack] = request(args);
    try {
      ack({ error: null, responses: sorted(await io.serverSideEmitWithAck('whoareyou')) });
    } catch (err) {
      ack({ error: err.message, responses: sorted(list(err.responses)) });
    }
  });
}

async function main() {
  await Promise.all([pubClient.connect(), subClient.connect()]);

  const httpServer = http.createServer();
  io = new Server(httpServer, {
    path: '/socket.io/',
    transports: ['polling', 'websocket'],
    adapter: createAdapter(pubClient, subClient),
  });
  io.on('connection', onConnection);
  io.on('hello', (...args) => io.local.emit('serverHello', { node: NAME, args }));
  io.on('whoareyou', cb => cb(NAME));
  // Subscribed once Redis counts this node among the subscribers of the request channel.
  while ((await io.of('/').adapter.serverCount()) < 1) await new Promise(r => setTimeout(r, 20));

  httpServer.on('error', err => {
    console.error(`cluster_node ${NAME}: ${err.message}`);
    process.exit(1);
  });
  httpServer.listen(opts.port, '127.0.0.1', () => {
    console.log(`cluster node ${NAME} ready on port ${httpServer.address().port}`);
  });
}

main().catch(err => {
  console.error(`cluster_node ${NAME}: ${err.message}`);
  process.exit(1);
});
