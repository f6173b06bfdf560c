// livedash next to an Express app on the same port. Run it with
// `node examples/embed-express/server.mjs` (after `npm run build`).
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import { attach } from '@livedash/server';
import express from 'express';

export async function start({ port = 3000, host = '127.0.0.1' } = {}) {
  const app = express();
  const server = createServer(app);
  const live = await attach(server, { publishToken: process.env.PUBLISH_TOKEN ?? '' });

  // Your own routes, unchanged; they may publish in process.
  app.get('/', (_request, response) => {
    response.send('My Express app. Live data: /ws, /sse, /api/channels');
  });
  app.post('/orders', express.json(), async (request, response) => {
    const position = await live.publish('orders', { id: request.body.id, status: 'received' });
    response.status(201).json(position); // { channel: 'orders', epoch: '…', seq: 1, ts: … }
  });

  await new Promise((resolve) => server.listen(port, host, resolve));
  const { port: bound } = server.address();
  return {
    url: `http://${host}:${bound}`,
    live,
    async close() {
      await live.close(); // first: open WebSockets and SSE streams would keep server.close() waiting
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const app = await start({ port: Number(process.env.PORT ?? 3000) });
  console.log(`listening on ${app.url}`);
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => void app.close());
}
