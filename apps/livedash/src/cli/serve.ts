import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { describeTarget, redisTargetOf, usesRedis } from '@livedash/server';
import type { LivedashOptions } from '../app-options.js';
import { loadConfigFile } from '../config-file.js';
import { builtDashboardDir } from '../dashboard-build.js';
import { loadDashboardConfig } from '../dashboard-file.js';
import { type LivedashApp, startLivedash } from '../livedash.js';
import { parseScrapeFlags } from '../sources/scrape/scrape-config.js';
import { type CliIo, ExitCodes, parseCommandArgs } from './command-io.js';
import { applySecurityFlags, checkOptionText, SECURITY_FLAGS, SECURITY_USAGE } from './serve-flags.js';

export const SERVE_USAGE = `Usage: livedash serve [options]

Starts the livedash server: dashboard at /, WebSocket /ws, SSE /sse, HTTP API /api.

Options (a flag beats its environment variable, which beats the config file):
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
        port: { type: 'string' },
        host: { type: 'string' },
        config: { type: 'string' },
        dashboard: { type: 'string' },
        dashboards: { type: 'string' },
        node: { type: 'string' },
        'static-dir': { type: 'string' },
        'metrics-interval': { type: 'string' },
        scrape: { type: 'string', multiple: true },
        broker: { type: 'string' },
        'broker-prefix': { type: 'string' },
        'broker-sentinels': { type: 'string' },
        'broker-sentinel-name': { type: 'string' },
        'broker-cluster': { type: 'string' },
        'broker-ack-replicas': { type: 'string' },
        'broker-ack-timeout-ms': { type: 'string' },
        ...SECURITY_FLAGS,
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
  const configPath = flags.config ?? env.LIVEDASH_CONFIG;
  if (configPath) {
    const loaded = loadConfigFile(configPath);
    if (!loaded.ok) return fail(`invalid config file\n${loaded.error}`);
    options = { ...loaded.value };
  }
  const dashboardPath = flags.dashboard ?? env.LIVEDASH_DASHBOARD;
  if (dashboardPath) {
    const loaded = loadDashboardConfig(dashboardPath);
    if (!loaded.ok) return fail(loaded.error);
    options.dashboard = loaded.value;
  }
  const dashboardsDir = flags.dashboards ?? env.LIVEDASH_DASHBOARDS;
  if (dashboardsDir !== undefined && dashboardsDir !== '') {
    const source = flags.dashboards !== undefined ? '--dashboards' : 'LIVEDASH_DASHBOARDS';
    if (!isDirectory(dashboardsDir)) return fail(`${source} ${dashboardsDir} is not a directory`);
    options.dashboards = dashboardsDir;
  }

  const portText = flags.port ?? env.PORT;
  if (portText !== undefined && portText !== '') {
    const port = checkOptionText('port', portText, flags.port !== undefined ? '--port' : 'PORT');
    if (!port.ok) return fail(port.error);
    options.port = port.value as number;
  }
  const host = flags.host ?? env.HOST;
  if (host !== undefined && host !== '') options.host = host;
  const node = flags.node ?? env.LIVEDASH_NODE;
  if (node !== undefined && node !== '') options.node = node;
  else options.node ??= defaultNodeName();
  const intervalText = flags['metrics-interval'] ?? env.LIVEDASH_METRICS_INTERVAL_MS;
  if (intervalText !== undefined && intervalText !== '') {
    const source =
      flags['metrics-interval'] !== undefined ? '--metrics-interval' : 'LIVEDASH_METRICS_INTERVAL_MS';
    const interval = checkOptionText('metricsIntervalMs', intervalText, source);
    if (!interval.ok) return fail(interval.error);
    options.metricsIntervalMs = interval.value as number;
  }
  const scrapeTexts = flags.scrape ?? (env.LIVEDASH_SCRAPE ?? '').split(/\s+/).filter((text) => text !== '');
  if (scrapeTexts.length > 0) {
    const scrape = parseScrapeFlags(scrapeTexts);
    if (!scrape.ok) return fail(scrape.error);
    options.scrape = scrape.value;
  }
  const brokerUrl = flags.broker ?? env.LIVEDASH_REDIS_URL;
  if (brokerUrl !== undefined && brokerUrl !== '') {
    if (!/^rediss?:\/\/./.test(brokerUrl))
      return fail(`--broker must be a redis:// or rediss:// URL, got "${brokerUrl}"`);
    options.brokerUrl = brokerUrl;
  }
  const brokerPrefix = flags['broker-prefix'] ?? env.LIVEDASH_REDIS_PREFIX;
  if (brokerPrefix !== undefined && brokerPrefix !== '') options.brokerPrefix = brokerPrefix;
  const sentinels = flags['broker-sentinels'] ?? env.LIVEDASH_REDIS_SENTINELS;
  if (sentinels !== undefined && sentinels !== '') options.brokerSentinels = sentinels;
  const sentinelName = flags['broker-sentinel-name'] ?? env.LIVEDASH_REDIS_SENTINEL_NAME;
  if (sentinelName !== undefined && sentinelName !== '') options.brokerSentinelName = sentinelName;
  const clusterNodes = flags['broker-cluster'] ?? env.LIVEDASH_REDIS_CLUSTER;
  if (clusterNodes !== undefined && clusterNodes !== '') options.brokerCluster = clusterNodes;
  for (const [flag, variable, option] of [
    ['broker-ack-replicas', 'LIVEDASH_REDIS_ACK_REPLICAS', 'brokerAckReplicas'],
    ['broker-ack-timeout-ms', 'LIVEDASH_REDIS_ACK_TIMEOUT_MS', 'brokerAckTimeoutMs'],
  ] as const) {
    const text = flags[flag] ?? env[variable];
    if (text === undefined || text === '') continue;
    const checked = checkOptionText(option, text, flags[flag] !== undefined ? `--${flag}` : variable);
    if (!checked.ok) return fail(checked.error);
    options[option] = checked.value as number;
  }
  if (usesRedis(options)) {
    const target = redisTargetOf(options);
    if (!target.ok) {
      return fail(
        `${target.error} (--broker, --broker-sentinels with --broker-sentinel-name, or --broker-cluster)`,
      );
    }
  }
  const staticDir = flags['static-dir'] ?? env.LIVEDASH_STATIC_DIR;
  if (staticDir !== undefined && staticDir !== '') {
    if (!existsSync(staticDir)) return fail(`--static-dir ${staticDir} does not exist`);
    options.staticDir = staticDir;
  } else if (options.staticDir === undefined) {
    const built = builtDashboardDir();
    if (built !== undefined) options.staticDir = built;
  }
  const securityError = applySecurityFlags(flags, env, options);
  if (securityError) return fail(securityError);

  let generatedToken: string | undefined;
  const token = env.LIVEDASH_PUBLISH_TOKEN;
  if (token !== undefined && token !== '') options.publishToken = token;
  else if (!options.publishToken) {
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

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
