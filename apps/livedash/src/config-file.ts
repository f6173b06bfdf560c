import { readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { isValidFieldPath } from '@livedash/dashboard-config';
import { Defaults, isValidChannel, type Result } from '@livedash/protocol';
import type { HistoryRule, ServerOptions } from '@livedash/server';
import type { AlertRule, AppOptions } from './app-options.js';
import { checkOneKeySource, readReferencedFiles } from './config-key-files.js';
import {
  arrayOf,
  boolean,
  type Check,
  checkObject,
  duration,
  fail,
  finiteNumber,
  integer,
  matching,
  type ObjectShape,
  object,
  oneOf,
} from './config-schema.js';
import { NODE_NAME_PATTERN } from './sources/host-metrics.js';
import { MAX_SCRAPE_TARGETS, scrapeEntry, toScrapeTargets } from './sources/scrape/scrape-config.js';

/**
 * The config file (`livedash serve --config livedash.config.json`): JSON whose keys map onto
 * `ServerOptions`, validated strictly so a typo stops the server with a message naming the key, not a
 * silently ignored setting. docs/configuration.md lists every key.
 */

/**
 * What a config file sets: server options, the Redis broker settings that `createServer` takes beside
 * them (`brokerUrl`, `brokerPrefix`, `localChannels`), and the app's own (metrics, alerts, dashboard,
 * static files). Every key is a `startLivedash` option.
 */
export type ConfigFileOptions = Partial<ServerOptions> &
  Partial<AppOptions> & {
    brokerUrl?: string;
    brokerPrefix?: string;
    brokerSentinels?: string;
    brokerSentinelName?: string;
    localChannels?: string[];
  };

/** A config file larger than this is surely not one; refuse it rather than read it all. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;
/** At most this many problems are listed; the rest are counted. */
const MAX_REPORTED_ERRORS = 20;

/**
 * Reads and validates a config file. The error is one line per problem, each starting with the file
 * path and naming the key: `livedash.config.json: alerts[1].threshold: expected a number, got "90"`.
 *
 * @example
 * const config = loadConfigFile('livedash.config.json');
 * if (!config.ok) { console.error(config.error); process.exit(1); }
 * const options = resolveOptions({ ...config.value, ...fromFlags });
 */
export function loadConfigFile(path: string): Result<ConfigFileOptions, string> {
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > MAX_CONFIG_FILE_BYTES) {
      return {
        ok: false,
        error: `${path}: file is ${size} bytes; a config file may be at most ${MAX_CONFIG_FILE_BYTES}`,
      };
    }
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return { ok: false, error: `${path}: cannot read the config file: ${(error as Error).message}` };
  }
  let json: unknown;
  try {
    // A byte-order mark is legal in a UTF-8 file but not in JSON; editors on Windows write one.
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    return { ok: false, error: `${path}: invalid JSON: ${describeJsonError(error as Error, text)}` };
  }
  const result = validateConfig(json, dirname(path));
  if (result.ok) return result;
  const lines = result.error.slice(0, MAX_REPORTED_ERRORS).map((line) => `${path}: ${line}`);
  const more = result.error.length - MAX_REPORTED_ERRORS;
  if (more > 0) lines.push(`${path}: …and ${more} more problem(s)`);
  return { ok: false, error: lines.join('\n') };
}

/**
 * Validates parsed config JSON and maps it onto `ServerOptions` keys (only those present). Every
 * problem found is listed, each as `<key path>: <what is wrong>`. Files the config names (key files,
 * dashboard, static directory) are read relative to `baseDir` once the rest is valid.
 *
 * @example
 * validateConfig({ port: '80' }); // { ok: false, error: ['port: expected an integer from 0 to 65535, got "80"'] }
 */
export function validateConfig(json: unknown, baseDir = process.cwd()): Result<ConfigFileOptions, string[]> {
  const errors: string[] = [];
  const config = checkObject(json, '', configShape, errors);
  if (config?.alerts) checkUniqueNames(config.alerts as Fields[], errors);
  if (config?.jwt) checkOneKeySource(config.jwt as Fields, errors);
  const scrape = config?.scrape ? toScrapeTargets(config.scrape as Fields[], 'scrape', errors) : undefined;
  if (errors.length > 0 || config === undefined) return { ok: false, error: errors };
  const options = toServerOptions(config);
  if (scrape) options.scrape = scrape;
  // Key and certificate files are read only once the whole file is known to be valid.
  const files = readReferencedFiles(config, baseDir, errors);
  if (errors.length > 0) return { ok: false, error: errors };
  return { ok: true, value: { ...options, ...files } };
}

/** Alert names identify alerts in the feed (and in alert ids), so two rules cannot share one. */
function checkUniqueNames(alerts: Fields[], errors: string[]): void {
  const first = new Map<unknown, number>();
  alerts.forEach((alert, index) => {
    const earlier = first.get(alert.name);
    if (earlier === undefined) first.set(alert.name, index);
    else
      errors.push(
        `alerts[${index}].name: ${JSON.stringify(alert.name)} is already used by alerts[${earlier}]`,
      );
  });
}

