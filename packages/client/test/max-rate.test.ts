import type { LivedashServer } from '@livedash/server';
import { describe, expect, test } from 'vitest';
import type { LiveClient, TransportName } from '../src/index.js';
import { useLiveServer, waitFor } from './helpers/live.js';

// `client.subscribe(channel, listener, { maxRate })` against a real server (docs/protocol.md,
// "Rate-limited subscriptions"): `gauge` is a state channel, `log` a stream channel.

const live = useLiveServer({ stateChannels: ['gauge'] });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Publishes `{ n }` on `channel` about every 5 ms (~200/s) for `ms`; returns how many were published. */
async function publishFor(server: LivedashServer, channel: string, ms: number): Promise<number> {
  const end = Date.now() + ms;
  let n = 0;
  while (Date.now() < end) {
    await server.hub.publish(channel, { n: ++n });
    await sleep(5);
  }
  return n;
}

/**
 * Every delivery of `channel` with its arrival time; `bursts()` counts arrivals more than 3 ms apart
 * from the one before (the frames of one write are parsed and delivered in one go; unrated messages
 * published every ~5 ms arrive one by one).
 */
function record(client: LiveClient, channel: string, maxRate?: number) {
  const got: { n: number; seq: number; at: number }[] = [];
  let subscribed = 0;
  const off = client.subscribe<{ n: number }>(
    channel,
    (data, meta) => got.push({ n: data.n, seq: meta.seq, at: performance.now() }),
    { ...(maxRate === undefined ? {} : { maxRate }), onSubscribed: () => subscribed++ },
  );
  const bursts = (from = 0) =>
    got.slice(from).filter((entry, i, all) => i === 0 || entry.at - (all[i - 1]?.at ?? 0) > 3).length;
  return { got, off, bursts, subscribed: () => subscribed };
}

const transports: { name: TransportName; extra: object }[] = [
  { name: 'ws', extra: {} },
  { name: 'sse', extra: {} },
  // Polled every 20 ms: the rate, not the poll interval, is what limits a rated channel.
  { name: 'poll', extra: { pollIntervalMs: 20 } },
];

