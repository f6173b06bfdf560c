import { afterEach, expect, test } from 'vitest';
import type { EnvironmentLike, FetchLike } from '../src/index.js';
import { collect, nodeClient, startServer } from './helpers/live.js';
import { oneTo, sleep, steadyPublisher } from './helpers/steady.js';
import { TcpProxy } from './helpers/tcp-proxy.js';
import { until } from './helpers/wait.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function pollOnlyServerBehindProxy() {
  const server = await startServer({ transports: { ws: false, sse: false, poll: true } });
  const proxy = await TcpProxy.start(server.port);
  cleanup.push(
    () => server.close(),
    () => proxy.close(),
  );
  return { server, proxy };
}

/** The real fetch, counting requests in flight per path (never replacing what it does). */
function countingFetch() {
  const inFlight = new Map<string, number>();
  const stats = { requests: 0, maxInFlightPerPath: 0 };
  const fetchImpl: FetchLike = async (url, init) => {
    const path = new URL(url).pathname;
    const now = (inFlight.get(path) ?? 0) + 1;
    inFlight.set(path, now);
    stats.requests++;
    stats.maxInFlightPerPath = Math.max(stats.maxInFlightPerPath, now);
    try {
      return await fetch(url, init);
    } finally {
      inFlight.set(path, (inFlight.get(path) ?? 1) - 1);
    }
  };
  return { fetchImpl, stats };
}

test('with WebSocket and SSE disabled the client polls; a cut loses and duplicates nothing; polls never overlap', async () => {
  const { server, proxy } = await pollOnlyServerBehindProxy();
  const { fetchImpl, stats } = countingFetch();
  const client = nodeClient({
    url: proxy.url,
    fetch: fetchImpl,
    pollIntervalMs: 100,
    backoff: { initialDelayMs: 200, maxDelayMs: 1000 },
  });
  cleanup.push(() => client.close());
  const ticks = collect<{ n: number }>(client, 'ticks');
  await until(() => ticks.subscribed() >= 1, 'polling', 10_000);
  expect(client.state).toMatchObject({ status: 'open', transport: 'poll' });
  const publisher = steadyPublisher(server, 'ticks', 20);
  await sleep(500);
  proxy.cut();
  await sleep(2000);
  proxy.restore();
  await sleep(500);
  const published = publisher.stop();
  await until(() => ticks.received.length >= published, `all ${published} messages`, 15_000);
  await sleep(300);
  expect(ticks.received.map((m) => m.data.n)).toEqual(oneTo(published));
  expect(ticks.resets).toHaveLength(0);
  expect(stats.maxInFlightPerPath).toBe(1);
  expect(client.state.transport).toBe('poll');
});

test('polling pauses while the page is hidden and resumes when it is visible again', async () => {
  const { server } = await pollOnlyServerBehindProxy();
  let visible = true;
  const environment: EnvironmentLike = {
    isOnline: () => true,
    isVisible: () => visible,
    listen: () => () => {},
  };
  const { fetchImpl, stats } = countingFetch();
  const client = nodeClient({ url: server.url, fetch: fetchImpl, pollIntervalMs: 50, environment });
  cleanup.push(() => client.close());
  const ticks = collect<{ n: number }>(client, 'ticks');
  await until(() => ticks.subscribed() >= 1, 'polling', 10_000);
  visible = false;
  await sleep(200);
  const whileHidden = stats.requests;
  await server.hub.publish('ticks', { n: 1 });
  await sleep(600);
  expect(stats.requests).toBe(whileHidden);
  expect(ticks.received).toHaveLength(0);
  expect(client.state.status).toBe('open'); // paused, not dead
  visible = true;
  await until(() => ticks.received.length === 1, 'message after becoming visible', 10_000);
});

test('polling opens against attach() on a server whose /healthz is its own (404), with and without channels', async () => {
  const { createServer: createHttpServer } = await import('node:http');
  const { attach } = await import('@livedash/server');
  const http = createHttpServer((_request, response) => {
    response.statusCode = 404;
    response.end('not mine');
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const live = await attach(http, { publishToken: 'secret' });
  cleanup.push(
    () => new Promise((resolve) => http.close(resolve)),
    () => live.close(),
  );
  const { port } = http.address() as { port: number };
  const client = nodeClient({ url: `http://127.0.0.1:${port}`, transports: ['poll'], pollIntervalMs: 100 });
  cleanup.push(() => client.close());
  await until(() => client.state.status === 'open', 'open with no channel', 10_000);
  expect(client.state.lastError).toBeUndefined();
  const orders = collect<{ n: number }>(client, 'orders');
  await live.publish('orders', { n: 1 });
  await until(() => orders.received.length === 1, 'the message, polled');
});
