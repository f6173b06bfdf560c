import { createServer } from 'node:net';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { backoffDelay, defaultBackoff, type LiveClient, resolveBackoff } from '../src/index.js';
import { nodeClient } from './helpers/live.js';
import { untilIoSettles } from './helpers/wait.js';

describe('backoffDelay', () => {
  test('equal jitter: between half and all of min(cap, base × factor^(n−1))', () => {
    const ceilings = [1000, 2000, 4000, 8000, 16000, 30000, 30000];
    ceilings.forEach((ceiling, i) => {
      expect(backoffDelay(i + 1, defaultBackoff, () => 0)).toBe(ceiling / 2);
      expect(backoffDelay(i + 1, defaultBackoff, () => 0.999999)).toBeCloseTo(ceiling, -1);
    });
  });

  test('the first delay is 0.5–1 s by default and huge attempt numbers stay at the cap', () => {
    for (let i = 0; i < 1000; i++) {
      const first = backoffDelay(1);
      expect(first).toBeGreaterThanOrEqual(500);
      expect(first).toBeLessThanOrEqual(1000);
    }
    expect(backoffDelay(10_000, defaultBackoff, () => 1)).toBe(30_000);
    expect(backoffDelay(0, defaultBackoff, () => 0)).toBe(500);
  });

  test('jitter spreads delays across the window', () => {
    const delays = Array.from({ length: 2000 }, () => backoffDelay(3));
    const low = delays.filter((d) => d < 3000).length;
    expect(low).toBeGreaterThan(800);
    expect(low).toBeLessThan(1200);
  });

  test('while restarting the ceiling stops at restartMaxDelayMs (5 s): 0.5–1, 1–2, 2–4, then 2.5–5 s', () => {
    const low = [1, 2, 3, 4, 5, 9, 40].map((n) => backoffDelay(n, defaultBackoff, () => 0, true));
    const high = [1, 2, 3, 4, 5, 9, 40].map((n) => backoffDelay(n, defaultBackoff, () => 1, true));
    expect(low).toEqual([500, 1000, 2000, 2500, 2500, 2500, 2500]);
    expect(high).toEqual([1000, 2000, 4000, 5000, 5000, 5000, 5000]);
    // The cap never raises a delay: below it (or with a smaller maxDelayMs) nothing changes.
    const small = resolveBackoff({ initialDelayMs: 100, maxDelayMs: 800 });
    for (const n of [1, 3, 6]) {
      expect(backoffDelay(n, small, () => 0.5, true)).toBe(backoffDelay(n, small, () => 0.5));
    }
    expect(backoffDelay(6, resolveBackoff({ restartMaxDelayMs: 3000 }), () => 1, true)).toBe(3000);
  });

  test('bad options are programmer errors', () => {
    expect(() => resolveBackoff({ restartMaxDelayMs: 0 })).toThrow(/restartMaxDelayMs/);
    expect(() => resolveBackoff({ restartWindowMs: Number.NaN })).toThrow(/restartWindowMs/);
    expect(() => resolveBackoff({ initialDelayMs: 0 })).toThrow(TypeError);
    expect(() => resolveBackoff({ factor: 0.5 })).toThrow(/factor/);
    expect(() => resolveBackoff({ initialDelayMs: 5000, maxDelayMs: 1000 })).toThrow(/maxDelayMs/);
  });
});

