import { expect, test } from 'vitest';
import type { ChannelSnapshot } from '../src/index.js';
import { subscribed, useLiveServer } from './helpers/live.js';
import { until } from './helpers/wait.js';

const live = useLiveServer();
const client = live.client;

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
  await until(() => store.getSnapshot().status === 'live', 'live', 10_000);
  const before = snapshots.length;
  await Promise.all(Array.from({ length: 200 }, (_, i) => live.server.hub.publish('burst', { n: i + 1 })));
  await until(() => store.getSnapshot().seq === 200, 'seq 200', 10_000);
  expect(store.getSnapshot()).toMatchObject({ data: { n: 200 }, status: 'live', stale: false });
  // 200 messages arrive within a few frames, never one notification each.
  expect(snapshots.length - before).toBeLessThan(50);
  expect(store.getSnapshot()).toBe(store.getSnapshot());
  off();
  await until(() => live.server.hub.subscriptionCount === 0, 'store released the subscription', 10_000);
});

test('channel store: StrictMode-style unsubscribe+resubscribe costs no server round trip', async () => {
  const c = client();
  const store = c.channel('strict');
  const off1 = store.subscribe(() => {});
  await until(() => live.server.hub.subscriptionCount === 1);
  off1();
  const off2 = store.subscribe(() => {});
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(live.server.hub.subscriptionCount).toBe(1);
  off2();
});
