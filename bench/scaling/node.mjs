// One livedash node under test for the scaling benchmark, in its own process: the real server (built
// dist) sharing channels through one Redis (`brokerUrl`) or a Redis Cluster (`brokerCluster`). Publishes
// go in-process through `hub.publish`, so each one runs the Redis publish script and reaches every node
// through Pub/Sub, exactly as an HTTP publish would.
import { LatencyHistogram } from '../lib/histogram.mjs';
import { serveWorker } from '../lib/ipc.mjs';
import { serverHandlers } from '../servers/common.mjs';

const { createServer } = await import(new URL('../../packages/server/dist/index.js', import.meta.url).href);
let server = null;

const { handlers, stop } = serverHandlers({
  start: async ({ brokerUrl, brokerCluster, brokerPrefix, node }) => {
    server = await createServer({
      port: 0,
      host: '127.0.0.1',
      node,
      publishToken: 'bench',
      ...(brokerUrl !== undefined && { brokerUrl }),
      ...(brokerCluster !== undefined && { brokerCluster }),
      ...((brokerUrl ?? brokerCluster) !== undefined && { brokerPrefix }),
      // Every load-generator connection comes from 127.0.0.1: lift the per-address limit (docs/security.md).
      maxConnectionsPerIp: 1_000_000,
    });
    return { port: server.port };
  },
  send: (channel, data) => server.hub.publish(channel, data),
  subscribers: () => server?.hub.subscriptionCount ?? null,
  stop: async () => server?.close(),
});

/**
 * Publishes round-robin over `channels` for `seconds`, keeping `window` publishes awaiting their
 * acknowledgement (the broker's answer) at any time, so Redis, not fan-out, sets the pace. Resolves
 * when every publish started has been answered, with the count and the acknowledgement latency.
 */
handlers.publishAcknowledged = ({ channels, seconds, window }) => {
  const latency = new LatencyHistogram();
  const startedAt = performance.now();
  const until = startedAt + seconds * 1000;
  let acknowledged = 0;
  let refused = 0;
  let next = 0;
  // Each lane publishes at least once, so `seconds: 0` publishes `window` messages.
  const lane = async () => {
    do {
      const channel = channels[next++ % channels.length];
      const sentAt = performance.now();
      try {
        await server.hub.publish(channel, { n: next, pad: 'x'.repeat(48) });
        acknowledged++;
        latency.record(performance.now() - sentAt);
      } catch {
        refused++;
      }
    } while (performance.now() < until);
  };
  return Promise.all(Array.from({ length: window }, lane)).then(() => ({
    acknowledged,
    refused,
    seconds: (performance.now() - startedAt) / 1000,
    latency: latency.summary(),
  }));
};

/**
 * In-process watchers on `channels`: the node subscribes to them in Redis like for a client, so every
 * publish costs Redis one Pub/Sub write to this node. Counts what arrives, per channel and in all.
 */
const watching = { stops: [], channels: new Set(), messages: 0 };
handlers.watch = ({ channels }) => {
  for (const channel of channels)
    watching.stops.push(
      server.hub.watch(channel, () => {
        watching.messages++;
        watching.channels.add(channel);
      }),
    );
  return { watching: channels.length };
};
handlers.watched = () => ({ channels: watching.channels.size, messages: watching.messages });

serveWorker(handlers, stop);
