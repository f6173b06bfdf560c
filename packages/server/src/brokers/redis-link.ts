import { backoffDelay, resolveBackoff } from '@livedash/protocol';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { HostPort, RedisCredentials, RedisTarget } from './redis-target.js';

/**
 * One connection to Redis and its state. The broker holds two links — one for commands, one in subscriber
 * mode for Pub/Sub (a subscribed connection can run nothing else) — and is healthy when both are ready.
 *
 * Reconnection never stops (with capped backoff): a node outlives a Redis outage. Commands are never queued
 * while disconnected and never re-sent after a reconnect, so a publish fails fast with a clear reason
 * instead of waiting, and a publish whose outcome is unknown is not applied twice.
 */
export type LinkState =
  | { kind: 'connecting' }
  | { kind: 'ready' }
  /** Connected, but Redis does not answer a PING in time (overloaded, or its process is stopped). */
  | { kind: 'stalled'; reason: string }
  | { kind: 'lost'; reason: string }
  | { kind: 'closed' };

export type LinkEvent =
  | { type: 'ready' }
  | { type: 'error'; message: string }
  | { type: 'close' }
  | { type: 'end' }
  | { type: 'probe-failed'; message: string }
  | { type: 'probe-ok' };

/** The one transition function of a link. `lastError` is the latest error text seen, for the reason. */
export function nextLinkState(state: LinkState, event: LinkEvent, lastError: string | undefined): LinkState {
  if (state.kind === 'closed') return state;
  switch (event.type) {
    case 'ready':
      return { kind: 'ready' };
    case 'end':
      return { kind: 'closed' };
    case 'close':
      return { kind: 'lost', reason: lastError ?? 'connection closed' };
    case 'error':
      // An error on a live connection is followed by `close`; before that, it only updates the reason.
      return state.kind === 'lost' ? { kind: 'lost', reason: event.message } : state;
    case 'probe-failed':
      return state.kind === 'ready' || state.kind === 'stalled'
        ? { kind: 'stalled', reason: event.message }
        : state;
    case 'probe-ok':
      return state.kind === 'stalled' ? { kind: 'ready' } : state;
  }
}

/** Where a link connects: a broker's target, or one Cluster node (a shard's subscriber connection). */
export type LinkTarget = RedisTarget | ({ kind: 'node' } & HostPort & RedisCredentials);

export interface LinkOptions {
  target: LinkTarget;
  /** Shown in `CLIENT LIST`, e.g. `livedash:node-a:live`. */
  name: string;
  commandTimeoutMs: number;
  /** How often a connected link PINGs Redis to notice a stuck server, ms. */
  probeIntervalMs: number;
}

/** Redis is usually back within seconds, so the link retries sooner than browsers do: 100–200 ms up to 1–2 s. */
const REDIS_BACKOFF = resolveBackoff({ initialDelayMs: 200, maxDelayMs: 2000 });

/** Delay before reconnect attempt `attempt` (1-based), with the same jittered backoff as every client. */
export function reconnectDelayMs(attempt: number): number {
  return Math.round(backoffDelay(attempt, REDIS_BACKOFF));
}

export class RedisLink {
  /** One server's connection, or a Redis Cluster client (which routes each command to its slot's master). */
  readonly redis: Redis | Cluster;
  #state: LinkState = { kind: 'connecting' };
  #lastError: string | undefined;
  #sentinelError: string | undefined;
  /** The latest error of one Cluster node, with its address (the Cluster's own error only says none answered). */
  #nodeError: string | undefined;
  #listener: (state: LinkState, previous: LinkState) => void = () => {};
  #errorListener: (message: string) => void = () => {};
  readonly #probe: NodeJS.Timeout;
  #probing = false;
  /** Set by `close()`: only then is an `end` of the client final. */
  #closing = false;
  /** Restarts after the client gave up (see `#onEnd`), since the link was last ready. */
  #restarts = 0;
  #restartTimer: NodeJS.Timeout | undefined;

