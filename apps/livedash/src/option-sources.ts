import { isValidFieldPath } from '@livedash/dashboard-config';
import {
  brokerOptionShapes,
  channelName,
  duration,
  finiteNumber,
  jwtOptionsSchema,
  listOf,
  nonEmptyText,
  oneOf,
  serverOptionShapes,
  text,
} from '@livedash/server';
import { z } from 'zod';
import { scrapeListSchema } from './sources/scrape/scrape-config.js';

/**
 * Where each livedash option can be set: its `livedash serve` flag, its environment variable and its
 * config-file key, all checked against the one value schema (the core's for core options, the app's
 * for its own). A flag, a variable and a key of one option therefore take the same values and refuse
 * the rest with the same message. docs/configuration.md lists them.
 */

const metricsIntervalError = 'expected 0 (off) or an integer from 100 to 3600000';

/** The app's own options (the core's are `serverOptionShapes` in `@livedash/server`). */
export const appOptionShapes = {
  /** 0 turns host metrics off; below 100 ms the reads themselves would load the host being measured. */
  metricsIntervalMs: z
    .union(
      [
        z.literal(0, { error: metricsIntervalError }),
        z
          .int({ error: metricsIntervalError })
          .min(100, { error: metricsIntervalError })
          .max(3_600_000, { error: metricsIntervalError }),
      ],
      { error: metricsIntervalError },
    )
    .describe('Host metrics interval, ms; 0 turns host metrics off.'),
  staticDir: nonEmptyText('a path to a directory of static files').describe(
    'Directory of static files served at /.',
  ),
  dashboard: nonEmptyText('a path to a dashboard config file (docs/dashboard.md)').describe(
    'Dashboard config served at GET /api/dashboard.',
  ),
  dashboards: nonEmptyText('a path to a folder of dashboard config files (docs/dashboard.md)').describe(
    'Folder whose <name>.json files are dashboards at /d/<name>, reloaded when they change.',
  ),
};

/** An alert rule as the config file writes it (`for` is a duration; defaults filled by `alertRuleSchema`). */
export const alertRuleSchema = z.strictObject({
  name: text(
    (name) => name.length > 0 && name.length <= 64 && !/[\s:]/.test(name),
    'a name of 1–64 characters without spaces or ":"',
  ).describe('Unique name, shown in the alert feed.'),
  channel: channelName().default('metrics').describe('Channel to watch.'),
  field: text(isValidFieldPath, 'a dot-separated field path such as "cpu" or "disk.0.usePercent"').describe(
    "Field path in the channel's data.",
  ),
  op: oneOf(['>', '>=', '<', '<=']),
  threshold: finiteNumber(),
  for: duration(0, 86_400_000)
    .default(0)
    .describe('How long the condition must hold before the alert fires.'),
  hysteresis: finiteNumber(0)
    .default(0)
    .describe('How far the value must cross back before the alert resolves.'),
  severity: oneOf(['info', 'warning', 'critical']).default('warning'),
});

/** How the text of a flag or environment variable becomes the option's value before it is checked. */
export type TextForm = 'integer' | 'text' | 'list' | 'boolean';

export interface OptionSource {
  /** The option's name in `startLivedash`/`createServer` options. */
  option: string;
  /** `livedash serve --<flag>`; undefined when the option cannot be a flag (the reason is `only`). */
  flag: string | undefined;
  /** The environment variable; undefined when there is none (the reason is `only`). */
  env: string | undefined;
  /** The config-file key path (`limits.maxHeaders`); undefined when it is refused in the file. */
  key: string | undefined;
  /** The values it takes. For a file path, a path; the file is read after. */
  value: z.ZodType;
  form: TextForm;
  /** Why a flag, variable or key is missing, when one is. */
  only?: string;
}

const row = (
  option: string,
  flag: string | undefined,
  env: string | undefined,
  key: string | undefined,
  value: z.ZodType,
  form: TextForm,
  only?: string,
): OptionSource => ({ option, flag, env, key, value, form, ...(only !== undefined && { only }) });

const core = serverOptionShapes;
const jwt = jwtOptionsSchema.shape;
const keyFile = (what: string) => nonEmptyText(what);

/**
 * A flag's or variable's comma-separated list of the transports to serve, as the `transports` object
 * (the config file writes that object itself; a transport it leaves out stays on).
 */
const transportList = listOf(oneOf(['ws', 'sse', 'poll']), 3)
  .min(1, { error: 'expected at least one of "ws", "sse", "poll"' })
  .transform((names) => ({
    ws: names.includes('ws'),
    sse: names.includes('sse'),
    poll: names.includes('poll'),
  }));

/**
 * Every option of `livedash serve`. A new option gets a row here; the test beside it checks that each
 * row's flag, variable and key refuse the same values with the same message.
 */
