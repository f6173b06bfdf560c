import { CloseCodes, ErrorCodes, LivedashError } from '@livedash/protocol';
import { TokenBucket } from './token-bucket.js';

export interface FrameRateOptions {
  /** Sustained frames per second one connection may send (default 50). */
  framesPerSec: number;
  /** Frames it may send at once after being quiet (default 100). */
  burst: number;
}

/**
 * What to do with one incoming frame:
 * - `accept`: process it;
 * - `refuse`: drop it and tell the client once (`error` is a `rate_limited` LivedashError);
 * - `drop`: drop it silently (the client was already told, and has not slowed down yet);
 * - `close`: the client kept flooding for another whole burst after being told: close 4029.
 */
export type FrameVerdict =
  | { kind: 'accept' }
  | { kind: 'refuse'; error: LivedashError }
  | { kind: 'drop' }
  | { kind: 'close'; error: LivedashError };

/**
 * Per-connection frame rate limit. Refusals are not echoed frame by frame, so a flood cannot make the
 * server write as much as it reads.
 *
 * @example
 * const limiter = new FrameRateLimiter({ framesPerSec: 50, burst: 100 });
 * const verdict = limiter.admit();
 */
export class FrameRateLimiter {
  readonly #bucket: TokenBucket;
  readonly #closeAfter: number;
  /** Frames refused since the last accepted one. */
  #refusedInRow = 0;

  constructor(options: FrameRateOptions, now?: () => number) {
    this.#bucket = new TokenBucket({
      ratePerSec: options.framesPerSec,
      burst: options.burst,
      ...(now ? { now } : {}),
    });
    this.#closeAfter = options.burst;
  }

  admit(): FrameVerdict {
    if (this.#bucket.take()) {
      this.#refusedInRow = 0;
      return { kind: 'accept' };
    }
    this.#refusedInRow++;
    if (this.#refusedInRow === 1) {
      return {
        kind: 'refuse',
        error: new LivedashError(
          ErrorCodes.RATE_LIMITED,
          'too many frames: this one and the next ones are dropped until you slow down',
        ),
      };
    }
    if (this.#refusedInRow > this.#closeAfter) {
      return {
        kind: 'close',
        error: new LivedashError(ErrorCodes.RATE_LIMITED, 'frame flood', {
          closeCode: CloseCodes.RATE_LIMITED,
        }),
      };
    }
    return { kind: 'drop' };
  }
}