  constructor(options: LinkOptions) {
    const common: RedisOptions = {
      lazyConnect: true,
      connectionName: options.name,
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      autoResubscribe: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs,
      connectTimeout: Math.max(options.commandTimeoutMs, 1000),
      retryStrategy: reconnectDelayMs,
      // A master demoted by a failover answers writes with READONLY: reconnect, and so find the new one.
      reconnectOnError: (error) => error.message.startsWith('READONLY'),
    };
    this.redis = createClient(options.target, common);
    this.redis.on('ready', () => this.#apply({ type: 'ready' }));
    this.redis.on('close', () => this.#apply({ type: 'close' }));
    this.redis.on('end', () => this.#onEnd());
    // Without an `error` listener ioredis would print every failed reconnect attempt; the state carries it.
    this.redis.on('error', (error: Error) => {
      this.#lastError = describeError(error, this.#sentinelError, this.#nodeError);
      this.#errorListener(this.#lastError);
      this.#apply({ type: 'error', message: this.#lastError });
    });
    // Why each Sentinel could not name the master; the `error` that follows only says none could.
    this.redis.on('node error', (error: Error, address: string) => {
      if (error.message !== 'Connection is closed.') this.#nodeError = `${address}: ${describeError(error)}`;
    });
    this.redis.on('sentinelError', (error: Error) => {
      this.#sentinelError = describeSentinelError(error, options.target);
    });
    // A stopped or overloaded Redis keeps its TCP connections open: only an unanswered PING tells.
    this.#probe = setInterval(() => void this.#ping(), options.probeIntervalMs);
    this.#probe.unref();
  }

  get state(): LinkState {
    return this.#state;
  }

  get lastError(): string | undefined {
    return this.#lastError;
  }

  onState(listener: (state: LinkState, previous: LinkState) => void): void {
    this.#listener = listener;
  }

  /** Told every connection error, also while still connecting (when the state does not change). */
  onError(listener: (message: string) => void): void {
    this.#errorListener = listener;
  }

  /** Starts connecting (and reconnecting); never rejects — watch the state instead. */
  start(): void {
    this.redis.connect().catch(() => {
      // The failure is reported through `error`/`close` and retried by the retry strategy.
    });
  }

  async close(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#probe);
    clearTimeout(this.#restartTimer);
    if (this.#state.kind === 'ready') {
      await this.redis.quit().catch(() => this.redis.disconnect());
    } else {
      this.redis.disconnect();
    }
    this.#apply({ type: 'end' });
  }

  /**
   * ioredis ends a connection for good, without retrying, when its Sentinel failover detector hears
   * `+switch-master` while a reconnect is asking the Sentinels where the master is (the attempt is cancelled
   * and fails with "Connection is closed"). Unless this link was closed, that is one more lost connection:
   * start over after the usual backoff, or the node would stay without Redis after a failover.
   */
  #onEnd(): void {
    if (this.#closing) {
      this.#apply({ type: 'end' });
      return;
    }
    this.#apply({ type: 'close' });
    clearTimeout(this.#restartTimer);
    this.#restartTimer = setTimeout(
      () => {
        this.#restartTimer = undefined;
        if (!this.#closing) this.start();
      },
      reconnectDelayMs(++this.#restarts),
    );
  }

  async #ping(): Promise<void> {
    const kind = this.#state.kind;
    if (this.#probing || (kind !== 'ready' && kind !== 'stalled')) return;
    this.#probing = true;
    try {
      await this.redis.ping();
      this.#apply({ type: 'probe-ok' });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.#apply({ type: 'probe-failed', message: `no answer to PING (${message})` });
    } finally {
      this.#probing = false;
    }
  }

  #apply(event: LinkEvent): void {
    const previous = this.#state;
    const next = nextLinkState(previous, event, this.#lastError);
    if (sameState(previous, next)) return;
    this.#state = next;
    if (next.kind === 'ready') {
      this.#lastError = undefined;
      this.#restarts = 0;
    }
    this.#listener(next, previous);
  }
}

function sameState(a: LinkState, b: LinkState): boolean {
  if (a.kind === 'lost' && b.kind === 'lost') return a.reason === b.reason;
  if (a.kind === 'stalled' && b.kind === 'stalled') return a.reason === b.reason;
  return a.kind === b.kind;
}

function createClient(target: LinkTarget, common: RedisOptions): Redis | Cluster {
  switch (target.kind) {
    case 'node':
      return new Redis({
        ...common,
        host: target.host,
        port: target.port,
        ...(target.username !== undefined && { username: target.username }),
        ...(target.password !== undefined && { password: target.password }),
      });
    case 'cluster': {
      const { lazyConnect, enableOfflineQueue, retryStrategy, reconnectOnError, ...perNode } = common;
      return new Cluster(target.nodes, {
        lazyConnect: true,
        enableOfflineQueue: false,
        clusterRetryStrategy: reconnectDelayMs,
        // A command that meets a moved slot or a failover in progress is retried (MOVED, ASK, TRYAGAIN,
        // CLUSTERDOWN) up to 16 times, every 100 ms, within the command timeout.
        maxRedirections: 16,
        retryDelayOnFailover: 100,
        retryDelayOnClusterDown: 100,
        retryDelayOnTryAgain: 100,
        slotsRefreshTimeout: common.commandTimeout ?? 2000,
        // Slot moves are also learnt from MOVED answers at once; this catches the ones no command met.
        slotsRefreshInterval: 1000,
        redisOptions: {
          ...perNode,
          ...(target.username !== undefined && { username: target.username }),
          ...(target.password !== undefined && { password: target.password }),
        },
      });
    }
    case 'url':
      return new Redis(target.url, common);
    case 'sentinel':
      return new Redis({
        ...common,
        sentinels: target.sentinels,
        name: target.name,
        ...(target.username !== undefined && { username: target.username }),
        ...(target.password !== undefined && { password: target.password }),
        sentinelRetryStrategy: reconnectDelayMs,
        sentinelCommandTimeout: common.commandTimeout ?? 2000,
        // Watches the Sentinels' +switch-master, so a failover is followed without waiting for a timeout.
        failoverDetector: true,
      });
  }
}

function describeError(error: Error, sentinelError?: string, nodeError?: string): string {
  if (error.message.startsWith('All sentinels are unreachable')) {
    return sentinelError ?? 'no Sentinel answered';
  }
  // A Cluster client that reached no node says only that; the last node's own error says why.
  const lastNodeError = (error as Error & { lastNodeError?: unknown }).lastNodeError;
  if (lastNodeError instanceof Error) {
    // A node that refuses the connection closes before its own error is told: all that is known is that.
    const closed = lastNodeError.message === 'Connection is closed.';
    return nodeError ?? (closed ? 'no Cluster node answered' : describeError(lastNodeError));
  }
  const code = (error as Error & { code?: unknown }).code;
  return typeof code === 'string' && !error.message.includes(code)
    ? `${code}: ${error.message}`
    : error.message;
}

function describeSentinelError(error: Error, target: LinkTarget): string {
  const name = target.kind === 'sentinel' ? target.name : '';
  const unknown = /^failed to connect to sentinel (\S+) because ERR No such master/.exec(error.message);
  if (unknown) return `Sentinel ${unknown[1]} knows no master named "${name}"`;
  const failed = /^failed to connect to sentinel (\S+) because (.*)$/.exec(error.message);
  if (failed) return `no Sentinel reachable (last: ${failed[1]}: ${failed[2]})`;
  return error.message;
}
