import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import type { LivedashServer } from '@livedash/server';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import type { ConnectionSnapshot, LiveClient } from '../src/index.js';
import { collect, nodeClient, startServer } from './helpers/live.js';
import { TcpProxy } from './helpers/tcp-proxy.js';
import { until, untilIoSettles } from './helpers/wait.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function serverBehindProxy(options: Parameters<typeof startServer>[0] = {}) {
  const server = await startServer(options);
  const proxy = await TcpProxy.start(server.port);
  cleanup.push(
    () => server.close(),
    () => proxy.close(),
  );
  return { server, proxy };
}

function track(client: LiveClient): ConnectionSnapshot[] {
  const states: ConnectionSnapshot[] = [];
  client.onState((state) => states.push(state));
  cleanup.push(() => client.close());
  return states;
}

/** Publishes `{n}` on `channel` every `everyMs` until stopped; returns the count published. */
function steadyPublisher(server: LivedashServer, channel: string, everyMs: number) {
  let n = 0;
  const timer = setInterval(() => void server.hub.publish(channel, { n: ++n }), everyMs);
  cleanup.push(() => clearInterval(timer));
  return {
    stop: () => {
      clearInterval(timer);
      return n;
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('reconnect and recovery', () => {
  test('a connection cut for seconds while messages flow: every message arrives once, in order', async () => {
    const { server, proxy } = await serverBehindProxy();
    const client = nodeClient({ url: proxy.url, backoff: { initialDelayMs: 200, maxDelayMs: 1000 } });
    const states = track(client);
    const ticks = collect<{ n: number }>(client, 'ticks');
    await until(() => ticks.subscribed() === 1, 'subscribed', 10_000);
    const publisher = steadyPublisher(server, 'ticks', 20);
    await sleep(500);
    proxy.cut();
    await sleep(2500);
    proxy.restore();
    await sleep(500);
    const published = publisher.stop();
    await until(() => ticks.received.length >= published, `all ${published} messages`, 15_000);
    await sleep(200);
    expect(ticks.received.map((m) => m.data.n)).toEqual(Array.from({ length: published }, (_, i) => i + 1));
    expect(ticks.received.map((m) => m.seq)).toEqual(Array.from({ length: published }, (_, i) => i + 1));
    expect(ticks.received.some((m) => m.replayed)).toBe(true); // what was missed came back as a replay
    expect(ticks.resets).toHaveLength(0);
    expect(states.some((s) => s.status === 'reconnecting')).toBe(true);
    expect(client.state.status).toBe('open');
    expect(proxy.connections).toBeGreaterThan(1);
  });

  test('a half-open connection (nothing forwarded, nothing closed) is detected by silence and replaced', async () => {
    const { server, proxy } = await serverBehindProxy({ heartbeatMs: 200 });
    const client = nodeClient({
      url: proxy.url,
      transports: ['ws'],
      heartbeatTolerance: 3,
      backoff: { initialDelayMs: 100 },
    });
    const states = track(client);
    const ticks = collect<{ n: number }>(client, 'ticks');
    await until(() => ticks.subscribed() === 1, 'subscribed', 10_000);
    proxy.pause();
    for (let n = 1; n <= 10; n++) await server.hub.publish('ticks', { n });
    await until(
      () => ticks.received.length === 10,
      `messages published while half-open, got ${JSON.stringify(ticks.received)}`,
      15_000,
    );
    expect(ticks.received.map((m) => m.data.n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(states.some((s) => s.lastError?.code === 'heartbeat_timeout')).toBe(true);
    expect(proxy.connections).toBe(2);
  });

  test('a connect attempt that hangs times out and is retried', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createTcpServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanup.push(
      () => new Promise((resolve) => silent.close(resolve)),
      () => {
        for (const socket of sockets) socket.destroy();
      },
    );
    const port = (silent.address() as { port: number }).port;
    const client = nodeClient({ url: `http://127.0.0.1:${port}`, transports: ['ws'], connectTimeoutMs: 300 });
    const states = track(client);
    await until(() => client.state.status === 'reconnecting', 'reconnecting', 10_000);
    expect(client.state.lastError?.code).toBe('connect_timeout');
    expect(states.map((s) => s.status)).toEqual(['reconnecting']);
    await until(() => client.state.attempt === 2, 'second attempt', 10_000);
  });

  test('300 clients reconnecting after a server restart spread their attempts', async () => {
    const { server, proxy } = await serverBehindProxy({ maxConnectionsPerIp: 1000 });
    const clients = Array.from({ length: 300 }, () => nodeClient({ url: proxy.url, transports: ['ws'] }));
    for (const client of clients) cleanup.push(() => client.close());
    await until(() => clients.every((c) => c.state.status === 'open'), '300 open', 30_000);
    const restartedAt = Date.now();
    const before = proxy.connections;
    await server.close(); // WebSockets get 1012 (service restart)
    const again = await startServer({ port: server.port, maxConnectionsPerIp: 1000 });
    cleanup.push(() => again.close());
    await until(() => clients.every((c) => c.state.status === 'open'), '300 open again', 30_000);
    const arrivals = proxy.arrivals
      .slice(before)
      .filter((t) => t >= restartedAt)
      .sort((a, b) => a - b);
    expect(arrivals.length).toBeGreaterThanOrEqual(300);
    // Most attempts arriving in any 100 ms window; without jitter all 300 would land in one.
    let busiest = 0;
    for (let i = 0, j = 0; i < arrivals.length; i++) {
      while ((arrivals[i] as number) - (arrivals[j] as number) > 100) j++;
      busiest = Math.max(busiest, i - j + 1);
    }
    expect(busiest).toBeLessThan(150);
    const spread =
      (arrivals[Math.floor(arrivals.length * 0.9)] as number) -
      (arrivals[Math.floor(arrivals.length * 0.1)] as number);
    console.info(
      `restart storm: ${arrivals.length} attempts, busiest 100 ms window ${busiest}, p10–p90 spread`,
      spread,
      'ms',
    );
    expect(spread).toBeGreaterThan(300);
  }, 60_000);
});

test('reconnect() while open drops the connection and resumes without loss', async () => {
  const { server, proxy } = await serverBehindProxy();
  const client = nodeClient({ url: proxy.url, transports: ['ws'] });
  track(client);
  const ticks = collect<{ n: number }>(client, 'ticks');
  await until(() => ticks.subscribed() === 1, 'subscribed', 10_000);
  for (let n = 1; n <= 3; n++) await server.hub.publish('ticks', { n });
  client.reconnect();
  expect(client.state).toMatchObject({ status: 'connecting', attempt: 1 });
  for (let n = 4; n <= 6; n++) await server.hub.publish('ticks', { n });
  await until(() => ticks.received.length === 6, 'six messages', 10_000);
  expect(ticks.received.map((m) => m.data.n)).toEqual([1, 2, 3, 4, 5, 6]);
  expect(proxy.connections).toBe(2);
});

describe('close codes', () => {
  /** A WebSocket server that welcomes and then closes every connection with `code`. */
  async function closingServer(code: number) {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => wss.once('listening', resolve));
    let connections = 0;
    wss.on('connection', (socket) => {
      connections++;
      socket.send(JSON.stringify({ type: '$welcome', version: 1, heartbeat: 15000, node: 't' }));
      setTimeout(() => socket.close(code, 'test'), 20);
    });
    cleanup.push(() => new Promise((resolve) => wss.close(resolve)));
    return { url: `http://127.0.0.1:${(wss.address() as { port: number }).port}`, count: () => connections };
  }

  test('4001 (unauthorized) is never retried: the client fails visibly; reconnect() tries again', async () => {
    const server = await closingServer(4001);
    const client = nodeClient({ url: server.url, transports: ['ws'] });
    track(client);
    await until(() => client.state.status === 'failed', 'failed', 10_000);
    expect(client.state.lastError).toMatchObject({ code: 'unauthorized', closeCode: 4001 });
    await sleep(1500);
    expect(server.count()).toBe(1);
    client.reconnect();
    await until(() => server.count() === 2, 'manual reconnect', 10_000);
  });

  test('1013 (try again later) waits at least retryLaterMs', async () => {
    const server = await closingServer(1013);
    const client = nodeClient({ url: server.url, transports: ['ws'], retryLaterMs: 2000 });
    // The wait is read when the client announces it: read after a polling waitFor, a busy machine's
    // pause would count against it.
    const waits: number[] = [];
    client.onState((state) => {
      if (state.status === 'reconnecting') waits.push((state.nextRetryAt ?? 0) - Date.now());
    });
    track(client);
    await until(() => client.state.status === 'reconnecting', 'reconnecting', 10_000);
    expect(client.state.lastError?.closeCode).toBe(1013);
    expect(waits[0]).toBeGreaterThan(1500);
  });

  test('1012 (service restart) retries soon, with jitter below the first backoff step', async () => {
    const server = await closingServer(1012);
    const client = nodeClient({ url: server.url, transports: ['ws'], backoff: { initialDelayMs: 400 } });
    track(client);
    await until(() => client.state.status === 'reconnecting', 'reconnecting', 10_000);
    expect((client.state.nextRetryAt ?? 0) - Date.now()).toBeLessThanOrEqual(400);
    await until(() => server.count() >= 2, 'retried', 10_000);
  });
});

describe('transport fallback and upgrade', () => {
  test('a proxy blocking WebSocket upgrades: SSE, then back to WebSocket when it works, nothing lost or repeated', async () => {
    const { server, proxy } = await serverBehindProxy();
    proxy.blockUpgrades = true;
    const client = nodeClient({ url: proxy.url, upgradeIntervalMs: 500 });
    const states = track(client);
    const ticks = collect<{ n: number }>(client, 'ticks');
    await until(() => ticks.subscribed() === 1, 'subscribed', 10_000);
    expect(client.state.transport).toBe('sse');
    const publisher = steadyPublisher(server, 'ticks', 10);
    await sleep(800); // at least one upgrade probe fails meanwhile
    proxy.blockUpgrades = false;
    await until(() => client.state.transport === 'ws', 'moved back to ws', 10_000);
    await sleep(300);
    const published = publisher.stop();
    await until(() => ticks.received.length >= published, `all ${published} messages`, 10_000);
    await sleep(200);
    expect(ticks.received.map((m) => m.data.n)).toEqual(Array.from({ length: published }, (_, i) => i + 1));
    expect(ticks.resets).toHaveLength(0);
    // The switch happened while open: after the first open, nothing but open.
    const sinceOpen = states.slice(states.findIndex((s) => s.status === 'open'));
    expect(sinceOpen.filter((s) => s.status !== 'open').map((s) => s.status)).toEqual([]);
    expect(sinceOpen.map((s) => s.transport)).toContain('ws');
  });

  test('forced to one transport, it never falls back', async () => {
    const server = await startServer({ transports: { ws: false, sse: true, poll: true } });
    cleanup.push(() => server.close());
    const client = nodeClient({ url: server.url, transports: ['ws'], backoff: { initialDelayMs: 100 } });
    track(client);
    await until(() => client.state.attempt >= 2, 'retrying ws', 10_000);
    expect(client.state.transport).toBe('ws');
    expect(client.state.status).not.toBe('open');
  });
});

describe('signs of life (fake clock, real socket)', () => {
  test('frames move lastMessageAt once a second at most, keep the connection alive, and silence is caught at the limit', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => wss.once('listening', resolve));
    cleanup.push(() => new Promise((resolve) => wss.close(resolve)));
    let socket: WebSocket | undefined;
    wss.on('connection', (s) => {
      socket = s;
      // heartbeat 1000 ms × tolerance 2.5: silent for 2,500 ms is dead.
      s.send(JSON.stringify({ type: '$welcome', version: 1, heartbeat: 1000, node: 't' }));
    });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    cleanup.push(() => vi.useRealTimers());
    const url = `http://127.0.0.1:${(wss.address() as { port: number }).port}`;
    const client = nodeClient({ url, transports: ['ws'], stableAfterMs: 60_000 });
    cleanup.push(() => client.close());
    const received: number[] = [];
    client.subscribe<number>('ticks', (n) => received.push(n));
    let seq = 0;
    const send = async (count: number) => {
      for (let i = 0; i < count; i++) {
        seq++;
        socket?.send(JSON.stringify({ type: 'ticks', data: seq, seq, epoch: 'e', ts: 1 }));
      }
      await untilIoSettles(() => received.length === seq);
    };
    await untilIoSettles(() => client.state.status === 'open');
    const openedAt = Date.now();
    await send(1);
    expect(client.state.lastMessageAt).toBe(openedAt);
    vi.advanceTimersByTime(400);
    await send(50);
    expect(client.state.lastMessageAt).toBe(openedAt); // not moved per message
    vi.advanceTimersByTime(600);
    expect(client.state.lastMessageAt).toBe(openedAt + 1000); // frames came within the second
    // Silent from here: the last frame counts as seen at openedAt + 1000, so dead at openedAt + 3500.
    vi.advanceTimersByTime(2499);
    expect(client.state.status).toBe('open');
    vi.advanceTimersByTime(1);
    expect(client.state).toMatchObject({ status: 'reconnecting', lastError: { code: 'heartbeat_timeout' } });
  });
});
