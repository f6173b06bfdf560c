import type { LivedashServer } from '@livedash/server';
import { afterEach, beforeEach, expect, test } from 'vitest';
import type { ChannelSnapshot, LiveClient } from '../src/index.js';
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
function subscribed(c: LiveClient, channel: string): Promise<void> {
  return new Promise((resolve) => {
    const off = c.subscribe(channel, () => {}, {
      onSubscribed: () => {
        resolve();
        queueMicrotask(off);
      },
    });
  });
}

test('channel store: shared per channel, pending then live, one notification per frame for a burst', async () => {
  const c = client();
  const store = c.channel<{ n: number }>('burst');
  expect(c.channel('burst')).toBe(store);
  expect(store.getSnapshot()).toMatchObject({
    status: 'pending',
    data: undefined,
    seq: 0,
    stale: false,
    resetCount: 0,
  });
  const snapshots: ChannelSnapshot<{ n: number }>[] = [];
  const off = store.subscribe(() => snapshots.push(store.getSnapshot()));
  await subscribed(c, 'burst');
  await waitFor(() => store.getSnapshot().status === 'live', 10_000, 'live');
  const before = snapshots.length;
  await Promise.all(Array.from({ length: 200 }, (_, i) => server.hub.publish('burst', { n: i + 1 })));
  await waitFor(() => store.getSnapshot().seq === 200, 10_000, 'seq 200');
  expect(store.getSnapshot()).toMatchObject({ data: { n: 200 }, status: 'live', stale: false });
  // 200 messages arrive within a few frames, never one notification each.
  expect(snapshots.length - before).toBeLessThan(50);
  expect(store.getSnapshot()).toBe(store.getSnapshot());
  off();
  await waitFor(() => server.hub.subscriptionCount === 0, 10_000, 'store released the subscription');
});

test('channel store: StrictMode-style unsubscribe+resubscribe costs no server round trip', async () => {
  const c = client();
  const store = c.channel('strict');
  const off1 = store.subscribe(() => {});
  await waitFor(() => server.hub.subscriptionCount === 1);
  off1();
  const off2 = store.subscribe(() => {});
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(server.hub.subscriptionCount).toBe(1);
  off2();
});
