import { Hub, MemoryBroker } from '@livedash/server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HostMetrics, type MetricsMessage } from '../../src/sources/host-metrics.js';
import { type HostReader, systemHostReader } from '../../src/sources/host-reader.js';
import { until } from '../helpers/wait.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function newHub(): Hub {
  const broker = new MemoryBroker();
  cleanups.push(() => broker.close());
  return new Hub(broker, { maxQueueBytes: 1 << 20, maxSubscriptions: 256 });
}

/** Collects every message published on `channel` through the hub. */
function collect(hub: Hub, channel: string): MetricsMessage[] {
  const seen: MetricsMessage[] = [];
  const unwatch = hub.watch(channel, (data) => seen.push(data as MetricsMessage));
  cleanups.push(unwatch);
  return seen;
}

function startMetrics(hub: Hub, options: ConstructorParameters<typeof HostMetrics>[1]): HostMetrics {
  const metrics = new HostMetrics(hub, options);
  metrics.start();
  cleanups.push(() => metrics.stop());
  return metrics;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const hasOneDecimal = (value: number) => Math.abs(value * 10 - Math.round(value * 10)) < 1e-9;

describe('HostMetrics with the real systeminformation', () => {
  it('publishes sane values on metrics and metrics.<node>, changing over time', async () => {
    const hub = newHub();
    const shared = collect(hub, 'metrics');
    const perNode = collect(hub, 'metrics.test-node');
    startMetrics(hub, { intervalMs: 200, node: 'test-node', diskIntervalMs: 500 });

    await until(() => shared.length >= 2, 'two metrics messages');
    // Change the machine so consecutive readings must differ even when other work holds the CPU at
    // 100 %: burn CPU for a moment and hold 256 MiB (touched, so it is really in use) until the end.
    const busyUntil = Date.now() + 300;
    while (Date.now() < busyUntil) Math.sqrt(Math.random());
    let ballast: Buffer | undefined = Buffer.alloc(256 * 1024 * 1024, 1);
    await until(() => shared.length >= 6 && shared.some((m) => m.disk.length > 0), 'six messages with disks');
    expect(ballast.length).toBeGreaterThan(0);
    ballast = undefined;

    for (const message of shared) {
      for (const percent of [message.cpu, message.memory]) {
        expect(percent).toBeGreaterThanOrEqual(0);
        expect(percent).toBeLessThanOrEqual(100);
        expect(hasOneDecimal(percent)).toBe(true);
      }
      expect(message.memory).toBeGreaterThan(0);
      expect(message.load).toHaveLength(3);
      for (const load of message.load) expect(load).toBeGreaterThanOrEqual(0);
      expect(Number.isInteger(message.network.rxBytesPerSec) && message.network.rxBytesPerSec >= 0).toBe(
        true,
      );
      expect(Number.isInteger(message.network.txBytesPerSec) && message.network.txBytesPerSec >= 0).toBe(
        true,
      );
      expect(message.node).toBe('test-node');
      expect(Math.abs(message.ts - Date.now())).toBeLessThan(60_000);
    }
    const withDisks = shared.find((m) => m.disk.length > 0)!;
    for (const disk of withDisks.disk) {
      expect(disk.mount).toMatch(/^\S/);
      expect(disk.size).toBeGreaterThan(0);
      expect(disk.used).toBeLessThanOrEqual(disk.size);
      // Use% as df shows it: of the space users can have, so at least the share of the raw size.
      expect(disk.usePercent).toBeGreaterThanOrEqual(Math.floor((disk.used / disk.size) * 100));
      expect(disk.usePercent).toBeLessThanOrEqual(100);
    }
    // Time moves on and the readings change from message to message.
    for (let i = 1; i < shared.length; i++) expect(shared[i]!.ts).toBeGreaterThan(shared[i - 1]!.ts);
    expect(new Set(shared.map((m) => `${m.cpu}/${m.memory}`)).size).toBeGreaterThan(1);
    // The per-node channel carries the same messages.
    await until(() => perNode.length >= shared.length, 'per-node copies');
    expect(perNode.slice(0, shared.length)).toEqual(shared);
  });

  it('never overlaps two reads: a slow read skips ticks instead of queueing them', async () => {
    const hub = newHub();
    const seen = collect(hub, 'metrics');
    const real = systemHostReader();
    let inFlight = 0;
    let maxInFlight = 0;
    let completed = 0;
    const slow: HostReader = {
      async sample() {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        try {
          await sleep(250); // five intervals
          return await real.sample();
        } finally {
          inFlight--;
          completed++;
        }
      },
      disks: () => real.disks(),
    };
    const metrics = startMetrics(hub, { intervalMs: 50, node: 'n1', reader: slow });

    await until(() => completed >= 3, 'three slow reads');
    expect(maxInFlight).toBe(1);
    expect(metrics.stats.skipped).toBeGreaterThanOrEqual(3);
    await until(() => seen.length >= 3, 'their messages');
    await metrics.stop();
    // stop() waited for the read in flight; no backlog of queued reads runs or publishes afterwards.
    expect(metrics.stats.reads).toBe(completed);
    const published = seen.length;
    // Each read gave one message, except a read that stop() interrupted (it publishes nothing).
    expect(published === completed || published === completed - 1).toBe(true);
    await sleep(200);
    expect(seen.length).toBe(published);
    expect(metrics.stats.reads).toBe(completed);
  });

  it('logs a failing read once, keeps going and says when it recovers', async () => {
    const hub = newHub();
    const seen = collect(hub, 'metrics');
    const real = systemHostReader();
    let calls = 0;
    const flaky: HostReader = {
      sample: () => (++calls <= 3 ? Promise.reject(new Error('EACCES /proc/stat')) : real.sample()),
      disks: () => Promise.reject(new Error('df not found')),
    };
    const log: string[] = [];
    startMetrics(hub, {
      intervalMs: 50,
      node: 'n1',
      reader: flaky,
      diskIntervalMs: 50,
      log: (m) => log.push(m),
    });

    await until(() => seen.length >= 2, 'messages after the failures');
    expect(log.filter((line) => line.includes('host metrics read failed'))).toEqual([
      'host metrics read failed: EACCES /proc/stat (logged once until it recovers)',
    ]);
    expect(log).toContain('host metrics read recovered after 3 failure(s)');
    // The disk read fails on every attempt but is logged once, and metrics go on without disks.
    expect(log.filter((line) => line.includes('disk usage read failed'))).toHaveLength(1);
    expect(seen.every((m) => m.disk.length === 0)).toBe(true);
  });

  it('does not let a slow disk read delay metrics', async () => {
    const hub = newHub();
    const seen = collect(hub, 'metrics');
    const real = systemHostReader();
    let releaseDisks: () => void = () => {};
    const stuckDisks: HostReader = {
      sample: () => real.sample(),
      disks: () =>
        new Promise((resolve) => {
          releaseDisks = () => resolve([{ mount: '/data', size: 100, used: 25, usePercent: 25 }]);
        }),
    };
    startMetrics(hub, { intervalMs: 50, node: 'n1', reader: stuckDisks });

    await until(() => seen.length >= 3, 'metrics while the disk read hangs');
    expect(seen.every((m) => m.disk.length === 0)).toBe(true);
    releaseDisks();
    await until(() => seen.at(-1)?.disk[0]?.mount === '/data', 'the disk usage once read');
  });

  it('publishes nothing once stop() has resolved', async () => {
    const hub = newHub();
    const seen = collect(hub, 'metrics');
    const metrics = startMetrics(hub, { intervalMs: 30, node: 'n1' });
    await until(() => seen.length >= 2, 'two messages');
    await metrics.stop();
    const count = seen.length;
    await sleep(200);
    expect(seen.length).toBe(count);
  });

  it('reports a read that never finishes, once, and stops without waiting for it forever', async () => {
    vi.useFakeTimers();
    try {
      const log: string[] = [];
      const hung: HostReader = { sample: () => new Promise(() => {}), disks: async () => [] };
      const metrics = new HostMetrics(newHub(), {
        intervalMs: 1000,
        node: 'n1',
        reader: hung,
        log: (m) => log.push(m),
      });
      metrics.start();
      await vi.advanceTimersByTimeAsync(9_000);
      expect(log).toEqual([]);
      await vi.advanceTimersByTimeAsync(20_000);
      expect(log).toEqual(['host metrics read has not finished after 10 s; skipping ticks until it does']);
      expect(metrics.stats).toEqual({ reads: 1, skipped: 29 });
      const stopped = metrics.stop();
      await vi.advanceTimersByTimeAsync(2_000);
      await stopped;
    } finally {
      vi.useRealTimers();
    }
  });

  it('rejects a non-positive interval', () => {
    expect(() => new HostMetrics(newHub(), { intervalMs: 0, node: 'n1' })).toThrow(/intervalMs/);
  });
});
