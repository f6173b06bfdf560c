import {
  type DataEnvelope,
  type ErrorFrame,
  LivedashError,
  type Position,
  type SubscribedFrame,
} from '@livedash/protocol';
import { reportListenerError } from './stores/connection-store.js';
import type { MessageListener, MessageMeta, SubscribeOptions } from './types.js';

interface Subscriber {
  listener: MessageListener<unknown>;
  options: SubscribeOptions;
  /** Got at least one message (so it needs no catch-up delivery of the latest one). */
  seen: boolean;
}

interface ChannelEntry {
  readonly name: string;
  /**
   * Replaced, never changed in place, when a subscriber comes or goes (even from inside a listener): a
   * delivery goes over the list as it was when the message arrived, without copying it per message.
   */
  subscribers: readonly Subscriber[];
  /**
   * Last delivered position (`epoch` undefined: none yet): resubscribing with it replays exactly what
   * was missed. Two fields rather than a `Position`, so a message allocates no position object.
   */
  epoch: string | undefined;
  seq: number;
  /** The last message, handed to subscribers that join later so they do not wait for the next one. */
  lastData: unknown;
  lastMeta: MessageMeta | undefined;
  /** The server confirmed the subscription on the current connection. */
  confirmed: boolean;
  /** Messages up to this seq (in `confirmedEpoch`) were published before the subscription: replayed. */
  replayUntil: number;
  confirmedEpoch: string;
  /** The next message is the first after a reset. */
  pendingReset: boolean;
  /**
   * A resubscribe for a gap is in flight (until `$subscribed` or `$error` answers it, or the connection
   * drops): the rest of a burst of gapped messages must not send one resubscribe each.
   */
  resubscribing: boolean;
  /**
   * The server conflates this subscription (a `maxRate` on a state channel): seqs skip on purpose, so
   * a skip is not a gap to repair.
   */
  conflate?: boolean;
  /** The `maxRate` the server subscription asks for (see `wantedRate`). */
  rate?: number | undefined;
  /** The wanted rate changed while a subscribe was in flight: resubscribe once it is confirmed. */
  rateChanged?: boolean;
  /** `$error unavailable` answers in a row, and the timer of the next try (see `handleError`). */
  failures?: number;
  retry?: ReturnType<typeof setTimeout>;
}

/** What the registry asks of the connection. */
export interface SubscriptionEvents {
  /** The last one left: unsubscribe on the server. */
  last(channel: string): void;
  /**
   * Subscribe on the server, from `position` when given: the first subscriber of `channel` arrived,
   * messages went missing inside one epoch (the server skipped seqs), the channel's `maxRate`
   * changed, or a refused subscription is retried.
   */
  subscribe(channel: string, position: Position | undefined): void;
  /** The wait before try number `attempt` of a subscription the server cannot serve now, ms. */
  retryDelay(attempt: number): number;
}

/**
 * Every channel this client is subscribed to: its subscribers (reference counted, so any number of
 * them share one server subscription), its position (`epoch`, `seq`), and the delivery rules that make
 * recovery exact: in seq order, each message once, duplicates dropped, and a reset announced before
 * the first message of a history that could not be recovered.
 */
export class Subscriptions {
  #channels = new Map<string, ChannelEntry>();
  #events: SubscriptionEvents;

  constructor(events: SubscriptionEvents) {
    this.#events = events;
  }

