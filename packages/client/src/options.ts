import { type BackoffOptions, type Defaults, resolveBackoff } from '@livedash/protocol';
import { browserEnvironment, type EnvironmentLike } from './environment.js';
import type { TokenProvider } from './token-source.js';
import type { EventSourceConstructor, FetchLike, WebSocketConstructor } from './transports/transport.js';
import type { TransportName } from './types.js';

/** Options of `new LiveClient(…)`. Only `url` is required; every other one has the default shown. */
export interface LiveClientOptions {
  /** The server's http(s) base URL, e.g. `https://dash.example.com` (a `ws(s)://` URL is accepted too). */
  url: string;
  /** Transports to try, best first. Default `['ws', 'sse', 'poll']`; one name forces that transport. */
  transports?: readonly TransportName[];
  /** WebSocket implementation. Default `globalThis.WebSocket`; in Node 20 pass the `ws` package's. */
  WebSocket?: WebSocketConstructor;
  /** EventSource implementation. Default `globalThis.EventSource`; in Node pass the `eventsource` package's. */
  EventSource?: EventSourceConstructor;
  /** fetch implementation (polling, history backfill). Default `globalThis.fetch`. */
  fetch?: FetchLike;
  /** Reconnect delays (see `backoffDelay`). */
  backoff?: BackoffOptions;
  /** Consecutive failed attempts before the client enters `failed`. Default Infinity (never gives up). */
  maxReconnectAttempts?: number;
  /** A connection silent for longer than this many server heartbeat intervals is dead. Default 2.5. */
  heartbeatTolerance?: number;
  /** Heartbeat interval assumed until (or unless) the server says, ms. Default 15 000. */
  heartbeatMs?: number;
  /** An attempt that has not opened after this long is abandoned, ms. Default 10 000. */
  connectTimeoutMs?: number;
  /** A connection up this long resets the attempt count, ms. Default 5 000. */
  stableAfterMs?: number;
  /** While on a fallback transport, how often to try the better one again, ms. Default 30 000. */
  upgradeIntervalMs?: number;
  /** Polling transport: pause between polls, ms. Default 1 000. */
  pollIntervalMs?: number;
  /** Least wait after a "retry later" close (1013 overload, 4029 rate limited), ms. Default 10 000. */
  retryLaterMs?: number;
  /** `client.ping()` gives up after this long, ms. Default 5 000. */
  pingTimeoutMs?: number;
  /** Connect at construction. Default true; when false the first subscription (or `connect()`) does. */
  autoConnect?: boolean;
  /** How often channel and history stores notify: `'frame'` (default, rAF or ~16 ms) or a number of ms. */
  notifyInterval?: 'frame' | number;
  /** Online/offline and visibility signals. Default: the browser's, or none outside a browser. */
  environment?: EnvironmentLike;
  /** Random source for jitter, in [0, 1). Default Math.random. */
  random?: () => number;
  /**
   * Credentials for a server with auth (docs/security.md): a JWT, or a function returning a fresh one.
   * A function is called before connecting and again before the token's `exp`; the new token is sent
   * on the open connection (`{"action":"auth"}`, or a resumed SSE stream), so subscriptions stay.
   */
  token?: TokenProvider;
  /** With a token function: fetch the next token this long before `exp`, ms. Default 30 000. */
  tokenRefreshMarginMs?: number;
  /**
   * Where the connection runs. `'auto'` (default): in a browser page, a SharedWorker (every tab of the
   * origin shares one socket) or else a dedicated Worker, the page receiving parsed messages once per
   * frame; in the page when there is no worker, outside browsers, or when `WebSocket`, `EventSource`,
   * `fetch`, `environment`, `random` or a token function is given (those cannot cross to a worker).
   * `'shared-worker'` / `'worker'` ask for one (falling back the same way); `'in-page'` never uses one.
   * `client.state.mode` says where it runs.
   */
  worker?: 'auto' | 'shared-worker' | 'worker' | 'in-page';
}

export type ResolvedOptions = Required<
  Omit<LiveClientOptions, 'WebSocket' | 'EventSource' | 'fetch' | 'backoff' | 'token' | 'worker'>
> & {
  token: TokenProvider | undefined;
  baseUrl: string;
  backoff: Required<BackoffOptions>;
  WebSocket: WebSocketConstructor | undefined;
  EventSource: EventSourceConstructor | undefined;
  fetch: FetchLike | undefined;
};

const TRANSPORTS: readonly TransportName[] = ['ws', 'sse', 'poll'];

