import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectRedisBroker } from '../src/brokers/redis-broker.js';
import { parseClusterTarget } from '../src/brokers/redis-target.js';
import { createServer } from '../src/server.js';
import { httpPublish, TestWsClient } from './helpers/ws-client.js';
import { PrivateCluster } from './redis-cluster-helpers.js';
import { buildServerCli, freePort, LivedashNode, waitFor } from './redis-helpers.js';

/**
 * Faults in reaching a Redis Cluster answer clearly: a one-line error at start (at once for a refused
 * password), a degraded `/healthz` and 503 publishes while the cluster is down, never a crash, and recovery
 * by itself when it returns.
 */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

let cli: string;
let secured: PrivateCluster;
beforeAll(async () => {
  [cli, secured] = await Promise.all([buildServerCli(), PrivateCluster.start({ password: 'right-one' })]);
}, 180_000);
afterAll(async () => {
  await secured?.stop();
});

function target(list: string) {
  const parsed = parseClusterTarget(list);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

/** `livedash serve` with `args`; resolves to how it failed to start. */
async function failedStart(args: string[]): Promise<string> {
  return LivedashNode.start({ cli, name: 'fault', prefix: 'clfault:', extraArgs: args }).then(
    async (node) => {
      await node.stop('SIGKILL');
      return `started with ${args.join(' ')}`;
    },
    (error: Error) => error.message,
  );
}

describe('start-up errors', { timeout: 60_000 }, () => {
  it('a cluster that is down: after the start-up wait, naming the nodes and the reason, in one line', async () => {
    const ports = [await freePort(), await freePort()];
    const list = ports.map((port) => `127.0.0.1:${port}`).join(',');
    const connected = await connectRedisBroker({ target: target(list), startTimeoutMs: 1500, log: () => {} });
    expect(connected.ok).toBe(false);
    if (connected.ok) return;
    expect(connected.error.message).toMatch(
      new RegExp(`^cannot reach Redis at Redis Cluster ${list} within 1500 ms: no Cluster node answered$`),
    );
    expect(connected.error.message.split('\n')).toHaveLength(1);

    const failure = await failedStart(['--broker-cluster', list]);
    expect(failure).toMatch(/exited with 1/);
    expect(failure).toMatch(
      /cannot reach Redis at Redis Cluster .* within 10000 ms: no Cluster node answered/,
    );
    expect(failure).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('a wrong password: at once, without the password', async () => {
    const list = `:wrong-one@127.0.0.1:${secured.servers[0]!.port}`;
    const started = Date.now();
    const connected = await connectRedisBroker({
      target: target(list),
      startTimeoutMs: 20_000,
      log: () => {},
    });
    expect(connected.ok).toBe(false);
    if (connected.ok) return;
    expect(connected.error.message).toMatch(
      /^cannot use Redis at Redis Cluster 127\.0\.0\.1:\d+: .*(WRONGPASS|invalid password)/,
    );
    expect(connected.error.message).not.toContain('wrong-one');
    expect(Date.now() - started).toBeLessThan(10_000);

    const failure = await failedStart(['--broker-cluster', list]);
    expect(failure).toMatch(/exited with 1/);
    expect(failure).toMatch(/cannot use Redis at Redis Cluster .*(WRONGPASS|invalid password)/);
    expect(failure).not.toContain('wrong-one');

    const right = await connectRedisBroker({
      target: target(`:right-one@127.0.0.1:${secured.servers[0]!.port}`),
      log: () => {},
    });
    expect(right.ok).toBe(true);
    if (right.ok) {
      expect((await right.value.publish('secured', '1')).seq).toBe(1);
      await right.value.close();
    }
  });

  it('refuses a cluster given together with a URL or Sentinels, and a malformed list', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['--broker-cluster', '127.0.0.1:1', '--broker', 'redis://127.0.0.1:2'],
        /give exactly one of a Redis URL, a Sentinel list or a Redis Cluster node list/,
      ],
      [
        [
          '--broker-cluster',
          '127.0.0.1:1',
          '--broker-sentinels',
          '127.0.0.1:2',
          '--broker-sentinel-name',
          'm',
        ],
        /give exactly one of/,
      ],
      [['--broker-cluster', 'no-port'], /"no-port" is not host:port/],
    ];
    for (const [args, expected] of cases) {
      const failure = await failedStart(args);
      expect(failure).toMatch(/exited with 2/);
      expect(failure).toMatch(expected);
    }
  });
});

describe('a cluster that goes down while running', { timeout: 90_000 }, () => {
  it('degrades /healthz and answers publishes 503, then recovers by itself when the cluster returns', async () => {
    const cluster = await PrivateCluster.start();
    cleanups.push(() => cluster.stop());
    const server = await createServer({
      port: 0,
      publishToken: 'secret',
      brokerCluster: cluster.nodeList,
      brokerPrefix: 'down:',
    });
    cleanups.push(() => server.close());
    const health = async () => {
      const response = await fetch(`${server.url}/healthz`);
      return {
        status: response.status,
        body: (await response.json()) as { status: string; reason?: string },
      };
    };
    expect((await health()).status).toBe(200);
    const listener = await TestWsClient.connect(server.url);
    cleanups.push(() => listener.close());
    listener.send({ action: 'subscribe', channels: ['down.a'] });
    await listener.waitFor((frames) => frames.some((f) => f.type === '$subscribed'));
    expect((await httpPublish(server.url, 'down.a', { n: 1 })).status).toBe(200);
    await listener.waitForData('down.a', 1);

    for (const redis of cluster.servers) await redis.stop();
    await waitFor('a degraded /healthz', async () => (await health()).status === 503, 15_000);
    const degraded = await health();
    expect(degraded.body).toMatchObject({
      status: 'degraded',
      reason: expect.stringMatching(/Redis Cluster/),
    });
    const refused = await httpPublish(server.url, 'down.a', { n: 2 });
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatchObject({ code: 'unavailable' });

    // Same ports, same cluster files: the cluster forms again (its data is gone: no persistence).
    for (const redis of cluster.servers) await redis.start();
    await cluster.waitUntilHealthy();
    await waitFor('/healthz ok again', async () => (await health()).status === 200, 30_000);
    await waitFor(
      'publishes accepted again',
      async () => (await httpPublish(server.url, 'down.a', { n: 3 })).status === 200,
      15_000,
    );
    // The subscriber hears the channel again: the node subscribed it anew on its shard.
    await listener.waitFor(
      (frames) => frames.some((f) => f.type === 'down.a' && (f.data as { n: number }).n === 3),
      15_000,
      'a message after the cluster returned',
    );
    // Redis lost the channel with its processes: the new messages come in a new epoch, never as a repeated seq.
    const [first, last] = [listener.data('down.a')[0]!, listener.data('down.a').at(-1)!];
    expect(last.epoch).not.toBe(first.epoch);
  });
});
