import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PollingStore, type VisibilitySource } from '../src/stores/polling-store.js';

/** A controllable page visibility. */
function fakeVisibility(): VisibilitySource & { set(hidden: boolean): void } {
  let hidden = false;
  const listeners = new Set<() => void>();
  return {
    isHidden: () => hidden,
    subscribe(onChange) {
      listeners.add(onChange);
      return () => listeners.delete(onChange);
    },
    set(value) {
      hidden = value;
      for (const listener of listeners) listener();
    },
  };
}

describe('PollingStore (scheduling, fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('polls on subscribe, then every interval, and stops after the last listener leaves', async () => {
    let calls = 0;
    const store = new PollingStore(async () => ++calls, { interval: 1000 });
    expect(store.getSnapshot().status).toBe('idle');
    const stop = store.subscribe(() => {});
    await vi.advanceTimersByTimeAsync(0);
    expect(store.getSnapshot()).toMatchObject({ data: 1, status: 'waiting', error: null });
    await vi.advanceTimersByTimeAsync(1000);
    expect(store.getSnapshot().data).toBe(2);
    await vi.advanceTimersByTimeAsync(3000);
    expect(calls).toBe(5);
    stop();
    expect(store.getSnapshot().status).toBe('idle');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toBe(5);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('never overlaps: a request slower than the interval delays the next one', async () => {
    let active = 0;
    let maxActive = 0;
    let calls = 0;
    const store = new PollingStore(
      async () => {
        calls++;
        active++;
        maxActive = Math.max(maxActive, active);
        await new Promise((resolve) => setTimeout(resolve, 2500));
        active--;
        return calls;
      },
      { interval: 1000 },
    );
    const stop = store.subscribe(() => {});
    await vi.advanceTimersByTimeAsync(10_000);
    stop();
    expect(maxActive).toBe(1);
    // One request every 2.5 s rather than every 1 s: 4 started in 10 s (at 0, 2.5, 5, 7.5).
    expect(calls).toBe(4);
  });

  it('calls the latest fetcher without restarting the interval', async () => {
    const seen: string[] = [];
    const store = new PollingStore(async () => seen.push('a'), { interval: 1000 });
    const stop = store.subscribe(() => {});
    await vi.advanceTimersByTimeAsync(500);
    store.setFetcher(async () => seen.push('b'));
    store.setFetcher(async () => seen.push('c'));
    await vi.advanceTimersByTimeAsync(499);
    expect(seen).toEqual(['a']);
    await vi.advanceTimersByTimeAsync(1);
    expect(seen).toEqual(['a', 'c']);
    stop();
  });

  it('exposes errors, keeps the last data, retries with growing backoff, and recovers', async () => {
    let fail = false;
    let calls = 0;
    const store = new PollingStore(
      async () => {
        calls++;
        if (fail) throw new Error('boom');
        return 'ok';
      },
      { interval: 100, backoff: { initialDelayMs: 1000, maxDelayMs: 8000 }, random: () => 1 },
    );
    const stop = store.subscribe(() => {});
    await vi.advanceTimersByTimeAsync(0);
    fail = true;
    await vi.advanceTimersByTimeAsync(100);
    expect(store.getSnapshot()).toMatchObject({ data: 'ok', status: 'backoff', failures: 1 });
    expect(store.getSnapshot().error?.message).toBe('boom');
    const times: number[] = [];
    let last = calls;
    for (let t = 0; t < 16_000; t += 100) {
      await vi.advanceTimersByTimeAsync(100);
      if (calls !== last) {
        times.push(t + 100);
        last = calls;
      }
    }
    // With random() = 1 the delays are the ceilings: 1 s, 2 s, 4 s, 8 s, 8 s…
    expect(times.slice(0, 4)).toEqual([1000, 3000, 7000, 15_000]);
    fail = false;
    await vi.advanceTimersByTimeAsync(8000);
    expect(store.getSnapshot()).toMatchObject({ data: 'ok', error: null, failures: 0, status: 'waiting' });
    stop();
  });

  it('turns a synchronous throw and a non-Error rejection into error values', async () => {
    const store = new PollingStore<number>(
      () => {
        throw new Error('sync');
      },
      { interval: 100 },
    );
    const stop = store.subscribe(() => {});
    await vi.advanceTimersByTimeAsync(0);
    expect(store.getSnapshot().error?.message).toBe('sync');
    store.setFetcher(() => Promise.reject('plain string'));
    await vi.advanceTimersByTimeAsync(2000);
    expect(store.getSnapshot().error).toMatchObject({ code: 'transport_failed' });
    expect(store.getSnapshot().error?.message).toContain('plain string');
    stop();
  });

  it('times out a hung fetcher, aborting its signal', async () => {
    let signal: AbortSignal | undefined;
    const store = new PollingStore(
      (context) => {
        signal = context.signal;
        return new Promise<number>(() => {});
      },
      { interval: 100, timeoutMs: 5000 },
    );
    const stop = store.subscribe(() => {});
    await vi.advanceTimersByTimeAsync(4999);
    expect(store.getSnapshot().status).toBe('fetching');
    await vi.advanceTimersByTimeAsync(1);
    expect(signal?.aborted).toBe(true);
    expect(store.getSnapshot()).toMatchObject({ status: 'backoff', failures: 1 });
    expect(store.getSnapshot().error?.message).toContain('timed out after 5000 ms');
    stop();
  });

  it('pauses while hidden and refreshes at once when visible again', async () => {
    const visibility = fakeVisibility();
    let calls = 0;
    const store = new PollingStore(async () => ++calls, { interval: 1000, visibility });
    const stop = store.subscribe(() => {});
    await vi.advanceTimersByTimeAsync(0);
    visibility.set(true);
    expect(store.getSnapshot().status).toBe('paused');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toBe(1);
    visibility.set(false);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(2);
    expect(store.getSnapshot().status).toBe('waiting');
    stop();
  });

  it('does not start while hidden, and stops on disable', async () => {
    const visibility = fakeVisibility();
    visibility.set(true);
    let calls = 0;
    const store = new PollingStore(async () => ++calls, { interval: 1000, visibility });
    const stop = store.subscribe(() => {});
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toBe(0);
    visibility.set(false);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(1);
    store.setEnabled(false);
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toBe(1);
    expect(store.getSnapshot()).toMatchObject({ status: 'idle', data: 1 });
    store.setEnabled(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(2);
    stop();
  });

  it('ignores a result that arrives after the last listener left, and notifies nobody', async () => {
    let resolve: ((value: number) => void) | undefined;
    const store = new PollingStore(() => new Promise<number>((r) => (resolve = r)), { interval: 1000 });
    let notified = 0;
    const stop = store.subscribe(() => notified++);
    await vi.advanceTimersByTimeAsync(0);
    stop();
    const before = notified;
    resolve?.(42);
    await vi.advanceTimersByTimeAsync(5000);
    expect(store.getSnapshot().data).toBeNull();
    expect(notified).toBe(before);
  });

  it('keeps the same snapshot object until something changes', async () => {
    const store = new PollingStore(async () => 'same', { interval: 1000 });
    const stop = store.subscribe(() => {});
    await vi.advanceTimersByTimeAsync(0);
    const first = store.getSnapshot();
    expect(store.getSnapshot()).toBe(first);
    stop();
  });

  it('rejects bad options with a clear error', () => {
    expect(() => new PollingStore(async () => 1, { interval: 0 })).toThrow(/interval must be a positive/);
    expect(() => new PollingStore(async () => 1, { interval: Number.NaN })).toThrow(/interval/);
    expect(() => new PollingStore(async () => 1, { interval: 10, timeoutMs: -1 })).toThrow(/timeoutMs/);
    expect(() => new PollingStore('nope' as never, { interval: 10 })).toThrow(/fetcher must be a function/);
  });
});

describe('PollingStore against a real slow HTTP server', () => {
  let server: Server;
  let url: string;
  let active = 0;
  let maxActive = 0;
  let requests = 0;

  beforeEach(async () => {
    active = 0;
    maxActive = 0;
    requests = 0;
    server = createServer((_req, res) => {
      requests++;
      active++;
      maxActive = Math.max(maxActive, active);
      setTimeout(() => {
        active--;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ n: requests }));
      }, 150);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('never has two requests in flight even with an interval shorter than the response time', async () => {
    const store = new PollingStore<{ n: number }>(
      ({ signal }) => fetch(url, { signal }).then((r) => r.json() as Promise<{ n: number }>),
      { interval: 20 },
    );
    const stop = store.subscribe(() => {});
    await vi.waitFor(() => expect(requests).toBeGreaterThanOrEqual(5), { timeout: 10_000 });
    stop();
    expect(maxActive).toBe(1);
    expect(store.getSnapshot().data?.n).toBeGreaterThanOrEqual(4);
  });
});
