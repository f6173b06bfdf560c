import type { Cluster } from 'ioredis';
import { type LinkState, RedisLink } from './redis-link.js';
import { keySlot } from './redis-slots.js';
import type { RedisCredentials } from './redis-target.js';

/**
 * Sharded Pub/Sub over a Redis Cluster: each channel is subscribed (`SSUBSCRIBE`) on the master that owns its
 * slot, through one subscriber connection per such master, so a message travels only within its shard and
 * channels spread over the shards.
 *
 * Where each channel is subscribed follows the Cluster client's slot map (refreshed on every `MOVED` and once a
 * second). A subscription ends without this node asking when its slot moves to another shard (Redis sends
 * `SUNSUBSCRIBE`), when its master dies, or when a connection drops; each time the channel is subscribed again
 * where its slot now lives and `onResubscribed` names it, so the broker reads from history whatever was
 * published in between. (The Redis client's own sharded subscribers resubscribe only on a later slot refresh
 * and do not say when they have, so a node could not know what it missed.)
 *
 * ```ts
 * const shards = new ShardSubscriptions(cluster, { name: 'livedash:web-1:live', ... }, events);
 * await shards.add('livedash:{orders}:live'); // true once subscribed on the shard that owns {orders}
 * ```
 */
export interface ShardEvents {
  message(liveName: string, payload: string): void;
  /** These channels are subscribed again after their subscription ended: read what was missed. */
  resubscribed(liveNames: string[]): void;
  /** The combined state of the subscriber connections changed (see `state`). */
  stateChanged(): void;
}

export interface ShardLinkOptions extends RedisCredentials {
  /** Connection name prefix, e.g. `livedash:web-1:live`; each shard's connection adds its address. */
  name: string;
  commandTimeoutMs: number;
  probeIntervalMs: number;
}

/** One master's subscriber connection and the channels this node wants from it. */
interface Shard {
  readonly address: string;
  readonly link: RedisLink;
  /** Channels whose slot this master owns (as far as the slot map says). */
  readonly channels: Set<string>;
  /** Of those, the ones subscribed on the current connection. */
  readonly subscribed: Set<string>;
}

/** Retry delay after a subscription failed (a slot map behind a move, a connection not ready). */
const RETRY_MS = 250;

export class ShardSubscriptions {
  readonly #cluster: Cluster;
  readonly #options: ShardLinkOptions;
  readonly #events: ShardEvents;
  readonly #shards = new Map<string, Shard>();
  /** Every channel this node wants, with the address of the master it is placed on (if known). */
  readonly #wanted = new Map<string, string | undefined>();
  #retry: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(cluster: Cluster, options: ShardLinkOptions, events: ShardEvents) {
    this.#cluster = cluster;
    this.#options = options;
    this.#events = events;
    cluster.on('refresh', () => this.#reconcile());
  }

