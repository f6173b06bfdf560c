// livedash as a Fastify plugin under /live. Run it with `node examples/embed-fastify/server.mjs`
// (after `npm run build`). Clients connect with new LiveClient({ url: 'http://127.0.0.1:3000/live' }).
import { pathToFileURL } from 'node:url';
import { CHANNEL_PARAM_MAX_LENGTH, livedash } from '@livedash/server';
import Fastify from 'fastify';

export async function start({ port = 3000, host = '127.0.0.1' } = {}) {
  // Channel names may be 128 characters; Fastify's router stops at 100 unless told.
  const app = Fastify({ routerOptions: { maxParamLength: CHANNEL_PARAM_MAX_LENGTH } });
  await app.register(livedash, { prefix: '/live', publishToken: process.env.PUBLISH_TOKEN ?? '' });

  app.get('/', async () => 'My Fastify app. Live data: /live/ws, /live/sse, /live/api/channels');
  app.post('/orders', async (request, reply) => {
    const position = await app.livedash.publish('orders', { id: request.body.id, status: 'received' });
    return reply.code(201).send(position);
  });

  await app.listen({ port, host });
  const { port: bound } = app.server.address();
  return {
    url: `http://${host}:${bound}`,
    live: app.livedash,
    // Closes livedash's connections first (with 1012), then the app.
    close: () => app.close(),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const app = await start({ port: Number(process.env.PORT ?? 3000) });
  console.log(`listening on ${app.url}`);
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => void app.close());
}
