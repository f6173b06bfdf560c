import { EventSource } from 'eventsource';
import { afterAll, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import { PrivateRedis } from '../../server/test/redis-helpers.js';
import { LiveClient } from '../src/index.js';
import { startServer } from './helpers/live.js';
import { until } from './helpers/wait.js';

// The worker's side of worker mode (worker/live-worker.ts), run in this process: the page's LiveClient
// talks to it over a real MessageChannel, as to a SharedWorker, and the worker's connection reaches a
// real server over real sockets. Only the browser globals the two sides look for are provided.

type Globals = Record<string, unknown>;
const scope = globalThis as Globals;
const provided = ['document', 'SharedWorker', 'WebSocket', 'EventSource', 'onconnect'] as const;

beforeAll(async () => {
  scope.document = {};
  scope.WebSocket = WebSocket;
  scope.EventSource = EventSource;
  // A SharedWorker scope has `onconnect`: the worker module registers its handler there when loaded.
  scope.onconnect = null;
  await import('../src/worker/live-worker.js');
  const connect = scope.onconnect as (event: { ports: MessagePort[] }) => void;
  scope.SharedWorker = class {
    readonly port: MessagePort;
    constructor() {
      const channel = new MessageChannel();
      this.port = channel.port1;
      connect({ ports: [channel.port2] });
    }
  };
});

afterAll(() => {
  for (const name of provided) delete scope[name];
});

test('in a shared worker, a channel refused with $error unavailable is retried with the backoff and delivered once Redis is back', async () => {
  const redis = await PrivateRedis.start();
  const server = await startServer({ brokerUrl: redis.url });
  const client = new LiveClient({
    url: server.url,
    worker: 'shared-worker',
    transports: ['ws'],
    backoff: { initialDelayMs: 300, maxDelayMs: 1200 },
  });
  try {
    await redis.stop();
    await until(
      async () => (await fetch(`${server.url}/healthz`)).status === 503,
      'the server to see Redis gone',
    );
    const refusals: Array<{ code: string; wait: number | undefined }> = [];
    const received: unknown[] = [];
    client.subscribe('orders', (data) => received.push(data), {
      onError: (error, retryAt) =>
        refusals.push({ code: error.code, wait: retryAt === undefined ? undefined : retryAt - Date.now() }),
    });
    await until(
      () => refusals.length >= 3,
      () => `three refusals, got ${JSON.stringify(refusals)}`,
    );
    expect(client.state.mode).toBe('shared-worker');
    expect(refusals.every((r) => r.code === 'unavailable')).toBe(true);
    // Equal jitter: each wait is between half and all of 300, 600, 1200 ms. The worker computed it before
    // posting the refusal to the page, so a busy machine's message delay comes off the lower end.
    for (const [index, ceiling] of [300, 600, 1200].entries()) {
      const wait = refusals[index]?.wait as number;
      expect(wait).toBeGreaterThan(ceiling / 2 - 150);
      expect(wait).toBeLessThanOrEqual(ceiling);
    }
    expect(client.state.status).toBe('open');
    await redis.start();
    await until(async () => (await fetch(`${server.url}/healthz`)).status === 200, 'Redis back');
    await until(async () => {
      await fetch(`${server.url}/api/channels/orders`, {
        method: 'POST',
        headers: { authorization: 'Bearer secret', 'content-type': 'application/json' },
        body: JSON.stringify({ n: received.length }),
      });
      return received.length > 0;
    }, 'a message on the channel once Redis is back');
  } finally {
    client.close();
    await server.close();
    await redis.stop();
  }
}, 30_000);
