// The benchmark contract (join, leave, publish, echo) on the stock Node.js socket.io server:
// one process, WebSocket transport only, socket.io's defaults otherwise.
//
//   node server.js [PORT]      (else env PORT, else 3000; env HOST, else 127.0.0.1)
'use strict';

const http = require('node:http');
const { Server } = require('socket.io');

const port = Number(process.argv[2] || process.env.PORT || 3000);
const host = process.env.HOST || '127.0.0.1';
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error('usage: node server.js [PORT]');
  process.exit(2);
}

const httpServer = http.createServer();
const io = new Server(httpServer, { transports: ['websocket'], serveClient: false });

// An ack is answered only when the client asked for one (the callback is then a function).
const answer = (ack, value) => {
  if (typeof ack === 'function') ack(value);
};

io.on('connection', (socket) => {
  socket.on('join', (room, ack) => {
    if (typeof room !== 'string') return answer(ack, false);
    socket.join(room);
    answer(ack, true);
  });
  socket.on('leave', (room, ack) => {
    if (typeof room !== 'string') return answer(ack, false);
    socket.leave(room);
    answer(ack, true);
  });
  socket.on('publish', (msg, ack) => {
    if (msg === null || typeof msg !== 'object' || typeof msg.room !== 'string')
      return answer(ack, false);
    io.to(msg.room).emit('message', msg); // the same object, sender included
    answer(ack, true);
  });
  socket.on('echo', (value, ack) => answer(ack, value));
});

httpServer.listen(port, host, () => {
  console.log(`socket.io ${require('socket.io/package.json').version} reference listening on ` +
    `${host}:${httpServer.address().port}`);
});

const stop = () => {
  io.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
