// The Redis the scaling benchmark runs on: one private `redis-server`, or a Redis Cluster of private
// masters (no replicas: a replica would spend the same two cores on copying, which is not capacity),
// each on a free port, no persistence, made with `redis-cli --cluster create` as the Cluster tests make
// theirs. `stop()` ends exactly the processes started here, by PID.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redisCommand } from './redis-stats.mjs';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function pollUntil(condition, what, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await pause(50);
  }
}

async function startServer(args = []) {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...args],
    { stdio: 'ignore' },
  );
  const server = { child, pid: child.pid, port };
  try {
    await pollUntil(
      async () => (await redisCommand(port, ['PING'])) === 'PONG',
      `redis-server on ${port}`,
      10_000,
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return server;
}

/** Sends SIGKILL to each server by its PID (synchronous, so it also runs from a process 'exit' handler). */
function killAll(servers) {
  for (const server of servers) if (server.child.exitCode === null) server.child.kill('SIGKILL');
}

/** One private `redis-server`. `url` is what `--broker` takes; `ports` lists the one process to measure. */
export async function startRedis() {
  const server = await startServer();
  return {
    kind: 'redis',
    label: 'Redis',
    ports: [server.port],
    pids: [server.pid],
    brokerOptions: { brokerUrl: `redis://127.0.0.1:${server.port}` },
    kill: () => killAll([server]),
  };
}

function run(command, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('error', reject);
    child.once('exit', () => resolve(output));
  });
}

/** A Redis Cluster of `shards` masters; `brokerOptions.brokerCluster` is what `--broker-cluster` takes. */
export async function startCluster(shards = 3) {
  const dir = mkdtempSync(join(tmpdir(), 'livedash-bench-cluster-'));
  const servers = [];
  const kill = () => {
    killAll(servers);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < shards; i++) {
      const busPort = await freePort();
      // The config file is named after the bus port: the server's own port is only known once started.
      servers.push(
        await startServer([
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, `nodes-${busPort}.conf`),
          '--cluster-port',
          String(busPort),
          '--dir',
          dir,
        ]),
      );
    }
    const nodes = servers.map((server) => `127.0.0.1:${server.port}`);
    const output = await run('redis-cli', [
      '--cluster',
      'create',
      ...nodes,
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    if (!/All 16384 slots covered/.test(output)) throw new Error(`redis-cli --cluster create:\n${output}`);
    await pollUntil(
      async () => {
        for (const server of servers) {
          const info = String(await redisCommand(server.port, ['CLUSTER', 'INFO']));
          if (!/cluster_state:ok/.test(info) || !new RegExp(`cluster_known_nodes:${shards}\\b`).test(info))
            return false;
        }
        return true;
      },
      'every cluster node to say cluster_state:ok',
      30_000,
    );
    return {
      kind: 'cluster',
      label: `Cluster (${shards} shards)`,
      ports: servers.map((server) => server.port),
      pids: servers.map((server) => server.pid),
      brokerOptions: { brokerCluster: nodes.join(',') },
      kill,
    };
  } catch (error) {
    kill();
    throw error;
  }
}

/** Which master serves each channel's slot: `{ port: [channel, …] }` (every key of a channel is tagged `{channel}`). */
export async function channelsByShard(redis, channels) {
  const byPort = Object.fromEntries(redis.ports.map((port) => [port, []]));
  if (redis.kind !== 'cluster') {
    byPort[redis.ports[0]] = [...channels];
    return byPort;
  }
  const ranges = await redisCommand(redis.ports[0], ['CLUSTER', 'SLOTS']);
  for (const channel of channels) {
    const slot = Number(await redisCommand(redis.ports[0], ['CLUSTER', 'KEYSLOT', `{${channel}}`]));
    const range = ranges.find(([from, to]) => slot >= from && slot <= to);
    byPort[Number(range[2][1])].push(channel);
  }
  return byPort;
}

/** Empties every process of `redis` between configurations. */
export async function flush(redis) {
  for (const port of redis.ports) await redisCommand(port, ['FLUSHALL']);
}
