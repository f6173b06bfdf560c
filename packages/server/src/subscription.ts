import type { StoredMessage } from './brokers/broker.js';
import type { PaceBucket, Paced } from './pacer.js';

/**
 * Where a connection gets its frames. Transports implement it; the Hub calls it.
 * `deliver` gets the message as stored, whose `frame` is the envelope encoded once at publish.
 */
export interface FrameSink {
  deliver(message: StoredMessage): void;
  /** Live messages buffered during a recovery went over the connection's bound (it is closed as slow). */
  overflow(): void;
  /**
   * Whether `message` can be queued now without going over the connection's bound. A replay larger than
   * the bound is sent in pieces: as much as fits, then the rest once the connection has drained.
   * Without it, everything is taken to fit.
   */
  fits?(message: StoredMessage): boolean;
  /** Calls `callback` once the connection has drained enough to take more (see `fits`). */
  whenDrained?(callback: () => void): void;
}

/** Reads history after `since` again, for a replay whose live buffer overflowed while it was paced. */
export type Reread = (since: { epoch: string; seq: number }) => Promise<{
  recovered: boolean;
  messages: readonly StoredMessage[];
}>;

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

/** A subscription's `maxRate`: the clock of its rate, and whether its channel is state (conflated). */
export interface Pacing {
  bucket: PaceBucket;
  /** State channel: only the newest message is held for the next tick. Stream: every one, in order. */
  conflate: boolean;
}

/**
 * One connection's interest in one channel. Dedupes by seq so that history replay and live delivery,
 * which overlap while a subscribe races with publishes, give no gap and no duplicate.
 *
 * With a `maxRate` (`Pacing`), live messages are written on its clock's ticks: a state channel's newest
 * one, a stream channel's all, together. Held messages are not delivered yet, so the position (and an
 * SSE stream's `id:`) stays at the last one written: a reconnect resumes from there, exactly.
 */
export class Subscription implements Paced {
  readonly channel: string;
  readonly #sink: FrameSink;
  #state: SubscriptionState = { kind: 'recovering', buffered: [], bufferedBytes: 0 };
  /** Epoch and seq of the last message delivered (or of the channel when subscribed). */
  #epoch = '';
  #seq = 0;
  readonly #maxBufferedBytes: number;
  /** What recovery is sending: the history read, then the live messages buffered meanwhile. */
  #phase: 'history' | 'buffered' = 'history';
  #backlog: readonly StoredMessage[] = [];
  #index = 0;
  /** Bytes of the buffer already sent (they no longer count against the bound). */
  #consumedBytes = 0;
  /** The channel's position when history was read. */
  #target = { epoch: '', seq: 0 };
  #reread: Reread | undefined;
  /** Live messages were dropped from the buffer; they are read back from history. */
  #lost = false;
  readonly #pacing: Pacing | undefined;
  /** Held for the next tick: flushPaced is due. */
  #due = false;
  /** A state channel's newest message held for the next tick. */
  #latest: StoredMessage | undefined;
  /** A stream channel's messages held for the next tick, in order, and their bytes. */
  #batch: StoredMessage[] = [];
  #batchBytes = 0;

