import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import type { LivedashServer } from '@livedash/server';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import type { ConnectionSnapshot, LiveClient } from '../src/index.js';
import { collect, nodeClient, startServer, waitFor } from './helpers/live.js';
import { TcpProxy } from './helpers/tcp-proxy.js';

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
    await waitFor(() => ticks.subscribed() === 1, 10_000, 'subscribed');
    const publisher = steadyPublisher(server, 'ticks', 20);
    await sleep(500);
    proxy.cut();
    await sleep(2500);
    proxy.restore();
    await sleep(500);
    const published = publisher.stop();
    await waitFor(() => ticks.received.length >= published, 15_000, `all ${published} messages`);
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
    await waitFor(() => ticks.subscribed() === 1, 10_000, 'subscribed');
    proxy.pause();
    for (let n = 1; n <= 10; n++) await server.hub.publish('ticks', { n });
    await waitFor(
      () => ticks.received.length === 10,
      15_000,
      `messages published while half-open, got ${JSON.stringify(ticks.received)}`,
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
    await waitFor(() => client.state.status === 'reconnecting', 10_000, 'reconnecting');
    expect(client.state.lastError?.code).toBe('connect_timeout');
    expect(states.map((s) => s.status)).toEqual(['reconnecting']);
    await waitFor(() => client.state.attempt === 2, 10_000, 'second attempt');
  });

  test('300 clients reconnecting after a server restart spread their attempts', async () => {
    const { server, proxy } = await serverBehindProxy({ maxConnectionsPerIp: 1000 });
    const clients = Array.from({ length: 300 }, () => nodeClient({ url: proxy.url, transports: ['ws'] }));
    for (const client of clients) cleanup.push(() => client.close());
    await waitFor(() => clients.every((c) => c.state.status === 'open'), 30_000, '300 open');
    const restartedAt = Date.now();
    const before = proxy.connections;
    await server.close(); // WebSockets get 1012 (service restart)
    const again = await startServer({ port: server.port, maxConnectionsPerIp: 1000 });
    cleanup.push(() => again.close());
    await waitFor(() => clients.every((c) => c.state.status === 'open'), 30_000, '300 open again');
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
  await waitFor(() => ticks.subscribed() === 1, 10_000, 'subscribed');
  for (let n = 1; n <= 3; n++) await server.hub.publish('ticks', { n });
  client.reconnect();
  expect(client.state).toMatchObject({ status: 'connecting', attempt: 1 });
  for (let n = 4; n <= 6; n++) await server.hub.publish('ticks', { n });
  await waitFor(() => ticks.received.length === 6, 10_000, 'six messages');
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
    await waitFor(() => client.state.status === 'failed', 10_000, 'failed');
    expect(client.state.lastError).toMatchObject({ code: 'unauthorized', closeCode: 4001 });
    await sleep(1500);
    expect(server.count()).toBe(1);
    client.reconnect();
    await waitFor(() => server.count() === 2, 10_000, 'manual reconnect');
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
    await waitFor(() => client.state.status === 'reconnecting', 10_000, 'reconnecting');
    expect(client.state.lastError?.closeCode).toBe(1013);
    expect(waits[0]).toBeGreaterThan(1500);
  });

  test('1012 (service restart) retries soon, with jitter below the first backoff step', async () => {
    const server = await closingServer(1012);
    const client = nodeClient({ url: server.url, transports: ['ws'], backoff: { initialDelayMs: 400 } });
    track(client);
    await waitFor(() => client.state.status === 'reconnecting', 10_000, 'reconnecting');
    expect((client.state.nextRetryAt ?? 0) - Date.now()).toBeLessThanOrEqual(400);
    await waitFor(() => server.count() >= 2, 10_000, 'retried');
  });
});

describe('transport fallback and upgrade', () => {
  test('a proxy blocking WebSocket upgrades: SSE, then back to WebSocket when it works, nothing lost or repeated', async () => {
    const { server, proxy } = await serverBehindProxy();
    proxy.blockUpgrades = true;
    const client = nodeClient({ url: proxy.url, upgradeIntervalMs: 500 });
    const states = track(client);
    const ticks = collect<{ n: number }>(client, 'ticks');
    await waitFor(() => ticks.subscribed() === 1, 10_000, 'subscribed');
    expect(client.state.transport).toBe('sse');
    const publisher = steadyPublisher(server, 'ticks', 10);
    await sleep(800); // at least one upgrade probe fails meanwhile
    proxy.blockUpgrades = false;
    await waitFor(() => client.state.transport === 'ws', 10_000, 'moved back to ws');
    await sleep(300);
    const published = publisher.stop();
    await waitFor(() => ticks.received.length >= published, 10_000, `all ${published} messages`);
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
    await waitFor(() => client.state.attempt >= 2, 10_000, 'retrying ws');
    expect(client.state.transport).toBe('ws');
    expect(client.state.status).not.toBe('open');
  });
});

describe('signs of life (fake clock, real socket)', () => {
  /** Lets real I/O happen while timers and Date stay frozen. */
  async function until(condition: () => boolean): Promise<void> {
    for (let i = 0; i < 20_000 && !condition(); i++) await new Promise((resolve) => setImmediate(resolve));
    if (!condition()) throw new Error('condition never held');
  }

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
      await until(() => received.length === seq);
    };
    await until(() => client.state.status === 'open');
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
