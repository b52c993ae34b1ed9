#!/usr/bin/env node
// Reference implementation of the roomcast "quickstart" example, running on the
// real `socket.io` npm package. The C++ quickstart example must behave like this
// (except for malformed payloads, which crash this reference but must be answered
// with an `error` event by the C++ server).
//
// Usage: node tests/integration/reference/quickstart.js --port P [--host H] [--threads N]
//   --port    TCP port to listen on (0 = any free port; the chosen port is printed)
//   --host    interface to bind (default 127.0.0.1)
//   --threads accepted and ignored, so both servers take the same command line
'use strict';

const http = require('node:http');
const { Server } = require('socket.io');

function parseArgs(argv) {
  const opts = { port: 3000, host: '127.0.0.1' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (arg === '--port') { opts.port = Number(value); i++; }
    else if (arg === '--host') { opts.host = value; i++; }
    else if (arg === '--threads') { i++; }
    else if (arg === '--help' || arg === '-h') {
      console.log('usage: node quickstart.js --port P [--host H] [--threads N]');
      process.exit(0);
    } else {
      console.error(`quickstart.js: unknown argument ${arg}`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
    console.error('quickstart.js: --port needs an integer in 0..65535');
    process.exit(2);
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const httpServer = http.createServer();
// Same surface as the C++ server: path /socket.io/, websocket transport only.
const io = new Server(httpServer, { path: '/socket.io/', transports: ['websocket'] });

// ---- the quickstart example, verbatim -------------------------------------
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
// ---------------------------------------------------------------------------

httpServer.on('error', err => {
  console.error(`quickstart.js: ${err.message}`);
  process.exit(1);
});

httpServer.listen(opts.port, opts.host, () => {
  const { address, port } = httpServer.address();
  console.log(`quickstart reference listening on ${address}:${port}`);
});

let stopping = false;
function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`quickstart reference: ${signal}, shutting down`);
  // Never hang on shutdown: force the exit if closing takes too long.
  setTimeout(() => process.exit(0), 2000).unref();
  io.close(() => process.exit(0));
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
