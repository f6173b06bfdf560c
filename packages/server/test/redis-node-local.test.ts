import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { StoredMessage } from '../src/brokers/broker.js';
import {
  connectNodeBroker,
  DEFAULT_LOCAL_CHANNELS,
  type NodeLocalBroker,
} from '../src/brokers/redis-node-local.js';
import { createServer } from '../src/server.js';
import { until } from './helpers/wait.js';
import { ALL, deletePrefix, SHARED_REDIS_URL, uniquePrefix } from './redis-helpers.js';

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function nodeBroker(prefix: string, node: string, localChannels?: string[]): Promise<NodeLocalBroker> {
  const connected = await connectNodeBroker({
    brokerUrl: SHARED_REDIS_URL,
    brokerPrefix: prefix,
    node,
    history: [],
    log: () => {},
    ...(localChannels && { localChannels }),
  });
  if (!connected.ok) throw connected.error;
  cleanups.push(() => connected.value.close());
  return connected.value as NodeLocalBroker;
}

describe('NodeLocalBroker', () => {
  it('keeps `metrics` on each node and shares every other channel through Redis', async () => {
    const prefix = uniquePrefix('local');
    cleanups.push(() => deletePrefix(SHARED_REDIS_URL, prefix));
    expect(DEFAULT_LOCAL_CHANNELS).toEqual(['metrics']);
    const [a, b] = [await nodeBroker(prefix, 'a'), await nodeBroker(prefix, 'b')];
    const received: StoredMessage[] = [];
    b.onMessage((message) => received.push(message));
    await b.subscribe('metrics');
    await b.subscribe('metrics.a');

    const local = await a.publish('metrics', '{"cpu":1}');
    const shared = await a.publish('metrics.a', '{"cpu":1}');
    await until(() => received.length === 1, 'metrics.a on node b');
    expect(received.map((m) => m.channel)).toEqual(['metrics.a']);
    expect(received[0]!.frame).toBe(shared.frame);
    // b's own `metrics` is another channel: another epoch, nothing published there yet.
    const bMetrics = await b.read('metrics');
    expect(bMetrics.epoch).not.toBe(local.epoch);
    expect(bMetrics.seq).toBe(0);

    const redis = new Redis(SHARED_REDIS_URL);
    cleanups.push(async () => void redis.disconnect());
    expect(await redis.exists(`${prefix}{metrics}:seq`)).toBe(0);
    expect(await redis.get(`${prefix}{metrics.a}:seq`)).toBe('1');
    // Only the shared channel is subscribed in Redis.
    expect(await redis.pubsub('CHANNELS', `${prefix}*`)).toEqual([`${prefix}{metrics.a}:live`]);

    const listed = (await a.channels(ALL)).channels.map((info) => info.channel).sort();
    expect(listed).toEqual(['metrics', 'metrics.a']);
    expect(a.health()).toEqual({ status: 'ok' });
  });

  it('takes its node-local channels from patterns', async () => {
    const prefix = uniquePrefix('patterns');
    cleanups.push(() => deletePrefix(SHARED_REDIS_URL, prefix));
    const broker = await nodeBroker(prefix, 'n', ['metrics', 'scratch.*']);
    expect(broker.isLocal('scratch.x')).toBe(true);
    expect(broker.isLocal('metrics')).toBe(true);
    expect(broker.isLocal('metrics.n')).toBe(false);
    expect(broker.isLocal('orders')).toBe(false);
    await broker.publish('scratch.x', '1');
    const redis = new Redis(SHARED_REDIS_URL);
    cleanups.push(async () => void redis.disconnect());
    expect(await redis.exists(`${prefix}{scratch.x}:seq`)).toBe(0);
  });

  it('createServer with a brokerUrl closes its Redis connections when it cannot listen', async () => {
    const blocker = createNetServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    const port = (blocker.address() as AddressInfo).port;
    const node = `listen-fail-${Date.now()}`;
    const prefix = uniquePrefix('listen');
    cleanups.push(() => deletePrefix(SHARED_REDIS_URL, prefix));
    const started = createServer({
      port,
      node,
      publishToken: 'secret',
      brokerUrl: SHARED_REDIS_URL,
      brokerPrefix: prefix,
    });
    await expect(started).rejects.toThrow(/EADDRINUSE/);
    const redis = new Redis(SHARED_REDIS_URL);
    cleanups.push(async () => void redis.disconnect());
    await until(async () => {
      const clients = (await redis.client('LIST')) as string;
      return !clients.includes(`name=livedash:${node}:`);
    }, 'no connection of the failed node left');
  });
});