export const OPTION_SOURCES: readonly OptionSource[] = [
  row('port', 'port', 'PORT', 'port', core.port, 'integer'),
  row('host', 'host', 'HOST', 'host', core.host, 'text'),
  row('node', 'node', 'LIVEDASH_NODE', 'node', core.node, 'text'),
  row('heartbeatMs', 'heartbeat-ms', 'LIVEDASH_HEARTBEAT_MS', 'heartbeatMs', core.heartbeatMs, 'integer'),
  row(
    'shutdownTimeoutMs',
    'shutdown-timeout-ms',
    'LIVEDASH_SHUTDOWN_TIMEOUT_MS',
    'shutdownTimeoutMs',
    core.shutdownTimeoutMs,
    'integer',
  ),
  row(
    'requestTimeoutMs',
    'request-timeout-ms',
    'LIVEDASH_REQUEST_TIMEOUT_MS',
    'requestTimeoutMs',
    brokerOptionShapes.requestTimeoutMs,
    'integer',
  ),
  row(
    'responseTimeoutMs',
    'response-timeout-ms',
    'LIVEDASH_RESPONSE_TIMEOUT_MS',
    'responseTimeoutMs',
    brokerOptionShapes.responseTimeoutMs,
    'integer',
  ),
  row('transports', 'transports', 'LIVEDASH_TRANSPORTS', 'transports', transportList, 'list'),
  ...(
    [
      ['maxFrameBytes', 'max-frame-bytes'],
      ['maxBodyBytes', 'max-body-bytes'],
      ['maxSubscriptions', 'max-subscriptions'],
      ['maxQueueBytes', 'max-queue-bytes'],
      ['maxJsonDepth', 'max-json-depth'],
      ['maxConnectionsPerIp', 'max-connections-per-ip'],
      ['maxSseStreamsPerIp', 'max-sse-streams-per-ip'],
      ['framesPerSec', 'frames-per-sec'],
      ['frameBurst', 'frame-burst'],
      ['maxHeaderBytes', 'max-header-bytes'],
      ['maxHeaders', 'max-headers'],
      ['maxHistoryMessages', 'max-history-messages'],
      ['maxChannels', 'max-channels'],
      ['maxHistoryBytes', 'max-history-bytes'],
      ['maxDiscardBytes', 'max-discard-bytes'],
      ['maxDiscardMs', 'max-discard-ms'],
    ] as const
  ).map(([option, flag]) => row(option, flag, envName(flag), `limits.${option}`, core[option], 'integer')),
  row(
    'stateChannels',
    'state-channels',
    'LIVEDASH_STATE_CHANNELS',
    'stateChannels',
    core.stateChannels,
    'list',
  ),
  row(
    'allowAnonymous',
    'allow-anonymous',
    'LIVEDASH_ALLOW_ANONYMOUS',
    'allowAnonymous',
    core.allowAnonymous,
    'boolean',
  ),
  row(
    'allowedOrigins',
    'allowed-origins',
    'LIVEDASH_ALLOWED_ORIGINS',
    'allowedOrigins',
    core.allowedOrigins,
    'list',
  ),
  row('allowedHosts', 'allowed-hosts', 'LIVEDASH_ALLOWED_HOSTS', 'allowedHosts', core.allowedHosts, 'list'),
  row('trustProxy', 'trust-proxy', 'LIVEDASH_TRUST_PROXY', 'trustProxy', core.trustProxy, 'list'),
  row(
    'anonymousChannels',
    'anonymous-channels',
    'LIVEDASH_ANONYMOUS_CHANNELS',
    'anonymousChannels',
    core.anonymousChannels,
    'list',
  ),
  row('brokerUrl', 'broker', 'LIVEDASH_REDIS_URL', 'broker.url', brokerOptionShapes.brokerUrl, 'text'),
  row(
    'brokerPrefix',
    'broker-prefix',
    'LIVEDASH_REDIS_PREFIX',
    'broker.prefix',
    brokerOptionShapes.brokerPrefix,
    'text',
  ),
  row(
    'brokerSentinels',
    'broker-sentinels',
    'LIVEDASH_REDIS_SENTINELS',
    'broker.sentinels',
    brokerOptionShapes.brokerSentinels,
    'text',
  ),
  row(
    'brokerSentinelName',
    'broker-sentinel-name',
    'LIVEDASH_REDIS_SENTINEL_NAME',
    'broker.sentinelName',
    brokerOptionShapes.brokerSentinelName,
    'text',
  ),
  row(
    'brokerCluster',
    'broker-cluster',
    'LIVEDASH_REDIS_CLUSTER',
    'broker.cluster',
    brokerOptionShapes.brokerCluster,
    'text',
  ),
  row(
    'brokerAckReplicas',
    'broker-ack-replicas',
    'LIVEDASH_REDIS_ACK_REPLICAS',
    'broker.ackReplicas',
    brokerOptionShapes.brokerAckReplicas,
    'integer',
  ),
  row(
    'brokerAckTimeoutMs',
    'broker-ack-timeout-ms',
    'LIVEDASH_REDIS_ACK_TIMEOUT_MS',
    'broker.ackTimeoutMs',
    brokerOptionShapes.brokerAckTimeoutMs,
    'integer',
  ),
  row(
    'localChannels',
    'local-channels',
    'LIVEDASH_LOCAL_CHANNELS',
    'broker.localChannels',
    brokerOptionShapes.localChannels,
    'list',
  ),
  row(
    'metricsIntervalMs',
    'metrics-interval',
    'LIVEDASH_METRICS_INTERVAL_MS',
    'metrics.intervalMs',
    appOptionShapes.metricsIntervalMs,
    'integer',
  ),
  row(
    'scrape',
    'scrape',
    'LIVEDASH_SCRAPE',
    'scrape',
    scrapeListSchema,
    'text',
    'a list of targets: the flag is url,channel=…,interval=…,timeout=… (repeatable), the variable space-separated flags',
  ),
  row('staticDir', 'static-dir', 'LIVEDASH_STATIC_DIR', 'staticDir', appOptionShapes.staticDir, 'text'),
  row('dashboard', 'dashboard', 'LIVEDASH_DASHBOARD', 'dashboard', appOptionShapes.dashboard, 'text'),
  row('dashboards', 'dashboards', 'LIVEDASH_DASHBOARDS', 'dashboards', appOptionShapes.dashboards, 'text'),
  row(
    'jwt.secret',
    'jwt-secret',
    'LIVEDASH_JWT_SECRET',
    undefined,
    nonEmptyText('a secret'),
    'text',
    'a secret stays out of files that get committed',
  ),
  row(
    'jwt.publicKey',
    'jwt-public-key',
    'LIVEDASH_JWT_PUBLIC_KEY_FILE',
    'jwt.publicKeyFile',
    keyFile('a path to a PEM public key (RS256 or ES256)'),
    'text',
  ),
  row(
    'jwt.jwks',
    'jwks',
    'LIVEDASH_JWKS_FILE',
    'jwt.jwksFile',
    keyFile('a path to a JSON Web Key Set file'),
    'text',
  ),
  row('jwt.issuer', 'jwt-issuer', 'LIVEDASH_JWT_ISSUER', 'jwt.issuer', jwt.issuer.unwrap(), 'text'),
  row('jwt.audience', 'jwt-audience', 'LIVEDASH_JWT_AUDIENCE', 'jwt.audience', jwt.audience.unwrap(), 'text'),
  row(
    'jwt.clockToleranceSec',
    'jwt-clock-tolerance-sec',
    'LIVEDASH_JWT_CLOCK_TOLERANCE_SEC',
    'jwt.clockToleranceSec',
    jwt.clockToleranceSec.unwrap(),
    'integer',
  ),
  row(
    'tls.cert',
    'tls-cert',
    'LIVEDASH_TLS_CERT',
    'tls.certFile',
    keyFile('a path to a PEM certificate chain'),
    'text',
  ),
  row(
    'tls.key',
    'tls-key',
    'LIVEDASH_TLS_KEY',
    'tls.keyFile',
    keyFile('a path to a PEM private key'),
    'text',
  ),
  row(
    'publishToken',
    undefined,
    'LIVEDASH_PUBLISH_TOKEN',
    undefined,
    z.string(),
    'text',
    'a secret: environment only',
  ),
  row('history', undefined, undefined, 'history', z.unknown(), 'text', 'a list of rules: config file only'),
  row('alerts', undefined, undefined, 'alerts', z.unknown(), 'text', 'a list of rules: config file only'),
];

/** Options whose value is never shown in a message (a refused one is described, not quoted). */
export const SECRET_OPTIONS: ReadonlySet<string> = new Set(['jwt.secret', 'publishToken']);

/** `max-header-bytes` → `LIVEDASH_MAX_HEADER_BYTES`. */
function envName(flag: string): string {
  return `LIVEDASH_${flag.toUpperCase().replaceAll('-', '_')}`;
}

/**
 * Turns the text of a flag or variable into the value its schema checks. Text that is not of the
 * form stays text, so the schema's message shows it: `expected an integer from 8 to 10000, got "x"`.
 */
export function valueFromText(form: TextForm, text: string): unknown {
  switch (form) {
    case 'integer':
      return /^-?\d+(?:\.\d+)?$/.test(text) ? Number(text) : text;
    case 'list':
      return text
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
    case 'boolean':
      if (text === '1' || text === 'true') return true;
      if (text === '0' || text === 'false') return false;
      return text;
    case 'text':
      return text;
  }
}
