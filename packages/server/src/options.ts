import { Defaults } from '@livedash/protocol';
import { z } from 'zod';
import { jwtOptionsSchema } from './auth/jwt-options.js';
import { isTrustedProxyEntry } from './limits/client-address.js';
import { ALLOWED_HOST_FORMS, isAllowedHostEntry } from './limits/host-policy.js';
import { LimitDefaults } from './limits/limit-defaults.js';
import { boolean, channelPattern, describeIssues, integer, isOrigin, listOf, text } from './option-values.js';

const MIB = 1024 * 1024;

/**
 * The schema of every server-core option: the one place their types and bounds are written. The
 * livedash app validates its flags, environment variables and config file against these same
 * schemas, and `createServer` validates what code passes, so a bound reads the same everywhere.
 */

/** A node name: it suffixes the channel `metrics.<node>`, so it leaves room for the prefix. */
export const NODE_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,119}$/;

export const historyRuleSchema = z.strictObject({
  /** A channel name, `*`, or a prefix ending in `*` (`sensors.*`). The first matching rule wins. */
  pattern: channelPattern(),
  /** Most messages kept. */
  maxMessages: integer(1, 1_000_000),
  /** Oldest message kept, ms. */
  maxAgeMs: integer(1000, 30 * 86_400_000),
});
export type HistoryRule = z.output<typeof historyRuleSchema>;

/**
 * The values every server-core option may take. Each field's description is what editors show for
 * it in the config file's JSON Schema.
 */
