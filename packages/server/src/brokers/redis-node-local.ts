import { channelMatches, type LivedashError, type Position, type Result } from '@livedash/protocol';
import type { ServerOptions } from '../options.js';
import type { Broker, BrokerHealth, ChannelPage, ChannelQuery, ReadResult, StoredMessage } from './broker.js';
import { MemoryBroker, type MemoryBrokerOptions } from './memory.js';
import { connectRedisBroker } from './redis-broker.js';
import { parseClusterTarget, parseSentinelTarget, type RedisTarget } from './redis-target.js';

/** Channels each node keeps to itself under Redis unless told otherwise: its own host metrics. */
export const DEFAULT_LOCAL_CHANNELS: readonly string[] = ['metrics'];

/**
 * A Broker that keeps channels matching `localPatterns` on this node (in a MemoryBroker) and sends every
 * other channel to the shared (Redis) broker. This is how `metrics` stays node-local when many nodes share
 * Redis: every node publishes its host metrics on `metrics` once a second, and sharing that channel would
 * interleave all nodes' numbers under one seq. So `metrics` is this node's view, and `metrics.<node>` (shared)
 * lets a dashboard on any node show every node.
 *
 * ```ts
 * const broker = new NodeLocalBroker(redisBroker, new MemoryBroker(), ['metrics']);
 * await broker.publish('metrics', '{"cpu":3}'); // stays on this node
 * await broker.publish('metrics.web-1', '{"cpu":3}'); // goes through Redis
 * ```
 */
export class NodeLocalBroker implements Broker {
  readonly #shared: Broker;
  readonly #local: Broker;
  readonly #localPatterns: readonly string[];

  constructor(shared: Broker, local: Broker, localPatterns: readonly string[]) {
    this.#shared = shared;
    this.#local = local;
    this.#localPatterns = localPatterns;
  }

  /** Whether `channel` stays on this node. */
  isLocal(channel: string): boolean {
    return this.#localPatterns.some((pattern) => channelMatches(pattern, channel));
  }

  publish(channel: string, dataJson: string): Promise<StoredMessage> {
    return this.#route(channel).publish(channel, dataJson);
  }

  subscribe(channel: string): Promise<void> {
    return this.#route(channel).subscribe(channel);
  }

  unsubscribe(channel: string): Promise<void> {
    return this.#route(channel).unsubscribe(channel);
  }

  onMessage(listener: (message: StoredMessage) => void): void {
    this.#shared.onMessage(listener);
    this.#local.onMessage(listener);
  }

  read(channel: string, since?: Position, limit?: number): Promise<ReadResult> {
    return this.#route(channel).read(channel, since, limit);
  }

  async channels(query: ChannelQuery): Promise<ChannelPage> {
    // A local channel's name may also exist in Redis (published by a node configured otherwise): the
    // local one is what this node serves. Both pages are sorted and complete up to `limit`, so merging
    // them and cutting at `limit` is the combined page.
    const { allowed } = query;
    const [local, shared] = await Promise.all([
      this.#local.channels({ ...query, allowed: (name) => this.isLocal(name) && allowed(name) }),
      this.#shared.channels({ ...query, allowed: (name) => !this.isLocal(name) && allowed(name) }),
    ]);
    const merged = [...local.channels, ...shared.channels].sort((a, b) =>
      a.channel < b.channel ? -1 : a.channel > b.channel ? 1 : 0,
    );
    const limit = Math.max(1, query.limit);
    const channels = merged.slice(0, limit);
    const more = merged.length > limit || local.next !== undefined || shared.next !== undefined;
    const last = channels.at(-1)?.channel;
    return more && last !== undefined ? { channels, next: last } : { channels };
  }

  health(): BrokerHealth {
    return this.#shared.health();
  }

  onHealth(listener: (health: BrokerHealth) => void): void {
    this.#shared.onHealth(listener);
  }

