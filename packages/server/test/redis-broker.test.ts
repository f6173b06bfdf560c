import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, encodeEnvelope, LivedashError } from '@livedash/protocol';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { ReadResult, StoredMessage } from '../src/brokers/broker.js';
import { MemoryBroker } from '../src/brokers/memory.js';
import { connectRedisBroker, RedisBroker, type RedisBrokerOptions } from '../src/brokers/redis-broker.js';
import { until } from './helpers/wait.js';
import {
  ALL,
  deletePrefix,
  freePort,
  PrivateRedis,
  SHARED_REDIS_URL,
  TcpRelay,
  uniquePrefix,
} from './redis-helpers.js';

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A connected broker on the shared Redis under `prefix`; closed (and the prefix deleted) after the test. */
async function broker(prefix: string, options: Partial<RedisBrokerOptions> = {}): Promise<RedisBroker> {
  const url = options.url ?? SHARED_REDIS_URL;
  const connected = await connectRedisBroker({ url, prefix, log: () => {}, ...options });
  if (!connected.ok) throw connected.error;
  cleanups.push(() => connected.value.close());
  return connected.value;
}

function testPrefix(label: string): string {
  const prefix = uniquePrefix(label);
  cleanups.unshift(() => deletePrefix(SHARED_REDIS_URL, prefix));
  return prefix;
}

async function keysUnder(prefix: string): Promise<string[]> {
  const redis = new Redis(SHARED_REDIS_URL);
  try {
    return await redis.keys(`${prefix}*`);
  } finally {
    redis.disconnect();
  }
}

async function subscriberCount(url: string, liveName: string): Promise<number> {
  const redis = new Redis(url);
  try {
    const reply = (await redis.call('PUBSUB', 'NUMSUB', liveName)) as [string, number];
    return Number(reply[1]);
  } finally {
    redis.disconnect();
  }
}

function collect(target: RedisBroker): StoredMessage[] {
  const received: StoredMessage[] = [];
  target.onMessage((message) => received.push(message));
  return received;
}

