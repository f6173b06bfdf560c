import type { ControlFrame, Position } from '@livedash/protocol';
import { Hub, MemoryBroker, type StoredMessage } from '@livedash/server';
import { afterEach, describe, expect, test } from 'vitest';
import { DelayedBroker } from './helpers/delayed-broker.js';
import { assertContiguous } from './helpers/ws-client.js';

const brokers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const broker of brokers.splice(0)) await broker.close();
});

function makeHub(broker = new MemoryBroker(), maxQueueBytes = 1 << 20) {
  brokers.push(broker);
  return new Hub(broker, { maxQueueBytes, maxSubscriptions: 256 });
}

/** A session sink that records what a connection would receive. */
function recorder() {
  const data: StoredMessage[] = [];
  const control: ControlFrame[] = [];
  const order: string[] = [];
  let overflowed = 0;
  return {
    data,
    control,
    order,
    get overflowed() {
      return overflowed;
    },
    sink: {
      deliver: (message: StoredMessage) => {
        data.push(message);
        order.push(`data:${message.seq}`);
      },
      control: (frame: ControlFrame) => {
        control.push(frame);
        order.push(frame.type);
      },
      overflow: () => {
        overflowed++;
      },
    },
  };
}

describe('Hub', () => {
  test('a new subscriber gets $subscribed, then the latest value, then live messages', async () => {
    const hub = makeHub();
    await hub.publish('prices', { eur: 1 });
    await hub.publish('prices', { eur: 2 });
    const rec = recorder();
    const session = hub.session(rec.sink);
    await session.subscribe('prices');
    await hub.publish('prices', { eur: 3 });
    expect(rec.order).toEqual(['$subscribed', 'data:2', 'data:3']);
    expect(rec.control[0]).toMatchObject({
      type: '$subscribed',
      channel: 'prices',
      seq: 2,
      recovered: false,
    });
    session.close();
  });

  test('subscribe with since replays exactly what was missed, in order', async () => {
    const hub = makeHub();
    const first = await hub.publish('log', 1);
    for (let i = 2; i <= 10; i++) await hub.publish('log', i);
    const rec = recorder();
    const session = hub.session(rec.sink);
    await session.subscribe('log', { epoch: first.epoch, seq: 4 }, 7);
    expect(rec.control[0]).toEqual({
      type: '$subscribed',
      channel: 'log',
      epoch: first.epoch,
      seq: 10,
      recovered: true,
      id: 7,
    });
    assertContiguous(
      rec.data.map((m) => m.seq),
      5,
      10,
    );
    session.close();
  });

  test('an unknown epoch or a position older than history gives recovered:false and the latest value', async () => {
    const hub = makeHub(new MemoryBroker({ history: [{ pattern: '*', maxMessages: 3, maxAgeMs: 60_000 }] }));
    const first = await hub.publish('log', 1);
    for (let i = 2; i <= 10; i++) await hub.publish('log', i);
    for (const since of [
      { epoch: 'someOtherEpoch', seq: 9 },
      { epoch: first.epoch, seq: 2 },
    ]) {
      const rec = recorder();
      const session = hub.session(rec.sink);
      await session.subscribe('log', since);
      expect(rec.control[0]).toMatchObject({ recovered: false, seq: 10 });
      expect(rec.data.map((m) => m.seq)).toEqual([10]);
      session.close();
    }
  });

  test('publishes racing with subscribes over an asynchronous broker: no gap, no duplicate', async () => {
    const hub = makeHub(new DelayedBroker() as unknown as MemoryBroker);
    const first = await hub.publish('race', 1);
    const epoch = first.epoch;
    const sessions: Array<{ since: Position; rec: ReturnType<typeof recorder>; close(): void }> = [];
    let subscribing = true;
    let last = 1;
    // Publishes keep flowing for as long as subscribers arrive, so every subscribe races with them.
    const publisher = (async () => {
      while (subscribing) {
        last = (await hub.publish('race', last + 1)).seq;
        if (Math.random() < 0.3) await new Promise((resolve) => setTimeout(resolve, Math.random() * 2));
      }
    })();
    for (let k = 0; k < 30; k++) {
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 6));
      const rec = recorder();
      const session = hub.session(rec.sink);
      const since = { epoch, seq: Math.max(1, last - Math.floor(Math.random() * 20)) };
      sessions.push({ since, rec, close: () => session.close() });
      void session.subscribe('race', since);
    }
    subscribing = false;
    await publisher;
    const deadline = Date.now() + 10_000;
    while (sessions.some((s) => s.rec.data.at(-1)?.seq !== last) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(last).toBeGreaterThan(50);
    for (const { since, rec, close } of sessions) {
      expect(rec.control[0]).toMatchObject({ type: '$subscribed', recovered: true });
      assertContiguous(
        rec.data.map((m) => m.seq),
        since.seq + 1,
        last,
      );
      close();
    }
  });

  test('watch sees every later message with its meta; a throwing watcher breaks nothing', async () => {
    const errors: unknown[] = [];
    const broker = new MemoryBroker();
    brokers.push(broker);
    const hub = new Hub(broker, {
      maxQueueBytes: 1 << 20,
      maxSubscriptions: 256,
      onWatcherError: (e) => errors.push(e),
    });
    const seen: Array<[unknown, number]> = [];
    hub.watch('metrics', () => {
      throw new Error('boom');
    });
    const unwatch = hub.watch('metrics', (data, meta) => seen.push([data, meta.seq]));
    await new Promise((resolve) => setTimeout(resolve, 0));
    await hub.publish('metrics', { cpu: 5 });
    await hub.publish('metrics', { cpu: 6 });
    unwatch();
    await hub.publish('metrics', { cpu: 7 });
    expect(seen).toEqual([
      [{ cpu: 5 }, 1],
      [{ cpu: 6 }, 2],
    ]);
    expect(errors).toHaveLength(3);
  });

  test('the subscription limit answers too_many_subscriptions for the excess only', async () => {
    const broker = new MemoryBroker();
    brokers.push(broker);
    const hub = new Hub(broker, { maxQueueBytes: 1 << 20, maxSubscriptions: 3 });
    const rec = recorder();
    const session = hub.session(rec.sink);
    for (const channel of ['a', 'b', 'c', 'd']) await session.subscribe(channel, undefined, channel);
    expect(session.size).toBe(3);
    expect(rec.control.map((f) => f.type)).toEqual(['$subscribed', '$subscribed', '$subscribed', '$error']);
    expect(rec.control[3]).toMatchObject({ code: 'too_many_subscriptions', channel: 'd', id: 'd' });
    expect(hub.subscriptionCount).toBe(3);
    session.close();
    expect(hub.subscriptionCount).toBe(0);
  });

  test('publish rejects invalid channels and unserializable data with a LivedashError', async () => {
    const hub = makeHub();
    await expect(hub.publish('bad name', 1)).rejects.toMatchObject({ code: 'invalid_channel' });
    await expect(hub.publish('ok', undefined)).rejects.toMatchObject({ code: 'bad_command' });
    await expect(hub.publish('ok', { n: 1n })).rejects.toMatchObject({ code: 'bad_command' });
  });
});

