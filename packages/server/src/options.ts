import { Defaults } from '@livedash/protocol';
import type { JwtOptions } from './auth/token-verifier.js';
import { LimitDefaults } from './limits/limit-defaults.js';

export interface HistoryRule {
  /** A channel name, `*`, or a prefix ending in `*` (`sensors.*`). The first matching rule wins. */
  pattern: string;
  /** Most messages kept. */
  maxMessages: number;
  /** Oldest message kept, ms. */
  maxAgeMs: number;
}

/**
 * Everything the server core can be told. Code passes it to `createServer`; the livedash app builds it
 * from flags, environment variables and its config file (in that order of precedence). Every field
 * has a default (`resolveOptions`), listed in the README's configuration table.
 */
export interface ServerOptions {
  port: number;
  host: string;
  /** Bearer token for HTTP and WebSocket publishing. */
  publishToken: string;
  /** This node's name (defaults to the host name). */
  node: string;
  heartbeatMs: number;
  maxFrameBytes: number;
  maxBodyBytes: number;
  maxJsonDepth: number;
  maxSubscriptions: number;
  /** Per-connection outgoing queue bound, bytes. Over it: see docs/protocol.md (slow consumers). */
  maxQueueBytes: number;
  /**
   * Channel patterns whose messages are state (each replaces the last): past `maxQueueBytes` such a
   * channel conflates to its newest value instead of disconnecting (docs/performance.md, slow consumers).
   */
  stateChannels: string[];
  /** History bounds per channel pattern; the last rule should be `*`. */
  history: HistoryRule[];
  /** Transports to serve; turning `ws` off is how the client's fallback is tested. */
  transports: { ws: boolean; sse: boolean; poll: boolean };
  /** How long shutdown waits for connections to close before forcing them, ms. */
  shutdownTimeoutMs: number;
  // ── security (docs/security.md) ──
  /** JWT verification for subscribers and publishers; undefined: no authentication configured. */
  jwt: JwtOptions | undefined;
  /** Channel patterns anonymous clients may read; undefined: every channel without `jwt`, none with it. */
  anonymousChannels: string[] | undefined;
  /** Allows a non-loopback `host` without `jwt` (anyone who can connect reads every channel). */
  allowAnonymous: boolean;
  /** Browser origins (`scheme://host[:port]`, or `*`) allowed for WS/SSE besides the server's own, and for CORS on /api. */
  allowedOrigins: string[];
  /** Open WebSocket connections per client address (over it: HTTP 429). */
  maxConnectionsPerIp: number;
  /** Open SSE streams per client address (over it: HTTP 429). */
  maxSseStreamsPerIp: number;
  /** Sustained frames per second per WebSocket connection, and the burst allowed (over: `$error rate_limited`, then 4029). */
  framesPerSec: number;
  frameBurst: number;
  /** Size of a request's header block, bytes (over it: 431). */
  maxHeaderBytes: number;
  /** Header lines per request (over it: 431). */
  maxHeaders: number;
  /** Most messages one history request returns (`?limit=` over it: 400; the default limit). */
  maxHistoryMessages: number;
  /**
   * Channels held by the in-memory broker (also node-local channels under Redis). Over it: the idle
   * channel published least recently is evicted; with none idle the publish gets `capacity_exceeded`.
   */
  maxChannels: number;
  /** Bytes of history held by the in-memory broker over all channels; over it, as for `maxChannels`. */
  maxHistoryBytes: number;
  /**
   * After refusing a request body (413, 415, 401/403), how many bytes of it are still read and dropped
   * so the client hears the answer, and for how long (ms); past either the connection is cut.
   */
  maxDiscardBytes: number;
  maxDiscardMs: number;
  /** Serve HTTPS/WSS with this PEM certificate chain and key; undefined serves plain HTTP. */
  tls: { cert: string; key: string } | undefined;
}

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

/** Fills every missing option with its default. */
export function resolveOptions(partial: Partial<ServerOptions> = {}): ServerOptions {
  const defaults = defaultOptions();
  const resolved = { ...defaults };
  for (const [key, value] of Object.entries(partial)) {
    if (value !== undefined) (resolved as Record<string, unknown>)[key] = value;
  }
  return resolved;
}
