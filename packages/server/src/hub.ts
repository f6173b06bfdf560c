import { ErrorCodes, isValidChannel, LivedashError, type Position } from '@livedash/protocol';
import type { Broker, ReadResult, StoredMessage } from './brokers/broker.js';
import { ChannelPolicies } from './channel-policy.js';
import { Pacer } from './pacer.js';
import { Session, type SessionSink } from './session.js';
import type { Subscription } from './subscription.js';

/** Where a publish landed. */
export interface PublishResult {
  channel: string;
  epoch: string;
  seq: number;
  ts: number;
}

/** What an in-process watcher gets with each message. */
export interface MessageMeta {
  channel: string;
  epoch: string;
  seq: number;
  ts: number;
}

export type Watcher = (data: unknown, meta: MessageMeta) => void;

export interface HubOptions {
  /** Live messages a subscription may buffer while it recovers, in bytes, before its connection is cut. */
  maxQueueBytes: number;
  maxSubscriptions: number;
  /** Channel patterns whose messages are state (each replaces the last); default none. */
  stateChannels?: readonly string[];
  /** Called once per publish accepted by this node (for metrics). */
  onPublish?: (message: StoredMessage) => void;
  /** Where a watcher's exception is reported; watchers must not break fan-out. */
  onWatcherError?: (error: unknown, channel: string) => void;
  /** Where an exception from a connection's send path is reported (it never stops fan-out). */
  onDeliveryError?: (error: unknown, channel: string) => void;
}

interface ChannelEntry {
  readonly subscriptions: Set<Subscription>;
  readonly watchers: Set<Watcher>;
  /** Broker subscribe/unsubscribe calls for this channel, run one after another. */
  chain: Promise<void>;
  /** Whether the broker currently delivers this channel to this node. */
  brokerSubscribed: boolean;
}

/**
 * Channels, fan-out and subscriptions for one server node. Channels are created on first use. The
 * Hub talks only to the `Broker`: it asks it for seq, history and cross-node delivery, and hands each
 * message (encoded once, at publish) to every local subscription.
 *
 * @example
 * const hub = new Hub(new MemoryBroker(), { maxQueueBytes: 1 << 20, maxSubscriptions: 256 });
 * const unwatch = hub.watch('metrics', (data, meta) => console.log(meta.seq, data));
 * await hub.publish('metrics', { cpu: 12.5, memory: 40.1 });
 * unwatch();
 */
export class Hub {
  readonly broker: Broker;
  readonly options: HubOptions;
  /** Which channels are state and which are streams (conflated or batched under a `maxRate`). */
  readonly policies: ChannelPolicies;
  /** The clocks of the subscriptions' `maxRate`s: one per rate in use. */
  readonly pacer: Pacer;
  #channels = new Map<string, ChannelEntry>();
  #subscriptionCount = 0;

