import type { LivedashServer } from '@livedash/server';
import { afterEach, beforeEach, expect, test } from 'vitest';
import type { HistoryEntry, LiveClient } from '../src/index.js';
import { nodeClient, startServer, waitFor } from './helpers/live.js';

let server: LivedashServer;
const clients: LiveClient[] = [];

beforeEach(async () => {
  server = await startServer();
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await server.close();
});

function client<C extends Record<string, unknown> = Record<string, unknown>>(
  extra: object = {},
): LiveClient<C> {
  const made = nodeClient<C>({ url: server.url, ...extra });
  clients.push(made as LiveClient);
  return made;
}

/** Resolves when the server has confirmed `channel` for `c`. */
function _subscribed(c: LiveClient, channel: string): Promise<void> {
  return new Promise((resolve) => {
    const off = c.subscribe(channel, () => {}, {
      onSubscribed: () => {
        resolve();
        queueMicrotask(off);
      },
    });
  });
}

test('history store: backfilled from server history, then live, capped at limit', async () => {
  for (let n = 1; n <= 30; n++) await server.hub.publish('series', { n });
  const c = client();
  const history = c.history<{ n: number }>('series', { limit: 10 });
  expect(c.history('series', { limit: 10 })).toBe(history);
  let last: readonly HistoryEntry<{ n: number }>[] = [];
  const off = history.subscribe(() => {
    last = history.getSnapshot();
  });
  await waitFor(() => last.length === 10, 10_000, 'backfill');
  expect(last.map((e) => e.data.n)).toEqual([21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
  await server.hub.publish('series', { n: 31 });
  await waitFor(() => last.at(-1)?.data.n === 31);
  expect(last.map((e) => e.seq)).toEqual([22, 23, 24, 25, 26, 27, 28, 29, 30, 31]);
  off();
});

test('history store: a reset (server restarted, history lost) clears the series and starts over', async () => {
  const port = server.port;
  for (let n = 1; n <= 5; n++) await server.hub.publish('series', { n });
  const c = client({ backoff: { initialDelayMs: 200, maxDelayMs: 1000 }, connectTimeoutMs: 3000 });
  const history = c.history<{ n: number }>('series', { limit: 10 });
  let last: readonly HistoryEntry<{ n: number }>[] = [];
  const off = history.subscribe(() => {
    last = history.getSnapshot();
  });
  await waitFor(() => last.length === 5, 10_000, 'backfill');
  await server.close();
  server = await startServer({ port });
  await waitFor(() => c.state.status === 'open', 15_000, 'reconnected');
  await server.hub.publish('series', { n: 100 });
  await server.hub.publish('series', { n: 101 });
  await waitFor(
    () => last.at(-1)?.data.n === 101,
    10_000,
    () => `new history, got ${JSON.stringify(last)}`,
  );
  expect(last.map((e) => e.data.n)).toEqual([100, 101]);
  off();
});

test('history store: after a reset, what the new epoch got before the client was back is backfilled', async () => {
  const port = server.port;
  for (let n = 1; n <= 5; n++) await server.hub.publish('series', { n });
  const c = client({ backoff: { initialDelayMs: 500, maxDelayMs: 1000 }, connectTimeoutMs: 3000 });
  const history = c.history<{ n: number }>('series', { limit: 10 });
  let last: readonly HistoryEntry<{ n: number }>[] = [];
  const off = history.subscribe(() => {
    last = history.getSnapshot();
  });
  await waitFor(() => last.length === 5, 10_000, 'backfill');
  await server.close();
  server = await startServer({ port });
  // Published while the client is still waiting out its backoff: it comes back to seq 2 of a new epoch.
  await server.hub.publish('series', { n: 100 });
  await server.hub.publish('series', { n: 101 });
  await waitFor(
    () => last.length === 2,
    15_000,
    () => `new history, got ${JSON.stringify(last)}`,
  );
  expect(last.map((e) => e.data.n)).toEqual([100, 101]);
  off();
});

test('history store: limit must be a positive integer', () => {
  const c = client({ autoConnect: false });
  expect(() => c.history('series', { limit: 0 })).toThrow(RangeError);
});
