import { afterMs, type CancelScheduled, nextFrame, RingBuffer, type Scheduler } from '@livedash/client';

/**
 * Anything that pushes values to a callback: an RxJS `Observable`, a `LiveClient` channel wrapper, an
 * event emitter adapter. `subscribe` may return `{ unsubscribe() }` (RxJS) or a plain function.
 */
export interface BufferSource<T> {
  subscribe(next: (value: T) => void): { unsubscribe(): void } | (() => void);
}

/**
 * Subscribes to `source` and returns the function that stops it. Each call gets its own gate: a source
 * that calls back after unsubscribing (or a replaced source) is ignored, while one that emits
 * synchronously inside `subscribe()` is not.
 */
export function listen<T>(source: BufferSource<T>, next: (value: T) => void): () => void {
  let live = true;
  const subscription = source.subscribe((value) => {
    if (live) next(value);
  });
  const stop = typeof subscription === 'function' ? subscription : () => subscription.unsubscribe();
  return () => {
    live = false;
    stop();
  };
}

export interface BufferedStoreOptions {
  /** How often buffered items are published: every N ms (default 100), or `'frame'` (each animation frame). */
  flushInterval?: number | 'frame';
  /**
   * The most items kept, shown and pending together (default 100). A burst past it drops the oldest,
   * counted in `dropped`, so memory never grows with the burst.
   */
  capacity?: number;
}

type Listener = () => void;

const EMPTY: readonly never[] = Object.freeze([]);

function checkOptions(flushInterval: number | 'frame', capacity: number): void {
  if (flushInterval !== 'frame' && !(Number.isFinite(flushInterval) && flushInterval >= 0)) {
    throw new TypeError(
      `BufferedStore: flushInterval must be 'frame' or ms >= 0, got ${String(flushInterval)}`,
    );
  }
  if (!Number.isSafeInteger(capacity) || capacity < 1) {
    throw new TypeError(`BufferedStore: capacity must be a positive integer, got ${String(capacity)}`);
  }
}

/**
 * Collects values from a fast source and publishes the last `capacity` of them at most once per
 * `flushInterval`, so a 1 kHz feed costs one render per flush. A timer runs only while something is
 * waiting to be published; the source is subscribed only while the store has listeners.
 *
 * @example
 * const recent = new BufferedStore(ticks$, { flushInterval: 'frame', capacity: 500 });
 * const stop = recent.subscribe(() => chart.setData(recent.getSnapshot()));
 */
export class BufferedStore<T> {
  #source: BufferSource<T>;
  #schedule: Scheduler;
  #window: RingBuffer<T>;
  #snapshot: readonly T[] = EMPTY;
  #dropped = 0;
  #pending = false;
  /** How many of the kept items arrived after the last flush. */
  #unpublished = 0;
  #cancelFlush: CancelScheduled | undefined;
  #stopSource: (() => void) | undefined;
  readonly #listeners = new Set<Listener>();

  constructor(source: BufferSource<T>, options: BufferedStoreOptions = {}) {
    const flushInterval = options.flushInterval ?? 100;
    const capacity = options.capacity ?? 100;
    checkSource(source);
    checkOptions(flushInterval, capacity);
    this.#source = source;
    this.#schedule = flushInterval === 'frame' ? nextFrame : afterMs(flushInterval);
    this.#window = new RingBuffer<T>(capacity);
  }

  /** Subscribes to the source on the first listener and unsubscribes after the last leaves. */
  subscribe = (listener: Listener): (() => void) => {
    this.#listeners.add(listener);
    if (this.#listeners.size === 1) this.#connect();
    return () => {
      if (!this.#listeners.delete(listener)) return;
      if (this.#listeners.size === 0) this.#disconnect();
    };
  };

  /** The published items, oldest first; at most `capacity`. Same array until the next flush. */
  getSnapshot = (): readonly T[] => this.#snapshot;

  /** Values pushed out before they were ever published (a burst larger than `capacity` between flushes). */
  get dropped(): number {
    return this.#dropped;
  }

  /** Values received but not yet published. */
  get pending(): boolean {
    return this.#pending;
  }

  /** Follows a different source from now on; the items already kept stay. */
  setSource(source: BufferSource<T>): void {
    checkSource(source);
    if (source === this.#source) return;
    this.#source = source;
    if (this.#stopSource !== undefined) {
      this.#stopSource();
      this.#stopSource = undefined;
      this.#connect();
    }
  }

  /** Changes the flush interval and capacity; shrinking keeps the newest items. */
  configure(options: BufferedStoreOptions): void {
    const flushInterval = options.flushInterval ?? 100;
    const capacity = options.capacity ?? 100;
    checkOptions(flushInterval, capacity);
    this.#schedule = flushInterval === 'frame' ? nextFrame : afterMs(flushInterval);
    if (capacity !== this.#window.capacity) {
      const window = new RingBuffer<T>(capacity);
      for (const item of this.#window) window.push(item);
      this.#window = window;
      this.#unpublished = Math.min(this.#unpublished, capacity);
      this.#markPending();
    }
  }

  /** Publishes what is buffered now instead of at the next flush. */
  flushNow(): void {
    this.#cancelFlush?.();
    this.#cancelFlush = undefined;
    if (!this.#pending) return;
    this.#pending = false;
    this.#unpublished = 0;
    this.#snapshot = this.#window.toArray();
    for (const listener of [...this.#listeners]) listener();
  }

  #connect(): void {
    this.#stopSource = listen(this.#source, (value) => this.#receive(value));
  }

  #disconnect(): void {
    this.#stopSource?.();
    this.#stopSource = undefined;
    // Nobody to publish to: keep what is buffered (a remount shows it) but run no timer.
    this.#cancelFlush?.();
    this.#cancelFlush = undefined;
  }

  #receive(value: T): void {
    const full = this.#window.size === this.#window.capacity;
    this.#window.push(value);
    // Every kept item is still unpublished, so the one just pushed out was never shown: a drop.
    if (full && this.#unpublished === this.#window.capacity) this.#dropped++;
    else this.#unpublished++;
    this.#markPending();
  }

  #markPending(): void {
    this.#pending = true;
    if (this.#listeners.size > 0) this.#cancelFlush ??= this.#schedule(() => this.flushNow());
  }
}

function checkSource(source: unknown): void {
  if (typeof (source as { subscribe?: unknown } | null)?.subscribe !== 'function') {
    throw new TypeError('BufferedStore: source must have a subscribe(callback) method');
  }
}