  /**
   * Wants `liveName`; resolves true once it is subscribed on its shard, false when that cannot happen now
   * (the shard is unreachable or the slot map not known yet): it is subscribed later, and `resubscribed` says so.
   */
  async add(liveName: string): Promise<boolean> {
    if (this.#closed) return false;
    if (!this.#wanted.has(liveName)) this.#wanted.set(liveName, undefined);
    const shard = this.#place(liveName);
    if (shard === undefined || shard.link.state.kind !== 'ready') return false;
    if (shard.subscribed.has(liveName)) return true;
    try {
      await shard.link.redis.ssubscribe(liveName);
    } catch (error) {
      this.#failed(error);
      return false;
    }
    if (this.#wanted.get(liveName) !== shard.address) return false;
    shard.subscribed.add(liveName);
    return true;
  }

  async remove(liveName: string): Promise<void> {
    const address = this.#wanted.get(liveName);
    this.#wanted.delete(liveName);
    const shard = address === undefined ? undefined : this.#shards.get(address);
    if (shard === undefined) return;
    shard.channels.delete(liveName);
    const wasSubscribed = shard.subscribed.delete(liveName);
    if (shard.channels.size === 0) {
      this.#drop(shard);
    } else if (wasSubscribed && shard.link.state.kind === 'ready') {
      await shard.link.redis.sunsubscribe(liveName).catch(() => {
        // A lost connection drops the subscription anyway.
      });
    }
  }

  /**
   * The subscriber connections together: ready when every shard holding a wanted channel is; otherwise the
   * first one that is not, with its address in the reason.
   */
  get state(): LinkState {
    let connecting = false;
    for (const shard of this.#shards.values()) {
      const state = shard.link.state;
      if (state.kind === 'lost' || state.kind === 'stalled') {
        return { kind: state.kind, reason: `shard ${shard.address}: ${state.reason}` };
      }
      if (state.kind === 'connecting') connecting = true;
    }
    return connecting ? { kind: 'connecting' } : { kind: 'ready' };
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    const shards = [...this.#shards.values()];
    this.#shards.clear();
    this.#wanted.clear();
    await Promise.all(shards.map((shard) => shard.link.close()));
  }

  /** The shard that owns `liveName`'s slot now, moving the channel there when the slot map changed. */
  #place(liveName: string): Shard | undefined {
    const owner = this.#cluster.slots[keySlot(liveName)]?.[0];
    const placed = this.#wanted.get(liveName);
    if (placed !== undefined && placed !== owner) {
      const old = this.#shards.get(placed);
      if (old !== undefined) {
        old.channels.delete(liveName);
        const wasSubscribed = old.subscribed.delete(liveName);
        if (old.channels.size === 0) this.#drop(old);
        else if (wasSubscribed && old.link.state.kind === 'ready') {
          void old.link.redis.sunsubscribe(liveName).catch(() => {});
        }
      }
      this.#wanted.set(liveName, undefined);
    }
    if (owner === undefined) return undefined;
    const shard = this.#shards.get(owner) ?? this.#open(owner);
    shard.channels.add(liveName);
    this.#wanted.set(liveName, owner);
    return shard;
  }

  #open(address: string): Shard {
    const separator = address.lastIndexOf(':');
    const link = new RedisLink({
      target: {
        kind: 'node',
        host: address.slice(0, separator),
        port: Number(address.slice(separator + 1)),
        ...(this.#options.username !== undefined && { username: this.#options.username }),
        ...(this.#options.password !== undefined && { password: this.#options.password }),
      },
      name: `${this.#options.name}:${address}`.replace(/[^A-Za-z0-9_.:-]/g, '_'),
      commandTimeoutMs: this.#options.commandTimeoutMs,
      probeIntervalMs: this.#options.probeIntervalMs,
    });
    const shard: Shard = { address, link, channels: new Set(), subscribed: new Set() };
    this.#shards.set(address, shard);
    link.redis.on('smessage', (liveName: string, payload: string) => {
      if (shard.subscribed.has(liveName)) this.#events.message(liveName, payload);
    });
    link.onState((state) => {
      if (this.#shards.get(address) !== shard) return;
      // A new connection has no subscriptions; its `ready` subscribes them again.
      if (state.kind !== 'ready' && state.kind !== 'stalled') shard.subscribed.clear();
      if (state.kind === 'ready') this.#reconcile();
      // A dead master's channels move once the slot map names its replica: look again soon.
      if (state.kind === 'lost') this.#cluster.refreshSlotsCache();
      this.#events.stateChanged();
    });
    link.onError((message) => {
      // Redis ended a subscription itself: its slot moved (the client reports the unasked-for SUNSUBSCRIBE
      // as an error). Forget it and learn the new owner at once instead of at the next slot refresh.
      const ended = /Last reply: sunsubscribe,([^,]+),/.exec(message)?.[1];
      if (ended === undefined) return;
      shard.subscribed.delete(ended);
      this.#cluster.refreshSlotsCache();
      this.#retrySoon();
    });
    link.start();
    this.#events.stateChanged();
    return shard;
  }

  #drop(shard: Shard): void {
    this.#shards.delete(shard.address);
    void shard.link.close();
    this.#events.stateChanged();
  }

  /** Places every wanted channel on its slot's current master and subscribes what is not subscribed. */
  #reconcile(): void {
    if (this.#closed) return;
    const pending = new Map<Shard, Map<number, string[]>>();
    for (const liveName of this.#wanted.keys()) {
      const shard = this.#place(liveName);
      if (shard === undefined || shard.subscribed.has(liveName) || shard.link.state.kind !== 'ready')
        continue;
      const bySlot = pending.get(shard) ?? new Map<number, string[]>();
      pending.set(shard, bySlot);
      const slot = keySlot(liveName);
      bySlot.set(slot, [...(bySlot.get(slot) ?? []), liveName]);
    }
    for (const [shard, bySlot] of pending) {
      // SSUBSCRIBE takes channels of one slot at a time.
      for (const names of bySlot.values()) void this.#subscribe(shard, names);
    }
  }

  async #subscribe(shard: Shard, names: string[]): Promise<void> {
    try {
      await shard.link.redis.ssubscribe(...names);
    } catch (error) {
      this.#failed(error);
      return;
    }
    const placed = names.filter((name) => this.#wanted.get(name) === shard.address);
    for (const name of placed) shard.subscribed.add(name);
    if (placed.length > 0) this.#events.resubscribed(placed);
  }

  /** A subscription failed: the slot map may be behind (MOVED), or a connection dropped. Try again soon. */
  #failed(error: unknown): void {
    if (error instanceof Error && /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN)/.test(error.message)) {
      this.#cluster.refreshSlotsCache();
    }
    this.#retrySoon();
  }

  #retrySoon(): void {
    if (this.#retry !== undefined || this.#closed) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#reconcile();
    }, RETRY_MS);
    this.#retry.unref();
  }
}
