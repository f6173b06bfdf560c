import { type CancelScheduled, type Scheduler, schedulerFor } from '../frame-scheduler.js';
import type {
  ChannelSnapshot,
  ChannelStatus,
  ConnectionError,
  ConnectionSnapshot,
  ExternalStore,
} from '../types.js';
import type { StoreSource } from './store-source.js';

const initialSnapshot: ChannelSnapshot<never> = Object.freeze({
  data: undefined,
  seq: 0,
  epoch: '',
  ts: 0,
  status: 'pending',
  stale: false,
  resetCount: 0,
});

/** Status of a channel that the server has confirmed, given the connection's status. */
function statusFor(
  connection: ConnectionSnapshot['status'],
  confirmed: boolean,
  hadData: boolean,
): ChannelStatus {
  if (connection === 'open') return confirmed ? 'live' : hadData ? 'recovering' : 'pending';
  if (connection === 'connecting' || connection === 'reconnecting' || connection === 'idle') {
    return hadData ? 'recovering' : 'pending';
  }
  return 'stale';
}

/**
 * One channel as an external store (what `client.channel(name)` returns): the latest value and the
 * channel's status. It subscribes to the channel on its first listener and unsubscribes on its last.
 * Changes are applied in batches, so any number of messages within one animation frame (or one
 * `interval`) produce one new snapshot and one notification.
 *
 * @example
 * const cpu = client.channel<Metrics>('metrics');
 * const off = cpu.subscribe(() => render(cpu.getSnapshot().data));
 */
export class ChannelStore<T = unknown> implements ExternalStore<ChannelSnapshot<T>> {
  readonly channel: string;
  /** The store's subscription's `maxRate` (undefined: every message). */
  readonly maxRate: number | undefined;
  #source: StoreSource;
  #snapshot: ChannelSnapshot<T> = initialSnapshot;
  #listeners = new Set<() => void>();
  #schedule: Scheduler;
  /** Cancels the scheduled rebuild of the snapshot, while one is scheduled. */
  #pending: CancelScheduled | undefined;
  #teardown: (() => void) | undefined;
  /** The server confirmed the subscription on the current connection. */
  #confirmed = false;
  #refused: ConnectionError | undefined;
  /**
   * What the next snapshot is built from. A message only overwrites these: no patch object, closure
   * or snapshot copy per message, however many arrive before the next frame.
   */
  #data: T | undefined;
  #seq = 0;
  #epoch = '';
  #ts = 0;
  #resetCount = 0;

  constructor(
    source: StoreSource,
    channel: string,
    options: { interval?: 'frame' | number; maxRate?: number | undefined } = {},
  ) {
    this.channel = channel;
    this.maxRate = options.maxRate;
    this.#source = source;
    this.#schedule = schedulerFor(options.interval ?? 'frame');
  }

  getSnapshot = (): ChannelSnapshot<T> => this.#snapshot;

  subscribe = (onChange: () => void): (() => void) => {
    // A wrapper per call, so the same function subscribed twice is two subscriptions (React StrictMode).
    const listener = () => onChange();
    this.#listeners.add(listener);
    if (this.#listeners.size === 1) this.#start();
    return () => {
      if (!this.#listeners.delete(listener)) return;
      if (this.#listeners.size === 0) this.#stop();
    };
  };

  #start(): void {
    this.#confirmed = false;
    this.#refused = undefined;
    this.#changed();
    // A closed client delivers nothing more; the last known data stays, marked stale.
    if (this.#source.state.status === 'closed') return;
    const offMessages = this.#source.subscribe(
      this.channel,
      (data, meta) => {
        this.#confirmed = true;
        this.#data = data as T;
        this.#seq = meta.seq;
        this.#epoch = meta.epoch;
        this.#ts = meta.ts;
        this.#changed();
      },
      {
        maxRate: this.maxRate,
        onSubscribed: ({ epoch }) => {
          this.#confirmed = true;
          this.#refused = undefined;
          this.#epoch = epoch;
          this.#changed();
        },
        onReset: () => {
          this.#resetCount++;
          this.#changed();
        },
        onError: (error) => {
          this.#refused = { code: error.code, message: error.message };
          this.#changed();
        },
      },
    );
    const offState = this.#source.onState((newState) => {
      if (newState.status !== 'open') this.#confirmed = false;
      this.#changed();
    });
    this.#teardown = () => {
      offMessages();
      offState();
    };
  }

  #stop(): void {
    this.#teardown?.();
    this.#teardown = undefined;
    if (this.#pending) this.#apply();
  }

  /** Something changed: the snapshot is rebuilt at the next frame (or interval). */
  #changed(): void {
    this.#pending ??= this.#schedule(() => this.#apply());
  }

  #apply(): void {
    this.#pending?.();
    this.#pending = undefined;
    const data = this.#data;
    const refused = this.#refused;
    const status = refused ? 'error' : statusFor(this.#source.state.status, this.#confirmed, this.#seq > 0);
    const snapshot: ChannelSnapshot<T> = {
      data,
      seq: this.#seq,
      epoch: this.#epoch,
      ts: this.#ts,
      status,
      stale: status !== 'live' && data !== undefined,
      resetCount: this.#resetCount,
      ...(refused ? { error: refused } : {}),
    };
    if (shallowEqual(snapshot, this.#snapshot)) return;
    this.#snapshot = Object.freeze(snapshot);
    for (const listener of [...this.#listeners]) listener();
  }
}

function shallowEqual<T extends object>(a: T, b: T): boolean {
  const keys = Object.keys(a) as (keyof T)[];
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.is(a[key], b[key]));
}