export const serverOptionShapes = {
  port: integer(0, 65_535).describe('TCP port for everything; 0 picks a free port.'),
  host: text(
    (host) => host.length > 0 && host.length <= 253 && !/\s/.test(host),
    'a host name or IP address',
  ).describe('Address to bind.'),
  /** Bearer token for HTTP and WebSocket publishing. */
  publishToken: z.string({ error: 'expected a string' }),
  node: text(
    (node) => NODE_NAME_PATTERN.test(node),
    'a node name: letters, digits and _ . : - (at most 120, not starting with . : -)',
  ).describe("This node's name, the suffix of its metrics channel metrics.<node>."),
  heartbeatMs: integer(100, 3_600_000).describe('Heartbeat interval on idle connections, ms.'),
  maxFrameBytes: integer(1024, 64 * MIB).describe(
    'Largest WebSocket frame accepted, bytes (over it: close 1009).',
  ),
  maxBodyBytes: integer(1024, 64 * MIB).describe('Largest publish body accepted, bytes (over it: HTTP 413).'),
  maxJsonDepth: integer(1, 1000).describe('Deepest JSON nesting accepted in a frame or body.'),
  maxSubscriptions: integer(1, 100_000).describe('Channels one connection may subscribe to.'),
  /** Per-connection outgoing queue bound, bytes. Over it: see docs/protocol.md (slow consumers). */
  maxQueueBytes: integer(16 * 1024, 1024 * MIB).describe(
    'Outgoing bytes queued for one connection; a connection further behind is closed with 4008.',
  ),
  /**
   * Channel patterns whose messages are state (each replaces the last): past `maxQueueBytes` such a
   * channel conflates to its newest value instead of disconnecting (docs/performance.md, slow consumers).
   */
  stateChannels: listOf(channelPattern(), 1000).describe(
    'Channel patterns whose messages conflate to the newest value for a slow connection.',
  ),
  /** History bounds per channel pattern; the last rule should be `*`. */
  history: listOf(historyRuleSchema, 1000),
  /** Transports to serve; turning `ws` off is how the client's fallback is tested. */
  transports: z.strictObject({ ws: boolean(), sse: boolean(), poll: boolean() }),
  /** How long shutdown waits for connections to close before forcing them, ms. */
  shutdownTimeoutMs: integer(0, 600_000).describe(
    'On shutdown, how long to wait for connections to close before forcing them, ms.',
  ),
  // ── security (docs/security.md) ──
  /** JWT verification for subscribers and publishers; undefined: no authentication configured. */
  jwt: z.union([jwtOptionsSchema, z.undefined()]),
  /** Channel patterns anonymous clients may read; undefined: every channel without `jwt`, none with it. */
  anonymousChannels: z
    .union([listOf(channelPattern(), 1000), z.undefined()])
    .describe('Channel patterns clients without a token may read.'),
  /** Allows a non-loopback `host` without `jwt` (anyone who can connect reads every channel). */
  allowAnonymous: boolean().describe('Allow a non-loopback host without JWT auth.'),
  /** Browser origins (`scheme://host[:port]`, or `*`) allowed for WS/SSE besides the server's own, and for CORS on /api. */
  allowedOrigins: listOf(text(isOrigin, '"*" or an origin such as "https://dash.example.com"'), 100).describe(
    "Browser origins allowed for WebSocket/SSE besides the server's own, and for CORS on /api.",
  ),
  /**
   * Host names (besides `localhost`, `*.localhost`, IP addresses and `host`) requests may carry in
   * `Host`: exact names, `.example.com` (it and every name under it), `*.example.com` (the names under
   * it), or `*` / `all` to turn the check off. Empty: checked only on a loopback address (DNS rebinding).
   */
  allowedHosts: listOf(text(isAllowedHostEntry, ALLOWED_HOST_FORMS), 1000).describe(
    'Host names the server answers to besides localhost, IP addresses and host (".example.com" for a domain and its subdomains, "*.example.com", "*" for any): the DNS-rebinding check.',
  ),
  /**
   * Reverse proxies (IP addresses, CIDRs such as `10.0.0.0/8`, or `loopback`) whose `X-Forwarded-For`
   * / `Forwarded` headers name the client, for per-address limits and logs. Empty: every client is
   * its TCP peer and those headers are ignored.
   */
  trustProxy: listOf(
    text(isTrustedProxyEntry, 'an IP address, a CIDR such as "10.0.0.0/8", or "loopback"'),
    1000,
  ).describe(
    'Reverse proxies (addresses, CIDRs, "loopback") whose X-Forwarded-For / Forwarded name the client.',
  ),
  /** Open WebSocket connections per client address (over it: HTTP 429). */
  maxConnectionsPerIp: integer(1, 1_000_000).describe(
    'Open WebSocket connections from one address (over it: 429).',
  ),
  /** Open SSE streams per client address (over it: HTTP 429). */
  maxSseStreamsPerIp: integer(1, 1_000_000).describe('Open SSE streams from one address (over it: 429).'),
  /** Sustained frames per second per WebSocket connection, and the burst allowed (over: `$error rate_limited`, then 4029). */
  framesPerSec: integer(1, 100_000).describe(
    'Sustained frames per second one WebSocket connection may send.',
  ),
  frameBurst: integer(1, 1_000_000).describe(
    'Frames one WebSocket connection may send at once after a quiet spell.',
  ),
  /** Size of a request's header block, bytes (over it: 431). */
  maxHeaderBytes: integer(1024, MIB).describe("Size of a request's header block, bytes (over it: 431)."),
  /** Header lines per request (over it: 431). */
  maxHeaders: integer(8, 10_000).describe('Header lines per request (over it: 431).'),
  /** Most messages one history request returns (`?limit=` over it: 400; the default limit). */
  maxHistoryMessages: integer(1, 1_000_000).describe('Most messages one history request returns.'),
  /**
   * Channels held by the in-memory broker (also node-local channels under Redis). Over it: the idle
   * channel published least recently is evicted; with none idle the publish gets `capacity_exceeded`.
   */
  maxChannels: integer(1, 10_000_000).describe(
    'Channels held in memory; over it the idle channel published least recently is evicted.',
  ),
  /** Bytes of history held by the in-memory broker over all channels; over it, as for `maxChannels`. */
  maxHistoryBytes: integer(64 * 1024, 1024 * 1024 * MIB).describe(
    'Bytes of history held in memory over all channels; over it, as for maxChannels.',
  ),
  /**
   * After refusing a request body (413, 415, 401/403), how many bytes of it are still read and dropped
   * so the client hears the answer, and for how long (ms); past either the connection is cut. The byte
   * bound also applies after a WebSocket message is refused (1009 and the other failures), until the
   * client's close frame; the time there is the close handshake's 5 s.
   */
  maxDiscardBytes: integer(1, 1024 * MIB).describe(
    'Bytes of a refused request body, or of a refused WebSocket message and what follows it, still read and dropped so the client hears the answer.',
  ),
  maxDiscardMs: integer(1, 600_000).describe(
    'How long a refused request body is still read and dropped, ms.',
  ),
  /** Serve HTTPS/WSS with this PEM certificate chain and key; undefined serves plain HTTP. */
  tls: z.union([z.strictObject({ cert: z.string(), key: z.string() }), z.undefined()]),
};

export const serverOptionsSchema = z.strictObject(serverOptionShapes);

