/**
 * A token bucket: holds up to `burst` tokens, refilled at `ratePerSec`; each admitted event takes one.
 * Time comes from `now` (ms, monotonic) so tests can drive it.
 *
 * @example
 * const bucket = new TokenBucket({ ratePerSec: 50, burst: 100 });
 * if (!bucket.take()) refuse();
 */
export class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #updatedAt: number;

  constructor(options: { ratePerSec: number; burst: number; now?: () => number }) {
    if (!(options.ratePerSec > 0) || !Number.isFinite(options.ratePerSec)) {
      throw new RangeError('ratePerSec must be a positive number');
    }
    if (!Number.isInteger(options.burst) || options.burst < 1)
      throw new RangeError('burst must be an integer >= 1');
    this.#rate = options.ratePerSec;
    this.#burst = options.burst;
    this.#now = options.now ?? monotonicNow;
    this.#tokens = options.burst;
    this.#updatedAt = this.#now();
  }

  /** Takes `count` tokens if there are that many; false (and nothing taken) otherwise. */
  take(count = 1): boolean {
    this.#refill();
    if (this.#tokens < count) return false;
    this.#tokens -= count;
    return true;
  }

  /** Tokens available now (fractional). */
  get available(): number {
    this.#refill();
    return this.#tokens;
  }

  #refill(): void {
    const now = this.#now();
    // A clock that steps back (it should not, but tests may) must not drain the bucket.
    const elapsed = Math.max(0, now - this.#updatedAt);
    this.#updatedAt = now;
    this.#tokens = Math.min(this.#burst, this.#tokens + (elapsed * this.#rate) / 1000);
  }
}

/** The default clock, one function for every bucket (a closure per bucket was memory per connection). */
function monotonicNow(): number {
  return performance.now();
}