  /** Every channel with the position to resume from (undefined: nothing received yet). */
  positions(): Map<string, Position | undefined> {
    const out = new Map<string, Position | undefined>();
    for (const { name, epoch, seq } of this.#channels.values())
      out.set(name, epoch === undefined ? undefined : { epoch, seq });
    return out;
  }

  add(channel: string, listener: MessageListener<unknown>, options: SubscribeOptions): () => void {
    let entry = this.#channels.get(channel);
    const isNew = entry === undefined;
    if (!entry) {
      entry = {
        name: channel,
        subscribers: [],
        epoch: undefined,
        seq: 0,
        lastData: undefined,
        lastMeta: undefined,
        confirmed: false,
        replayUntil: 0,
        confirmedEpoch: '',
        pendingReset: false,
        resubscribing: false,
      };
      this.#channels.set(channel, entry);
    }
    const subscriber: Subscriber = { listener, options, seen: false };
    entry.subscribers = [...entry.subscribers, subscriber];
    if (isNew) {
      entry.rate = wantedRate(entry);
      this.#events.subscribe(channel, undefined);
    } else {
      this.#rateMayChange(entry);
      this.#catchUp(entry, subscriber);
    }
    return () => this.#remove(entry, subscriber);
  }

  /** The `maxRate` to subscribe to `channel` with (see `wantedRate`). */
  maxRate(channel: string): number | undefined {
    return this.#channels.get(channel)?.rate;
  }

  /** A subscriber came or went: a new rate is asked for by subscribing again from the last position. */
  #rateMayChange(entry: ChannelEntry): void {
    const rate = wantedRate(entry);
    if (rate === entry.rate) return;
    entry.rate = rate;
    // Unconfirmed, the position is not known yet: `$subscribed` resubscribes (or the reconnect does).
    if (entry.confirmed) this.#resume(entry);
    else entry.rateChanged = true;
  }

