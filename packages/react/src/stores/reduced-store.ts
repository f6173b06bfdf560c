import { afterMs, type CancelScheduled, nextFrame, type Scheduler } from '@livedash/client';
import { type BufferSource, listen } from './buffered-store.js';

export interface ReducedStoreOptions {
  /** How often listeners hear about changes: `'frame'` (default: rAF, or ~16 ms without it) or ms. */
  notifyInterval?: 'frame' | number;
}

type Listener = () => void;

/**
 * Folds every value of a source into one state with `reduce`, and tells listeners at most once per
 * frame. Unlike a "latest value" store, no value is skipped: ten partial updates within one frame are
 * all applied, in order, before the single notification.
 *
 * @example
 * const totals = new ReducedStore(orders$, 0, (sum, order: Order) => sum + order.amount);
 * const stop = totals.subscribe(() => show(totals.getSnapshot()));
 */
export class ReducedStore<S, V> {
  #source: BufferSource<V>;
  #reduce: (state: S, value: V) => S;
  #state: S;
  #schedule: Scheduler;
  #cancelNotify: CancelScheduled | undefined;
  #stopSource: (() => void) | undefined;
  readonly #listeners = new Set<Listener>();

  constructor(
    source: BufferSource<V>,
    initial: S,
    reduce: (state: S, value: V) => S,
    options: ReducedStoreOptions = {},
  ) {
    checkSource(source);
    if (typeof reduce !== 'function') throw new TypeError('ReducedStore: reduce must be a function');
    const interval = options.notifyInterval ?? 'frame';
    if (interval !== 'frame' && !(Number.isFinite(interval) && interval >= 0)) {
      throw new TypeError(`ReducedStore: notifyInterval must be 'frame' or ms >= 0, got ${String(interval)}`);
    }
    this.#source = source;
    this.#state = initial;
    this.#reduce = reduce;
    this.#schedule = interval === 'frame' ? nextFrame : afterMs(interval);
  }

  /** Subscribes to the source on the first listener; unsubscribes after the last leaves. */
  subscribe = (listener: Listener): (() => void) => {
    this.#listeners.add(listener);
    if (this.#listeners.size === 1) this.#connect();
    return () => {
      if (!this.#listeners.delete(listener)) return;
      if (this.#listeners.size > 0) return;
      this.#stopSource?.();
      this.#stopSource = undefined;
      this.#cancelNotify?.();
      this.#cancelNotify = undefined;
    };
  };

  getSnapshot = (): S => this.#state;

  /**
   * Follows a different source from now on, keeping the state (the old source is stopped before the
   * new one starts, so a shared subscription underneath is handed over rather than dropped).
   */
  setSource(source: BufferSource<V>): void {
    checkSource(source);
    if (source === this.#source) return;
    this.#source = source;
    if (this.#stopSource !== undefined) {
      this.#stopSource();
      this.#connect();
    }
  }

  /** The reducer used for the next values (a component's latest closure); the state is kept. */
  setReducer(reduce: (state: S, value: V) => S): void {
    this.#reduce = reduce;
  }

  #connect(): void {
    this.#stopSource = listen(this.#source, (value) => this.#receive(value));
  }

  #receive(value: V): void {
    const next = this.#reduce(this.#state, value);
    if (Object.is(next, this.#state)) return;
    this.#state = next;
    this.#cancelNotify ??= this.#schedule(() => {
      this.#cancelNotify = undefined;
      for (const listener of [...this.#listeners]) listener();
    });
  }
}

function checkSource(source: unknown): void {
  if (typeof (source as { subscribe?: unknown } | null)?.subscribe !== 'function') {
    throw new TypeError('ReducedStore: source must have a subscribe(callback) method');
  }
}
