import { maxRateIntervalMs } from '@livedash/protocol';

/** A subscription holding messages for its rate's next tick. */
export interface Paced {
  /** Writes what it holds (a state channel's newest message, a stream channel's batch). */
  flushPaced(): void;
}

/**
 * One rate's clock: every subscription whose `maxRate` has this interval is written on its ticks, so a
 * node has one timer per rate in use, never one per subscriber. The timer runs only while something
 * was written within the last interval; when it is stopped nobody of this rate has been written for a
 * whole interval, so the next message may go out at once (`lead`) and starts it again.
 */
export class PaceBucket {
  readonly intervalMs: number;
  readonly #onError: (error: unknown) => void;
  #timer: NodeJS.Timeout | undefined;
  /** Subscriptions holding something for the next tick; swapped with `#spare` at each tick. */
  #due: Paced[] = [];
  #spare: Paced[] = [];

  constructor(intervalMs: number, onError: (error: unknown) => void) {
    this.intervalMs = intervalMs;
    this.#onError = onError;
  }

  /** Whether the clock runs (something of this rate was written within the last interval). */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  /**
   * True when a message may be written now: nothing of this rate was written for an interval. The
   * write counts as this tick's: the clock starts, and whatever comes next waits for its tick.
   */
  lead(): boolean {
    if (this.#timer !== undefined) return false;
    this.#start();
    return true;
  }

  /** `member` started holding messages: it is flushed at the next tick (once, however much it holds). */
  hold(member: Paced): void {
    this.#due.push(member);
    if (this.#timer === undefined) this.#start();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#due.length = 0;
  }

  #start(): void {
    this.#timer = setInterval(() => this.#tick(), this.intervalMs);
    // Connections keep the process alive; a rate's clock alone must not.
    this.#timer.unref();
  }

  #tick(): void {
    const due = this.#due;
    if (due.length === 0) {
      // Nothing was held for a whole interval: stop until the next message (which then goes at once).
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    this.#due = this.#spare;
    for (const member of due) {
      // One subscription failing to write must not keep the others of this tick waiting.
      try {
        member.flushPaced();
      } catch (error) {
        this.#onError(error);
      }
    }
    due.length = 0;
    this.#spare = due;
  }
}

/**
 * The clocks of every `maxRate` in use on a node, one per interval (rates are rounded to whole-ms
 * intervals, so at most one clock per ms of interval from 10 ms to 10 s).
 *
 * @example
 * const pacer = new Pacer((error) => console.error(error));
 * const bucket = pacer.bucket(5); // 200 ms ticks, shared by every subscription at maxRate 5
 */
export class Pacer {
  readonly #buckets = new Map<number, PaceBucket>();
  readonly #onError: (error: unknown) => void;

  constructor(onError: (error: unknown) => void) {
    this.#onError = onError;
  }

  /** The clock of `maxRate` (writes per second), created on first use. */
  bucket(maxRate: number): PaceBucket {
    const interval = maxRateIntervalMs(maxRate);
    let bucket = this.#buckets.get(interval);
    if (!bucket) {
      bucket = new PaceBucket(interval, this.#onError);
      this.#buckets.set(interval, bucket);
    }
    return bucket;
  }

  /** Clocks currently running (for tests and metrics: never more than the rates in use). */
  get running(): number {
    let count = 0;
    for (const bucket of this.#buckets.values()) if (bucket.running) count++;
    return count;
  }

  /** Stops every clock (server shutdown); what subscriptions hold is not written. */
  stop(): void {
    for (const bucket of this.#buckets.values()) bucket.stop();
  }
}
