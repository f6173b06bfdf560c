import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';

/** The shared Redis every test run uses; each test works under its own key prefix. */
export const SHARED_REDIS_URL = 'redis://127.0.0.1:6379';

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

/** Polls `condition` until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
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

/**
 * A private `redis-server` (no persistence, so a restart loses everything, like a crashed cache) that a test
 * can stop and start again on the same port.
 */
export class PrivateRedis {
  readonly port: number;
  /** Where `SAVE` writes its snapshot, loaded again on `start()`; none: nothing survives a restart. */
  readonly #dir: string | undefined;
  #process: ChildProcess | undefined;

  private constructor(port: number, dir: string | undefined) {
    this.port = port;
    this.#dir = dir;
  }

  static async start(options: { dir?: string } = {}): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort(), options.dir);
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.#process) return;
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    if (this.#dir !== undefined) args.push('--dir', this.#dir, '--dbfilename', 'dump.rdb');
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.#process = child;
    child.once('exit', () => {
      if (this.#process === child) this.#process = undefined;
    });
    await waitFor(`redis-server on port ${this.port}`, () => this.#answers(), 10_000);
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
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on('error', () => {});
    try {
      await probe.connect();
      return (await probe.ping()) === 'PONG';
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
  redisUrl: string;
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
    const args = [options.cli, 'serve', '--port', '0', '--node', options.name, '--broker', options.redisUrl];
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