  constructor(broker: Broker, options: HubOptions) {
    this.broker = broker;
    this.options = options;
    this.policies = new ChannelPolicies(options.stateChannels ?? []);
    this.pacer = new Pacer((error) => this.options.onDeliveryError?.(error, '(paced)'));
    broker.onMessage((message) => this.#dispatch(message));
  }

  /** Subscriptions across every connection of this node. */
  get subscriptionCount(): number {
    return this.#subscriptionCount;
  }

  /**
   * Publishes `data` (any JSON value) on `channel`. Rejects with a `LivedashError`: `invalid_channel`,
   * `bad_command` when `data` cannot be serialized, `unavailable` when the broker is down.
   */
  publish(channel: string, data: unknown): Promise<PublishResult> {
    let dataJson: string | undefined;
    try {
      dataJson = JSON.stringify(data);
    } catch (error) {
      return Promise.reject(
        new LivedashError(ErrorCodes.BAD_COMMAND, `data cannot be serialized: ${String(error)}`),
      );
    }
    if (dataJson === undefined) {
      return Promise.reject(new LivedashError(ErrorCodes.BAD_COMMAND, 'data must be a JSON value'));
    }
    return this.publishJson(channel, dataJson);
  }

  /** Publishes already-serialized JSON (one line, as `JSON.stringify` writes it). */
  async publishJson(channel: string, dataJson: string): Promise<PublishResult> {
    if (!isValidChannel(channel)) {
      throw new LivedashError(
        ErrorCodes.INVALID_CHANNEL,
        `invalid channel name "${String(channel).slice(0, 64)}"`,
      );
    }
    let message: StoredMessage;
    try {
      message = await this.broker.publish(channel, dataJson);
    } catch (error) {
      if (error instanceof LivedashError) throw error;
      throw new LivedashError(
        ErrorCodes.UNAVAILABLE,
        `publish failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    this.options.onPublish?.(message);
    return { channel, epoch: message.epoch, seq: message.seq, ts: message.ts };
  }

  /**
   * Calls `watcher` with every message published on `channel` from now on (an in-process subscriber:
   * no history replay). Returns the function that stops it.
   */
  watch(channel: string, watcher: Watcher): () => void {
    if (!isValidChannel(channel)) throw new TypeError(`invalid channel name "${channel}"`);
    const entry = this.#acquire(channel);
    const wrapped: Watcher = (data, meta) => watcher(data, meta);
    entry.watchers.add(wrapped);
    this.#sync(channel, entry);
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      entry.watchers.delete(wrapped);
      this.#sync(channel, entry);
    };
  }

  /** A new connection's subscriptions; the transport closes it when the connection ends. */
  session(sink: SessionSink): Session {
    return new Session(this, sink);
  }

  /**
   * Attaches `subscription` (buffering live messages) and then reads history. The order matters:
   * attaching first means a publish racing with the read is either in the read or buffered, never lost.
   * @internal used by Session
   */
  async attach(subscription: Subscription, since: Position | undefined): Promise<ReadResult> {
    const channel = subscription.channel;
    const entry = this.#acquire(channel);
    entry.subscriptions.add(subscription);
    this.#subscriptionCount++;
    try {
      await this.#sync(channel, entry);
      if (!entry.brokerSubscribed) {
        throw new LivedashError(
          ErrorCodes.UNAVAILABLE,
          `cannot subscribe to "${channel}": broker unavailable`,
        );
      }
      return await this.broker.read(channel, since);
    } catch (error) {
      this.detach(subscription);
      if (error instanceof LivedashError) throw error;
      throw new LivedashError(ErrorCodes.UNAVAILABLE, `cannot read "${channel}": ${String(error)}`);
    }
  }

  /** @internal used by Session */
  detach(subscription: Subscription): void {
    const entry = this.#channels.get(subscription.channel);
    if (!entry?.subscriptions.delete(subscription)) return;
    this.#subscriptionCount--;
    this.#sync(subscription.channel, entry);
  }

  #acquire(channel: string): ChannelEntry {
    let entry = this.#channels.get(channel);
    if (!entry) {
      entry = {
        subscriptions: new Set(),
        watchers: new Set(),
        chain: Promise.resolve(),
        brokerSubscribed: false,
      };
      this.#channels.set(channel, entry);
    }
    return entry;
  }

  /**
   * Brings the broker subscription in line with local interest: subscribed while anyone listens,
   * unsubscribed (and the entry forgotten) when nobody does. Calls are queued per channel so a quick
   * unsubscribe/subscribe pair cannot reorder at the broker.
   */
  #sync(channel: string, entry: ChannelEntry): Promise<void> {
    const step = async () => {
      const wanted = entry.subscriptions.size + entry.watchers.size > 0;
      if (wanted && !entry.brokerSubscribed) {
        await this.broker.subscribe(channel);
        entry.brokerSubscribed = true;
      } else if (!wanted && entry.brokerSubscribed) {
        entry.brokerSubscribed = false;
        await this.broker.unsubscribe(channel);
      }
      const idle = entry.subscriptions.size + entry.watchers.size === 0 && !entry.brokerSubscribed;
      if (idle && this.#channels.get(channel) === entry) this.#channels.delete(channel);
    };
    // A failed broker call must not wedge the queue: the next sync tries again.
    entry.chain = entry.chain.then(step, step).catch(() => {});
    return entry.chain;
  }

  #dispatch(message: StoredMessage): void {
    const entry = this.#channels.get(message.channel);
    if (!entry) return;
    for (const subscription of entry.subscriptions) {
      // One connection failing to take a message must not keep it from the others.
      try {
        subscription.offer(message);
      } catch (error) {
        this.options.onDeliveryError?.(error, message.channel);
      }
    }
    if (entry.watchers.size === 0) return;
    const { channel, epoch, seq, ts } = message;
    let data: unknown;
    try {
      data = (JSON.parse(message.frame) as { data: unknown }).data;
    } catch (error) {
      this.options.onWatcherError?.(error, channel);
      return;
    }
    for (const watcher of entry.watchers) {
      try {
        watcher(data, { channel, epoch, seq, ts });
      } catch (error) {
        this.options.onWatcherError?.(error, channel);
      }
    }
  }
}
