import { afterMs, type CancelScheduled, nextFrame, type Scheduler } from './frame-scheduler.js';

export interface BatcherOptions<T> {
  /** Receives everything collected since the last flush, oldest first. Never called with an empty array. */
  flush: (items: T[]) => void;
  /** `'frame'` (default): once per animation frame; a number: at most once per that many ms. */
  interval?: 'frame' | number;
  /**
   * Most items held between flushes (default 10 000). When a burst exceeds it the oldest are dropped
   * (counted in `dropped`), so a stalled flush can never grow memory without bound.
   */
  maxItems?: number;
}

/**
 * Collects items and hands them over in one batch per animation frame (or per interval), so a
 * 1 kHz stream renders at most once per frame.
 *
 * @example
 * const batcher = new Batcher<Point>({ flush: (points) => chart.append(points) });
 * client.subscribe('sensor', (point) => batcher.add(point));
 */
export class Batcher<T> {
  #items: T[] = [];
  #flush: (items: T[]) => void;
  #schedule: Scheduler;
  #maxItems: number;
  #cancel: CancelScheduled | undefined;
  #dropped = 0;
  #disposed = false;

  constructor(options: BatcherOptions<T>) {
    const interval = options.interval ?? 'frame';
    if (interval !== 'frame' && (!Number.isFinite(interval) || interval < 0)) {
      throw new RangeError("Batcher interval must be 'frame' or a number of ms >= 0");
    }
    const maxItems = options.maxItems ?? 10_000;
    if (!Number.isSafeInteger(maxItems) || maxItems < 1)
      throw new RangeError('Batcher maxItems must be a positive integer');
    this.#flush = options.flush;
    this.#schedule = interval === 'frame' ? nextFrame : afterMs(interval);
    this.#maxItems = maxItems;
  }

  /** Items dropped because a burst exceeded `maxItems`. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Items the next flush will hand over. */
  get pending(): number {
    return Math.min(this.#items.length, this.#maxItems);
  }

  add(item: T): void {
    if (this.#disposed) return;
    this.#items.push(item);
    // Trimming only at twice the bound keeps `add` amortized O(1); `flushNow` trims to exactly `maxItems`.
    if (this.#items.length >= 2 * this.#maxItems) this.#trim();
    this.#cancel ??= this.#schedule(() => this.flushNow());
  }

  /** Flushes at once (and cancels the scheduled flush). */
  flushNow(): void {
    this.#cancel?.();
    this.#cancel = undefined;
    if (this.#items.length === 0) return;
    this.#trim();
    const items = this.#items;
    this.#items = [];
    this.#flush(items);
  }

  /** Keeps the newest `maxItems`, counting the rest as dropped. */
  #trim(): void {
    const excess = this.#items.length - this.#maxItems;
    if (excess <= 0) return;
    this.#items.splice(0, excess);
    this.#dropped += excess;
  }

  /** Drops anything pending and cancels the timer; later `add`s are ignored. */
  dispose(): void {
    this.#disposed = true;
    this.#cancel?.();
    this.#cancel = undefined;
    this.#items = [];
  }
}
