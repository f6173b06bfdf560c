import type { FastifyInstance } from 'fastify';
import { AccessControl } from './auth/access-control.js';
import { registerHttpAccess } from './auth/http-access.js';
import type { Broker } from './brokers/broker.js';
import { MemoryBroker } from './brokers/memory.js';
import { connectNodeBroker, type RedisBrokerSettings, usesRedis } from './brokers/redis-node-local.js';
import { Hub } from './hub.js';
import { checkOptions, createServerOptionsSchema, resolveOptions, type ServerOptions } from './options.js';
import { ServerMetrics } from './server-metrics.js';
import { registerHttpRoutes } from './transports/http.js';
import { SseEndpoint } from './transports/sse.js';
import { WsEndpoint } from './transports/ws.js';

/** Where channels live; shared by `createServer`, `attach` and the Fastify plugin. */
export interface BrokerOptions {
  /** Where channels live. Default: a new in-memory broker, closed with the server. A broker passed in is not closed. */
  broker?: Broker;
  /**
   * Share channels with other nodes through Redis at this URL (`redis://host:port`; see docs/scaling.md).
   * Ignored when `broker` is given. Redis unreachable for 10 s at start: the start rejects.
   */
  brokerUrl?: string;
  /** Prefix of every Redis key and Pub/Sub channel (default `livedash:`). */
  brokerPrefix?: string;
  /** Redis through Sentinel instead of `brokerUrl`: `host:port,…` of the Sentinels (see docs/scaling.md). */
  brokerSentinels?: string;
  /** The master's name in Sentinel; needed with `brokerSentinels`. */
  brokerSentinelName?: string;
  /**
   * A Redis Cluster instead of `brokerUrl`: `host:port,…` of some of its nodes. Channels spread over its
   * shards; messages travel over sharded Pub/Sub (Redis 7; see docs/scaling.md).
   */
  brokerCluster?: string;
  /**
   * Redis replicas that must hold a publish before it is acknowledged (Redis `WAIT`; default 0). When fewer
   * confirm within `brokerAckTimeoutMs`, the publish answers 503 `unavailable` (see docs/scaling.md).
   */
  brokerAckReplicas?: number;
  /** How long a publish waits for `brokerAckReplicas` replicas, ms (default 500, at most 1500). */
  brokerAckTimeoutMs?: number;
  /** Channel patterns kept on this node even with Redis (default `['metrics']`: each node's own host metrics). */
  localChannels?: string[];
}

/** Everything behind the transports: options, channels, counters and who gets in. */
export interface LiveCore {
  readonly options: ServerOptions;
  readonly hub: Hub;
  readonly metrics: ServerMetrics;
  readonly access: AccessControl;
  /** Closes the broker when the core made it (a broker passed in is the caller's). */
  closeBroker(): Promise<void>;
}

/**
 * Checks every data option against the one schema (`createServerOptionsSchema`), synchronously, so a
 * bad option throws at the call, before anything opens: `invalid livedash options: maxHeaders:
 * expected an integer from 8 to 10000, got 1`. `createServer`, `attach` and the Fastify plugin call it.
 */
export function checkCoreOptions(partial: BrokerOptions & Partial<ServerOptions>): void {
  const { broker: _broker, ...data } = partial;
  checkOptions(createServerOptionsSchema, definedOnly(data), 'livedash options');
}

/**
 * Resolves the options, checks the security configuration (throws with the reason on an unsafe or
 * unusable one, before anything is opened) and opens the broker and the hub.
 */
