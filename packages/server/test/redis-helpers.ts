import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { until } from './helpers/wait.js';
import { SHARED_REDIS_HOST, sharedRedisPort } from './setup/shared-redis.js';

/**
 * The shared Redis every test run uses (127.0.0.1:6379, or LIVEDASH_TEST_REDIS_PORT), made sure of by the
 * global setup; each test works under its own key prefix.
 */
export const SHARED_REDIS_URL = `redis://${SHARED_REDIS_HOST}:${sharedRedisPort()}`;

export function uniquePrefix(label: string): string {
  return `livedash-test:${label}:${randomBytes(6).toString('hex')}:`;
}

/** Deletes every key under `prefix`. */
export async function deletePrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A `redis-server` that exited before it answered (its log says why). */
export class StartFailure extends Error {}

/**
 * A private `redis-server` (no persistence, so a restart loses everything, like a crashed cache) that a test
 * can stop and start again on the same port.
 */
export interface PrivateRedisOptions {
  /** Where `SAVE` writes its snapshot, loaded again on `start()`; none: nothing survives a restart. */
  dir?: string;
  /** More `redis-server` arguments, e.g. `['--replicaof', '127.0.0.1', '6400']`. */
  args?: string[];
  /** The server's `requirepass` (given to the readiness probe too). */
  password?: string;
  /** Run a Sentinel (`redis-server <configFile> --sentinel`) instead of a server; the file must be writable. */
  sentinelConfig?: string;
  port?: number;
}

export class PrivateRedis {
  readonly port: number;
  readonly #options: PrivateRedisOptions;
  #process: ChildProcess | undefined;

  private constructor(port: number, options: PrivateRedisOptions) {
    this.port = port;
    this.#options = options;
  }

  /**
   * Starts a server on `options.port`, or on a free port: then, should another process take that port before
   * Redis binds it, on another one (a few tries).
   */
  static async start(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
    for (let attempt = 1; ; attempt++) {
      const redis = new PrivateRedis(options.port ?? (await freePort()), options);
      try {
        await redis.start();
        return redis;
      } catch (error) {
        if (options.port !== undefined || !(error instanceof StartFailure) || attempt === 3) throw error;
      }
    }
  }

  get pid(): number | undefined {
    return this.#process?.pid;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.#process) return;
    const { dir, sentinelConfig } = this.#options;
    const args = ['--port', String(this.port), '--bind', '127.0.0.1'];
    if (sentinelConfig === undefined) args.push('--save', '', '--appendonly', 'no');
    if (dir !== undefined) args.push('--dir', dir, '--dbfilename', 'dump.rdb');
    if (this.#options.password !== undefined) args.push('--requirepass', this.#options.password);
    args.push(...(this.#options.args ?? []));
    const child =
      sentinelConfig === undefined
        ? spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'ignore'] })
        : spawn('redis-server', [sentinelConfig, '--sentinel', ...args], {
            stdio: ['ignore', 'pipe', 'ignore'],
          });
    this.#process = child;
    // Redis logs to stdout; the last lines say why it would not start (a port taken meanwhile, say).
    let log = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-2000);
    });
    let exited: string | undefined;
    child.once('exit', (code, signal) => {
      exited = `exited (${signal ?? `code ${code}`}) before answering:\n${log.trim()}`;
      if (this.#process === child) this.#process = undefined;
    });
    await until(() => exited !== undefined || this.#answers(), `redis-server on port ${this.port}`, 10_000);
    if (exited !== undefined) throw new StartFailure(`redis-server on port ${this.port} ${exited}`);
  }

  /** Stops the server by its PID and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.#process;
    if (!child) return;
    this.#process = undefined;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Freezes the server (SIGSTOP): its connections stay open but nothing is answered, like a stuck Redis. */
  freeze(): void {
    this.#process?.kill('SIGSTOP');
  }

  thaw(): void {
    this.#process?.kill('SIGCONT');
  }

  async #answers(): Promise<boolean> {
    const probe = new Redis(this.url, {
      ...(this.#options.password !== undefined && { password: this.#options.password }),
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      // Whatever holds the port may accept and never answer.
      connectTimeout: 1000,
      commandTimeout: 1000,
    });
    probe.on('error', () => {});
    try {
      await probe.connect();
      // Another test's Redis may have taken the port meanwhile (a restart reuses it): only this process counts.
      const info = await probe.info('server');
      const pid = /^process_id:(\d+)\r?$/m.exec(info)?.[1];
      return pid !== undefined && Number(pid) === this.#process?.pid;
    } catch {
      return false;
    } finally {
      probe.disconnect();
    }
  }
}

/**
 * A TCP relay on a port of its own to a Redis port: a node connected through it loses Redis when the relay
 * is cut, while Redis itself keeps running with its data (as a network partition does).
 */
