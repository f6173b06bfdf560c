// livedash inside a plain node:http server: your handler keeps every path but /ws, /sse and
// /api/channels. Run it with `node examples/embed-node-http/server.mjs` (after `npm run build`).
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import { attach } from '@livedash/server';

export async function start({ port = 3000, host = '127.0.0.1' } = {}) {
  const server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/') {
      response.setHeader('content-type', 'text/plain; charset=utf-8');
      response.end('My app. Live data: ws://<this host>/ws, /sse, /api/channels\n');
      return;
    }
    response.statusCode = 404;
    response.end('not found\n');
  });

  // Before listen or after: either works. Publishing over HTTP needs this token.
  const live = await attach(server, { publishToken: process.env.PUBLISH_TOKEN ?? '' });

  // Anything in the process can publish; every subscriber gets it.
  const clock = setInterval(() => void live.publish('clock', { now: Date.now() }), 1000);

  await new Promise((resolve) => server.listen(port, host, resolve));
  const { port: bound } = server.address();
  return {
    url: `http://${host}:${bound}`,
    live,
    async close() {
      clearInterval(clock);
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
