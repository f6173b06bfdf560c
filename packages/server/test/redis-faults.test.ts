import { ErrorCodes } from '@livedash/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectRedisBroker, type RedisBrokerOptions } from '../src/brokers/redis-broker.js';
import { parseSentinelTarget } from '../src/brokers/redis-target.js';
import { buildServerCli, freePort, LivedashNode, PrivateRedis, SentinelGroup } from './redis-helpers.js';

/**
 * Faults in how Redis is reached answer clearly: a one-line error at start naming where and why (at once
 * when waiting cannot help), a degraded health while running, never a crash.
 */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let group: SentinelGroup;
let cli: string;
beforeAll(async () => {
  [group, cli] = await Promise.all([SentinelGroup.start(), buildServerCli()]);
}, 120_000);
afterAll(async () => {
  await group?.stop();
});

async function connect(options: RedisBrokerOptions) {
  const started = Date.now();
  const result = await connectRedisBroker({ log: () => {}, prefix: 'faults:', ...options });
  if (result.ok) cleanups.push(() => result.value.close());
  return { result, ms: Date.now() - started };
}

function sentinelTarget(list: string, name: string) {
  const target = parseSentinelTarget(list, name);
  if (!target.ok) throw new Error(target.error);
  return target.value;
}

describe('Redis through Sentinel', () => {
  it('finds the master through the Sentinels and shares channels through it', async () => {
    const { result } = await connect({ target: sentinelTarget(group.sentinelList, SentinelGroup.NAME) });
    if (!result.ok) throw result.error;
    const published = await result.value.publish('via.sentinel', '"hello"');
    expect(published.seq).toBe(1);
    const direct = await connect({ url: group.master.url });
    if (!direct.result.ok) throw direct.result.error;
    expect((await direct.result.value.read('via.sentinel')).messages).toEqual([published]);
  });
});

describe('start-up errors', () => {
  it('a Sentinel that knows no master of that name: at once, naming the name', async () => {
    const { result, ms } = await connect({
      target: sentinelTarget(group.sentinelList, 'no-such-master'),
      startTimeoutMs: 20_000,
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe(ErrorCodes.UNAVAILABLE);
    expect(result.error.message).toMatch(/knows no master named "no-such-master"/);
    expect(result.error.message.split('\n')).toHaveLength(1);
    expect(ms).toBeLessThan(10_000);
  });

  it('no Sentinel reachable: after the start-up wait, naming the Sentinels and the reason', async () => {
    const ports = [await freePort(), await freePort()];
    const { result } = await connect({
      target: sentinelTarget(ports.map((port) => `127.0.0.1:${port}`).join(','), 'mymaster'),
      startTimeoutMs: 1500,
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.message).toContain(`127.0.0.1:${ports[0]},127.0.0.1:${ports[1]}`);
    expect(result.error.message).toMatch(
      /within 1500 ms: no Sentinel reachable \(last: 127\.0\.0\.1:\d+: .+\)/,
    );
  });

  it('a wrong password: at once, without the password', async () => {
    const redis = await PrivateRedis.start({ password: 'right-one' });
    cleanups.push(() => redis.stop());
    const { result, ms } = await connect({
      url: `redis://:wrong-one@127.0.0.1:${redis.port}`,
      startTimeoutMs: 20_000,
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.message).toMatch(/WRONGPASS|invalid password/);
    expect(result.error.message).toContain(`redis://:***@127.0.0.1:${redis.port}`);
    expect(result.error.message).not.toContain('wrong-one');
    expect(ms).toBeLessThan(10_000);
    const right = await connect({ url: `redis://:right-one@127.0.0.1:${redis.port}` });
    expect(right.result.ok).toBe(true);
  });

  it('livedash serve prints one line and exits 1 for each, instead of crashing', async () => {
    const redis = await PrivateRedis.start({ password: 'right-one' });
    cleanups.push(() => redis.stop());
    const cases: [string[], RegExp][] = [
      [
        ['--broker', `redis://:nope@127.0.0.1:${redis.port}`],
        /cannot use Redis at .*WRONGPASS|invalid password/,
      ],
      [
        ['--broker-sentinels', group.sentinelList, '--broker-sentinel-name', 'absent'],
        /knows no master named "absent"/,
      ],
      [['--broker-sentinels', group.sentinelList], /needs the master name \(--broker-sentinel-name\)/],
      [
        ['--broker-sentinels', 'not-an-address', '--broker-sentinel-name', 'm'],
        /"not-an-address" is not host:port/,
      ],
      [['--broker-sentinels', '127.0.0.1:1', '--broker', redis.url], /give exactly one of/],
    ];
    for (const [args, expected] of cases) {
      const failure = await LivedashNode.start({
        cli,
        name: 'fault',
        prefix: 'faults:',
        extraArgs: args,
      }).then(
        async (node) => {
          await node.stop('SIGKILL');
          return new Error(`started with ${args.join(' ')}`);
        },
        (error: Error) => error,
      );
      expect(failure.message).toMatch(/exited with [12]/);
      expect(failure.message).toMatch(expected);
      expect(failure.message).not.toMatch(/\n\s+at /); // no stack trace
    }
  });
});
