import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { describeTarget, redisTargetOf, usesRedis } from '@livedash/server';
import type { LivedashOptions } from '../app-options.js';
import { loadConfigFile } from '../config-file.js';
import { builtDashboardDir } from '../dashboard-build.js';
import { type LivedashApp, startLivedash } from '../livedash.js';
import { type CliIo, ExitCodes, parseCommandArgs } from './command-io.js';
import { applyFlagsAndEnv, SECURITY_USAGE, SERVE_FLAGS } from './serve-flags.js';

export const SERVE_USAGE = `Usage: livedash serve [options]

Starts the livedash server: dashboard at /, WebSocket /ws, SSE /sse, HTTP API /api.

Options (a flag beats its environment variable, which beats the config file, which beats the default):
  --port <n>                 port to listen on (env PORT; default 8080; 0 picks a free one)
  --host <addr>              address to bind (env HOST; default 127.0.0.1)
  --config <file>            JSON config file (env LIVEDASH_CONFIG), validated at start
  --dashboard <file>         dashboard config served at /api/dashboard (env LIVEDASH_DASHBOARD)
  --dashboards <dir>         folder of dashboard configs: each <name>.json is a dashboard at /d/<name>,
                             reloaded when it changes; / lists them (env LIVEDASH_DASHBOARDS)
  --node <name>              this node's name (env LIVEDASH_NODE; default the host name)
  --static-dir <dir>         directory served at / (env LIVEDASH_STATIC_DIR; default the build of
                             the @livedash/dashboard package when it exists, else a built-in page)
  --metrics-interval <ms>    host metrics interval, 0 = off (env LIVEDASH_METRICS_INTERVAL_MS; default 1000)
  --scrape <url>[,channel=<ch>][,interval=<ms|5s>][,timeout=<ms|2s>]
                             scrape a Prometheus /metrics endpoint onto a channel (default channel
                             scrape, every 5 s); repeat for more targets (env LIVEDASH_SCRAPE, space-separated)
  --broker <url>             share channels with other nodes through Redis, e.g. redis://127.0.0.1:6379
                             (env LIVEDASH_REDIS_URL; default: none, channels live in this process)
  --broker-prefix <prefix>   prefix of every Redis key and Pub/Sub channel (env LIVEDASH_REDIS_PREFIX;
                             default livedash:)
  --broker-sentinels <list>  Redis through Sentinel instead of --broker: host:port,host:port,… of the
                             Sentinels (env LIVEDASH_REDIS_SENTINELS)
  --broker-sentinel-name <n> the master's name in Sentinel (env LIVEDASH_REDIS_SENTINEL_NAME)
  --broker-cluster <list>    a Redis Cluster instead of --broker: host:port,host:port,… of some of its
                             nodes (env LIVEDASH_REDIS_CLUSTER); channels spread over its shards
  --broker-ack-replicas <n>  acknowledge a publish only once n Redis replicas hold it, else answer 503
                             (env LIVEDASH_REDIS_ACK_REPLICAS; default 0: once the master has it)
  --broker-ack-timeout-ms <ms>  how long a publish waits for those replicas (env
                             LIVEDASH_REDIS_ACK_TIMEOUT_MS; default 500, at most 1500)
  --local-channels <list>    channel patterns each node keeps to itself under Redis (env
                             LIVEDASH_LOCAL_CHANNELS; default metrics)
  --state-channels <list>    channel patterns whose messages conflate to the newest for a slow client
                             (env LIVEDASH_STATE_CHANNELS; default metrics,metrics.*)
  --transports <list>        transports to serve, of ws,sse,poll (env LIVEDASH_TRANSPORTS; default all)
  -h, --help                 show this help

${SECURITY_USAGE}

Environment:
  LIVEDASH_PUBLISH_TOKEN     token for publishing (Authorization: Bearer <token>); when unset a
                             random one is generated and printed at start

SIGTERM or SIGINT shut the server down gracefully (WebSocket clients get close code 1012) within
shutdownTimeoutMs (default 5 s).`;

/** A host name made safe for channel names (`metrics.<node>`). */
export function defaultNodeName(): string {
  const name = hostname()
    .replace(/[^A-Za-z0-9_.:-]/g, '-')
    .replace(/^[^A-Za-z0-9_]+/, '')
    .slice(0, 100);
  return name === '' ? 'local' : name;
}

/**
 * Builds the server options from flags, environment and config file (in that order of precedence).
 * Returns an error message for anything invalid, naming the flag, variable or file key.
 */