export class TcpRelay {
  readonly port: number;
  readonly #target: number;
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();

  private constructor(port: number, target: number) {
    this.port = port;
    this.#target = target;
  }

  /** A relay to `target`, not yet accepting connections (call `open()`). */
  static async create(target: number): Promise<TcpRelay> {
    return new TcpRelay(await freePort(), target);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async open(): Promise<void> {
    if (this.#server) return;
    const server = createServer((client) => {
      const upstream = createConnection(this.#target, '127.0.0.1');
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
  }

  /** Stops accepting and drops every relayed connection. */
  async cut(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}

/**
 * A master, its replica and three Sentinels watching it, each a private process on a free port. Sentinel
 * declares the master down after `downAfterMs` without answers and promotes the replica.
 */
export class SentinelGroup {
  static readonly NAME = 'livedash-test';
  readonly master: PrivateRedis;
  readonly replica: PrivateRedis;
  readonly sentinels: PrivateRedis[];
  readonly #dir: string;
  /** What the first Sentinel announced (`+sdown`, `+odown`, `+switch-master`, …), with when. */
  readonly #events: string[] = [];
  readonly #listener: Redis;
  readonly #startedAt = Date.now();

  private constructor(master: PrivateRedis, replica: PrivateRedis, sentinels: PrivateRedis[], dir: string) {
    this.master = master;
    this.replica = replica;
    this.sentinels = sentinels;
    this.#dir = dir;
    this.#listener = new Redis(sentinels[0]!.url, { maxRetriesPerRequest: 1 });
    this.#listener.on('error', () => {});
    this.#listener.on('pmessage', (_pattern: string, channel: string, message: string) => {
      if (channel.startsWith('__sentinel__')) return;
      this.#events.push(`${Date.now() - this.#startedAt} ms ${channel} ${message}`);
    });
    void this.#listener.psubscribe('*').catch(() => {});
  }

  /** The Sentinel events so far, one per line, for a failure message or a run log. */
  get events(): string {
    return this.#events.join('\n');
  }

  /**
   * `failoverTimeoutMs` also bounds how soon Sentinels retry a failover whose election failed (twice
   * that), so a short one keeps a test's failover within seconds.
   */
  static async start(
    options: { downAfterMs?: number; failoverTimeoutMs?: number } = {},
  ): Promise<SentinelGroup> {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'livedash-sentinel-'));
    const master = await PrivateRedis.start();
    const replica = await PrivateRedis.start({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
    await until(
      async () => (await infoField(replica.url, 'master_link_status')) === 'up',
      'the replica to sync',
    );
    const sentinels: PrivateRedis[] = [];
    for (let i = 0; i < 3; i++) {
      const file = join(dir, `sentinel-${i}.conf`);
      writeFileSync(
        file,
        [
          `sentinel monitor ${SentinelGroup.NAME} 127.0.0.1 ${master.port} 2`,
          `sentinel down-after-milliseconds ${SentinelGroup.NAME} ${options.downAfterMs ?? 1000}`,
          `sentinel failover-timeout ${SentinelGroup.NAME} ${options.failoverTimeoutMs ?? 10_000}`,
          `sentinel parallel-syncs ${SentinelGroup.NAME} 1`,
          '',
        ].join('\n'),
      );
      sentinels.push(await PrivateRedis.start({ sentinelConfig: file }));
    }
    const group = new SentinelGroup(master, replica, sentinels, dir);
    await until(async () => {
      for (const sentinel of sentinels) {
        const replies = await sentinelCommand(sentinel.url, ['MASTER', SentinelGroup.NAME]);
        const fields = new Map<string, string>();
        for (let i = 0; i + 1 < replies.length; i += 2)
          fields.set(String(replies[i]), String(replies[i + 1]));
        if (fields.get('num-slaves') !== '1' || fields.get('num-other-sentinels') !== '2') return false;
      }
      return true;
    }, 'every Sentinel to see the replica and the others');
    return group;
  }

  /** `host:port,…` of the Sentinels, as `--broker-sentinels` takes it. */
  get sentinelList(): string {
    return this.sentinels.map((sentinel) => `127.0.0.1:${sentinel.port}`).join(',');
  }

  /** The port Sentinels currently name as the master's. */
  async masterPort(): Promise<number> {
    const reply = await sentinelCommand(this.sentinels[0]!.url, [
      'GET-MASTER-ADDR-BY-NAME',
      SentinelGroup.NAME,
    ]);
    return Number(reply[1]);
  }

  /** The master's port when every Sentinel names the same one (each learns of a failover on its own). */
  async agreedMasterPort(): Promise<number | undefined> {
    const ports = await Promise.all(
      this.sentinels.map(async (sentinel) =>
        Number((await sentinelCommand(sentinel.url, ['GET-MASTER-ADDR-BY-NAME', SentinelGroup.NAME]))[1]),
      ),
    );
    return ports.every((port) => port === ports[0]) ? ports[0] : undefined;
  }

  /**
   * Whether the master every Sentinel names has a replica that is online, so a publish waiting for one
   * replica can be confirmed. Asked of the current master rather than of a given process: a Sentinel may
   * start another failover (a busy machine can keep a master from answering within `downAfterMs`).
   */
  async masterHasOnlineReplica(): Promise<boolean> {
    const port = await this.agreedMasterPort();
    if (port === undefined || Number.isNaN(port)) return false;
    const redis = new Redis(`redis://127.0.0.1:${port}`, { maxRetriesPerRequest: 1, lazyConnect: true });
    redis.on('error', () => {});
    try {
      await redis.connect();
      const info = await redis.info('replication');
      return /^role:master\r?$/m.test(info) && /^slave\d+:.*state=online/m.test(info);
    } catch {
      return false;
    } finally {
      redis.disconnect();
    }
  }

  async stop(): Promise<void> {
    this.#listener.disconnect();
    for (const process of [...this.sentinels, this.replica, this.master]) await process.stop();
    const { rmSync } = await import('node:fs');
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

async function sentinelCommand(url: string, args: string[]): Promise<unknown[]> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  try {
    return (await redis.call('SENTINEL', ...args)) as unknown[];
  } catch {
    return [];
  } finally {
    redis.disconnect();
  }
}

/** One field of `INFO` (undefined when the server does not answer). */
export async function infoField(url: string, field: string): Promise<string | undefined> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', () => {});
  try {
    await redis.connect();
    const info = await redis.info();
    return new RegExp(`^${field}:(.*)\r?$`, 'm').exec(info)?.[1]?.trim();
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}

const repoRoot = new URL('../../../', import.meta.url);

/**
 * Builds the `livedash` command (the app in apps/livedash, on this core) with scripts/build.mjs, whose
 * lock keeps it from racing another build of the same dist/ files; returns the path of the built CLI.
 * The nodes here are `livedash serve` processes: the way a deployment runs several nodes on one Redis.
 * Only a missing CLI is a failure here (the typecheck job reports type errors).
 */
export async function buildServerCli(): Promise<string> {
  const output = await new Promise<string>((resolve) => {
    const child = spawn(process.execPath, ['scripts/build.mjs', '--cli', '--quiet'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.on('data', (chunk) => (text += chunk));
    child.stderr.on('data', (chunk) => (text += chunk));
    child.on('exit', () => resolve(text));
  });
  const cli = new URL('apps/livedash/dist/cli.js', repoRoot).pathname;
  const { existsSync } = await import('node:fs');
  if (!existsSync(cli)) throw new Error(`building the livedash CLI failed:\n${output}`);
  return cli;
}

export interface NodeOptions {
  cli: string;
  name: string;
  /** `--broker <url>`; leave out when `extraArgs` names Sentinels or a Cluster. */
  redisUrl?: string;
  prefix: string;
  token?: string;
  extraArgs?: string[];
}

/** A `livedash serve` process sharing channels through Redis, on a free port. */
export class LivedashNode {
  readonly name: string;
  readonly url: string;
  readonly process: ChildProcess;
  readonly output: string[];

  private constructor(name: string, url: string, child: ChildProcess, output: string[]) {
    this.name = name;
    this.url = url;
    this.process = child;
    this.output = output;
  }

  static async start(options: NodeOptions): Promise<LivedashNode> {
    const args = [options.cli, 'serve', '--port', '0', '--node', options.name];
    if (options.redisUrl !== undefined) args.push('--broker', options.redisUrl);
    args.push('--broker-prefix', options.prefix, '--metrics-interval', '0', ...(options.extraArgs ?? []));
    const child = spawn(process.execPath, args, {
      env: { ...process.env, LIVEDASH_PUBLISH_TOKEN: options.token ?? 'secret', LIVEDASH_CONFIG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    const onData = (chunk: Buffer) => output.push(...String(chunk).split('\n').filter(Boolean));
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${options.name} did not start:\n${output.join('\n')}`)),
        60_000,
      );
      const check = () => {
        const line = output.find((entry) => entry.includes('listening on'));
        const found = line && /listening on (http:\/\/[^\s]+)/.exec(line)?.[1];
        if (found) {
          clearTimeout(timer);
          resolve(found);
        }
      };
      child.stdout?.on('data', check);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${options.name} exited with ${code}:\n${output.join('\n')}`));
      });
    });
    return new LivedashNode(options.name, url, child, output);
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  /** Sends `signal` to this process (by its PID) and waits for it to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.running) return;
    const exited = new Promise((resolve) => this.process.once('exit', resolve));
    this.process.kill(signal);
    await exited;
  }
}

/** A `channels()` query for every channel in one page. */
export const ALL = { allowed: () => true, limit: 100_000 };
