import { encodeEnvelope, type Position } from '@livedash/protocol';
import { EpochSource } from '../epoch.js';
import { type HistoryBounds, historyBoundsFor } from '../history-policy.js';
import type { HistoryRule } from '../options.js';
import { RingBuffer } from '../ring-buffer.js';
import type { Broker, BrokerHealth, ChannelInfo, ReadResult, StoredMessage } from './broker.js';

interface ChannelState {
  readonly epoch: string;
  seq: number;
  /** Kept apart from history so a new subscriber gets the latest value even after it aged out. */
  latest: StoredMessage | undefined;
  readonly history: RingBuffer<StoredMessage>;
  readonly maxAgeMs: number;
  /** When the channel was created; empty channels nobody subscribes to are swept after a while. */
  readonly createdAt: number;
}

export interface MemoryBrokerOptions {
  /** History bounds per channel pattern, first match wins (default 1000 messages / 5 minutes). */
  history?: readonly HistoryRule[];
  /** How often aged-out messages and abandoned empty channels are swept, ms (default 10 s). */
  sweepIntervalMs?: number;
  /** Clock, for tests of age bounds. */
  now?: () => number;
}

/**
 * The single-node broker: channels, seq, epoch and history in this process. Each channel gets a
 * random-looking epoch of its own when created (the same one if an empty channel is dropped and comes
 * back), so a restarted server is told apart from the one a client last saw.
 *
 * @example
 * const broker = new MemoryBroker({ history: [{ pattern: '*', maxMessages: 100, maxAgeMs: 60_000 }] });
 * const stored = await broker.publish('prices', '{"eur":1.08}'); // stored.seq === 1
 */
export class MemoryBroker implements Broker {
  #channels = new Map<string, ChannelState>();
  #subscribed = new Set<string>();
  /** Empty channels are dropped and may come back; their epoch must not change meanwhile. */
  #epochs = new EpochSource();
  #rules: readonly HistoryRule[];
  #now: () => number;
  #listener: (message: StoredMessage) => void = () => {};
  #sweep: NodeJS.Timeout;

  constructor(options: MemoryBrokerOptions = {}) {
    this.#rules = options.history ?? [];
    this.#now = options.now ?? Date.now;
    this.#sweep = setInterval(() => this.#sweepAll(), options.sweepIntervalMs ?? 10_000);
    this.#sweep.unref();
  }

  async publish(channel: string, dataJson: string): Promise<StoredMessage> {
    const state = this.#channel(channel);
    const seq = state.seq + 1;
    const ts = this.#now();
    const message: StoredMessage = {
      channel,
      seq,
      epoch: state.epoch,
      ts,
      frame: encodeEnvelope(channel, seq, state.epoch, ts, dataJson),
    };
    state.seq = seq;
    state.latest = message;
    state.history.push(message);
    this.#trim(state, ts);
    if (this.#subscribed.has(channel)) this.#listener(message);
    return message;
  }

  async subscribe(channel: string): Promise<void> {
    this.#channel(channel);
    this.#subscribed.add(channel);
  }

  async unsubscribe(channel: string): Promise<void> {
    this.#subscribed.delete(channel);
    // An empty channel nobody listens to holds nothing worth keeping; dropping it bounds memory
    // against clients subscribing to made-up names.
    if (this.#channels.get(channel)?.seq === 0) this.#channels.delete(channel);
  }

  onMessage(listener: (message: StoredMessage) => void): void {
    this.#listener = listener;
  }

  async read(channel: string, since?: Position, limit?: number): Promise<ReadResult> {
    const state = this.#channel(channel);
    this.#trim(state, this.#now());
    const oldestHeld = state.history.first();
    const base = oldestHeld
      ? { epoch: state.epoch, seq: state.seq, firstSeq: oldestHeld.seq }
      : { epoch: state.epoch, seq: state.seq };
    const latestOnly = state.latest ? [state.latest] : [];
    if (!since) return { ...base, recovered: false, messages: latestOnly };
    if (since.epoch !== state.epoch || since.seq > state.seq)
      return { ...base, recovered: false, messages: latestOnly };
    if (since.seq === state.seq) return { ...base, recovered: true, messages: [] };
    const oldest = state.history.first();
    // History must still hold the message right after `since` for the replay to have no gap.
    if (!oldest || oldest.seq > since.seq + 1) return { ...base, recovered: false, messages: latestOnly };
    const messages: StoredMessage[] = [];
    for (let i = since.seq + 1 - oldest.seq; i < state.history.size; i++) {
      const message = state.history.at(i);
      if (message) messages.push(message);
    }
    if (limit !== undefined && messages.length > limit) {
      return { ...base, recovered: false, messages: limit > 0 ? messages.slice(-limit) : [] };
    }
    return { ...base, recovered: true, messages };
  }

  async channels(): Promise<ChannelInfo[]> {
    const now = this.#now();
    const infos: ChannelInfo[] = [];
    for (const [channel, state] of this.#channels) {
      this.#trim(state, now);
      const info: ChannelInfo = { channel, epoch: state.epoch, seq: state.seq, size: state.history.size };
      if (state.latest) info.ts = state.latest.ts;
      infos.push(info);
    }
    return infos;
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

  #channel(channel: string): ChannelState {
    let state = this.#channels.get(channel);
    if (!state) {
      const bounds: HistoryBounds = historyBoundsFor(this.#rules, channel);
      state = {
        epoch: this.#epochs.of(channel),
        seq: 0,
        latest: undefined,
        history: new RingBuffer<StoredMessage>(Math.max(1, bounds.maxMessages)),
        maxAgeMs: bounds.maxAgeMs,
        createdAt: this.#now(),
      };
      this.#channels.set(channel, state);
    }
    return state;
  }

  /** Drops messages older than the channel's age bound (the ring already bounds the count). */
  #trim(state: ChannelState, now: number): void {
    const cutoff = now - state.maxAgeMs;
    while ((state.history.first()?.ts ?? Number.POSITIVE_INFINITY) < cutoff) state.history.shift();
  }

  #sweepAll(): void {
    const now = this.#now();
    for (const [channel, state] of this.#channels) {
      this.#trim(state, now);
      const abandoned = state.seq === 0 && !this.#subscribed.has(channel) && now - state.createdAt > 60_000;
      if (abandoned) this.#channels.delete(channel);
    }
  }
}
