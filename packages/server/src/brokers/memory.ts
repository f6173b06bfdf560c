import {
  ErrorCodes,
  encodeEnvelope,
  itemsAfter,
  LivedashError,
  type Position,
  RingBuffer,
} from '@livedash/protocol';
import { EpochSource } from '../epoch.js';
import { historyBoundsFor } from '../history-policy.js';
import { LimitDefaults } from '../limits/limit-defaults.js';
import type { HistoryRule } from '../options.js';
import type {
  Broker,
  BrokerHealth,
  ChannelInfo,
  ChannelPage,
  ChannelQuery,
  ReadResult,
  StoredMessage,
} from './broker.js';
import { pageOfNames } from './channel-page.js';

/**
 * What one held message is counted as against `maxHistoryBytes`: its envelope's length plus the
 * object and slot around it (measured: about 100 bytes on Node 20).
 */
const MESSAGE_OVERHEAD_BYTES = 100;

const costOf = (message: StoredMessage) => message.frame.length + MESSAGE_OVERHEAD_BYTES;

interface ChannelState {
  readonly epoch: string;
  seq: number;
  /** Kept apart from history so a new subscriber gets the latest value even after it aged out. */
  latest: StoredMessage;
  readonly history: RingBuffer<StoredMessage>;
  readonly maxAgeMs: number;
  /** What the channel holds, counted against `maxHistoryBytes` (history, plus `latest` once it aged out). */
  bytes: number;
}

export interface MemoryBrokerOptions {
  /** History bounds per channel pattern, first match wins (default 1000 messages / 5 minutes). */
  history?: readonly HistoryRule[];
  /**
   * Most channels held (default 10,000). A publish creating one more evicts the idle channel (nobody
   * subscribed) published least recently; with none idle it is refused with `capacity_exceeded`.
   */
  maxChannels?: number;
  /**
   * Most bytes of history held over all channels (default 128 MiB; envelope length plus ~100 bytes a
   * message). A publish that would go over evicts idle channels, least recently published first, then
   * drops the oldest messages of its own channel; if the message still does not fit it is refused.
   */
  maxHistoryBytes?: number;
  /** Called with each channel evicted to make room (for metrics). */
  onEvict?: (channel: string) => void;
  /** How often aged-out messages are swept, ms (default 10 s). */
  sweepIntervalMs?: number;
  /** Clock, for tests of age bounds. */
  now?: () => number;
}

/**
 * The single-node broker: channels, seq, epoch and history in this process. A channel exists from its
 * first publish until it is evicted: reading or subscribing to a name never published leaves nothing
 * behind, and memory is bounded by `maxChannels` and `maxHistoryBytes`. Each channel has a
 * random-looking epoch of its own; a channel evicted and published again gets a new one (its history
 * is gone), and a restarted server gives every channel a new one.
 *
 * @example
 * const broker = new MemoryBroker({ history: [{ pattern: '*', maxMessages: 100, maxAgeMs: 60_000 }] });
 * const stored = await broker.publish('prices', '{"eur":1.08}'); // stored.seq === 1
 */
export class MemoryBroker implements Broker {
  #channels = new Map<string, ChannelState>();
  /** Channels with no node-level subscriber, least recently published first: the eviction order. */
  #idle = new Map<string, ChannelState>();
  #subscribed = new Set<string>();
  #epochs = new EpochSource();
  /**
   * Evictions so far, mixed into new channels' epochs: a channel evicted and created again must not
   * reuse its old epoch (its seqs restart), while a name only read keeps one epoch until then.
   */
  #evictions = 0;
  #bytes = 0;
  readonly #maxChannels: number;
  readonly #maxHistoryBytes: number;
  readonly #onEvict: (channel: string) => void;
  #rules: readonly HistoryRule[];
  #now: () => number;
  #listener: (message: StoredMessage) => void = () => {};
  #sweep: NodeJS.Timeout;