/** Numeric options: each must be a positive number; these are the defaults. */
type NumericOption =
  | 'heartbeatTolerance'
  | 'heartbeatMs'
  | 'connectTimeoutMs'
  | 'stableAfterMs'
  | 'upgradeIntervalMs'
  | 'pollIntervalMs'
  | 'retryLaterMs'
  | 'pingTimeoutMs'
  | 'tokenRefreshMarginMs';
const NUMERIC_DEFAULTS: Record<NumericOption, number> = {
  heartbeatTolerance: 2.5,
  // The server's default, as a literal checked against the shared table (the bundle need not carry all of it).
  heartbeatMs: 15_000 satisfies (typeof Defaults)['heartbeatMs'],
  connectTimeoutMs: 10_000,
  stableAfterMs: 5_000,
  upgradeIntervalMs: 30_000,
  pollIntervalMs: 1_000,
  retryLaterMs: 10_000,
  pingTimeoutMs: 5_000,
  tokenRefreshMarginMs: 30_000,
};

function numericOptions(options: LiveClientOptions): typeof NUMERIC_DEFAULTS {
  const resolved = { ...NUMERIC_DEFAULTS };
  for (const name of Object.keys(NUMERIC_DEFAULTS) as (keyof typeof NUMERIC_DEFAULTS)[]) {
    const value = options[name];
    if (value === undefined) continue;
    if (typeof value !== 'number' || Number.isNaN(value) || value <= 0) {
      throw new TypeError(`LiveClient option ${name} must be a positive number`);
    }
    resolved[name] = value;
  }
  return resolved;
}

/** `ws://h/x/` or `http://h/x/` → `http://h/x`; throws on anything that is not an absolute URL. */
export function normalizeBaseUrl(url: string): string {
  if (typeof url !== 'string' || !/^(https?|wss?):\/\/[^/]/i.test(url)) {
    throw new TypeError(`LiveClient url must be an absolute http(s) URL, got ${JSON.stringify(url)}`);
  }
  return url
    .replace(/^ws/i, 'http')
    .replace(/\/ws\/?$/, '')
    .replace(/\/+$/, '');
}

/** Fills defaults and throws a TypeError for options that are plainly wrong (programmer misuse). */
export function resolveOptions(options: LiveClientOptions): ResolvedOptions {
  const transports = options.transports ?? TRANSPORTS;
  if (transports.length === 0 || transports.some((name) => !TRANSPORTS.includes(name))) {
    throw new TypeError(`LiveClient transports must be a non-empty list of ${TRANSPORTS.join(', ')}`);
  }
  const fetchImpl =
    options.fetch ?? (typeof globalThis.fetch === 'function' ? globalThis.fetch.bind(globalThis) : undefined);
  const implementations = {
    ws: options.WebSocket ?? (globalThis.WebSocket as WebSocketConstructor | undefined),
    sse: options.EventSource ?? (globalThis.EventSource as EventSourceConstructor | undefined),
    poll: fetchImpl as FetchLike | undefined,
  };
  // A transport with no implementation here (no WebSocket in Node 20, say) is left out of the order.
  const usable = [...new Set(transports)].filter((name) => implementations[name] !== undefined);
  if (usable.length === 0) {
    throw new TypeError(
      `LiveClient has no implementation for ${transports.join(', ')}: pass WebSocket, EventSource or fetch`,
    );
  }
  const notifyInterval = options.notifyInterval ?? 'frame';
  if (notifyInterval !== 'frame' && !(Number.isFinite(notifyInterval) && notifyInterval >= 0)) {
    throw new TypeError("LiveClient option notifyInterval must be 'frame' or a number of ms >= 0");
  }
  const maxAttempts = options.maxReconnectAttempts ?? Number.POSITIVE_INFINITY;
  if (!(maxAttempts >= 1)) throw new TypeError('LiveClient option maxReconnectAttempts must be at least 1');
  return {
    ...numericOptions(options),
    url: options.url,
    baseUrl: normalizeBaseUrl(options.url),
    transports: usable,
    WebSocket: implementations.ws,
    EventSource: implementations.sse,
    fetch: implementations.poll,
    backoff: resolveBackoff(options.backoff),
    maxReconnectAttempts: maxAttempts,
    autoConnect: options.autoConnect ?? true,
    notifyInterval,
    environment: options.environment ?? browserEnvironment(),
    random: options.random ?? Math.random,
    token: options.token,
  };
}
