// One livedash node under test for the scaling benchmark, in its own process: the real server (built
// dist) sharing channels through Redis. Publishes go in-process through `hub.publish`, so each one runs
// the Redis publish script and reaches every node through Pub/Sub, exactly as an HTTP publish would.
import { serveWorker } from '../lib/ipc.mjs';
import { serverHandlers } from '../servers/common.mjs';

const { createServer } = await import(new URL('../../packages/server/dist/index.js', import.meta.url).href);
let server = null;

const { handlers, stop } = serverHandlers({
  start: async ({ brokerUrl, brokerPrefix, node }) => {
    server = await createServer({
      port: 0,
      host: '127.0.0.1',
      node,
      publishToken: 'bench',
      brokerUrl,
      brokerPrefix,
      // Every load-generator connection comes from 127.0.0.1: lift the per-address limit (docs/security.md).
      maxConnectionsPerIp: 1_000_000,
    });
    return { port: server.port };
  },
  send: (channel, data) => server.hub.publish(channel, data),
  subscribers: () => server?.hub.subscriptionCount ?? null,
  stop: async () => server?.close(),
});

serveWorker(handlers, stop);
