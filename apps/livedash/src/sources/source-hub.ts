/**
 * The narrow part of the Hub that sources need: publish a value, and watch a channel in-process.
 * Sources depend on this, not on the Hub class, so they stay testable and the Hub free to change.
 */
export interface SourceHub {
  /** Publishes `data` on `channel`; resolves with the position the message got. */
  publish(channel: string, data: unknown): Promise<PublishedPosition>;
  /** Calls `listener` with each message on `channel` from now on; returns the function that stops it. */
  watch(channel: string, listener: (data: unknown) => void): () => void;
}

export interface PublishedPosition {
  channel: string;
  epoch: string;
  seq: number;
  ts: number;
}

/** Where sources report trouble (a failing read, a refused publish). One line per call. */
export type SourceLog = (message: string) => void;

export const consoleSourceLog: SourceLog = (message) => console.warn(`livedash: ${message}`);

/**
 * Logs the first failure of a streak and the recovery that ends it, so a source that fails every
 * second for an hour writes two lines, not 3,600.
 */
export class FailureStreak {
  readonly #log: SourceLog;
  readonly #what: string;
  #failures = 0;

  constructor(log: SourceLog, what: string) {
    this.#log = log;
    this.#what = what;
  }

  get failures(): number {
    return this.#failures;
  }

  failed(error: unknown): void {
    if (this.#failures === 0) {
      this.#log(`${this.#what} failed: ${describeError(error)} (logged once until it recovers)`);
    }
    this.#failures++;
  }

  succeeded(): void {
    if (this.#failures > 0) this.#log(`${this.#what} recovered after ${this.#failures} failure(s)`);
    this.#failures = 0;
  }
}

export function describeError(error: unknown): string {
  if (error instanceof Error)
    return 'code' in error ? `${error.message} (${String(error.code)})` : error.message;
  return String(error);
}
