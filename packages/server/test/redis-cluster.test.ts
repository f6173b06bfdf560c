import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectRedisBroker } from '../src/brokers/redis-broker.js';
import { channelKeys, slotRegistryKey } from '../src/brokers/redis-keys.js';
import { keySlot } from '../src/brokers/redis-slots.js';
import { parseClusterTarget } from '../src/brokers/redis-target.js';
import { createServer, type LivedashServer } from '../src/server.js';
import { until } from './helpers/wait.js';
import { assertContiguous, httpPublish, TestWsClient } from './helpers/ws-client.js';
import { PrivateCluster, type Shard, slotOf } from './redis-cluster-helpers.js';
import { ALL } from './redis-helpers.js';

/**
 * livedash nodes sharing channels through a Redis Cluster (three masters, a replica each, private processes):
 * every key of a channel in one slot, channels spread over the shards, live messages over sharded Pub/Sub on
 * the shard that owns the channel, history and resume on any node.
 */
const PREFIX = 'cl:';
let cluster: PrivateCluster;
let shards: Shard[];
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  cluster = await PrivateCluster.start();
  shards = await cluster.shards();
}, 60_000);

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

afterAll(async () => {
  await cluster?.stop();
});

async function node(name: string): Promise<LivedashServer> {
  const server = await createServer({
    port: 0,
    node: name,
    publishToken: 'secret',
    brokerCluster: cluster.nodeList,
    brokerPrefix: PREFIX,
  });
  cleanups.push(() => server.close());
  return server;
}

async function client(server: LivedashServer): Promise<TestWsClient> {
  const ws = await TestWsClient.connect(server.url);
  cleanups.push(() => ws.close());
  return ws;
}

/** The shard that serves `slot`. */
function shardOf(slot: number): Shard {
  const shard = shards.find((candidate) => candidate.slots.some(([from, to]) => slot >= from && slot <= to));
  if (shard === undefined) throw new Error(`no shard serves slot ${slot}`);
  return shard;
}

/** One channel name per shard (`<base>.<n>`), so a test touches every shard. */
function channelPerShard(base: string): string[] {
  const found = new Map<Shard, string>();
  for (let n = 0; found.size < shards.length; n++) {
    const channel = `${base}.${n}`;
    const shard = shardOf(keySlot(channel));
    if (!found.has(shard)) found.set(shard, channel);
  }
  return [...found.values()];
}

async function onServer(port: number, run: (redis: Redis) => Promise<unknown>): Promise<unknown> {
  const redis = new Redis(port, '127.0.0.1', { lazyConnect: true });
  try {
    await redis.connect();
    return await run(redis);
  } finally {
    redis.disconnect();
  }
}

describe('hash tags and slots', () => {
  it("computes the slot Redis gives each of a channel's keys, its live channel and its registry", async () => {
    const port = cluster.servers[0]!.port;
    for (const channel of ['orders', 'a', 'metrics.web-1', 'x:y:z', '_0', 'Ünicode'.slice(1), 'a-b.c_d:9']) {
      const keys = channelKeys(PREFIX, channel);
      const slot = await slotOf(port, channel);
      for (const key of [
        keys.epoch,
        keys.seq,
        keys.stream,
        keys.run,
        keys.live,
        slotRegistryKey(PREFIX, channel),
      ]) {
        expect(await slotOf(port, key)).toBe(slot);
        expect(keySlot(key)).toBe(slot);
      }
    }
    // Redis's own rules for braces: an empty tag hashes the whole key; only the first tag counts.
    for (const key of ['a{}b', '{a}{b}', 'x{y', 'x}y{z}', '{{a}}'])
      expect(keySlot(key)).toBe(await slotOf(port, key));
  });

  it('refuses a node list that is not host:port', () => {
    expect(parseClusterTarget('10.0.0.1:7000,[::1]:7001')).toMatchObject({ ok: true });
    expect(parseClusterTarget('10.0.0.1')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/not host:port/),
    });
    expect(parseClusterTarget(' , ')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/at least one/),
    });
  });
});