/** The data options `createServer` takes beside `ServerOptions`: Redis and the request timeout. */
export const brokerOptionShapes = {
  brokerUrl: text((url) => /^rediss?:\/\/\S+$/.test(url), 'a redis:// or rediss:// URL').describe(
    'Share channels with other nodes through Redis at this URL.',
  ),
  brokerPrefix: text(
    (prefix) => /^[\x21-\x7e]{1,64}$/.test(prefix),
    '1–64 printable characters without spaces',
  ).describe('Prefix of every Redis key and Pub/Sub channel.'),
  brokerSentinels: text(
    (list) => /^[^\s,]+(,[^\s,]+)*$/.test(list) && list.length <= 4096,
    'host:port,host:port,… of the Sentinels',
  ).describe('Redis through Sentinel instead of brokerUrl: host:port,… of the Sentinels.'),
  brokerSentinelName: text(
    (name) => /^[A-Za-z0-9_.:-]{1,200}$/.test(name),
    "the master's name in Sentinel",
  ).describe("The master's name in Sentinel; needed with brokerSentinels."),
  brokerCluster: text(
    (list) => /^[^\s,]+(,[^\s,]+)*$/.test(list) && list.length <= 4096,
    'host:port,host:port,… of Redis Cluster nodes',
  ).describe('Redis Cluster instead of brokerUrl: host:port,… of some of its nodes.'),
  brokerAckReplicas: integer(0, 16).describe(
    'Redis replicas that must hold a publish before it is acknowledged (WAIT); 0: the master alone.',
  ),
  brokerAckTimeoutMs: integer(1, 1500).describe(
    'How long a publish waits for brokerAckReplicas replicas before it answers 503, ms.',
  ),
  localChannels: listOf(channelPattern(), 100).describe(
    'Channel patterns each node keeps to itself under Redis (not shared).',
  ),
  requestTimeoutMs: integer(100, 600_000).describe('Time allowed to receive a full HTTP request, ms.'),
  responseTimeoutMs: integer(100, 600_000).describe(
    'Time a connection may take none of an HTTP answer before it is cut, ms.',
  ),
};

/** What `createServer` checks: every data option it takes, each optional. */
export const createServerOptionsSchema = z
  .strictObject({ ...serverOptionShapes, ...brokerOptionShapes })
  .partial();

/**
 * Everything the server core can be told. Code passes it to `createServer`; the livedash app builds it
 * from flags, environment variables and its config file (in that order of precedence). Every field
 * has a default (`resolveOptions`), listed in docs/configuration.md.
 */
export type ServerOptions = z.output<typeof serverOptionsSchema>;

export function defaultOptions(): ServerOptions {
  return {
    port: 8080,
    host: '127.0.0.1',
    publishToken: '',
    node: 'local',
    heartbeatMs: Defaults.heartbeatMs,
    maxFrameBytes: Defaults.maxFrameBytes,
    maxBodyBytes: Defaults.maxFrameBytes,
    maxJsonDepth: Defaults.maxJsonDepth,
    maxSubscriptions: Defaults.maxSubscriptions,
    maxQueueBytes: 1024 * 1024,
    stateChannels: ['metrics', 'metrics.*'],
    // Host metrics keep 15 minutes (900 messages at 1 Hz), the dashboard's widest window, so its charts
    // start full; every other channel gets the protocol defaults.
    history: [
      { pattern: 'metrics*', maxMessages: Defaults.historyMessages, maxAgeMs: 15 * 60_000 },
      { pattern: '*', maxMessages: Defaults.historyMessages, maxAgeMs: Defaults.historyMaxAgeMs },
    ],
    transports: { ws: true, sse: true, poll: true },
    shutdownTimeoutMs: 5000,
    jwt: undefined,
    anonymousChannels: undefined,
    allowAnonymous: false,
    allowedOrigins: [],
    allowedHosts: [],
    trustProxy: [],
    maxConnectionsPerIp: LimitDefaults.maxConnectionsPerIp,
    maxSseStreamsPerIp: LimitDefaults.maxSseStreamsPerIp,
    framesPerSec: LimitDefaults.framesPerSec,
    frameBurst: LimitDefaults.frameBurst,
    maxHeaderBytes: LimitDefaults.maxHeaderBytes,
    maxHeaders: LimitDefaults.maxHeaders,
    maxHistoryMessages: LimitDefaults.maxHistoryMessages,
    maxChannels: LimitDefaults.maxChannels,
    maxHistoryBytes: LimitDefaults.maxHistoryBytes,
    maxDiscardBytes: LimitDefaults.maxDiscardBytes,
    maxDiscardMs: LimitDefaults.maxDiscardMs,
    tls: undefined,
  };
}

/**
 * Fills every missing option with its default, after checking what is given against
 * `serverOptionsSchema` (keys that are not server options are left out). Throws a `TypeError`
 * naming every bad option: `invalid server options: maxHeaders: expected an integer from 8 to 10000, got 1`.
 */
export function resolveOptions(partial: Partial<ServerOptions> = {}): ServerOptions {
  const given: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(partial)) {
    if (value !== undefined && Object.hasOwn(serverOptionShapes, key)) given[key] = value;
  }
  checkOptions(serverOptionsSchema.partial(), given, 'server options');
  return { ...defaultOptions(), ...(given as Partial<ServerOptions>) };
}

/** Throws a `TypeError` naming every option in `value` that `schema` refuses. */
export function checkOptions(schema: z.ZodType, value: unknown, what: string): void {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return;
  const lines = describeIssues(result.error.issues, '', schema);
  throw new TypeError(`invalid ${what}: ${lines.join('; ')}`);
}