  constructor(
    channel: string,
    sink: FrameSink,
    maxBufferedBytes: number,
    since: { epoch: string; seq: number } | undefined,
    pacing?: Pacing,
  ) {
    this.channel = channel;
    this.#pacing = pacing;
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
      const next = nextSubscriptionState(state, { type: 'buffer', message });
      this.#state = next;
      if (next.kind !== 'recovering' || next.bufferedBytes - this.#consumedBytes <= this.#maxBufferedBytes)
        return;
      // A paced replay still reading history can drop the buffer and read it back from history later.
      if (this.#phase === 'history' && this.#reread) {
        this.#state = { kind: 'recovering', buffered: [], bufferedBytes: 0 };
        this.#lost = true;
        return;
      }
      this.#sink.overflow();
      return;
    }
    if (this.#pacing) this.#pace(message, this.#pacing);
    else this.#pass(message);
  }

  /** The rate's tick: writes what is held (the newest state value, or the stream's batch in order). */
  flushPaced(): void {
    this.#due = false;
    if (this.#state.kind !== 'live') return;
    const latest = this.#latest;
    this.#latest = undefined;
    if (latest) this.#pass(latest);
    this.#flushBatch();
  }

  #pace(message: StoredMessage, pacing: Pacing): void {
    if (!this.#due) {
      // Nothing of this rate was written for an interval: this one goes now, the next waits a tick.
      if (pacing.bucket.lead()) {
        this.#pass(message);
        return;
      }
      this.#due = true;
      pacing.bucket.hold(this);
    }
    if (pacing.conflate) {
      this.#latest = message;
      return;
    }
    this.#batch.push(message);
    this.#batchBytes += message.frame.length;
    // Held messages are bounded like a queue: past the bound the rate gives way, and they go now.
    if (this.#batchBytes > this.#maxBufferedBytes) this.#flushBatch();
  }

  #flushBatch(): void {
    if (this.#batch.length === 0) return;
    const batch = this.#batch;
    this.#batch = [];
    this.#batchBytes = 0;
    for (const message of batch) this.#pass(message);
  }

  /**
   * Ends recovery: `announce` sends the answer to the subscribe once the position to resume from is
   * known, then `replay` (from history, in order) is delivered, then the live messages buffered
   * meanwhile that come after it. `position` is the channel's position the history read reported.
   * When the connection cannot take it all at once (`FrameSink.fits`), it is sent in pieces as the
   * connection drains, live messages staying buffered meanwhile; if they overflow while history is
   * still being sent, they are dropped and read back from history with `reread`.
   */
  recover(
    position: { epoch: string; seq: number },
    replay: readonly StoredMessage[],
    announce: () => void,
    reread?: Reread,
  ): void {
    if (this.#state.kind !== 'recovering') return;
    // From the answer on, resuming starts just before the first message that follows it: never a
    // position the client claimed and history did not cover, nor the start of the epoch (an SSE id
    // naming that would replay what the client has).
    const first = replay[0];
    this.#epoch = position.epoch;
    this.#seq = first?.epoch === position.epoch ? first.seq - 1 : position.seq;
    this.#target = position;
    announce();
    this.#backlog = replay;
    this.#index = 0;
    this.#reread = reread;
    this.#send();
  }

  close(): void {
    this.#state = nextSubscriptionState(this.#state, { type: 'close' });
    this.#backlog = [];
    this.#latest = undefined;
    this.#batch = [];
    this.#batchBytes = 0;
  }

  /** Sends the backlog (history, then the buffered live messages) as far as the connection takes it. */
  #send(): void {
    for (;;) {
      const state = this.#state;
      if (state.kind !== 'recovering') return;
      if (this.#index >= this.#backlog.length) {
        if (this.#phase === 'history' && this.#lost) {
          this.#readAgain();
          return;
        }
        if (this.#phase === 'history') {
          // Nothing past `target.seq` was in the read; anything at or before it was delivered or is the
          // history the client chose not to get (no `since`).
          const target = this.#target;
          if (this.#seq < target.seq && this.#epoch === target.epoch) this.#seq = target.seq;
          this.#phase = 'buffered';
          this.#backlog = state.buffered;
          this.#index = 0;
          continue;
        }
        // Every buffered message is sent: from here on messages pass as they come (or on the rate's
        // ticks; the answer to the subscribe counts as a tick's write).
        this.#state = nextSubscriptionState(state, { type: 'recovered' });
        this.#backlog = [];
        this.#pacing?.bucket.lead();
        return;
      }
      const message = this.#backlog[this.#index] as StoredMessage;
      if (this.#isNew(message) && this.#sink.fits && !this.#sink.fits(message) && this.#sink.whenDrained) {
        this.#sink.whenDrained(() => this.#send());
        return;
      }
      this.#index++;
      if (this.#phase === 'buffered') this.#consumedBytes += message.frame.length;
      this.#pass(message);
    }
  }

  /** The live buffer overflowed during a paced replay: read history from what was delivered, and go on. */
  #readAgain(): void {
    const reread = this.#reread;
    if (!reread) return;
    this.#lost = false;
    reread({ epoch: this.#epoch, seq: this.#seq }).then(
      (read) => {
        if (this.#state.kind !== 'recovering') return;
        if (!read.recovered) {
          // History moved past what this client has: it recovers as any client too far behind does.
          this.#sink.overflow();
          return;
        }
        this.#backlog = read.messages;
        this.#index = 0;
        this.#send();
      },
      () => this.#sink.overflow(),
    );
  }

  #isNew(message: StoredMessage): boolean {
    return message.epoch !== this.#epoch || message.seq > this.#seq;
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
