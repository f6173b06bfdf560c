import { ErrorCodes } from '@livedash/protocol';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectRedisBroker } from '../src/brokers/redis-broker.js';
import { channelKeys } from '../src/brokers/redis-keys.js';
import { createServer, type LivedashServer } from '../src/server.js';
import { until } from './helpers/wait.js';
import { httpPublish, TestWsClient } from './helpers/ws-client.js';
import { infoField, PrivateRedis } from './redis-helpers.js';

/**
 * `ackReplicas`: a publish is acknowledged only once that many replicas hold it (Redis WAIT), and answers
 * 503 `unavailable` otherwise — over HTTP and WebSocket — against a private master and its replica.
 */
const PREFIX = 'acks:';
let master: PrivateRedis;
let replica: PrivateRedis;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  master = await PrivateRedis.start();
  replica = await PrivateRedis.start({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
  await until(
    async () => (await infoField(replica.url, 'master_link_status')) === 'up',
    'the replica to sync',
  );
}, 60_000);

afterEach(async () => {
  replica.thaw();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

afterAll(async () => {
  await replica?.stop();
  await master?.stop();
});

async function server(options: { ackReplicas: number; ackTimeoutMs?: number }): Promise<LivedashServer> {
  const started = await createServer({
    port: 0,
    publishToken: 'secret',
    brokerUrl: master.url,
    brokerPrefix: PREFIX,
    brokerAckReplicas: options.ackReplicas,
    ...(options.ackTimeoutMs !== undefined && { brokerAckTimeoutMs: options.ackTimeoutMs }),
  });
  cleanups.push(() => started.close());
  return started;
}

/** How many entries the replica holds for `channel` (read from the replica itself). */
async function onReplica(channel: string): Promise<number> {
  const redis = new Redis(replica.url, { lazyConnect: true });
  try {
    await redis.connect();
    return await redis.xlen(channelKeys(PREFIX, channel).stream);
  } finally {
    redis.disconnect();
  }
}

describe('broker.ackReplicas', { timeout: 30_000 }, () => {
  it('acknowledges a publish only once the replica holds it', async () => {
    const node = await server({ ackReplicas: 1 });
    for (let n = 1; n <= 20; n++) {
      const answer = await httpPublish(node.url, 'acked.ok', { n });
      expect(answer.status).toBe(200);
      expect(answer.body.seq).toBe(n);
      // Acknowledged means the replica has it already: no waiting for replication here.
      expect(await onReplica('acked.ok')).toBe(n);
    }
  });

  it('answers 503 with the reason when the replica does not confirm in time, and the seq goes on without a gap', async () => {
    const node = await server({ ackReplicas: 1, ackTimeoutMs: 200 });
    const watcher = await TestWsClient.connect(node.url);
    cleanups.push(() => watcher.close());
    watcher.send({ action: 'subscribe', channels: ['acked.refused'] });
    await watcher.waitFor((frames) => frames.some((f) => f.type === '$subscribed'));
    expect((await httpPublish(node.url, 'acked.refused', { n: 1 })).status).toBe(200);

    replica.freeze(); // connected but silent: WAIT gets no confirmation
    const started = Date.now();
    const refused = await httpPublish(node.url, 'acked.refused', { n: 2 });
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatchObject({ code: ErrorCodes.UNAVAILABLE });
    const message = (refused.body.error as { message?: string }).message ?? '';
    expect(message).toMatch(/not acknowledged: 0 of 1 Redis replicas confirmed it within 200 ms/);
    expect(message).toMatch(/seq 2 of epoch/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);

    // Over WebSocket the publisher gets `$error unavailable` with its request id.
    const publisher = await TestWsClient.connect(node.url);
    cleanups.push(() => publisher.close());
    publisher.send({ action: 'auth', token: 'secret' });
    publisher.send({ action: 'publish', channel: 'acked.refused', data: { n: 3 }, id: 7 });
    await publisher.waitFor((frames) => frames.some((f) => f.type === '$error'), 5000, '$error');
    expect(publisher.ofType('$error')[0]).toMatchObject({ code: ErrorCodes.UNAVAILABLE, id: 7 });

    replica.thaw();
    const next = await httpPublish(node.url, 'acked.refused', { n: 4 });
    expect(next.status).toBe(200);
    // The refused publishes were applied by the master (not acknowledged is not undone): subscribers see
    // every seq once, in order — a refusal never leaves a hole or a repeated seq.
    expect(next.body.seq).toBe(4);
    await watcher.waitForData('acked.refused', 4);
    expect(watcher.data('acked.refused').map((f) => f.seq)).toEqual([1, 2, 3, 4]);
  });

  it('with ackReplicas 0 a publish is acknowledged by the master alone', async () => {
    const node = await server({ ackReplicas: 0 });
    replica.freeze();
    const answer = await httpPublish(node.url, 'acked.zero', { n: 1 });
    expect(answer.status).toBe(200);
  });

  it('refuses an acknowledgement wait the command timeout would cut, and a negative count', async () => {
    await expect(server({ ackReplicas: 1, ackTimeoutMs: 5000 })).rejects.toThrow(
      /brokerAckTimeoutMs: expected an integer from 1 to 1500, got 5000/,
    );
    await expect(server({ ackReplicas: -1 })).rejects.toThrow(
      /brokerAckReplicas: expected an integer from 0 to 16, got -1/,
    );
    await expect(
      connectRedisBroker({ url: master.url, ackReplicas: 1, ackTimeoutMs: 2000, commandTimeoutMs: 2000 }),
    ).rejects.toThrow(/ackTimeoutMs must be an integer from 1 to below the command timeout \(2000 ms\)/);
  });
});
