// livedash under test: the real server (built dist), publishing in-process through `hub.publish` — the
// same path HTTP publishes and sources take after parsing. Serves /ws and /sse on one port. Counts the
// TCP connections it accepts per second (for the reconnect storm).
import { subscribe } from 'node:diagnostics_channel';
import { serveWorker } from '../lib/ipc.mjs';
import { serverHandlers } from './common.mjs';

const { createServer } = await import(new URL('../../packages/server/dist/index.js', import.meta.url).href);
let server = null;

const acceptedPerSecond = new Map();
subscribe('net.server.socket', () => {
  const second = Math.floor(Date.now() / 1000);
  acceptedPerSecond.set(second, (acceptedPerSecond.get(second) ?? 0) + 1);
});

const { handlers, stop } = serverHandlers({
  start: async ({ port = 0 } = {}) => {
    server = await createServer({
      port,
      host: '127.0.0.1',
      publishToken: 'bench',
      // Every benchmark client comes from 127.0.0.1; the per-address limits would refuse all but a few.
      maxConnectionsPerIp: 1_000_000,
      maxSseStreamsPerIp: 1_000_000,
    });
    return { port: server.port, startedAt: Date.now() };
  },
  send: (channel, data) => server.hub.publish(channel, data),
  subscribers: () => server?.hub.subscriptionCount ?? null,
  stop: async () => server?.close(),
});

handlers.accepted = async () => [...acceptedPerSecond.entries()].sort((a, b) => a[0] - b[0]);
handlers.publishOne = async ({ channel, data }) => server.hub.publish(channel, data);
serveWorker(handlers, stop);
