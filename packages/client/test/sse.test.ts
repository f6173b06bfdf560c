import { afterEach, expect, test } from 'vitest';
import { collect, nodeClient, startServer } from './helpers/live.js';
import { oneTo, sleep, steadyPublisher } from './helpers/steady.js';
import { TcpProxy } from './helpers/tcp-proxy.js';
import { until } from './helpers/wait.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function sseOnlyServerBehindProxy() {
  const server = await startServer({ transports: { ws: false, sse: true, poll: true } });
  const proxy = await TcpProxy.start(server.port);
  cleanup.push(
    () => server.close(),
    () => proxy.close(),
  );
  return { server, proxy };
}

test('with WebSocket disabled on the server the client runs on SSE; a cut loses and duplicates nothing', async () => {
  const { server, proxy } = await sseOnlyServerBehindProxy();
  // During the cut the client may fall back to polling (its attempts over SSE keep failing); a short
  // upgrade interval lets it come back to SSE within the test instead of after the default 30 s.
  const client = nodeClient({
    url: proxy.url,
    backoff: { initialDelayMs: 200, maxDelayMs: 1000 },
    upgradeIntervalMs: 1000,
  });
  cleanup.push(() => client.close());
  const ticks = collect<{ n: number }>(client, 'ticks');
  await until(() => ticks.subscribed() === 1, 'subscribed over SSE', 10_000);
  expect(client.state).toMatchObject({ status: 'open', transport: 'sse' });
  const publisher = steadyPublisher(server, 'ticks', 20);
  await sleep(500);
  proxy.cut();
  await sleep(2000);
  proxy.restore();
  await sleep(500);
  const published = publisher.stop();
  await until(() => ticks.received.length >= published, `all ${published} messages`, 15_000);
  await sleep(200);
  expect(ticks.received.map((m) => m.data.n)).toEqual(oneTo(published));
  expect(ticks.received.some((m) => m.replayed)).toBe(true);
  expect(ticks.resets).toHaveLength(0);
  await until(
    () => client.state.status === 'open' && client.state.transport === 'sse',
    'back on SSE',
    15_000,
  );
});

test('channels added and removed on SSE reopen the stream without losing or repeating messages', async () => {
  const { server, proxy } = await sseOnlyServerBehindProxy();
  const client = nodeClient({ url: proxy.url });
  cleanup.push(() => client.close());
  const a = collect<{ n: number }>(client, 'a');
  await until(() => a.subscribed() === 1, 'a subscribed', 10_000);
  const publisher = steadyPublisher(server, 'a', 10);
  await sleep(200);
  const b = collect<{ n: number }>(client, 'b');
  await until(() => b.subscribed() >= 1, 'b subscribed', 10_000);
  await server.hub.publish('b', { n: 1 });
  await until(() => b.received.length === 1, 'b message', 10_000);
  const other = collect(client, 'c');
  await sleep(200);
  other.off();
  await sleep(200);
  const published = publisher.stop();
  await until(() => a.received.length >= published, `all ${published} on a`, 10_000);
  await sleep(100);
  expect(a.received.map((m) => m.data.n)).toEqual(oneTo(published));
  expect(b.received.map((m) => m.data.n)).toEqual([1]);
  expect(client.state.transport).toBe('sse');
});

test('ping works on SSE (over HTTP)', async () => {
  const { proxy } = await sseOnlyServerBehindProxy();
  const client = nodeClient({ url: proxy.url });
  cleanup.push(() => client.close());
  collect(client, 'x');
  await until(
    () => client.state.status === 'open' && client.state.transport === 'sse',
    'open on sse',
    10_000,
  );
  const rtt = await client.ping();
  expect(rtt).toBeGreaterThanOrEqual(0);
  expect(client.state.rtt).toBe(rtt);
});

test('a half-open SSE stream (nothing forwarded, nothing closed) is detected by silence and replaced', async () => {
  const server = await startServer({ transports: { ws: false, sse: true, poll: true }, heartbeatMs: 200 });
  const proxy = await TcpProxy.start(server.port);
  cleanup.push(
    () => server.close(),
    () => proxy.close(),
  );
  const client = nodeClient({ url: proxy.url, transports: ['sse'], heartbeatTolerance: 3 });
  cleanup.push(() => client.close());
  const errors: string[] = [];
  client.onState((state) => {
    if (state.lastError) errors.push(state.lastError.code);
  });
  const ticks = collect<{ n: number }>(client, 'ticks');
  await until(() => ticks.subscribed() === 1, 'subscribed over SSE', 10_000);
  // Let a named heartbeat event arrive: it is what starts the silence watch on SSE.
  await sleep(600);
  proxy.pause();
  for (let n = 1; n <= 10; n++) await server.hub.publish('ticks', { n });
  await until(() => ticks.received.length === 10, 'messages published while half-open', 15_000);
  expect(ticks.received.map((m) => m.data.n)).toEqual(oneTo(10));
  expect(errors).toContain('heartbeat_timeout');
  expect(proxy.connections).toBeGreaterThan(1);
});
