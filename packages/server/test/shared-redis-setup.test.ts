import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from './redis-helpers.js';
import { type EnsuredRedis, ensureRedis, redisServerCommand } from './setup/shared-redis.js';

/** The test run's global setup, tried on private free ports so the shared Redis is never touched. */

const started: EnsuredRedis[] = [];
afterEach(async () => {
  for (const redis of started.splice(0)) await redis.stop();
});

async function ping(port: number): Promise<string> {
  const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return await redis.ping();
  } catch (error) {
    return `no answer: ${String(error)}`;
  } finally {
    redis.disconnect();
  }
}

describe('the shared Redis global setup', () => {
  it('starts redis-server when nothing answers on the port; stop() ends only that one', async () => {
    const port = await freePort();
    const redis = await ensureRedis({ port });
    started.push(redis);
    expect(redis.started).toBe(true);
    expect(await ping(port)).toBe('PONG');
    await redis.stop();
    expect(await ping(port)).toMatch(/^no answer/);
  });

  it('uses a Redis that already answers as it is, and never stops it', async () => {
    const port = await freePort();
    const first = await ensureRedis({ port });
    started.push(first);
    const second = await ensureRedis({ port });
    expect(second.started).toBe(false);
    await second.stop();
    expect(await ping(port)).toBe('PONG');
  });

  it('without redis-server, stops the run saying exactly what to run', async () => {
    const port = await freePort();
    const failure = await ensureRedis({ port, redisServer: '/nonexistent/redis-server' }).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    const message = (failure as Error).message;
    expect(message).toContain(`No Redis answers at 127.0.0.1:${port}`);
    expect(message).toContain('\n  apt-get install -y redis-server\n');
    expect(message).toContain(`\n  ${redisServerCommand(port)}`);
    expect(redisServerCommand(6379)).toBe(
      'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no',
    );
  });
});
