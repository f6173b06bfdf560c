// livedash under test: the real server (built dist), publishing in-process through `hub.publish` — the
// same path HTTP publishes and sources take after parsing. Serves /ws and /sse on one port.
import { serveWorker } from '../lib/ipc.mjs';
import { serverHandlers } from './common.mjs';

const { createServer } = await import(new URL('../../packages/server/dist/index.js', import.meta.url).href);
let server = null;

const { handlers, stop } = serverHandlers({
  start: async () => {
    server = await createServer({
      port: 0,
      host: '127.0.0.1',
      publishToken: 'bench',
      metricsIntervalMs: 0,
      alerts: [],
    });
    return { port: server.port };
  },
  send: (channel, data) => server.hub.publish(channel, data),
  subscribers: () => server?.hub.subscriptionCount ?? null,
  stop: async () => server?.close(),
});
serveWorker(handlers, stop);