describe.each(transports)('maxRate over $name', ({ name, extra }) => {
  test('a state channel published at ~200/s arrives about 5 times a second, newest first, the last value always', async () => {
    const client = live.client({ transports: [name], ...extra });
    const gauge = record(client, 'gauge', 5);
    await waitFor(() => gauge.subscribed() === 1, 10_000, 'subscribed');
    const started = performance.now();
    const published = await publishFor(live.server, 'gauge', 2000);
    await waitFor(() => gauge.got.at(-1)?.n === published, 5000, 'the last value');
    const seconds = (performance.now() - started) / 1000;
    const said = `${gauge.got.length} deliveries in ${seconds.toFixed(1)} s, seqs ${gauge.got.map((entry) => entry.seq).join(' ')}`;
    expect(published).toBeGreaterThan(100);
    // ~5/s (the first after a quiet interval goes at once, the last comes on the next tick); a loaded
    // machine's late timers give fewer, never more.
    expect(gauge.got.length, said).toBeGreaterThanOrEqual(Math.floor(seconds * 2));
    expect(gauge.got.length, said).toBeLessThanOrEqual(Math.ceil(seconds * 5) + 3);
    const seqs = gauge.got.map((entry) => entry.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    // Conflated on purpose: seqs skip, and the client did not take that for a gap to repair.
    expect(gauge.subscribed(), said).toBe(1);
  }, 30_000);

  test('a stream channel delivers every message in order, in about 5 batches a second', async () => {
    const client = live.client({ transports: [name], ...extra });
    const log = record(client, 'log', 5);
    await waitFor(() => log.subscribed() === 1, 10_000, 'subscribed');
    const started = performance.now();
    const published = await publishFor(live.server, 'log', 1500);
    await waitFor(
      () => log.got.length === published,
      5000,
      () => `${published} messages, got ${log.got.length}`,
    );
    const seconds = (performance.now() - started) / 1000;
    expect(log.got.map((entry) => entry.n)).toEqual(Array.from({ length: published }, (_, i) => i + 1));
    // Unrated, ~200 messages a second arrive one by one; rated, in at most ~5 writes a second.
    expect(log.bursts()).toBeLessThanOrEqual(Math.ceil(seconds * 5) + 3);
  }, 30_000);
});

describe('maxRate and the client', () => {
  test('a reconnect resubscribes at the same rate, and resumes exactly', async () => {
    const client = live.client();
    const log = record(client, 'log', 5);
    const gauge = record(client, 'gauge', 5);
    await waitFor(() => log.subscribed() === 1 && gauge.subscribed() === 1, 10_000, 'subscribed');
    const publishing = Promise.all([
      publishFor(live.server, 'log', 2500),
      publishFor(live.server, 'gauge', 2500),
    ]);
    await sleep(800);
    client.reconnect();
    await waitFor(() => log.subscribed() === 2, 10_000, 'subscribed again');
    const fromLog = log.got.length;
    const fromGauge = gauge.got.length;
    const resumedAt = performance.now();
    const [published, publishedGauge] = await publishing;
    await waitFor(() => log.got.length === published && gauge.got.at(-1)?.n === publishedGauge, 5000, 'all');
    const seconds = (performance.now() - resumedAt) / 1000;
    // Every message of the stream once, in order, across the reconnect.
    expect(log.got.map((entry) => entry.n)).toEqual(Array.from({ length: published }, (_, i) => i + 1));
    // Still rated after it: batches and conflated values at about 5 a second (+ the replay, at once).
    expect(log.bursts(fromLog)).toBeLessThanOrEqual(Math.ceil(seconds * 5) + 4);
    expect(gauge.got.length - fromGauge).toBeLessThanOrEqual(Math.ceil(seconds * 5) + 4);
  }, 30_000);

  test('listeners of one channel at different rates share the highest; when it leaves, the rate falls', async () => {
    const client = live.client();
    const slow = record(client, 'gauge', 2);
    const fast = record(client, 'gauge', 20);
    await waitFor(() => slow.subscribed() >= 1 && fast.subscribed() >= 1, 10_000, 'subscribed');
    await publishFor(live.server, 'gauge', 1500);
    await sleep(200);
    // Both get what the one subscription delivers: ~20/s, far more than 2/s.
    expect(fast.got.length).toBeGreaterThan(12);
    expect(slow.got.length).toBe(fast.got.length);
    fast.off();
    await sleep(300);
    const before = slow.got.length;
    const published = await publishFor(live.server, 'gauge', 2000);
    await waitFor(() => slow.got.at(-1)?.n === published, 5000, 'the last value');
    // Resubscribed at 2/s: ~4 in 2 s (plus the first at once and the trailing last).
    expect(slow.got.length - before).toBeLessThanOrEqual(8);
    expect(live.server.hub.subscriptionCount).toBe(1);
  }, 30_000);

  test('a listener without maxRate makes the subscription unrated: every message to every listener', async () => {
    const client = live.client();
    const rated = record(client, 'gauge', 2);
    const every = record(client, 'gauge');
    await waitFor(() => rated.subscribed() >= 1 && every.subscribed() >= 1, 10_000, 'subscribed');
    const published = await publishFor(live.server, 'gauge', 500);
    await waitFor(() => every.got.at(-1)?.n === published, 5000, 'the last value');
    expect(every.got.map((entry) => entry.n)).toEqual(Array.from({ length: published }, (_, i) => i + 1));
    expect(rated.got.length).toBe(every.got.length);
  }, 30_000);

  test('a maxRate outside 0.1–100 is refused at once', () => {
    const client = live.client({ autoConnect: false });
    for (const maxRate of [0, -1, 101, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => client.subscribe('gauge', () => {}, { maxRate })).toThrow(RangeError);
    expect(() => client.channel('gauge', { maxRate: 0 })).toThrow(RangeError);
    expect(() => client.history('gauge', { maxRate: 500 })).toThrow(RangeError);
  });

  test('channel and history stores subscribe at their maxRate, one store per channel and rate', async () => {
    const client = live.client();
    const store = client.channel<{ n: number }>('gauge', { maxRate: 5 });
    expect(client.channel('gauge', { maxRate: 5 })).toBe(store);
    expect(client.channel('gauge')).not.toBe(store);
    const values: number[] = [];
    const off = store.subscribe(() => {
      const n = store.getSnapshot().data?.n;
      if (n !== undefined) values.push(n);
    });
    await waitFor(() => live.server.hub.subscriptionCount === 1, 10_000, 'subscribed');
    await sleep(100);
    const published = await publishFor(live.server, 'gauge', 1500);
    await waitFor(() => values.at(-1) === published, 5000, 'the last value');
    expect(values.length).toBeLessThanOrEqual(14);
    off();
  }, 30_000);
});
