// Baseline for SSE: a minimal `http` server writing `data: <envelope>\n\n` (one Buffer per publish)
// to every open response.
import { createServer } from 'node:http';
import { ChannelSets } from '../lib/channel-sets.mjs';
import { envelope } from '../lib/envelope.mjs';
import { serveWorker } from '../lib/ipc.mjs';
import { serverHandlers } from './common.mjs';

const channels = new ChannelSets();
const http = createServer((request, response) => {
  const url = new URL(request.url, 'http://x');
  if (url.pathname !== '/sse') {
    response.writeHead(404).end();
    return;
  }
  const channel = url.searchParams.get('channels') ?? 'bench';
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  response.write(': ok\n\n');
  const remove = channels.add(channel, response);
  request.on('close', remove);
});

const { handlers, stop } = serverHandlers({
  start: () =>
    new Promise((resolve) => http.listen(0, '127.0.0.1', () => resolve({ port: http.address().port }))),
  send: (channel, data) => {
    const chunk = Buffer.from(`data: ${envelope(channel, data.n, Date.now(), data)}\n\n`);
    const set = channels.get(channel);
    if (set) for (const response of set) response.write(chunk);
  },
  subscribers: () => channels.size,
});
serveWorker(handlers, stop);