  async close(): Promise<void> {
    await Promise.all([this.#shared.close(), this.#local.close()]);
  }

  #route(channel: string): Broker {
    return this.isLocal(channel) ? this.#local : this.#shared;
  }
}

/** What `connectNodeBroker` reads from the server's options. */
export type NodeBrokerOptions = Pick<ServerOptions, 'history' | 'node'> &
  Pick<MemoryBrokerOptions, 'maxChannels' | 'maxHistoryBytes' | 'onEvict'> &
  RedisBrokerSettings & {
    log?: (line: string) => void;
  };

/**
 * Where Redis is, as `createServer` and the CLI take it: one of a URL, Sentinel (`host:port,…` and the
 * master's name) or a Redis Cluster (`host:port,…` of some of its nodes).
 */
export interface RedisBrokerSettings {
  brokerUrl?: string;
  /** `host:port,host:port,…` of Sentinels; `[user:password@]` in front of an entry is for the data servers. */
  brokerSentinels?: string;
  /** The master's name in Sentinel (`sentinel monitor <name> …`). */
  brokerSentinelName?: string;
  /** `host:port,host:port,…` of Redis Cluster nodes; `[user:password@]` in front of an entry is for every node. */
  brokerCluster?: string;
  brokerPrefix?: string;
  /** Replicas that must hold a publish before it is acknowledged (see `RedisBrokerOptions.ackReplicas`). */
  brokerAckReplicas?: number;
  /** How long a publish waits for them, ms (see `RedisBrokerOptions.ackTimeoutMs`). */
  brokerAckTimeoutMs?: number;
  localChannels?: readonly string[];
}

/** True when any way to reach Redis is set. */
export function usesRedis(
  settings: Partial<Record<'brokerUrl' | 'brokerSentinels' | 'brokerCluster', string | undefined>>,
): boolean {
  return Boolean(settings.brokerUrl || settings.brokerSentinels || settings.brokerCluster);
}

/** The one Redis target the settings name; an error for none, several, or a malformed list. */
export function redisTargetOf(settings: RedisBrokerSettings): Result<RedisTarget, string> {
  const given = [settings.brokerUrl, settings.brokerSentinels, settings.brokerCluster].filter(Boolean);
  if (given.length !== 1) {
    return {
      ok: false,
      error: 'give exactly one of a Redis URL, a Sentinel list or a Redis Cluster node list',
    };
  }
  if (settings.brokerUrl) return { ok: true, value: { kind: 'url', url: settings.brokerUrl } };
  if (settings.brokerCluster) {
    const parsed = parseClusterTarget(settings.brokerCluster);
    return parsed.ok ? parsed : { ok: false, error: parsed.error };
  }
  if (!settings.brokerSentinelName) {
    return { ok: false, error: 'a Sentinel list needs the master name (--broker-sentinel-name)' };
  }
  const parsed = parseSentinelTarget(settings.brokerSentinels ?? '', settings.brokerSentinelName);
  return parsed.ok ? parsed : { ok: false, error: parsed.error };
}

/**
 * The broker of a node sharing channels through Redis at `brokerUrl`: Redis for every channel but the
 * node-local ones (default `metrics`), which stay in memory. Resolves to an error when Redis cannot be reached
 * at start (see `connectRedisBroker`).
 *
 * ```ts
 * const broker = await connectNodeBroker({ brokerUrl: 'redis://127.0.0.1:6379', node: 'web-1', history: [] });
 * if (broker.ok) await createServer({ broker: broker.value });
 * ```
 */
export async function connectNodeBroker(options: NodeBrokerOptions): Promise<Result<Broker, LivedashError>> {
  const target = redisTargetOf(options);
  if (!target.ok) throw new TypeError(target.error);
  const connected = await connectRedisBroker({
    target: target.value,
    history: options.history,
    node: options.node,
    ...(options.brokerPrefix !== undefined && { prefix: options.brokerPrefix }),
    ...(options.brokerAckReplicas !== undefined && { ackReplicas: options.brokerAckReplicas }),
    ...(options.brokerAckTimeoutMs !== undefined && { ackTimeoutMs: options.brokerAckTimeoutMs }),
    ...(options.log !== undefined && { log: options.log }),
  });
  if (!connected.ok) return connected;
  // Node-local channels live in this process, so the memory bounds apply to them.
  const local = new MemoryBroker({
    history: options.history,
    ...(options.maxChannels !== undefined && { maxChannels: options.maxChannels }),
    ...(options.maxHistoryBytes !== undefined && { maxHistoryBytes: options.maxHistoryBytes }),
    ...(options.onEvict !== undefined && { onEvict: options.onEvict }),
  });
  return {
    ok: true,
    value: new NodeLocalBroker(connected.value, local, options.localChannels ?? DEFAULT_LOCAL_CHANNELS),
  };
}