describe('two nodes on a Redis Cluster', { timeout: 60_000 }, () => {
  it("delivers every shard's channels across nodes, each key and subscription on the shard that owns its slot", async () => {
    const [a, b] = [await node('a'), await node('b')];
    const channels = channelPerShard('spread');
    expect(new Set(channels.map((channel) => shardOf(keySlot(channel))))).toHaveProperty('size', 3);
    const listener = await client(b);
    listener.send({ action: 'subscribe', channels });
    await listener.waitFor((frames) => frames.filter((f) => f.type === '$subscribed').length === 3);

    for (let n = 1; n <= 20; n++) {
      for (const channel of channels) expect((await httpPublish(a.url, channel, { n })).status).toBe(200);
    }
    for (const channel of channels) {
      await listener.waitForData(channel, 20);
      assertContiguous(
        listener.data(channel).map((frame) => frame.seq as number),
        1,
        20,
      );
      expect(listener.data(channel).map((frame) => (frame.data as { n: number }).n)).toEqual(
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
    }

    for (const channel of channels) {
      const owner = shardOf(keySlot(channel)).master.port;
      const live = channelKeys(PREFIX, channel).live;
      for (const shard of shards) {
        const port = shard.master.port;
        // Keys live only on the owner; node b's sharded subscription too, and nothing uses global Pub/Sub.
        const keys = await onServer(port, (redis) =>
          redis.call('CLUSTER', 'COUNTKEYSINSLOT', keySlot(channel)),
        );
        const subscribed = (await onServer(port, (redis) =>
          redis.call('PUBSUB', 'SHARDCHANNELS'),
        )) as string[];
        expect(keys).toBe(port === owner ? 5 : 0); // epoch, seq, stream, run and the slot's registry
        expect(subscribed.includes(live)).toBe(port === owner);
        expect(await onServer(port, (redis) => redis.call('PUBSUB', 'CHANNELS'))).toEqual([]);
      }
    }
  });

  it("a node's first subscriber on each shard gets every message after the position $subscribed gave", async () => {
    // The node opens its connection to each shard on that first subscription, while publishes keep coming:
    // those racing with it are filled from history, from where $subscribed said the channel stood.
    const [a, b] = [await node('a'), await node('b')];
    const channels = channelPerShard('first');
    let publishing = true;
    const last = new Map<string, number>();
    const publishers = channels.map(async (channel) => {
      while (publishing) {
        const answer = await httpPublish(a.url, channel, {});
        last.set(channel, answer.body.seq ?? 0);
      }
    });
    await until(() => last.size === 3, 'the first publishes');
    const viewer = await client(b);
    viewer.send({ action: 'subscribe', channels });
    await viewer.waitFor((frames) => frames.filter((f) => f.type === '$subscribed').length === 3);
    const from = new Map(viewer.ofType('$subscribed').map((f) => [String(f.channel), Number(f.seq)]));
    await until(
      () => channels.every((channel) => last.get(channel)! >= from.get(channel)! + 20),
      'more publishes',
    );
    publishing = false;
    await Promise.all(publishers);
    for (const channel of channels) {
      await viewer.waitFor((frames) => frames.some((f) => f.type === channel && f.seq === last.get(channel)));
      // The latest value as $subscribed found it, then every later one.
      assertContiguous(
        viewer.data(channel).map((frame) => Number(frame.seq)),
        from.get(channel)!,
        last.get(channel)!,
      );
    }
  });

  it('resumes on one node from a position taken on the other', async () => {
    const [a, b] = [await node('a'), await node('b')];
    const [channel] = channelPerShard('resume');
    let epoch = '';
    for (let n = 1; n <= 5; n++) {
      const answer = await httpPublish(a.url, channel!, { n });
      epoch = answer.body.epoch ?? '';
    }
    const resumer = await client(b);
    resumer.send({ action: 'subscribe', channels: [channel], since: { [channel!]: { epoch, seq: 2 } } });
    await resumer.waitForData(channel!, 3);
    expect(resumer.ofType('$subscribed')[0]).toMatchObject({ channel, epoch, recovered: true });
    expect(resumer.data(channel!).map((frame) => frame.seq)).toEqual([3, 4, 5]);
    const history = (await (await fetch(`${a.url}/api/channels/${channel}/messages?since=0`)).json()) as {
      messages: { seq: number }[];
    };
    expect(history.messages.map((message) => message.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('lists the channels of every shard, from per-slot registries', async () => {
    const a = await node('a');
    const channels = channelPerShard('listed');
    for (const channel of channels) await httpPublish(a.url, channel, { n: 1 });
    const listed = (await (await fetch(`${a.url}/api/channels`)).json()) as {
      channels: { channel: string }[];
    };
    const names = listed.channels.map((entry) => entry.channel);
    for (const channel of channels) expect(names).toContain(channel);
  });

  it('a channel never published reads as one first epoch on every node and leaves no key', async () => {
    const target = parseClusterTarget(cluster.nodeList);
    if (!target.ok) throw new Error(target.error);
    const brokers = await Promise.all(
      [1, 2].map(() => connectRedisBroker({ target: target.value, prefix: PREFIX, log: () => {} })),
    );
    const [one, two] = brokers.map((connected) => {
      if (!connected.ok) throw connected.error;
      cleanups.push(() => connected.value.close());
      return connected.value;
    });
    const [channel] = channelPerShard('unpublished');
    const before = await one!.read(channel!);
    expect(before.seq).toBe(0);
    expect((await two!.read(channel!)).epoch).toBe(before.epoch);
    expect((await one!.channels(ALL)).channels.map((entry) => entry.channel)).not.toContain(channel);
    const published = await two!.publish(channel!, '1');
    expect(published).toMatchObject({ epoch: before.epoch, seq: 1 });
  });
});
