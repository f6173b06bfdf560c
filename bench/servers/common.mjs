// What every server under test answers besides publishing: CPU, memory and a forced GC, all measured
// inside the server's own process.
import { Publisher } from '../lib/publisher.mjs';

export function processStats() {
  const memory = process.memoryUsage();
  return { cpu: process.cpuUsage(), rss: memory.rss, heapUsed: memory.heapUsed, external: memory.external };
}

export async function collectGarbage() {
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return processStats();
}

/**
 * The handlers every benchmark server serves. `start` returns the port; `send(channel, data, index)`
 * publishes one message; `subscribers()` counts subscribed connections where the server knows it.
 */
export function serverHandlers({ start, send, subscribers = () => null, stop = async () => {} }) {
  let publisher = null;
  return {
    handlers: {
      start: async (args) => start(args),
      channels: async ({ channels, payloadBytes }) => {
        publisher = new Publisher(channels, send, payloadBytes);
        return { ok: true };
      },
      publish: async (args) => publisher.run(args),
      counters: async () => publisher?.counters ?? [],
      stats: async () => ({ ...processStats(), subscribers: subscribers() }),
      gc: async () => collectGarbage(),
      // For profiling memory per connection: `node bench/profile-memory.mjs`.
      heapSnapshot: async ({ path }) => {
        await collectGarbage();
        const { writeHeapSnapshot } = await import('node:v8');
        return { path: writeHeapSnapshot(path) };
      },
    },
    stop,
  };
}