  constructor(options: MemoryBrokerOptions = {}) {
    this.#rules = options.history ?? [];
    this.#now = options.now ?? Date.now;
    this.#maxChannels = options.maxChannels ?? LimitDefaults.maxChannels;
    this.#maxHistoryBytes = options.maxHistoryBytes ?? LimitDefaults.maxHistoryBytes;
    this.#onEvict = options.onEvict ?? (() => {});
    this.#sweep = setInterval(() => this.#sweepAll(), options.sweepIntervalMs ?? 10_000);
    this.#sweep.unref();
  }

  /** Channels held and the bytes of history counted against `maxHistoryBytes`. */
  get usage(): { channels: number; historyBytes: number } {
    return { channels: this.#channels.size, historyBytes: this.#bytes };
  }

  async publish(channel: string, dataJson: string): Promise<StoredMessage> {
    const ts = this.#now();
    const existing = this.#channels.get(channel);
    const seq = (existing?.seq ?? 0) + 1;
    const epoch = existing?.epoch ?? this.#epochOf(channel);
    const message: StoredMessage = {
      channel,
      seq,
      epoch,
      ts,
      frame: encodeEnvelope(channel, seq, epoch, ts, dataJson),
    };
    if (existing) this.#trim(existing, ts);
    const state = existing ?? this.#create(channel, message);
    this.#makeRoom(state, costOf(message));
    // The old latest stops being held on its own once replaced (it may still be in history).
    if (existing && !this.#inHistory(existing, existing.latest))
      this.#release(existing, costOf(existing.latest));
    state.seq = seq;
    state.latest = message;
    const displaced = state.history.push(message);
    if (displaced) this.#release(state, costOf(displaced));
    this.#hold(state, costOf(message));
    if (!this.#subscribed.has(channel)) {
      // Re-inserting moves it to the end: most recently published.
      this.#idle.delete(channel);
      this.#idle.set(channel, state);
    }
    if (this.#subscribed.has(channel)) this.#listener(message);
    return message;
  }

  async subscribe(channel: string): Promise<void> {
    this.#subscribed.add(channel);
    this.#idle.delete(channel);
  }

  async unsubscribe(channel: string): Promise<void> {
    this.#subscribed.delete(channel);
    const state = this.#channels.get(channel);
    if (state) this.#idle.set(channel, state);
  }

  onMessage(listener: (message: StoredMessage) => void): void {
    this.#listener = listener;
  }

  async read(channel: string, since?: Position, limit?: number): Promise<ReadResult> {
    const state = this.#channels.get(channel);
    // A channel never published (or evicted) reads as a new one, and nothing is created for the read.
    if (!state) {
      const epoch = this.#epochOf(channel);
      const recovered = since !== undefined && since.epoch === epoch && since.seq === 0;
      return { epoch, seq: 0, recovered, messages: [] };
    }
    this.#trim(state, this.#now());
    const oldestHeld = state.history.first();
    const base = oldestHeld
      ? { epoch: state.epoch, seq: state.seq, firstSeq: oldestHeld.seq }
      : { epoch: state.epoch, seq: state.seq };
    const latestOnly = [state.latest];
    if (!since) return { ...base, recovered: false, messages: latestOnly };
    if (since.epoch !== state.epoch || since.seq > state.seq)
      return { ...base, recovered: false, messages: latestOnly };
    if (since.seq === state.seq) return { ...base, recovered: true, messages: [] };
    // History must still hold the message right after `since` for the replay to have no gap.
    if (!oldestHeld || oldestHeld.seq > since.seq + 1)
      return { ...base, recovered: false, messages: latestOnly };
    const messages = itemsAfter(state.history, since.seq);
    if (limit !== undefined && messages.length > limit) {
      return { ...base, recovered: false, messages: limit > 0 ? messages.slice(-limit) : [] };
    }
    return { ...base, recovered: true, messages };
  }

  async channels(query: ChannelQuery): Promise<ChannelPage> {
    const now = this.#now();
    const { names, next } = pageOfNames(this.#channels.keys(), query);
    const channels: ChannelInfo[] = [];
    for (const channel of names) {
      const state = this.#channels.get(channel);
      if (!state) continue;
      this.#trim(state, now);
      channels.push({
        channel,
        epoch: state.epoch,
        seq: state.seq,
        size: state.history.size,
        ts: state.latest.ts,
      });
    }
    return next === undefined ? { channels } : { channels, next };
  }

  health(): BrokerHealth {
    return { status: 'ok' };
  }

  onHealth(_listener: (health: BrokerHealth) => void): void {
    // Memory never becomes unreachable.
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep);
    this.#subscribed.clear();
  }

  #epochOf(channel: string): string {
    return this.#epochs.of(this.#evictions === 0 ? channel : `${channel}\n${this.#evictions}`);
  }

  /** A new channel, once `maxChannels` leaves room for it (evicting the least recently published idle one). */
  #create(channel: string, first: StoredMessage): ChannelState {
    if (this.#channels.size >= this.#maxChannels && !this.#evictOne(undefined)) {
      throw new LivedashError(
        ErrorCodes.CAPACITY_EXCEEDED,
        `cannot create "${channel}": the server holds ${this.#maxChannels} channels (maxChannels) and every one has subscribers`,
      );
    }
    const bounds = historyBoundsFor(this.#rules, channel);
    const state: ChannelState = {
      epoch: first.epoch,
      seq: 0,
      latest: first,
      history: new RingBuffer<StoredMessage>(Math.max(1, bounds.maxMessages)),
      maxAgeMs: bounds.maxAgeMs,
      bytes: 0,
    };
    this.#channels.set(channel, state);
    return state;
  }

  /**
   * Makes room for `cost` more bytes in `state`: evicts idle channels (least recently published first),
   * then drops `state`'s own oldest messages. Refuses (and forgets a channel created for this publish)
   * when the message alone does not fit.
   */
  #makeRoom(state: ChannelState, cost: number): void {
    const fits = () => this.#bytes + cost - this.#freedBy(state) <= this.#maxHistoryBytes;
    while (!fits() && this.#evictOne(state)) {}
    while (!fits() && state.history.size > 0) {
      const oldest = state.history.shift()!;
      if (oldest !== state.latest) this.#release(state, costOf(oldest));
    }
    if (fits()) return;
    if (state.seq === 0) this.#channels.delete(state.latest.channel);
    throw new LivedashError(
      ErrorCodes.CAPACITY_EXCEEDED,
      `cannot publish on "${state.latest.channel}": history is at its bound of ${this.#maxHistoryBytes} bytes (maxHistoryBytes) and no idle channel is left to evict`,
    );
  }

  /** Bytes the next publish on `state` releases: the message a full ring pushes out, a latest held apart. */
  #freedBy(state: ChannelState): number {
    const history = state.history;
    let freed = history.size === history.capacity ? costOf(history.first()!) : 0;
    if (state.seq > 0 && !this.#inHistory(state, state.latest)) freed += costOf(state.latest);
    return freed;
  }

  /** Evicts the least recently published idle channel other than `keep`; false when there is none. */
  #evictOne(keep: ChannelState | undefined): boolean {
    for (const [channel, state] of this.#idle) {
      if (state === keep) continue;
      this.#idle.delete(channel);
      this.#channels.delete(channel);
      this.#bytes -= state.bytes;
      this.#evictions++;
      this.#onEvict(channel);
      return true;
    }
    return false;
  }

  #inHistory(state: ChannelState, message: StoredMessage): boolean {
    return state.history.last() === message;
  }

  #hold(state: ChannelState, bytes: number): void {
    state.bytes += bytes;
    this.#bytes += bytes;
  }

  #release(state: ChannelState, bytes: number): void {
    state.bytes -= bytes;
    this.#bytes -= bytes;
  }

  /** Drops messages older than the channel's age bound (the ring already bounds the count). */
  #trim(state: ChannelState, now: number): void {
    const cutoff = now - state.maxAgeMs;
    while ((state.history.first()?.ts ?? Number.POSITIVE_INFINITY) < cutoff) {
      const oldest = state.history.shift()!;
      // The latest value stays held (counted) after it ages out of history.
      if (oldest !== state.latest) this.#release(state, costOf(oldest));
    }
  }

  #sweepAll(): void {
    const now = this.#now();
    for (const state of this.#channels.values()) this.#trim(state, now);
  }
}
