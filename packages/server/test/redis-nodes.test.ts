import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TestSseClient } from './helpers/sse-client.js';
import { until } from './helpers/wait.js';
import { type Frame, httpPublish, TestWsClient } from './helpers/ws-client.js';
import {
  buildServerCli,
  deletePrefix,
  freePort,
  LivedashNode,
  PrivateRedis,
  SHARED_REDIS_URL,
  uniquePrefix,
} from './redis-helpers.js';

/**
 * Several `livedash serve` processes sharing channels through a real Redis: the scale-out promises of
 * docs/scaling.md, seen by real clients over real sockets.
 */

let cli = '';
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  cli = await buildServerCli();
}, 240_000);

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

async function startNodes(names: string[], redisUrl: string, prefix: string): Promise<LivedashNode[]> {
  const nodes = await Promise.all(names.map((name) => LivedashNode.start({ cli, name, redisUrl, prefix })));
  for (const node of nodes) cleanups.push(() => node.stop('SIGKILL'));
  return nodes;
}

async function subscriber(url: string, channel: string, since?: { epoch: string; seq: number }) {
  const client = await TestWsClient.connect(url);
  cleanups.push(() => client.close());
  client.send({ action: 'subscribe', channels: [channel], ...(since && { since: { [channel]: since } }) });
  await client.waitFor((frames) => frames.some((f) => f.type === '$subscribed'), 15_000, '$subscribed');
  return client;
}

const seqs = (frames: Frame[]) => frames.map((frame) => frame.seq as number);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

