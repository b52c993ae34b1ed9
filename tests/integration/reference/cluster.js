#!/usr/bin/env node
// Reference implementation of the roomcast "cluster" example: the quickstart example
// (reference/quickstart.js, same events, same behaviour) on the real `socket.io` npm package
// with `@socket.io/redis-adapter` over node-redis v4, so that several processes sharing one
// Redis form one Socket.IO cluster. The C++ cluster example must behave like this, and both
// can be members of the same cluster.
//
// Usage: node tests/integration/reference/cluster.js --port P --redis HOST:PORT [--host H] [--threads N]
//   --port    TCP port to listen on (0 = any free port; the chosen port is printed)
//   --redis   the Redis server shared by the cluster
//   --host    interface to bind (default 127.0.0.1)
//   --threads accepted and ignored, so both servers take the same command line
//
// Prints `cluster reference listening on port P` once both Redis clients are connected and
// the server listens.
'use strict';

const http = require('node:http');
const { Server } = require('socket.io');
const { createClient } = require('redis');
const { createAdapter } = require('@socket.io/redis-adapter');

function parseArgs(argv) {
  const opts = { port: 3000, host: '127.0.0.1', redis: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (arg === '--port') { opts.port = Number(value); i++; }
    else if (arg === '--host') { opts.host = value; i++; }
    else if (arg === '--redis') { opts.redis = value; i++; }
    else if (arg === '--threads') { i++; }
    else if (arg === '--help' || arg === '-h') {
      console.log('usage: node cluster.js --port P --redis HOST:PORT [--host H] [--threads N]');
      process.exit(0);
    } else {
      console.error(`cluster.js: unknown argument ${arg}`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
    console.error('cluster.js: --port needs an integer in 0..65535');
    process.exit(2);
  }
  if (!opts.redis || !/^[^:\s]+:\d+$/.test(opts.redis)) {
    console.error('cluster.js: --redis HOST:PORT is required');
    process.exit(2);
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));

// node-redis reconnects on its own (and resubscribes the subscriber); errors are reported,
// once per change, never fatal: without an 'error' listener a lost connection would crash.
function watch(client, label) {
  let last = null;
  client.on('error', err => {
    if (err.message !== last) console.error(`cluster.js: redis ${label}: ${err.message}`);
    last = err.message;
  });
  client.on('ready', () => {
    if (last !== null) console.log(`cluster.js: redis ${label}: connected again`);
    last = null;
  });
  return client;
}

// The adapter publishes without waiting for the reply: a command in flight when the Redis
// connection drops is rejected with nobody listening. Report it, keep serving.
process.on('unhandledRejection', err => {
  console.error(`cluster.js: unhandled rejection: ${err && err.message ? err.message : err}`);
});

const pubClient = watch(createClient({ url: `redis://${opts.redis}` }), 'pub');
const subClient = watch(pubClient.duplicate(), 'sub');
let io = null;

let stopping = false;
function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`cluster reference: ${signal}, shutting down`);
  // Never hang on shutdown (Redis may be gone): force the exit if closing takes too long.
  setTimeout(() => process.exit(0), 2000).unref();
  const closeRedis = () => Promise.allSettled([pubClient.disconnect(), subClient.disconnect()])
    .then(() => process.exit(0));
  if (io) io.close(closeRedis);
  else closeRedis();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

async function main() {
  await Promise.all([pubClient.connect(), subClient.connect()]);

  const httpServer = http.createServer();
  // Same surface as the C++ server: path /socket.io/, websocket transport only.
  io = new Server(httpServer, {
    path: '/socket.io/',
    transports: ['websocket'],
    adapter: createAdapter(pubClient, subClient),
  });

  // ---- the quickstart example, verbatim -----------------------------------
  io.on('connection', socket => {
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
  });
  // -------------------------------------------------------------------------

  httpServer.on('error', err => {
    console.error(`cluster.js: ${err.message}`);
    process.exit(1);
  });

  httpServer.listen(opts.port, opts.host, () => {
    const { port } = httpServer.address();
    console.log(`cluster reference listening on port ${port} (redis ${opts.redis})`);
  });
}

main().catch(err => {
  console.error(`cluster.js: ${err.message}`);
  process.exit(1);
});