test('a connection whose send path throws does not keep a message from the others', async () => {
  const errors: unknown[] = [];
  const broker = new MemoryBroker();
  brokers.push(broker);
  const hub = new Hub(broker, {
    maxQueueBytes: 1 << 20,
    maxSubscriptions: 256,
    onDeliveryError: (e) => errors.push(e),
  });
  const good = recorder();
  const broken = recorder();
  let explode = false;
  const brokenSink = {
    ...broken.sink,
    deliver: (message: StoredMessage) => {
      if (explode) throw new Error('socket exploded');
      broken.sink.deliver(message);
    },
  };
  const first = hub.session(brokenSink);
  const second = hub.session(good.sink);
  await first.subscribe('x');
  await second.subscribe('x');
  explode = true;
  await hub.publish('x', 1);
  expect(good.data.map((m) => m.seq)).toEqual([1]);
  expect(errors).toHaveLength(1);
  first.close();
  second.close();
});

test('live messages piling up while a subscribe reads history are bounded: past maxQueueBytes the connection is cut', async () => {
  let readDelay = 0;
  const broker = new DelayedBroker(() => readDelay);
  brokers.push(broker);
  const hub = new Hub(broker as unknown as MemoryBroker, { maxQueueBytes: 2000, maxSubscriptions: 256 });
  await hub.publish('burst', 0);
  // Another local listener keeps the channel subscribed at the broker, so live messages flow at once.
  const unwatch = hub.watch('burst', () => {});
  await new Promise((resolve) => setTimeout(resolve, 10));
  const rec = recorder();
  const session = hub.session(rec.sink);
  readDelay = 200; // the history read takes a while…
  const subscribing = session.subscribe('burst');
  await new Promise((resolve) => setTimeout(resolve, 20));
  readDelay = 0;
  // …while a burst of live messages arrives, far over 2000 bytes.
  for (let i = 0; i < 100; i++) await hub.publish('burst', { i, pad: 'x'.repeat(50) });
  await subscribing;
  expect(rec.overflowed).toBeGreaterThan(0);
  session.close();
  unwatch();
});
