import type { StoredMessage } from './brokers/broker.js';

/**
 * Where a connection gets its frames. Transports implement it; the Hub calls it.
 * `deliver` gets the message as stored, whose `frame` is the envelope encoded once at publish.
 */
export interface FrameSink {
  deliver(message: StoredMessage): void;
  /** Live messages buffered during a recovery went over the connection's bound (it is closed as slow). */
  overflow(): void;
}

/**
 * A subscription's lifecycle:
 *  - `recovering`: attached to the channel, reading history; live messages are buffered meanwhile;
 *  - `live`: history sent; live messages pass if their seq is past the last one delivered;
 *  - `closed`: unsubscribed or the connection ended; everything is dropped.
 */
export type SubscriptionState =
  | { kind: 'recovering'; buffered: StoredMessage[]; bufferedBytes: number }
  | { kind: 'live' }
  | { kind: 'closed' };

export type SubscriptionEvent =
  | { type: 'buffer'; message: StoredMessage }
  | { type: 'recovered' }
  | { type: 'close' };

/** The one transition function of a subscription's state machine. */
export function nextSubscriptionState(state: SubscriptionState, event: SubscriptionEvent): SubscriptionState {
  if (state.kind === 'closed') return state;
  switch (event.type) {
    case 'buffer':
      if (state.kind !== 'recovering') return state;
      state.buffered.push(event.message);
      return {
        kind: 'recovering',
        buffered: state.buffered,
        bufferedBytes: state.bufferedBytes + event.message.frame.length,
      };
    case 'recovered':
      return { kind: 'live' };
    case 'close':
      return { kind: 'closed' };
  }
}

/**
 * One connection's interest in one channel. Dedupes by seq so that history replay and live delivery,
 * which overlap while a subscribe races with publishes, give no gap and no duplicate.
 */
export class Subscription {
  readonly channel: string;
  readonly #sink: FrameSink;
  #state: SubscriptionState = { kind: 'recovering', buffered: [], bufferedBytes: 0 };
  /** Epoch and seq of the last message delivered (or of the channel when subscribed). */
  #epoch = '';
  #seq = 0;
  readonly #maxBufferedBytes: number;

  constructor(
    channel: string,
    sink: FrameSink,
    maxBufferedBytes: number,
    since: { epoch: string; seq: number } | undefined,
  ) {
    this.channel = channel;
    // Until recovery ends, the position to resume from is where the client said it was.
    if (since) {
      this.#epoch = since.epoch;
      this.#seq = since.seq;
    }
    this.#sink = sink;
    this.#maxBufferedBytes = maxBufferedBytes;
  }

  get state(): SubscriptionState['kind'] {
    return this.#state.kind;
  }

  /** The position to resume from, if known yet. */
  get position(): { epoch: string; seq: number } | undefined {
    return this.#epoch === '' ? undefined : { epoch: this.#epoch, seq: this.#seq };
  }

  /** A live message from the channel. */
  offer(message: StoredMessage): void {
    const state = this.#state;
    if (state.kind === 'closed') return;
    if (state.kind === 'recovering') {
      this.#state = nextSubscriptionState(state, { type: 'buffer', message });
      if (this.#state.kind === 'recovering' && this.#state.bufferedBytes > this.#maxBufferedBytes)
        this.#sink.overflow();
      return;
    }
    this.#pass(message);
  }

  /**
   * Ends recovery: `replay` (from history, in order) is delivered, then the live messages buffered
   * meanwhile that come after it. `position` is the channel's position the history read reported.
   */
  recover(position: { epoch: string; seq: number }, replay: readonly StoredMessage[]): void {
    const state = this.#state;
    if (state.kind !== 'recovering') return;
    this.#epoch = position.epoch;
    this.#seq = 0;
    for (const message of replay) this.#pass(message);
    // Nothing past `position.seq` was in the read; anything at or before it was delivered or is the
    // history the client chose not to get (no `since`).
    if (this.#seq < position.seq && this.#epoch === position.epoch) this.#seq = position.seq;
    this.#state = nextSubscriptionState(state, { type: 'recovered' });
    for (const message of state.buffered) this.#pass(message);
  }

  close(): void {
    this.#state = nextSubscriptionState(this.#state, { type: 'close' });
  }

  #pass(message: StoredMessage): void {
    if (message.epoch === this.#epoch && message.seq <= this.#seq) return;
    // A different epoch means the channel lost its history (a broker restart): its new messages are
    // delivered as they come, and the client sees the epoch change.
    this.#epoch = message.epoch;
    this.#seq = message.seq;
    this.#sink.deliver(message);
  }
}
