// Baseline: Socket.IO 4.8, one room per channel, WebSocket transport only, room broadcast.
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { serveWorker } from '../lib/ipc.mjs';
import { serverHandlers } from './common.mjs';

const http = createServer();
const io = new Server(http, {
  transports: ['websocket'],
  serveClient: false,
  perMessageDeflate: false,
  httpCompression: false,
  maxHttpBufferSize: 64 * 1024,
});

io.on('connection', (socket) => {
  const channel = socket.handshake.query.ch;
  socket.join(typeof channel === 'string' ? channel : 'bench');
});

const { handlers, stop } = serverHandlers({
  start: () =>
    new Promise((resolve) => http.listen(0, '127.0.0.1', () => resolve({ port: http.address().port }))),
  send: (channel, data) => {
    io.to(channel).emit('msg', { type: channel, seq: data.n, epoch: 'bench', ts: Date.now(), data });
  },
  subscribers: () => {
    let sum = 0;
    for (const [name, members] of io.of('/').adapter.rooms)
      if (!io.of('/').sockets.has(name)) sum += members.size;
    return sum;
  },
});
serveWorker(handlers, stop);