  #resume(entry: ChannelEntry): void {
    entry.rateChanged = false;
    this.#events.subscribe(entry.name, this.positions().get(entry.name));
  }

  /** A subscriber joining a live channel gets its confirmation and latest value, as a first one would. */
  #catchUp(entry: ChannelEntry, subscriber: Subscriber): void {
    queueMicrotask(() => {
      if (!entry.subscribers.includes(subscriber) || this.#channels.get(entry.name) !== entry) return;
      if (entry.confirmed && entry.epoch !== undefined) {
        const { name: channel, confirmedEpoch: epoch, replayUntil: seq } = entry;
        call(() => subscriber.options.onSubscribed?.({ channel, epoch, seq, recovered: false }));
      }
      const { lastData, lastMeta } = entry;
      if (!subscriber.seen && lastMeta) {
        subscriber.seen = true;
        call(() => subscriber.listener(lastData, { ...lastMeta, replayed: true }));
      }
    });
  }

  #remove(entry: ChannelEntry, subscriber: Subscriber): void {
    if (!entry.subscribers.includes(subscriber)) return;
    entry.subscribers = entry.subscribers.filter((other) => other !== subscriber);
    // The last one leaving keeps the rate: React StrictMode subscribes again at once, with the same.
    if (entry.subscribers.length > 0) {
      this.#rateMayChange(entry);
      return;
    }
    // Deferred a microtask: React StrictMode unsubscribes and resubscribes at once, and that should
    // not cost a server round trip (or lose the position).
    queueMicrotask(() => {
      if (entry.subscribers.length > 0 || this.#channels.get(entry.name) !== entry) return;
      clearTimeout(entry.retry);
      this.#channels.delete(entry.name);
      this.#events.last(entry.name);
    });
  }

  /** The connection dropped: every channel waits for a new `$subscribed`. */
  disconnected(): void {
    // A reconnect subscribes at the rates wanted then (and retries what was refused).
    for (const entry of this.#channels.values()) {
      entry.confirmed = entry.resubscribing = entry.rateChanged = false;
      clearTimeout(entry.retry);
    }
  }

  handleSubscribed(frame: SubscribedFrame): void {
    const entry = this.#channels.get(frame.channel);
    if (!entry) return;
    entry.confirmed = true;
    entry.resubscribing = false;
    entry.failures = 0;
    entry.replayUntil = frame.seq;
    entry.confirmedEpoch = frame.epoch;
    entry.conflate = frame.conflate === true;
    const { epoch, seq } = entry;
    const lost = epoch !== undefined && (!frame.recovered || frame.epoch !== epoch);
    const info = {
      channel: frame.channel,
      epoch: frame.epoch,
      seq: frame.seq,
      recovered: frame.recovered && !lost,
    };
    for (const subscriber of entry.subscribers) call(() => subscriber.options.onSubscribed?.(info));
    if (lost) this.#reset(entry, frame.epoch, `history no longer holds ${frame.channel} after seq ${seq}`);
    if (entry.epoch === undefined) {
      // The subscription's starting point is a position too: a message published before the first
      // one arrives is then replayed after a reconnect instead of lost. The latest value (seq) follows.
      entry.epoch = frame.epoch;
      entry.seq = Math.max(0, frame.seq - 1);
    }
    if (entry.rateChanged) this.#resume(entry);
  }

  handleData(envelope: DataEnvelope): void {
    const entry = this.#channels.get(envelope.type);
    if (!entry) return; // a message in flight when the channel was unsubscribed
    const { epoch, seq, data } = envelope;
    if (entry.epoch === epoch) {
      if (seq <= entry.seq) return; // duplicate (replay overlapping live, or a transport switch)
      if (seq > entry.seq + 1 && !entry.pendingReset && !entry.conflate) {
        if (!entry.resubscribing) this.#events.subscribe(entry.name, { epoch, seq: entry.seq });
        entry.resubscribing = true;
        return;
      }
    } else if (entry.epoch !== undefined && !entry.pendingReset) {
      // A new epoch without `$subscribed` telling us (SSE resumed by the browser, a restarted server).
      this.#reset(entry, epoch, `${entry.name} changed epoch from ${entry.epoch} to ${epoch}`);
    }
    const reset = entry.pendingReset;
    entry.pendingReset = false;
    entry.epoch = epoch;
    entry.seq = seq;
    const replayed = epoch === entry.confirmedEpoch && seq <= entry.replayUntil;
    const base: MessageMeta = { channel: entry.name, seq, epoch, ts: envelope.ts, replayed };
    const meta = reset ? { ...base, reset: true } : base;
    entry.lastData = data;
    entry.lastMeta = meta;
    // Per message: no copy of the subscriber list, no closure per listener (see `subscribers`).
    for (const subscriber of entry.subscribers) {
      subscriber.seen = true;
      try {
        subscriber.listener(data, meta);
      } catch (error) {
        reportListenerError(error);
      }
    }
  }

  /** The server refused a subscription (`$error` naming the channel). */
  handleError(frame: ErrorFrame): void {
    if (!frame.channel) return;
    const entry = this.#channels.get(frame.channel);
    if (!entry) return;
    entry.confirmed = entry.resubscribing = false;
    const error = new LivedashError(frame.code as LivedashError['code'], frame.message);
    let retryAt: number | undefined;
    if (frame.code === 'unavailable') {
      // The server cannot serve it now (its broker is down): subscribe again with the connection's
      // backoff, longer after each refusal in a row, rather than wait for a reconnect that never comes.
      entry.failures = (entry.failures ?? 0) + 1;
      const delay = this.#events.retryDelay(entry.failures);
      retryAt = Date.now() + delay;
      clearTimeout(entry.retry);
      entry.retry = setTimeout(() => this.#resume(entry), delay);
    }
    for (const subscriber of entry.subscribers) call(() => subscriber.options.onError?.(error, retryAt));
  }

  #reset(entry: ChannelEntry, epoch: string, message: string): void {
    entry.epoch = undefined;
    entry.pendingReset = true;
    const info = { channel: entry.name, epoch, error: new LivedashError('history_gap', message) };
    for (const subscriber of entry.subscribers) call(() => subscriber.options.onReset?.(info));
  }
}

/**
 * What one server subscription asks for: the highest `maxRate` of its subscribers (each then gets what
 * the subscription delivers), none when any subscriber wants every message.
 */
function wantedRate({ subscribers }: ChannelEntry): number | undefined {
  let rate: number | undefined;
  for (const { options } of subscribers) {
    if (options.maxRate === undefined) return undefined;
    if (rate === undefined || options.maxRate > rate) rate = options.maxRate;
  }
  return rate;
}

function call(fn: () => void): void {
  try {
    fn();
  } catch (error) {
    reportListenerError(error);
  }
}