describe('reconnect timing (fake timers, real refused connections)', () => {
  let client: LiveClient | undefined;
  afterEach(() => {
    client?.close();
    client = undefined;
    vi.useRealTimers();
  });

  /** A port with nothing listening: every connection is refused at once. */
  async function refusedPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise((resolve) => server.close(resolve));
    return port;
  }

  async function delays(random: () => number, count: number, extra = {}): Promise<number[]> {
    const port = await refusedPort();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    client = nodeClient({ url: `http://127.0.0.1:${port}`, transports: ['ws'], random, ...extra });
    const seen: number[] = [];
    for (let i = 0; i < count; i++) {
      const attempt = i + 1;
      await untilIoSettles(() => client?.state.status === 'reconnecting' && client.state.attempt === attempt);
      const delay = (client?.state.nextRetryAt ?? 0) - Date.now();
      seen.push(Math.round(delay));
      vi.advanceTimersByTime(delay - 1);
      expect(client?.state.status).toBe('reconnecting'); // not a millisecond early
      vi.advanceTimersByTime(1);
      expect(client?.state).toMatchObject({ status: 'connecting', attempt: attempt + 1 });
    }
    return seen;
  }

  test('delays double from 0.5–1 s up to the 30 s cap (lowest and highest jitter)', async () => {
    expect(await delays(() => 0, 8)).toEqual([500, 1000, 2000, 4000, 8000, 15000, 15000, 15000]);
    client?.close();
    vi.useRealTimers();
    expect(await delays(() => 0.9999, 7)).toEqual([1000, 2000, 4000, 8000, 15999, 29999, 29999]);
  });

  test('configured backoff is obeyed', async () => {
    const seen = await delays(() => 0.5, 4, {
      backoff: { initialDelayMs: 100, factor: 3, maxDelayMs: 1000 },
    });
    expect(seen).toEqual([75, 225, 675, 750]);
  });

  test('after maxReconnectAttempts the client is failed; reconnect() starts over', async () => {
    const port = await refusedPort();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    client = nodeClient({ url: `http://127.0.0.1:${port}`, transports: ['ws'], maxReconnectAttempts: 3 });
    for (let attempt = 1; attempt < 3; attempt++) {
      await untilIoSettles(() => client?.state.status === 'reconnecting' && client.state.attempt === attempt);
      vi.advanceTimersByTime((client?.state.nextRetryAt ?? 0) - Date.now());
    }
    await untilIoSettles(() => client?.state.status === 'failed');
    expect(client.state).toMatchObject({ status: 'failed', attempt: 3, nextRetryAt: null });
    expect(client.state.lastError?.code).toBe('transport_failed');
    vi.advanceTimersByTime(10 * 60_000);
    expect(client.state.status).toBe('failed');
    client.reconnect();
    expect(client.state).toMatchObject({ status: 'connecting', attempt: 1 });
  });

  test('close() while waiting cancels the retry for good', async () => {
    const port = await refusedPort();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    client = nodeClient({ url: `http://127.0.0.1:${port}`, transports: ['ws'] });
    await untilIoSettles(() => client?.state.status === 'reconnecting');
    client.close();
    vi.advanceTimersByTime(60_000);
    expect(client.state.status).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('reconnect timing after a restart notice (fake timers, real sockets)', () => {
  let client: LiveClient | undefined;
  const servers: WebSocketServer[] = [];
  afterEach(async () => {
    client?.close();
    client = undefined;
    vi.useRealTimers();
    for (const wss of servers.splice(0)) {
      for (const socket of wss.clients) socket.terminate();
      await new Promise((resolve) => wss.close(resolve));
    }
  });

  /** A WebSocket server on `port` (0: any) that welcomes every connection; `sockets` holds them. */
  async function welcomingServer(port = 0) {
    const wss = new WebSocketServer({ port, host: '127.0.0.1' });
    await new Promise((resolve) => wss.once('listening', resolve));
    servers.push(wss);
    const sockets: WebSocket[] = [];
    wss.on('connection', (socket) => {
      sockets.push(socket);
      socket.send(JSON.stringify({ type: '$welcome', version: 1, heartbeat: 15000, node: 't' }));
    });
    const stop = () => new Promise((resolve) => wss.close(resolve));
    return { port: (wss.address() as { port: number }).port, sockets, stop };
  }

  /** Waits for each next retry, records its delay, and lets it start; until `more` says stop. */
  async function retries(more: (delays: number[]) => boolean): Promise<number[]> {
    const delays: number[] = [];
    while (more(delays)) {
      const attempt = client?.state.attempt ?? 0;
      await untilIoSettles(() => client?.state.status === 'reconnecting' && client.state.attempt === attempt);
      const delay = (client?.state.nextRetryAt ?? 0) - Date.now();
      delays.push(delay);
      vi.advanceTimersByTime(delay);
      expect(client?.state).toMatchObject({ status: 'connecting', attempt: attempt + 1 });
    }
    return delays;
  }

  async function openClient(random: () => number) {
    const server = await welcomingServer();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    client = nodeClient({ url: `http://127.0.0.1:${server.port}`, transports: ['ws'], random });
    await untilIoSettles(() => client?.state.status === 'open');
    return server;
  }

  /** The server says it is restarting (1012) and stops listening: every attempt is refused. */
  async function restartNotice(server: Awaited<ReturnType<typeof welcomingServer>>) {
    for (const socket of server.sockets) socket.close(1012, 'restart');
    await server.stop();
  }

  test('a slow restart: retries wait at most 5 s for 60 s after the notice, then back off as usual', async () => {
    const server = await openClient(() => 0.9999); // the longest delays jitter can draw
    const noticeAt = Date.now();
    await restartNotice(server);
    const delays = await retries(() => Date.now() - noticeAt < 60_000);
    expect(delays.slice(0, 5)).toEqual([1000, 2000, 4000, 5000, 5000]); // 1 s after the notice, then 2, 4, 5…
    expect(Math.max(...delays)).toBe(5000);
    // The window is over: the next wait is the usual step for this many failures (15–30 s).
    const [after] = await retries((d) => d.length < 1);
    expect(after).toBe(29999);
  });

  test('at the lowest jitter the waits are 0, 1, 2, then 2.5 s: half of each step is fixed', async () => {
    const server = await openClient(() => 0);
    await restartNotice(server);
    expect(await retries((d) => d.length < 7)).toEqual([0, 1000, 2000, 2500, 2500, 2500, 2500]);
  });

  test('a connection that stays up ends the restart window: later failures back off as usual', async () => {
    const first = await openClient(() => 0.9999);
    const port = first.port;
    await restartNotice(first);
    await retries((d) => d.length < 2); // refused twice while down
    const again = await welcomingServer(port);
    await retries((d) => d.length < 1); // the third attempt finds it back
    await untilIoSettles(() => client?.state.status === 'open');
    vi.advanceTimersByTime(5000); // stableAfterMs: the attempt count and the restart window end
    expect(client?.state.attempt).toBe(0);
    // Now the server dies without a notice (no close frame) and stays down.
    for (const socket of again.sockets) socket.terminate();
    await again.stop();
    expect(await retries((d) => d.length < 5)).toEqual([1000, 1000, 2000, 4000, 8000]); // 8 s: past the 5 s cap
  });
});
