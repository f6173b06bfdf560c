// The ceiling: `ws` does the handshake, then each publish builds ONE WebSocket frame and writes that
// same Buffer to every raw socket — no per-client framing, no queueing, one write per message per socket.
import { createServer } from 'node:http';
import { Sender, WebSocketServer } from 'ws';
import { ChannelSets } from '../lib/channel-sets.mjs';
import { envelope } from '../lib/envelope.mjs';
import { serveWorker } from '../lib/ipc.mjs';
import { serverHandlers } from './common.mjs';

const http = createServer();
const wss = new WebSocketServer({ server: http, perMessageDeflate: false, clientTracking: false });
const channels = new ChannelSets();

wss.on('connection', (ws, request) => {
  const channel = new URL(request.url, 'http://x').searchParams.get('ch') ?? 'bench';
  const socket = ws._socket;
  const remove = channels.add(channel, socket);
  ws.on('close', remove);
  ws.on('error', () => {});
});

const { handlers, stop } = serverHandlers({
  start: () =>
    new Promise((resolve) => http.listen(0, '127.0.0.1', () => resolve({ port: http.address().port }))),
  send: (channel, data) => {
    const payload = Buffer.from(envelope(channel, data.n, Date.now(), data));
    const frame = Buffer.concat(
      Sender.frame(payload, { fin: true, opcode: 1, mask: false, readOnly: true, rsv1: false }),
    );
    const set = channels.get(channel);
    if (set) for (const socket of set) socket.write(frame);
  },
  subscribers: () => channels.size,
});
serveWorker(handlers, stop);