// Each test starts node processes (several seconds each on a loaded 2-core machine): generous timeouts.
describe('livedash nodes sharing Redis', { timeout: 120_000 }, () => {
  it('publishes on three nodes at once reach clients on every node in one order with the same seq', async () => {
    const prefix = uniquePrefix('nodes3');
    cleanups.push(() => deletePrefix(SHARED_REDIS_URL, prefix));
    const nodes = await startNodes(['a', 'b', 'c'], SHARED_REDIS_URL, prefix);
    const clients = await Promise.all(nodes.map((node) => subscriber(node.url, 'orders')));
    const perNode = 40;
    const answers = await Promise.all(
      nodes.map((node, i) =>
        Promise.all(range(1, perNode).map((n) => httpPublish(node.url, 'orders', { node: node.name, n, i }))),
      ),
    );
    const published = answers.flat();
    expect(published.every((answer) => answer.status === 200)).toBe(true);
    const total = 3 * perNode;
    expect(published.map((answer) => answer.body.seq).sort((x, y) => x! - y!)).toEqual(range(1, total));
    for (const client of clients) await client.waitForData('orders', total, 30_000);
    const reference = clients[0]!.data('orders');
    expect(seqs(reference)).toEqual(range(1, total));
    for (const client of clients.slice(1)) expect(client.data('orders')).toEqual(reference);
    // Node health through Redis.
    for (const node of nodes) {
      const health = await fetch(`${node.url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok', node: node.name });
    }
  });

  it('moves clients of a SIGKILLed node to another node with no gap and no duplicate', async () => {
    const prefix = uniquePrefix('sigkill');
    cleanups.push(() => deletePrefix(SHARED_REDIS_URL, prefix));
    const [doomed, publisherNode, survivor] = await startNodes(
      ['doomed', 'pub', 'survivor'],
      SHARED_REDIS_URL,
      prefix,
    );
    const first = await subscriber(doomed!.url, 'ticks');
    const firstSse = await TestSseClient.open(`${doomed!.url}/sse?channels=ticks`);
    cleanups.push(() => firstSse.abort());
    let publishing = true;
    let sent = 0;
    const loop = (async () => {
      while (publishing) {
        const answer = await httpPublish(publisherNode!.url, 'ticks', { n: sent + 1 });
        if (answer.status === 200) sent++;
      }
    })();
    cleanups.push(async () => {
      publishing = false;
      await loop;
    });
    await first.waitForData('ticks', 20, 15_000);
    await firstSse.waitForData('ticks', 20, 15_000);
    await doomed!.stop('SIGKILL');
    await first.closed;
    await firstSse.waitForEnd();
    const before = first.data('ticks');
    const last = before.at(-1)!;
    const sentAtKill = sent;
    // The client reconnects to another node and resumes from its last position.
    const moved = await subscriber(survivor!.url, 'ticks', {
      epoch: last.epoch as string,
      seq: last.seq as number,
    });
    const subscribed = moved.ofType('$subscribed')[0]!;
    expect(subscribed).toMatchObject({ channel: 'ticks', recovered: true, epoch: last.epoch });
    await moved.waitFor(
      (frames) => frames.filter((f) => f.type === 'ticks' && (f.seq as number) > sentAtKill).length >= 10,
    );
    publishing = false;
    await loop;
    await moved.waitFor(
      (frames) => (frames.filter((f) => f.type === 'ticks').at(-1)?.seq as number) === sent,
      15_000,
    );
    const all = [...before, ...moved.data('ticks')];
    expect(seqs(all)).toEqual(range(1, sent));
    expect(all.map((frame) => (frame.data as { n: number }).n)).toEqual(range(1, sent));
    // The same over SSE: the browser's Last-Event-ID, sent to another node, resumes the stream.
    const movedSse = await TestSseClient.open(`${survivor!.url}/sse?channels=ticks`, {
      'last-event-id': firstSse.lastEventId!,
    });
    cleanups.push(() => movedSse.abort());
    await movedSse.waitFor(() => (movedSse.data('ticks').at(-1)?.seq as number) === sent, 15_000);
    const allSse = [...firstSse.data('ticks'), ...movedSse.data('ticks')];
    expect(seqs(allSse)).toEqual(range(1, sent));
  });

  it('keeps client connections through a Redis restart, refuses publishes meanwhile, and recovers by itself', async () => {
    const redis = await PrivateRedis.start();
    cleanups.push(() => redis.stop());
    const prefix = 'restart:';
    const [a, b] = await startNodes(['ra', 'rb'], redis.url, prefix);
    const client = await subscriber(a!.url, 'stream');
    for (let n = 1; n <= 5; n++) expect((await httpPublish(b!.url, 'stream', { n })).status).toBe(200);
    await client.waitForData('stream', 5);
    const oldEpoch = client.data('stream')[0]!.epoch;

    await redis.stop();
    await until(async () => (await fetch(`${a!.url}/healthz`)).status === 503, 'node a to report degraded');
    const health = (await (await fetch(`${a!.url}/healthz`)).json()) as { status: string; reason: string };
    expect(health).toMatchObject({
      status: 'degraded',
      reason: expect.stringContaining(`127.0.0.1:${redis.port}`),
    });
    const refused = await httpPublish(b!.url, 'stream', { n: 'lost' });
    expect(refused.status).toBe(503);
    expect(refused.body.error?.code).toBe('unavailable');
    expect(client.ws.readyState).toBe(client.ws.OPEN);

    await redis.start();
    await until(
      async () => (await fetch(`${a!.url}/healthz`)).status === 200,
      'node a healthy again',
      20_000,
    );
    await until(
      async () => (await httpPublish(b!.url, 'stream', { n: 6 })).status === 200,
      'publishing to work again',
    );
    for (let n = 7; n <= 9; n++) expect((await httpPublish(b!.url, 'stream', { n })).status).toBe(200);
    // Same connection, never resubscribed by the client: node a resubscribed in Redis by itself. Redis came back
    // empty (no persistence), so the channel has a new epoch and its seq starts over.
    await client.waitFor(
      (frames) => frames.filter((f) => f.type === 'stream' && f.epoch !== oldEpoch).length === 4,
    );
    const fresh = client.data('stream').filter((frame) => frame.epoch !== oldEpoch);
    expect(seqs(fresh)).toEqual([1, 2, 3, 4]);
    expect(fresh.map((frame) => (frame.data as { n: number }).n)).toEqual([6, 7, 8, 9]);
    expect(client.ws.readyState).toBe(client.ws.OPEN);
    // A client resuming from the old epoch is told it cannot recover and gets the latest value.
    const late = await subscriber(b!.url, 'stream', { epoch: oldEpoch as string, seq: 5 });
    expect(late.ofType('$subscribed')[0]).toMatchObject({ recovered: false, seq: 4 });
  });

  it('keeps fanning out node-local channels while Redis is stuck, and answers publishes 503 meanwhile', async () => {
    const redis = await PrivateRedis.start();
    cleanups.push(() => redis.stop());
    const node = await LivedashNode.start({
      cli,
      name: 'stuck',
      redisUrl: redis.url,
      prefix: 'stuck:',
      extraArgs: ['--metrics-interval', '200'],
    });
    cleanups.push(() => node.stop('SIGKILL'));
    const client = await subscriber(node.url, 'metrics');
    client.send({ action: 'subscribe', channels: ['shared'] });
    await client.waitFor((frames) => frames.filter((f) => f.type === '$subscribed').length === 2);
    await client.waitForData('metrics', 2);

    redis.freeze();
    cleanups.push(async () => redis.thaw());
    await until(async () => (await fetch(`${node.url}/healthz`)).status === 503, 'degraded health');
    const health = (await (await fetch(`${node.url}/healthz`)).json()) as { reason: string };
    expect(health.reason).toMatch(/not answering/);
    const started = Date.now();
    const refused = await httpPublish(node.url, 'shared', { n: 1 });
    expect(refused.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(5000);
    // The node's own metrics keep flowing to the client while Redis is frozen.
    const during = client.data('metrics').length;
    await client.waitForData('metrics', during + 3);

    redis.thaw();
    await until(async () => (await fetch(`${node.url}/healthz`)).status === 200, 'health back to ok');
    expect((await httpPublish(node.url, 'shared', { n: 2 })).status).toBe(200);
    await client.waitFor((frames) =>
      frames.some((f) => f.type === 'shared' && (f.data as { n: number }).n === 2),
    );
  });

  it('exits with a clear error when Redis is unreachable at start', async () => {
    const port = await freePort();
    const started = LivedashNode.start({
      cli,
      name: 'nowhere',
      redisUrl: `redis://127.0.0.1:${port}`,
      prefix: 'x:',
    });
    const failure = await started.then(
      async (node) => {
        await node.stop('SIGKILL');
        return new Error('started without Redis');
      },
      (error: Error) => error,
    );
    expect(failure.message).toMatch(/exited with 1/);
    expect(failure.message).toContain(`cannot reach Redis at redis://127.0.0.1:${port}`);
    expect(failure.message).toMatch(/ECONNREFUSED/);
  });

  it('keeps each node’s `metrics` local while `metrics.<node>` is shared', async () => {
    const prefix = uniquePrefix('metrics');
    cleanups.push(() => deletePrefix(SHARED_REDIS_URL, prefix));
    const nodes = await Promise.all(
      ['m1', 'm2'].map((name) =>
        LivedashNode.start({
          cli,
          name,
          redisUrl: SHARED_REDIS_URL,
          prefix,
          extraArgs: ['--metrics-interval', '300'],
        }),
      ),
    );
    for (const node of nodes) cleanups.push(() => node.stop('SIGKILL'));
    const [m1, m2] = nodes as [LivedashNode, LivedashNode];
    const latest = async (url: string, channel: string) => {
      const response = await fetch(`${url}/api/channels/${channel}`);
      return response.status === 200
        ? ((await response.json()) as { epoch: string; seq: number })
        : undefined;
    };
    await until(async () => (await latest(m1.url, 'metrics.m2')) !== undefined, 'metrics on both nodes');
    await until(async () => (await latest(m2.url, 'metrics.m1')) !== undefined, 'metrics.m1 seen from m2');
    const local1 = await latest(m1.url, 'metrics');
    const local2 = await latest(m2.url, 'metrics');
    expect(local1).toBeDefined();
    expect(local2).toBeDefined();
    // Two separate channels: different epochs, each counting only its own node's samples.
    expect(local1!.epoch).not.toBe(local2!.epoch);
    const shared1 = await latest(m1.url, 'metrics.m1');
    const shared2 = await latest(m2.url, 'metrics.m1');
    expect(shared2!.epoch).toBe(shared1!.epoch);
  });
});