export async function openCore(partial: BrokerOptions & Partial<ServerOptions>): Promise<LiveCore> {
  checkCoreOptions(partial);
  const {
    broker: givenBroker,
    brokerUrl,
    brokerPrefix,
    brokerSentinels,
    brokerSentinelName,
    brokerCluster,
    brokerAckReplicas,
    brokerAckTimeoutMs,
    localChannels,
    ...rest
  } = partial;
  const options = resolveOptions(rest);
  const access = await AccessControl.create(options);
  let hubRef: Hub | undefined;
  const metrics = new ServerMetrics(() => hubRef?.subscriptionCount ?? 0);
  const broker =
    givenBroker ??
    (await defaultBroker(options, metrics, {
      brokerUrl,
      brokerPrefix,
      brokerSentinels,
      brokerSentinelName,
      brokerCluster,
      brokerAckReplicas,
      brokerAckTimeoutMs,
      localChannels,
    }));
  const hub = new Hub(broker, {
    maxQueueBytes: options.maxQueueBytes,
    maxSubscriptions: options.maxSubscriptions,
    stateChannels: options.stateChannels,
    onPublish: () => metrics.messagesIn.inc(),
    onWatcherError: (error, channel) => console.error(`livedash: watcher of "${channel}" threw`, error),
    onDeliveryError: (error, channel) => console.error(`livedash: delivering "${channel}" failed`, error),
  });
  hubRef = hub;
  access.attachMetrics(metrics.registry);
  return {
    options,
    hub,
    metrics,
    access,
    closeBroker: async () => {
      if (!givenBroker) await broker.close();
    },
  };
}

/** The transports `registerLiveRoutes` set up; `close` ends their connections within the shutdown budget. */
export interface LiveTransports {
  readonly ws: WsEndpoint;
  readonly sse: SseEndpoint | undefined;
  /** Ends SSE streams, closes WebSockets with 1012; resolves when they are gone or `budgetMs` is up. */
  close(budgetMs: number): Promise<void>;
}

/**
 * livedash's routes on a Fastify instance (paths relative to its prefix): the access hooks, SSE at
 * `/sse`, the HTTP API under `/api/channels`, and `/healthz` and `/metrics` unless `healthAndMetrics`
 * is false. The WebSocket transport answers the upgrades handed to it (`ws.handleUpgrade`).
 */
export function registerLiveRoutes(
  app: FastifyInstance,
  core: LiveCore,
  { healthAndMetrics = true, wsPath = '/ws' }: { healthAndMetrics?: boolean; wsPath?: string } = {},
): LiveTransports {
  const { hub, options, metrics, access } = core;
  registerHttpAccess(app, access, options.maxHistoryMessages);
  const ws = new WsEndpoint({ hub, options, metrics, access }, wsPath);
  const sse = options.transports.sse ? new SseEndpoint(app, { hub, options, metrics, access }) : undefined;
  registerHttpRoutes(app, {
    hub,
    options,
    metrics,
    access,
    startedAt: Date.now(),
    connectionCounts: () => ({ ws: ws.size, sse: sse?.size ?? 0 }),
    healthAndMetrics,
  });
  return {
    ws,
    sse,
    close: async (budgetMs) => {
      sse?.close();
      await ws.close(budgetMs);
    },
  };
}

/** The broker a server creates for itself: Redis-backed when given a URL, Sentinels or a Cluster, else in memory. */
async function defaultBroker(
  options: ServerOptions,
  metrics: ServerMetrics,
  redis: { [K in keyof RedisBrokerSettings]: RedisBrokerSettings[K] | undefined },
): Promise<Broker> {
  const memory = {
    history: options.history,
    maxChannels: options.maxChannels,
    maxHistoryBytes: options.maxHistoryBytes,
    onEvict: () => metrics.channelsEvicted.inc(),
  };
  if (!usesRedis(redis)) return new MemoryBroker(memory);
  const settings: RedisBrokerSettings = {};
  for (const [key, value] of Object.entries(redis)) {
    if (value !== undefined) Object.assign(settings, { [key]: value });
  }
  const connected = await connectNodeBroker({ ...settings, ...memory, node: options.node });
  if (!connected.ok) throw connected.error;
  return connected.value;
}

function definedOnly(options: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}
