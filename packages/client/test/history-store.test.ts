import { expect, test } from 'vitest';
import { type HistoryEntry, HistoryStore, type StoreSource } from '../src/index.js';
import { startServer, useLiveServer, waitFor } from './helpers/live.js';

const live = useLiveServer();
const client = live.client;

test('history store: backfilled from server history, then live, capped at limit', async () => {
  for (let n = 1; n <= 30; n++) await live.server.hub.publish('series', { n });
  const c = client();
  const history = c.history<{ n: number }>('series', { limit: 10 });
  expect(c.history('series', { limit: 10 })).toBe(history);
  let last: readonly HistoryEntry<{ n: number }>[] = [];
  const off = history.subscribe(() => {
    last = history.getSnapshot();
  });
  await waitFor(() => last.length === 10, 10_000, 'backfill');
  expect(last.map((e) => e.data.n)).toEqual([21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
  await live.server.hub.publish('series', { n: 31 });
  await waitFor(() => last.at(-1)?.data.n === 31);
  expect(last.map((e) => e.seq)).toEqual([22, 23, 24, 25, 26, 27, 28, 29, 30, 31]);
  off();
});

test('history store: a reset (server restarted, history lost) clears the series and starts over', async () => {
  const port = live.server.port;
  for (let n = 1; n <= 5; n++) await live.server.hub.publish('series', { n });
  const c = client({ backoff: { initialDelayMs: 200, maxDelayMs: 1000 }, connectTimeoutMs: 3000 });
  const history = c.history<{ n: number }>('series', { limit: 10 });
  let last: readonly HistoryEntry<{ n: number }>[] = [];
  const off = history.subscribe(() => {
    last = history.getSnapshot();
  });
  await waitFor(() => last.length === 5, 10_000, 'backfill');
  await live.server.close();
  live.server = await startServer({ port });
  await waitFor(() => c.state.status === 'open', 15_000, 'reconnected');
  await live.server.hub.publish('series', { n: 100 });
  await live.server.hub.publish('series', { n: 101 });
  await waitFor(
    () => last.at(-1)?.data.n === 101,
    10_000,
    () => `new history, got ${JSON.stringify(last)}`,
  );
  expect(last.map((e) => e.data.n)).toEqual([100, 101]);
  off();
});

test('history store: after a reset, what the new epoch got before the client was back is backfilled', async () => {
  const port = live.server.port;
  for (let n = 1; n <= 5; n++) await live.server.hub.publish('series', { n });
  const c = client({ backoff: { initialDelayMs: 500, maxDelayMs: 1000 }, connectTimeoutMs: 3000 });
  const history = c.history<{ n: number }>('series', { limit: 10 });
  let last: readonly HistoryEntry<{ n: number }>[] = [];
  const off = history.subscribe(() => {
    last = history.getSnapshot();
  });
  await waitFor(() => last.length === 5, 10_000, 'backfill');
  await live.server.close();
  live.server = await startServer({ port });
  // Published while the client is still waiting out its backoff: it comes back to seq 2 of a new epoch.
  await live.server.hub.publish('series', { n: 100 });
  await live.server.hub.publish('series', { n: 101 });
  await waitFor(
    () => last.length === 2,
    15_000,
    () => `new history, got ${JSON.stringify(last)}`,
  );
  expect(last.map((e) => e.data.n)).toEqual([100, 101]);
  off();
});

test('history store: messages a backfill already brought are not shown twice when they arrive live', async () => {
  for (let n = 1; n <= 5; n++) await live.server.hub.publish('series', { n });
  const c = client();
  // Live messages reach the store a second late, after the backfill, as a worker's batched frames can
  // arrive after its answer from the shared history.
  const late: StoreSource = {
    get state() {
      return c.state;
    },
    onState: (listener) => c.onState(listener),
    fetchHistory: (channel, since, epoch) => c.fetchHistory(channel, since, epoch),
    subscribe: (channel, listener, options) =>
      c.subscribe(channel, (data, meta) => setTimeout(() => listener(data, meta), 1_000), options),
  };
  const history = new HistoryStore<{ n: number }>(late, 'series', { limit: 10 });
  let last: readonly HistoryEntry<{ n: number }>[] = [];
  const off = history.subscribe(() => {
    last = history.getSnapshot();
  });
  await waitFor(() => last.length === 5, 10_000, 'backfill');
  await live.server.hub.publish('series', { n: 6 });
  await waitFor(() => last.at(-1)?.data.n === 6, 10_000, 'the live message');
  expect(last.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
  off();
});

test('history store: limit must be a positive integer', () => {
  const c = client({ autoConnect: false });
  expect(() => c.history('series', { limit: 0 })).toThrow(RangeError);
});
