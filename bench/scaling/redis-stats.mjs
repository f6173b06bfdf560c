// Small Redis helpers for the scaling benchmark: one command on a short-lived connection, and the CPU
// time each Redis process has used so far (INFO cpu), to charge Redis its share per publish.
import { Redis } from 'ioredis';

export async function redisCommand(port, [command, ...args]) {
  const redis = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return await redis.call(command, ...args);
  } finally {
    redis.disconnect();
  }
}

/** Seconds of CPU (user + system, main thread and children) the Redis server has used. */
export async function redisCpuSeconds(port) {
  const info = String(await redisCommand(port, ['INFO', 'cpu']));
  const field = (name) => Number(new RegExp(`${name}:([0-9.]+)`).exec(info)?.[1] ?? 0);
  return field('used_cpu_user') + field('used_cpu_sys');
}

/** CPU seconds of every Redis process of the broker, in the order of `ports` (one per Cluster shard). */
export function redisCpuSecondsEach(ports) {
  return Promise.all(ports.map((port) => redisCpuSeconds(port)));
}
