/**
 * Vitest global setup for the unit and integration tests: the shared Redis (127.0.0.1:6379, or the
 * port in LIVEDASH_TEST_REDIS_PORT) must answer before a test starts, so a run without one stops at
 * once with what to run instead of failing test by test with connection errors. If nothing answers and
 * `redis-server` is installed, it is started (a daemon, no persistence, bound to 127.0.0.1); if it is
 * not installed, the run stops and says what to run.
 *
 * A Redis this setup starts is left running when the run ends. Other runs on the machine (another
 * worktree, a watch mode, a second terminal) may have found it answering and be using it at that
 * moment, and stopping it under them would give them the connection errors this setup is here to
 * prevent. It keeps nothing on disk; stop it with `redis-cli -p 6379 shutdown nosave`.
 */
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';

export const SHARED_REDIS_HOST = '127.0.0.1';

/** The shared Redis's port: LIVEDASH_TEST_REDIS_PORT, or 6379. */
export function sharedRedisPort(): number {
  const port = Number(process.env.LIVEDASH_TEST_REDIS_PORT ?? 6379);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new Error(
      `LIVEDASH_TEST_REDIS_PORT must be a port number, got "${process.env.LIVEDASH_TEST_REDIS_PORT}"`,
    );
  }
  return port;
}

export interface EnsureRedisOptions {
  port: number;
  /** The `redis-server` to start when nothing answers (default: the one on the PATH). */
  redisServer?: string;
  /** How long a started server may take to answer, ms. */
  startTimeoutMs?: number;
}

export interface EnsuredRedis {
  port: number;
  /** True when this call started the server; false when one already answered. */
  started: boolean;
  /**
   * Stops the server by its PID if this call started it; does nothing to one it found running. For
   * tests of this module, on a private port: the global setup never calls it (see above).
   */
  stop(): Promise<void>;
}

/** The command that starts the shared Redis by hand, as the setup runs it. */
export function redisServerCommand(port: number): string {
  return `redis-server --daemonize yes --bind ${SHARED_REDIS_HOST} --port ${port} --save "" --appendonly no`;
}

/**
 * Makes sure a Redis answers on 127.0.0.1:`port`: one already there is used as it is; otherwise
 * `redis-server` is started as a daemon. Rejects with the commands to run when it cannot be.
 */
export async function ensureRedis(options: EnsureRedisOptions): Promise<EnsuredRedis> {
  const { port } = options;
  if (await answersPing(port)) return { port, started: false, stop: async () => {} };
  const binary = options.redisServer ?? 'redis-server';
  const command = redisServerCommand(port);
  const run = spawnSync(
    binary,
    [
      '--daemonize',
      'yes',
      '--bind',
      SHARED_REDIS_HOST,
      '--port',
      String(port),
      '--save',
      '',
      '--appendonly',
      'no',
    ],
    { encoding: 'utf8' },
  );
  if (run.error && (run.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error(
      `No Redis answers at ${SHARED_REDIS_HOST}:${port} and redis-server is not installed; the tests need one. Run:\n` +
        '  apt-get install -y redis-server\n' +
        `  ${command}`,
    );
  }
  if (run.error || run.status !== 0) {
    throw new Error(
      `No Redis answers at ${SHARED_REDIS_HOST}:${port}, and starting one failed (${run.error?.message ?? `exit ${run.status}`}): ${run.stderr ?? ''}\n` +
        `Run it by hand to see why: ${command}`,
    );
  }
  const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
  while (!(await answersPing(port))) {
    if (Date.now() > deadline) {
      // A daemon logs nowhere: a port taken by something else, say, shows only when run by hand.
      throw new Error(
        `redis-server was started on port ${port} but does not answer; run it by hand to see why: ${command}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const pid = await serverPid(port);
  return {
    port,
    started: true,
    stop: async () => {
      if (pid === undefined) return;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        return; // already gone
      }
      while (await answersPing(port)) await new Promise((resolve) => setTimeout(resolve, 20));
    },
  };
}

/** Vitest global setup: the shared Redis answers, or the run stops here saying what to run. */
export default async function setup(): Promise<void> {
  const port = sharedRedisPort();
  const redis = await ensureRedis({ port });
  if (redis.started) {
    console.log(
      `Started redis-server on ${SHARED_REDIS_HOST}:${port} for the tests; it stays up for later runs ` +
        `(stop it with: redis-cli -p ${port} shutdown nosave).`,
    );
  }
}

/**
 * Sends one inline Redis command and resolves with its reply — a status or error line, or a bulk
 * string's content — or undefined when nothing answers within `timeoutMs`.
 */
function ask(port: number, command: string, timeoutMs = 1000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: SHARED_REDIS_HOST });
    let reply = '';
    let settled = false;
    const done = (answer: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.on('error', () => done(undefined));
    socket.on('close', () => done(undefined));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      const lineEnd = reply.indexOf('\r\n');
      if (lineEnd < 0) return;
      if (!reply.startsWith('$')) {
        done(reply.slice(0, lineEnd));
        return;
      }
      const length = Number(reply.slice(1, lineEnd));
      if (reply.length >= lineEnd + 2 + length) done(reply.slice(lineEnd + 2, lineEnd + 2 + length));
    });
    socket.write(`${command}\r\n`);
  });
}

/** True when a Redis answers PING on the port (`+PONG`, or an error such as NOAUTH: it is Redis). */
async function answersPing(port: number): Promise<boolean> {
  const reply = await ask(port, 'PING');
  return reply !== undefined && (reply.startsWith('+PONG') || reply.startsWith('-'));
}

/** The server's own PID (`INFO server`), so only the process this setup started is stopped. */
async function serverPid(port: number): Promise<number | undefined> {
  const reply = await ask(port, 'INFO server');
  const match = reply ? /process_id:(\d+)/.exec(reply) : null;
  return match ? Number(match[1]) : undefined;
}
