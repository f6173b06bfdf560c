import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { until } from './helpers/wait.js';
import { freePort, PrivateRedis, StartFailure } from './redis-helpers.js';

/** One master of the cluster and the slots it serves. */
export interface Shard {
  master: PrivateRedis;
  slots: [number, number][];
}

/**
 * A Redis Cluster of three masters with one replica each, every one a private `redis-server` on a free port
 * (with its cluster bus on another free port), no persistence, made by `redis-cli --cluster create`. A master
 * that stops answering for `nodeTimeoutMs` is failed over to its replica.
 */
export class PrivateCluster {
  readonly servers: PrivateRedis[];
  readonly #dir: string;

  private constructor(servers: PrivateRedis[], dir: string) {
    this.servers = servers;
    this.#dir = dir;
  }

  static async start(options: { nodeTimeoutMs?: number; password?: string } = {}): Promise<PrivateCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'livedash-cluster-'));
    const servers: PrivateRedis[] = [];
    const cluster = new PrivateCluster(servers, dir);
    try {
      for (let i = 0; i < 6; i++) servers.push(await startNode(dir, options));
      const create = [
        '--cluster',
        'create',
        ...servers.map((server) => `127.0.0.1:${server.port}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
        ...(options.password !== undefined ? ['-a', options.password, '--no-auth-warning'] : []),
      ];
      const output = await run('redis-cli', create);
      if (!/All 16384 slots covered/.test(output)) throw new Error(`redis-cli --cluster create:\n${output}`);
      await cluster.waitUntilHealthy(options.password);
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  /** `host:port,…` of every server, as `--broker-cluster` takes it. */
  get nodeList(): string {
    return this.servers.map((server) => `127.0.0.1:${server.port}`).join(',');
  }

  /** Waits until every running server says the cluster is ok and they all agree on who serves which slot. */
  async waitUntilHealthy(password?: string, timeoutMs = 30_000): Promise<void> {
    await until(
      async () => {
        const running = this.servers.filter((server) => server.pid !== undefined);
        const views = await Promise.all(running.map((server) => slotView(server.port, password)));
        return views.every((view) => view !== undefined && view === views[0]);
      },
      'the cluster to be ok on every node',
      timeoutMs,
    );
  }

  /** The masters serving slots now, with their slot ranges (asked of a running server). */
  async shards(password?: string): Promise<Shard[]> {
    for (const server of this.servers) {
      if (server.pid === undefined) continue;
      const slots = await command(server.port, ['CLUSTER', 'SLOTS'], password).catch(() => undefined);
      if (!Array.isArray(slots)) continue;
      const byPort = new Map<number, Shard>();
      for (const range of slots as [number, number, [string, number, string]][]) {
        const port = Number(range[2][1]);
        const master = this.servers.find((candidate) => candidate.port === port);
        if (master === undefined) continue;
        const shard = byPort.get(port) ?? { master, slots: [] };
        shard.slots.push([range[0], range[1]]);
        byPort.set(port, shard);
      }
      return [...byPort.values()];
    }
    throw new Error('no cluster server answers');
  }

  /** The master serving `slot` now. */
  async masterOf(slot: number, password?: string): Promise<PrivateRedis> {
    const shard = (await this.shards(password)).find((candidate) =>
      candidate.slots.some(([from, to]) => slot >= from && slot <= to),
    );
    if (shard === undefined) throw new Error(`no master serves slot ${slot}`);
    return shard.master;
  }

  /**
   * Moves `slot` and every key in it from its master to `to`, the way `redis-cli --cluster reshard` does:
   * IMPORTING/MIGRATING, MIGRATE in batches, then SETSLOT NODE on both ends and the other masters.
   */
  async moveSlot(slot: number, to: PrivateRedis): Promise<void> {
    const from = await this.masterOf(slot);
    if (from === to) return;
    const toId = String(await command(to.port, ['CLUSTER', 'MYID']));
    const fromId = String(await command(from.port, ['CLUSTER', 'MYID']));
    await command(to.port, ['CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', fromId]);
    await command(from.port, ['CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', toId]);
    for (;;) {
      const keys = (await command(from.port, ['CLUSTER', 'GETKEYSINSLOT', String(slot), '100'])) as string[];
      if (keys.length === 0) break;
      await command(from.port, ['MIGRATE', '127.0.0.1', String(to.port), '', '0', '5000', 'KEYS', ...keys]);
    }
    await command(to.port, ['CLUSTER', 'SETSLOT', String(slot), 'NODE', toId]);
    await command(from.port, ['CLUSTER', 'SETSLOT', String(slot), 'NODE', toId]);
    for (const shard of await this.shards()) {
      if (shard.master === from || shard.master === to) continue;
      await command(shard.master.port, ['CLUSTER', 'SETSLOT', String(slot), 'NODE', toId]).catch(() => {});
    }
  }

  /** Stops every server this cluster started (by PID) and removes its directory. */
  async stop(): Promise<void> {
    for (const server of this.servers) {
      server.thaw();
      await server.stop();
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** The slot Redis Cluster assigns to `key` (CRC16 of the hash tag, or of the whole key). */
export async function slotOf(port: number, key: string): Promise<number> {
  return Number(await command(port, ['CLUSTER', 'KEYSLOT', key]));
}

async function slotView(port: number, password?: string): Promise<string | undefined> {
  try {
    const info = String(await command(port, ['CLUSTER', 'INFO'], password));
    if (!/cluster_state:ok/.test(info)) return undefined;
    const slots = (await command(port, ['CLUSTER', 'SLOTS'], password)) as [
      number,
      number,
      [string, number],
    ][];
    return JSON.stringify(
      slots.map((range) => [range[0], range[1], range[2][1]]).sort((a, b) => a[0]! - b[0]!),
    );
  } catch {
    return undefined;
  }
}

async function command(port: number, args: string[], password?: string): Promise<unknown> {
  const redis = new Redis(port, '127.0.0.1', {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    ...(password !== undefined && { password }),
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return await redis.call(args[0]!, ...args.slice(1));
  } finally {
    redis.disconnect();
  }
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('error', reject);
    child.once('exit', () => resolve(output));
  });
}

/**
 * One cluster-enabled server on a free port with its bus on another; should another process take either
 * before Redis binds it, on two others (a few tries).
 */
async function startNode(
  dir: string,
  options: { nodeTimeoutMs?: number; password?: string },
): Promise<PrivateRedis> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const busPort = await freePort();
    const args = [
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(dir, `nodes-${port}.conf`),
      '--cluster-port',
      String(busPort),
      '--cluster-node-timeout',
      String(options.nodeTimeoutMs ?? 1000),
      '--dir',
      dir,
    ];
    if (options.password !== undefined) args.push('--masterauth', options.password);
    try {
      return await PrivateRedis.start({
        port,
        args,
        ...(options.password !== undefined && { password: options.password }),
      });
    } catch (error) {
      if (!(error instanceof StartFailure) || attempt === 3) throw error;
    }
  }
}
