import { createServer } from 'node:net';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { backoffDelay, defaultBackoff, type LiveClient, resolveBackoff } from '../src/index.js';
import { nodeClient } from './helpers/live.js';

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

  test('bad options are programmer errors', () => {
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

  /** Lets real I/O (the refusal) happen while timers stay frozen. */
  async function until(condition: () => boolean): Promise<void> {
    for (let i = 0; i < 20_000 && !condition(); i++) await new Promise((resolve) => setImmediate(resolve));
    if (!condition()) throw new Error('condition never held');
  }

  async function delays(random: () => number, count: number, extra = {}): Promise<number[]> {
    const port = await refusedPort();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    client = nodeClient({ url: `http://127.0.0.1:${port}`, transports: ['ws'], random, ...extra });
    const seen: number[] = [];
    for (let i = 0; i < count; i++) {
      const attempt = i + 1;
      await until(() => client?.state.status === 'reconnecting' && client.state.attempt === attempt);
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
      await until(() => client?.state.status === 'reconnecting' && client.state.attempt === attempt);
      vi.advanceTimersByTime((client?.state.nextRetryAt ?? 0) - Date.now());
    }
    await until(() => client?.state.status === 'failed');
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
    await until(() => client?.state.status === 'reconnecting');
    client.close();
    vi.advanceTimersByTime(60_000);
    expect(client.state.status).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
  });
});