// ── shape of the file ──────────────────────────────────────────────────────────

/** `*`, an exact channel name, or a prefix ending in `*` (`sensors.*`), as `channelMatches` reads them. */
function isChannelPattern(pattern: string): boolean {
  if (pattern === '*') return true;
  return pattern.endsWith('*') ? isValidChannel(`${pattern.slice(0, -1)}x`) : isValidChannel(pattern);
}

/** `metrics.<node>` must be a channel name, so the node name leaves room for the prefix. */
const isNodeName = (node: string) => NODE_NAME_PATTERN.test(node);
const isHost = (host: string) => host.length > 0 && host.length <= 253 && !/\s/.test(host);

/** 0 turns host metrics off; below 100 ms the reads themselves would load the host being measured. */
const metricsInterval: Check = (value, path, errors) =>
  value === 0 || (typeof value === 'number' && Number.isInteger(value) && value >= 100 && value <= 3_600_000)
    ? value
    : fail(errors, path, 'expected 0 (off) or an integer from 100 to 3600000', value);

const MIB = 1024 * 1024;
const limitsShape: ObjectShape = {
  fields: {
    maxFrameBytes: integer(1024, 64 * MIB),
    maxBodyBytes: integer(1024, 64 * MIB),
    maxSubscriptions: integer(1, 100_000),
    maxQueueBytes: integer(16 * 1024, 1024 * MIB),
    maxJsonDepth: integer(1, 1000),
    maxConnectionsPerIp: integer(1, 1_000_000),
    maxSseStreamsPerIp: integer(1, 1_000_000),
    framesPerSec: integer(1, 100_000),
    frameBurst: integer(1, 1_000_000),
    maxHeaderBytes: integer(1024, MIB),
    maxHeaders: integer(8, 10_000),
    maxHistoryMessages: integer(1, 1_000_000),
    maxChannels: integer(1, 10_000_000),
    maxHistoryBytes: integer(64 * 1024, 1024 * 1024 * MIB),
    maxDiscardBytes: integer(1, 1024 * MIB),
    maxDiscardMs: integer(1, 600_000),
  },
};

const channelPattern = matching(
  isChannelPattern,
  '"*", a channel name, or a channel-name prefix ending in "*"',
);