describe('RedisBroker publish and read', () => {
  it('assigns seq 1, 2, … under one epoch and stores the encoded envelope', async () => {
    const b = await broker(testPrefix('seq'));
    const first = await b.publish('orders', '{"n":1}');
    const second = await b.publish('orders', '{"n":2}');
    expect([first.seq, second.seq]).toEqual([1, 2]);
    expect(second.epoch).toBe(first.epoch);
    expect(second.ts).toBeGreaterThanOrEqual(first.ts);
    expect(Math.abs(first.ts - Date.now())).toBeLessThan(60_000);
    expect(second.frame).toBe(encodeEnvelope('orders', 2, first.epoch, second.ts, '{"n":2}'));
    const latest = await b.read('orders');
    expect(latest).toMatchObject({ epoch: first.epoch, seq: 2, recovered: false });
    expect(latest.messages).toEqual([second]);
  });

  it('replays exactly what came after `since`, and says when it cannot', async () => {
    const history = [{ pattern: '*', maxMessages: 5, maxAgeMs: 60_000 }];
    const b = await broker(testPrefix('since'), { history });
    const published: StoredMessage[] = [];
    for (let n = 1; n <= 8; n++) published.push(await b.publish('ticks', String(n)));
    const epoch = published[0]!.epoch;

    const recent = await b.read('ticks', { epoch, seq: 5 });
    expect(recent.recovered).toBe(true);
    expect(recent.messages.map((m) => m.seq)).toEqual([6, 7, 8]);
    expect(recent.messages).toEqual(published.slice(5));

    // History keeps five messages: 4 to 8.
    expect(await b.read('ticks', { epoch, seq: 8 })).toEqual({
      epoch,
      seq: 8,
      firstSeq: 4,
      recovered: true,
      messages: [],
    });
    // Older than the five messages history keeps: only the latest, and recovered false.
    const tooOld = await b.read('ticks', { epoch, seq: 2 });
    expect(tooOld).toMatchObject({ recovered: false, seq: 8 });
    expect(tooOld.messages.map((m) => m.seq)).toEqual([8]);
    expect((await b.read('ticks', { epoch: 'another-epoch', seq: 7 })).recovered).toBe(false);
    expect((await b.read('ticks', { epoch, seq: 9 })).recovered).toBe(false);
    // Past `limit`: the newest `limit` messages, recovered false.
    const limited = await b.read('ticks', { epoch, seq: 4 }, 2);
    expect(limited.recovered).toBe(false);
    expect(limited.messages.map((m) => m.seq)).toEqual([7, 8]);
    expect((await b.read('ticks', { epoch, seq: 6 }, 2)).recovered).toBe(true);
  });

  it('answers every read exactly as the in-memory broker does for the same history', async () => {
    const history = [{ pattern: '*', maxMessages: 6, maxAgeMs: 60_000 }];
    const redis = await broker(testPrefix('parity'), { history });
    const memory = new MemoryBroker({ history });
    cleanups.push(() => memory.close());
    const epochs = { redis: '', memory: '' };
    for (let n = 1; n <= 10; n++) {
      epochs.redis = (await redis.publish('p', String(n))).epoch;
      epochs.memory = (await memory.publish('p', String(n))).epoch;
    }
    const shape = (result: ReadResult) => ({
      seq: result.seq,
      firstSeq: result.firstSeq,
      recovered: result.recovered,
      messages: result.messages.map((m) => [m.seq, JSON.parse(m.frame).data]),
    });
    for (const since of [undefined, 0, 3, 4, 5, 8, 9, 10, 11, 'other-epoch'] as const) {
      for (const limit of [undefined, 0, 1, 3, 100]) {
        const position = (epoch: string) =>
          since === undefined
            ? undefined
            : since === 'other-epoch'
              ? { epoch: 'x', seq: 5 }
              : { epoch, seq: since };
        const fromRedis = await redis.read('p', position(epochs.redis), limit);
        const fromMemory = await memory.read('p', position(epochs.memory), limit);
        expect({ since, limit, ...shape(fromRedis) }).toEqual({ since, limit, ...shape(fromMemory) });
      }
    }
  });

  it('drops history older than the age bound but keeps the latest value', async () => {
    const prefix = testPrefix('age');
    const b = await broker(prefix, { history: [{ pattern: 'short*', maxMessages: 100, maxAgeMs: 300 }] });
    const first = await b.publish('short.lived', '1');
    await b.publish('short.lived', '2');
    // Wait for both messages to age out, not just the first: on a busy machine the second can be
    // published a good part of the 300 ms later, and stays in history that much longer.
    await until(async () => (await b.channels(ALL)).channels[0]?.size === 0, 'the whole history to age out');
    expect((await b.read('short.lived', { epoch: first.epoch, seq: 0 })).recovered).toBe(false);
    const latest = await b.read('short.lived');
    expect(latest.messages.map((m) => m.seq)).toEqual([2]);
    const [info] = (await b.channels(ALL)).channels;
    expect(info).toMatchObject({ channel: 'short.lived', seq: 2, size: 0, ts: latest.messages[0]!.ts });
  });

  it('leaves no key behind for reads and subscriptions of a channel never published to', async () => {
    const prefix = testPrefix('unpublished');
    const reader = await broker(prefix);
    const other = await broker(prefix);
    const before = await reader.read('fresh');
    expect(before).toMatchObject({ seq: 0, recovered: false, messages: [] });
    await reader.subscribe('fresh');
    await reader.read('fresh', { epoch: before.epoch, seq: 0 });
    for (let i = 0; i < 50; i++) await reader.read(`made.up.${i}`);
    await reader.unsubscribe('fresh');
    expect(await keysUnder(prefix)).toEqual([]);
    expect((await reader.channels(ALL)).channels).toEqual([]);
    // Every node reads the same epoch, and the first publish starts exactly that one, so a subscriber
    // that started at seq 0 recovers the first message.
    expect((await other.read('fresh')).epoch).toBe(before.epoch);
    const published = await other.publish('fresh', '"hello"');
    expect(published).toMatchObject({ epoch: before.epoch, seq: 1 });
    const replay = await reader.read('fresh', { epoch: before.epoch, seq: 0 });
    expect(replay).toMatchObject({ recovered: true, seq: 1 });
    expect(replay.messages).toEqual([published]);
  });

  it('starts a new epoch when the seq key is lost, instead of giving out seqs again', async () => {
    const prefix = testPrefix('lost-seq');
    const b = await broker(prefix);
    await b.publish('jobs', '1');
    const second = await b.publish('jobs', '2');
    const redis = new Redis(SHARED_REDIS_URL);
    cleanups.push(async () => void redis.disconnect());
    await redis.del(`${prefix}{jobs}:seq`); // evicted, or deleted by hand
    const read = await b.read('jobs', { epoch: second.epoch, seq: 2 });
    expect(read.epoch).not.toBe(second.epoch);
    expect(read.recovered).toBe(false);
    const third = await b.publish('jobs', '3');
    expect(third.epoch).not.toBe(second.epoch);
    expect(third.seq).toBe(1);
    // The epoch that lost its seq is never started again under this Redis process.
    await redis.del(
      `${prefix}{jobs}:seq`,
      `${prefix}{jobs}:epoch`,
      `${prefix}{jobs}:run`,
      `${prefix}{jobs}:stream`,
    );
    const fourth = await b.publish('jobs', '4');
    expect([second.epoch, third.epoch]).not.toContain(fourth.epoch);
  });

  it('keeps the epoch across broker restarts and starts a new one when Redis lost the channel', async () => {
    const prefix = testPrefix('restart');
    const first = await broker(prefix);
    const a = await first.publish('jobs', '1');
    await first.close();
    const second = await broker(prefix);
    const b = await second.publish('jobs', '2');
    expect(b).toMatchObject({ epoch: a.epoch, seq: 2 });
    const redis = new Redis(SHARED_REDIS_URL);
    cleanups.push(async () => void redis.disconnect());
    await redis.del(`${prefix}{jobs}:epoch`);
    const c = await second.publish('jobs', '3');
    expect(c.epoch).not.toBe(a.epoch);
    expect(c.seq).toBe(1);
    expect((await second.read('jobs', { epoch: a.epoch, seq: 2 })).recovered).toBe(false);
  });

  it('lists published channels with their position and history size', async () => {
    const b = await broker(testPrefix('list'), {
      history: [{ pattern: '*', maxMessages: 3, maxAgeMs: 60_000 }],
    });
    for (let n = 0; n < 5; n++) await b.publish('a', String(n));
    await b.publish('b', '1');
    await b.read('never-published');
    const infos = (await b.channels(ALL)).channels.sort((x, y) => x.channel.localeCompare(y.channel));
    expect(infos.map(({ channel, seq, size }) => ({ channel, seq, size }))).toEqual([
      { channel: 'a', seq: 5, size: 3 },
      { channel: 'b', seq: 1, size: 1 },
    ]);
  });

  it('rejects invalid channel names, URLs and prefixes as programmer errors', async () => {
    const b = await broker(testPrefix('invalid'));
    await expect(b.publish('bad}name', '1')).rejects.toThrow(TypeError);
    expect(() => new RedisBroker({ url: 'http://127.0.0.1:6379' })).toThrow(/redis:\/\//);
    expect(() => new RedisBroker({ url: SHARED_REDIS_URL, prefix: 'a{b}' })).toThrow(/prefix/);
  });
});

describe('RedisBroker across nodes', () => {
  it('gives concurrent publishers on three nodes distinct, gapless seqs, delivered in one order everywhere', async () => {
    const prefix = testPrefix('nodes');
    const nodes = await Promise.all([broker(prefix), broker(prefix), broker(prefix)]);
    const received = nodes.map(collect);
    await Promise.all(nodes.map((node) => node.subscribe('shared')));
    const perNode = 100;
    const results = await Promise.all(
      nodes.map((node, i) =>
        Promise.all(
          Array.from({ length: perNode }, (_, n) => node.publish('shared', JSON.stringify({ node: i, n }))),
        ),
      ),
    );
    const seqs = results.flat().map((m) => m.seq);
    expect([...seqs].sort((x, y) => x - y)).toEqual(Array.from({ length: 3 * perNode }, (_, i) => i + 1));
    await until(
      () => received.every((list) => list.length === 3 * perNode),
      'every node to receive every message',
    );
    const frames = received.map((list) => list.map((m) => m.frame));
    expect(received[0]!.map((m) => m.seq)).toEqual(Array.from({ length: 3 * perNode }, (_, i) => i + 1));
    expect(frames[1]).toEqual(frames[0]);
    expect(frames[2]).toEqual(frames[0]);
  });

  it('subscribes in Redis only to channels with local subscribers', async () => {
    const prefix = testPrefix('pubsub');
    const b = await broker(prefix);
    const redis = new Redis(SHARED_REDIS_URL);
    cleanups.push(async () => void redis.disconnect());
    const subscribed = () => redis.pubsub('CHANNELS', `${prefix}*`) as Promise<string[]>;
    expect(await subscribed()).toEqual([]);
    await b.subscribe('x');
    await b.subscribe('y');
    expect((await subscribed()).sort()).toEqual([`${prefix}{x}:live`, `${prefix}{y}:live`]);
    await b.unsubscribe('x');
    expect(await subscribed()).toEqual([`${prefix}{y}:live`]);
    const received = collect(b);
    await b.publish('x', '1');
    await b.publish('y', '1');
    await until(() => received.length === 1, 'y to arrive');
    expect(received[0]!.channel).toBe('y');
  });

  it('fills from history what Pub/Sub missed while the subscriber connection was cut', async () => {
    const prefix = testPrefix('gap');
    const node = `gap-${Date.now()}`;
    const log: string[] = [];
    const subscriber = await broker(prefix, { node, log: (line) => log.push(line) });
    const publisher = await broker(prefix);
    const received = collect(subscriber);
    await subscriber.subscribe('feed');
    let published = 0;
    let publishing = true;
    const loop = (async () => {
      while (publishing) {
        await publisher.publish('feed', String(published + 1));
        published++;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    cleanups.unshift(async () => {
      publishing = false;
      await loop.catch(() => {});
    });
    await until(() => received.length >= 20, 'some messages');
    await killConnection(`livedash:${node}:live`);
    const publishedAtKill = published;
    await until(
      () => received.length >= publishedAtKill + 20,
      'the subscriber to reconnect and keep receiving',
    );
    publishing = false;
    await loop;
    await until(() => received.length === published, 'the last message');
    expect(log.some((line) => line.includes('live connection') && line.includes('lost'))).toBe(true);
    expect(received.map((m) => m.seq)).toEqual(Array.from({ length: published }, (_, i) => i + 1));
  });
  it('catches up on reconnect with what was published while the subscriber connection was down', async () => {
    const prefix = testPrefix('catchup');
    const node = `catchup-${Date.now()}`;
    const subscriber = await broker(prefix, { node });
    const publisher = await broker(prefix);
    const received = collect(subscriber);
    await subscriber.subscribe('quiet');
    await publisher.publish('quiet', '1');
    await until(() => received.length === 1, 'the first message');
    await killConnection(`livedash:${node}:live`);
    // Published after Redis cut the subscriber off and before it can be back (reconnects wait >= 75 ms);
    // nothing follows, so only the catch-up after the reconnect can deliver them.
    for (let n = 2; n <= 6; n++) await publisher.publish('quiet', String(n));
    await until(() => received.length === 6, 'the messages published while disconnected');
    expect(received.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

async function killConnection(name: string): Promise<void> {
  const admin = new Redis(SHARED_REDIS_URL);
  try {
    const clients = (await admin.client('LIST')) as string;
    const line = clients.split('\n').find((entry) => entry.includes(`name=${name} `));
    const id = /\bid=(\d+)/.exec(line ?? '')?.[1];
    if (id === undefined) throw new Error(`no Redis connection named ${name}`);
    await admin.client('KILL', 'ID', id);
  } finally {
    admin.disconnect();
  }
}

describe('RedisBroker faults', () => {
  it('reports an unreachable Redis at start with the URL and reason', async () => {
    const port = await freePort();
    const started = Date.now();
    const result = await connectRedisBroker({
      url: `redis://127.0.0.1:${port}`,
      startTimeoutMs: 500,
      log: () => {},
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe(ErrorCodes.UNAVAILABLE);
    expect(result.error.message).toContain(`127.0.0.1:${port}`);
    expect(result.error.message).toMatch(/ECONNREFUSED/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('starts a new epoch when Redis comes back from an older snapshot, so no seq is given twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'livedash-redis-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const redis = await PrivateRedis.start({ dir });
    cleanups.push(() => redis.stop());
    const publisher = await broker('snap:', { url: redis.url });
    const subscriber = await broker('snap:', { url: redis.url });
    const received = collect(subscriber);
    await subscriber.subscribe('snap');
    const first = await publisher.publish('snap', '1');
    for (let n = 2; n <= 3; n++) await publisher.publish('snap', String(n));
    const admin = new Redis(redis.url);
    await admin.save(); // the snapshot holds seq 3
    admin.disconnect();
    for (let n = 4; n <= 5; n++) await publisher.publish('snap', String(n));
    await until(() => received.length === 5, 'five messages');

    await redis.stop(); // a crash: seqs 4 and 5 are not in the snapshot
    await redis.start();
    await until(
      () => publisher.health().status === 'ok' && subscriber.health().status === 'ok',
      'both brokers back',
    );
    let after: StoredMessage | undefined;
    await until(async () => {
      after = await publisher.publish('snap', '"after"').catch(() => undefined);
      return after !== undefined;
    }, 'a publish to succeed');
    // Same epoch and seq 4 again would be dropped by every node as already delivered.
    expect(after!.epoch).not.toBe(first.epoch);
    expect(after!.seq).toBe(1);
    await until(
      () => received.some((m) => m.epoch === after!.epoch),
      'the new message on the subscribed node',
    );
    expect((await publisher.read('snap', { epoch: first.epoch, seq: 5 })).recovered).toBe(false);
  });

  it('notices a stuck Redis, and subscriptions made meanwhile work once it answers again', async () => {
    const redis = await PrivateRedis.start();
    cleanups.push(() => redis.stop());
    const options = { url: redis.url, commandTimeoutMs: 500, probeIntervalMs: 100 };
    const b = await broker('stuck:', options);
    const publisher = await broker('stuck:', options);
    const received = collect(b);
    redis.freeze();
    cleanups.push(async () => redis.thaw());
    await until(() => b.health().status === 'degraded', 'degraded health');
    expect(b.health()).toMatchObject({ reason: expect.stringMatching(/not answering/) });
    // Let the subscriber connection's own probe time out too (health reports the first link that stalls).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const started = Date.now();
    await b.subscribe('later'); // recorded, not hanging on the frozen server
    expect(Date.now() - started).toBeLessThan(5000);
    redis.thaw();
    await until(() => b.health().status === 'ok' && publisher.health().status === 'ok', 'health back to ok');
    await publisher.publish('later', '"hello"');
    await until(() => received.length === 1, 'the message on the channel subscribed while stuck');
    expect(received[0]).toMatchObject({ channel: 'later', seq: 1 });
  });

  it('gives a channel subscribed while Redis was unreachable its baseline when Redis returns', async () => {
    const redis = await PrivateRedis.start();
    cleanups.push(() => redis.stop());
    const relay = await TcpRelay.create(redis.port);
    cleanups.push(() => relay.cut());
    const publisher = await broker('baseline:', { url: redis.url });
    await publisher.publish('gauge', '"before"');
    // This node cannot reach Redis (Redis itself keeps running, with the channel's history).
    const node = new RedisBroker({ url: relay.url, prefix: 'baseline:', log: () => {} });
    cleanups.push(() => node.close());
    const received = collect(node);
    await node.subscribe('gauge');
    await relay.open();
    await until(() => node.health().status === 'ok', 'the node to reach Redis');
    await until(
      async () => (await subscriberCount(redis.url, 'baseline:{gauge}:live')) === 1,
      'the node to be subscribed',
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    // The message published before the node could listen is history, not a live message.
    expect(received).toEqual([]);
    const after = await publisher.publish('gauge', '"after"');
    await until(() => received.length === 1, 'the new message');
    expect(received).toEqual([after]);
  });

  it('degrades while Redis is down, refuses publishes, and resubscribes by itself when it returns', async () => {
    const redis = await PrivateRedis.start();
    cleanups.push(() => redis.stop());
    const log: string[] = [];
    const b = await broker('outage:', {
      url: redis.url,
      log: (line) => log.push(line),
      commandTimeoutMs: 1000,
    });
    const health: string[] = [];
    b.onHealth((h) => health.push(h.status));
    const received = collect(b);
    await b.subscribe('live');
    const before = await b.publish('live', '1');
    await until(() => received.length === 1, 'the first message');

    await redis.stop();
    await until(() => b.health().status === 'degraded', 'degraded health');
    expect(b.health()).toMatchObject({ reason: expect.stringContaining(`127.0.0.1:${redis.port}`) });
    const refused = await b.publish('live', '2').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(LivedashError);
    expect((refused as LivedashError).code).toBe(ErrorCodes.UNAVAILABLE);
    expect(log.some((line) => line.includes('lost'))).toBe(true);

    await redis.start();
    await until(() => b.health().status === 'ok', 'health back to ok');
    // Reported on every change (the reason may be refined while down), ending back at ok.
    expect(health.filter((status, i) => status !== health[i - 1])).toEqual(['degraded', 'ok']);
    // Redis came back empty: a new epoch, seq from 1, delivered to this node's subscription.
    await until(
      async () => (await b.publish('live', '3').catch(() => undefined)) !== undefined,
      'the publish to succeed again',
    );
    await until(() => received.some((m) => m.epoch !== before.epoch), 'the new message');
    const fresh = received.filter((m) => m.epoch !== before.epoch);
    expect(fresh.map((m) => m.seq)).toEqual([1]);
  });
});