export function serveOptions(
  args: string[],
  io: CliIo,
): { ok: true; options: LivedashOptions; generatedToken: string | undefined } | { ok: false; code: number } {
  const parsed = parseCommandArgs(
    'serve',
    {
      args,
      options: {
        config: { type: 'string' },
        ...SERVE_FLAGS,
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
      strict: true,
    },
    io,
  );
  if (!parsed.ok) return { ok: false, code: ExitCodes.USAGE };
  const flags = parsed.value.values;
  if (flags.help) {
    io.out(SERVE_USAGE);
    return { ok: false, code: ExitCodes.OK };
  }
  const { env } = io;
  const fail = (message: string) => {
    io.err(`livedash serve: ${message}`);
    return { ok: false as const, code: ExitCodes.USAGE };
  };

  let options: LivedashOptions = {};
  const configPath = typeof flags.config === 'string' ? flags.config : env.LIVEDASH_CONFIG;
  if (configPath) {
    const loaded = loadConfigFile(configPath);
    if (!loaded.ok) return fail(`invalid config file\n${loaded.error}`);
    options = { ...loaded.value };
  }
  // Flags and variables over the file, each checked by its option's schema as the file's key is.
  const errors = applyFlagsAndEnv(flags, env, options);
  if (errors.length > 0) return fail(errors.join('\n'));
  options.node ??= defaultNodeName();
  if (usesRedis(options)) {
    const target = redisTargetOf(options);
    if (!target.ok) {
      return fail(
        `${target.error} (--broker, --broker-sentinels with --broker-sentinel-name, or --broker-cluster)`,
      );
    }
  }
  if (options.staticDir === undefined) {
    const built = builtDashboardDir();
    if (built !== undefined) options.staticDir = built;
  }

  let generatedToken: string | undefined;
  if (!options.publishToken) {
    generatedToken = randomBytes(24).toString('base64url');
    options.publishToken = generatedToken;
  }
  return { ok: true, options, generatedToken };
}

/**
 * `livedash serve`: starts the server and runs until SIGTERM/SIGINT, then shuts down gracefully.
 * Resolves with the exit code once the server has stopped (or failed to start).
 */
export async function runServe(
  args: string[],
  io: CliIo,
  signals: NodeJS.EventEmitter = process,
): Promise<number> {
  const resolved = serveOptions(args, io);
  if (!resolved.ok) return resolved.code;
  let server: LivedashApp;
  try {
    server = await startLivedash(resolved.options);
  } catch (error) {
    io.err(`livedash serve: cannot start: ${(error as Error).message}`);
    return ExitCodes.FAILURE;
  }
  // The handlers go on before the first line is printed: whoever waits for "listening on" and then
  // sends a signal must get the graceful shutdown, not Node's default of dying on the spot.
  const stopped = new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      io.out(`livedash: ${signal}, shutting down`);
      // Never outlive the shutdown budget, whatever a connection does.
      const hard = setTimeout(() => resolve(ExitCodes.FAILURE), server.options.shutdownTimeoutMs);
      hard.unref();
      server.close().then(
        () => {
          clearTimeout(hard);
          resolve(ExitCodes.OK);
        },
        (error: unknown) => {
          io.err(`livedash: shutdown failed: ${String(error)}`);
          resolve(ExitCodes.FAILURE);
        },
      );
    };
    signals.once('SIGTERM', () => stop('SIGTERM'));
    signals.once('SIGINT', () => stop('SIGINT'));
  });
  io.out(`livedash: listening on ${server.url} (node ${server.options.node})`);
  const redisTarget = usesRedis(resolved.options) ? redisTargetOf(resolved.options) : undefined;
  if (redisTarget?.ok) {
    io.out(`livedash: channels shared through Redis at ${describeTarget(redisTarget.value)}`);
  }
  io.out(
    `livedash: dashboard ${server.appOptions.staticDir ? `from ${server.appOptions.staticDir}` : '(built-in page)'} at ${server.url}/`,
  );
  if (server.appOptions.dashboards !== undefined) {
    io.out(
      `livedash: dashboards from ${server.appOptions.dashboards} (each <name>.json at ${server.url}/d/<name>, followed for changes)`,
    );
  }
  if (resolved.generatedToken) {
    io.out(
      `livedash: publish token (generated; set LIVEDASH_PUBLISH_TOKEN to choose one): ${resolved.generatedToken}`,
    );
  }
  return stopped;
}