/** `*`, `null`, or exactly `scheme://host[:port]` (what browsers send in `Origin`). */
function isOrigin(origin: string): boolean {
  if (origin === '*' || origin === 'null') return true;
  if (!/^https?:\/\/[^/?#\s]+$/i.test(origin)) return false;
  try {
    return new URL(origin).origin !== 'null';
  } catch {
    return false;
  }
}

const nonEmptyText = (what: string) => matching((text) => text.length > 0 && text.length <= 4096, what);

const jwtShape: ObjectShape = {
  fields: {
    publicKeyFile: nonEmptyText('a path to a PEM public key (RS256 or ES256)'),
    jwksFile: nonEmptyText('a path to a JSON Web Key Set file'),
    issuer: nonEmptyText('the required "iss" claim'),
    audience: nonEmptyText('the required "aud" claim'),
    clockToleranceSec: integer(0, 3600),
  },
  refused: {
    secret:
      'not read from the config file, so the secret stays out of files that get committed; set LIVEDASH_JWT_SECRET',
  },
};

const tlsShape: ObjectShape = {
  fields: {
    certFile: nonEmptyText('a path to a PEM certificate chain'),
    keyFile: nonEmptyText('a path to a PEM private key'),
  },
  required: ['certFile', 'keyFile'],
};

const historyShape: ObjectShape = {
  fields: {
    pattern: channelPattern,
    maxMessages: integer(1, 1_000_000),
    maxAge: duration(1000, 30 * 86_400_000),
  },
  required: ['pattern'],
};

const alertShape: ObjectShape = {
  fields: {
    name: matching(
      (name) => name.length > 0 && name.length <= 64 && !/[\s:]/.test(name),
      'a name of 1–64 characters without spaces or ":"',
    ),
    channel: matching(isValidChannel, 'a channel name'),
    field: matching(isValidFieldPath, 'a dot-separated field path such as "cpu" or "disk.0.usePercent"'),
    op: oneOf(['>', '>=', '<', '<=']),
    threshold: finiteNumber(),
    for: duration(0, 86_400_000),
    hysteresis: finiteNumber(0),
    severity: oneOf(['info', 'warning', 'critical']),
  },
  required: ['name', 'field', 'op', 'threshold'],
};

const configShape: ObjectShape = {
  fields: {
    port: integer(0, 65_535),
    host: matching(isHost, 'a host name or IP address'),
    node: matching(
      isNodeName,
      'a node name: letters, digits and _ . : - (at most 120, not starting with . : -)',
    ),
    heartbeatMs: integer(100, 3_600_000),
    shutdownTimeoutMs: integer(0, 600_000),
    limits: object(limitsShape),
    history: arrayOf(object(historyShape), 1000),
    metrics: object({ fields: { intervalMs: metricsInterval } }),
    alerts: arrayOf(object(alertShape), 1000),
    scrape: arrayOf(scrapeEntry, MAX_SCRAPE_TARGETS),
    transports: object({ fields: { ws: boolean, sse: boolean, poll: boolean } }),
    allowAnonymous: boolean,
    allowedOrigins: arrayOf(matching(isOrigin, '"*" or an origin such as "https://dash.example.com"'), 100),
    anonymousChannels: arrayOf(channelPattern, 1000),
    stateChannels: arrayOf(channelPattern, 1000),
    jwt: object(jwtShape),
    tls: object(tlsShape),
    dashboard: nonEmptyText('a path to a dashboard config file (docs/dashboard.md)'),
    staticDir: nonEmptyText('a path to a directory of static files'),
    broker: object({
      fields: {
        url: matching((url) => /^rediss?:\/\/\S+$/.test(url), 'a redis:// or rediss:// URL'),
        prefix: matching(
          (prefix) => /^[\x21-\x7e]{1,64}$/.test(prefix),
          '1–64 printable characters without spaces',
        ),
        localChannels: arrayOf(channelPattern, 100),
        sentinels: matching(
          (list) => /^[^\s,]+(,[^\s,]+)*$/.test(list),
          'host:port,host:port,… of the Sentinels',
        ),
        sentinelName: matching(
          (name) => /^[A-Za-z0-9_.:-]{1,200}$/.test(name),
          "the master's name in Sentinel",
        ),
      },
    }),
  },
  refused: {
    publishToken:
      'not read from the config file, so the token stays out of files that get committed; set LIVEDASH_PUBLISH_TOKEN',
  },
};

// ── mapping onto ServerOptions ─────────────────────────────────────────────────

type Fields = Record<string, unknown>;

function toServerOptions(config: Fields): ConfigFileOptions {
  const options: ConfigFileOptions = {};
  copy(config, options, [
    'port',
    'host',
    'node',
    'heartbeatMs',
    'shutdownTimeoutMs',
    'allowAnonymous',
    'allowedOrigins',
    'anonymousChannels',
    'stateChannels',
  ]);
  if (config.limits) {
    copy(config.limits as Fields, options, [
      'maxFrameBytes',
      'maxBodyBytes',
      'maxSubscriptions',
      'maxQueueBytes',
      'maxJsonDepth',
      'maxConnectionsPerIp',
      'maxSseStreamsPerIp',
      'framesPerSec',
      'frameBurst',
      'maxHeaderBytes',
      'maxHeaders',
      'maxHistoryMessages',
      'maxChannels',
      'maxHistoryBytes',
      'maxDiscardBytes',
      'maxDiscardMs',
    ]);
  }
  if (config.history) options.history = (config.history as Fields[]).map(toHistoryRule);
  const metrics = config.metrics as Fields | undefined;
  if (metrics?.intervalMs !== undefined) options.metricsIntervalMs = metrics.intervalMs as number;
  if (config.alerts) options.alerts = (config.alerts as Fields[]).map(toAlertRule);
  if (config.transports)
    options.transports = {
      ws: true,
      sse: true,
      poll: true,
      ...(config.transports as Fields),
    } as ServerOptions['transports'];
  const broker = config.broker as Fields | undefined;
  if (broker?.url !== undefined) options.brokerUrl = broker.url as string;
  if (broker?.prefix !== undefined) options.brokerPrefix = broker.prefix as string;
  if (broker?.localChannels !== undefined) options.localChannels = broker.localChannels as string[];
  if (broker?.sentinels !== undefined) options.brokerSentinels = broker.sentinels as string;
  if (broker?.sentinelName !== undefined) options.brokerSentinelName = broker.sentinelName as string;
  return options;
}

function copy(from: Fields, to: Partial<ServerOptions>, keys: ReadonlyArray<keyof ServerOptions>): void {
  for (const key of keys) if (from[key] !== undefined) (to as Fields)[key] = from[key];
}

/** Defaults for what a history entry leaves out: the server-wide history defaults. */
function toHistoryRule(entry: Fields): HistoryRule {
  return {
    pattern: entry.pattern as string,
    maxMessages: (entry.maxMessages as number | undefined) ?? Defaults.historyMessages,
    maxAgeMs: (entry.maxAge as number | undefined) ?? Defaults.historyMaxAgeMs,
  };
}

/** Defaults for what an alert entry leaves out: watch `metrics`, fire at once, no hysteresis, warning. */
function toAlertRule(entry: Fields): AlertRule {
  return {
    name: entry.name as string,
    channel: (entry.channel as string | undefined) ?? 'metrics',
    field: entry.field as string,
    op: entry.op as AlertRule['op'],
    threshold: entry.threshold as number,
    forMs: (entry.for as number | undefined) ?? 0,
    hysteresis: (entry.hysteresis as number | undefined) ?? 0,
    severity: (entry.severity as AlertRule['severity'] | undefined) ?? 'warning',
  };
}

function describeJsonError(error: Error, text: string): string {
  const position = /at position (\d+)/.exec(error.message);
  if (!position) return error.message;
  const before = text.slice(0, Number(position[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `${error.message.replace(/ in JSON at position \d+.*$/, '')} at line ${line} column ${column}`;
}
