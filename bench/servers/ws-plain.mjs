// Baseline: plain `ws`, sending the same serialized message to each subscriber (`ws.send(string)`).
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import { ChannelSets } from '../lib/channel-sets.mjs';
import { envelope } from '../lib/envelope.mjs';
import { serveWorker } from '../lib/ipc.mjs';
import { serverHandlers } from './common.mjs';

const http = createServer();
const wss = new WebSocketServer({ server: http, perMessageDeflate: false, clientTracking: false });
const channels = new ChannelSets();

wss.on('connection', (ws, request) => {
  const channel = new URL(request.url, 'http://x').searchParams.get('ch') ?? 'bench';
  const remove = channels.add(channel, ws);
  ws.on('close', remove);
  ws.on('error', () => {});
});

const { handlers, stop } = serverHandlers({
  start: () =>
    new Promise((resolve) => http.listen(0, '127.0.0.1', () => resolve({ port: http.address().port }))),
  send: (channel, data) => {
    const message = envelope(channel, data.n, Date.now(), data);
    const set = channels.get(channel);
    if (set) for (const ws of set) ws.send(message);
  },
  subscribers: () => channels.size,
});
serveWorker(handlers, stop);
