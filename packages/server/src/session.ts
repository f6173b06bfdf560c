import {
  type ControlFrame,
  ErrorCodes,
  LivedashError,
  type Position,
  type RequestId,
} from '@livedash/protocol';
import type { Hub } from './hub.js';
import { type FrameSink, Subscription } from './subscription.js';

/** What a transport gives a session: data delivery, control frames, and a way to cut a slow connection. */
export interface SessionSink extends FrameSink {
  control(frame: ControlFrame): void;
}

/**
 * One connection's subscriptions, in a `Map` keyed by channel name (so no name reaches a prototype).
 * Transports turn commands into calls here; the session answers with `$subscribed`/`$error` through
 * the sink.
 */
export class Session {
  readonly #hub: Hub;
  readonly #sink: SessionSink;
  #subscriptions = new Map<string, Subscription>();
  #closed = false;

  constructor(hub: Hub, sink: SessionSink) {
    this.#hub = hub;
    this.#sink = sink;
  }

  get size(): number {
    return this.#subscriptions.size;
  }

  has(channel: string): boolean {
    return this.#subscriptions.has(channel);
  }

  /** Every subscribed channel (access control drops those a refreshed token no longer allows). */
  channels(): IterableIterator<string> {
    return this.#subscriptions.keys();
  }

  /** The last position delivered in every channel that has one (for SSE resume tokens). */
  *positions(): IterableIterator<[string, Position]> {
    for (const [channel, subscription] of this.#subscriptions) {
      const position = subscription.position;
      if (position) yield [channel, position];
    }
  }

  /**
   * Subscribes to `channel`, replaying from `since` when given. Answers `$subscribed` (then the replay
   * or the latest value, then live messages) or `$error`. Subscribing again to a channel restarts it
   * from the new `since`, with the new `maxRate` (none: every message as it comes).
   */
  async subscribe(channel: string, since?: Position, id?: RequestId, maxRate?: number): Promise<void> {
    if (this.#closed) return;
    const previous = this.#subscriptions.get(channel);
    if (previous) this.#remove(previous);
    else if (this.#subscriptions.size >= this.#hub.options.maxSubscriptions) {
      this.#error(
        new LivedashError(
          ErrorCodes.TOO_MANY_SUBSCRIPTIONS,
          `at most ${this.#hub.options.maxSubscriptions} subscriptions per connection`,
          id === undefined ? {} : { id },
        ),
        channel,
      );
      return;
    }
    const conflate = this.#hub.policies.of(channel) === 'state';
    const pacing = maxRate === undefined ? undefined : { bucket: this.#hub.pacer.bucket(maxRate), conflate };
    const subscription = new Subscription(
      channel,
      this.#sink,
      this.#hub.options.maxQueueBytes,
      since,
      pacing,
    );
    this.#subscriptions.set(channel, subscription);
    let result: Awaited<ReturnType<Hub['attach']>>;
    try {
      result = await this.#hub.attach(subscription, since);
    } catch (error) {
      if (this.#subscriptions.get(channel) === subscription) this.#subscriptions.delete(channel);
      const failure =
        error instanceof LivedashError ? error : new LivedashError(ErrorCodes.INTERNAL, String(error));
      if (subscription.state !== 'closed') this.#error(failure, channel, id);
      return;
    }
    if (subscription.state === 'closed') return;
    const subscribed: ControlFrame = {
      type: '$subscribed',
      channel,
      epoch: result.epoch,
      seq: result.seq,
      recovered: result.recovered,
    };
    if (maxRate !== undefined) {
      subscribed.maxRate = maxRate;
      if (conflate) subscribed.conflate = true;
    }
    if (id !== undefined) subscribed.id = id;
    subscription.recover(
      { epoch: result.epoch, seq: result.seq },
      result.messages,
      () => this.#sink.control(subscribed),
      (position) => this.#hub.broker.read(channel, position),
    );
  }

  /** Unsubscribes; answers `$unsubscribed` even when the channel was not subscribed (idempotent). */
  unsubscribe(channel: string, id?: RequestId): void {
    const subscription = this.#subscriptions.get(channel);
    if (subscription) this.#remove(subscription);
    if (this.#closed) return;
    this.#sink.control(
      id === undefined ? { type: '$unsubscribed', channel } : { type: '$unsubscribed', channel, id },
    );
  }

  /** Ends every subscription; called once when the connection goes away. */
  close(): void {
    this.#closed = true;
    for (const subscription of this.#subscriptions.values()) this.#remove(subscription);
  }

  #remove(subscription: Subscription): void {
    subscription.close();
    if (this.#subscriptions.get(subscription.channel) === subscription)
      this.#subscriptions.delete(subscription.channel);
    this.#hub.detach(subscription);
  }

  #error(error: LivedashError, channel: string, id: RequestId | undefined = error.id): void {
    const frame: ControlFrame = { type: '$error', code: error.code, message: error.message, channel };
    if (id !== undefined) frame.id = id;
    this.#sink.control(frame);
  }
}
