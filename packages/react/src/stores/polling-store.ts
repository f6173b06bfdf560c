import { type BackoffOptions, backoffDelay, resolveBackoff } from '@livedash/client';
import { ErrorCodes, LivedashError } from '@livedash/protocol';

/**
 * Where the poller is:
 *  - `idle`: nobody is subscribed, or polling is disabled; no timer, no request;
 *  - `fetching`: one request is in flight (never more than one);
 *  - `waiting`: the last request succeeded; a timer fires the next one;
 *  - `backoff`: the last request failed; a longer timer retries it;
 *  - `paused`: the page is hidden; resumes (with an immediate refresh) when it is visible again.
 */
export type PollingStatus = 'idle' | 'fetching' | 'waiting' | 'backoff' | 'paused';

/** An immutable view of a poller. The same object is returned until something changes. */
export interface PollingSnapshot<T> {
  /** The last successful result; kept while later requests fail. `null` before the first success. */
  readonly data: T | null;
  /** The last failure, cleared by the next success. Never thrown. */
  readonly error: Error | null;
  readonly status: PollingStatus;
  /** Consecutive failures; 0 after a success. */
  readonly failures: number;
  /** When the last successful result arrived (ms since the Unix epoch), or `null`. */
  readonly updatedAt: number | null;
  /** When the next request is due (ms since the Unix epoch), or `null` when none is scheduled. */
  readonly nextPollAt: number | null;
}

/** A fetcher gets an `AbortSignal` that fires when the poller stops or the request times out. */
export type PollingFetcher<T> = (context: { signal: AbortSignal }) => Promise<T>;

/** Page visibility, injectable so the store runs (and is tested) outside a browser. */
export interface VisibilitySource {
  isHidden(): boolean;
  /** Calls `onChange` whenever visibility changes; returns a function that stops that. */
  subscribe(onChange: () => void): () => void;
}

export interface PollingStoreOptions {
  /** Time between the start of one request and the start of the next, in ms. Must be > 0. */
  interval: number;
  /** Whether to poll at all. Default `true`. */
  enabled?: boolean;
  /** A request still pending after this long is aborted and counted as a failure. Default 30 000 ms. */
  timeoutMs?: number;
  /** Retry delays after failures (see `backoffDelay`). Default 0.5–1 s, doubling up to 15–30 s. */
  backoff?: BackoffOptions;
  /** Pause while the page is hidden. Default `true` (a no-op where there is no `document`). */
  pauseWhenHidden?: boolean;
  /** Defaults to `document.visibilityState` when a `document` exists. */
  visibility?: VisibilitySource;
  /** Returns a number in [0, 1) for retry jitter. Default `Math.random`. */
  random?: () => number;
}

type Listener = () => void;

/** Reads `document` lazily: touching it at import time would break server rendering. */
function documentVisibility(): VisibilitySource | undefined {
  const doc = (globalThis as { document?: Document }).document;
  if (doc === undefined || typeof doc.addEventListener !== 'function') return undefined;
  return {
    isHidden: () => doc.visibilityState === 'hidden',
    subscribe(onChange) {
      doc.addEventListener('visibilitychange', onChange);
      return () => doc.removeEventListener('visibilitychange', onChange);
    },
  };
}

function checkPositive(name: string, value: number): void {
  if (!(Number.isFinite(value) && value > 0)) {
    throw new TypeError(`PollingStore: ${name} must be a positive number of ms, got ${String(value)}`);
  }
}

/**
 * Polls `fetcher` every `interval` ms while someone is subscribed, one request at a time.
 * The next request starts `interval` after the previous one started, or as soon as it ends if it took
 * longer — requests never overlap. Failures are kept in `error` and retried with exponential backoff and
 * jitter. `setFetcher` swaps the function the next request calls without touching the schedule.
 *
 * @example
 * const poller = new PollingStore(() => fetch('/api/stats').then((r) => r.json()), { interval: 5000 });
 * const stop = poller.subscribe(() => render(poller.getSnapshot().data));
 * // later: stop(); // aborts an in-flight request, clears the timer
 */
export class PollingStore<T> {
  #fetcher: PollingFetcher<T>;
  #interval: number;
  #enabled: boolean;
  readonly #timeoutMs: number;
  readonly #backoff: Required<BackoffOptions>;
  readonly #pauseWhenHidden: boolean;
  readonly #visibilityOption: VisibilitySource | undefined;
  readonly #random: () => number;

  readonly #listeners = new Set<Listener>();
  #snapshot: PollingSnapshot<T> = {
    data: null,
    error: null,
    status: 'idle',
    failures: 0,
    updatedAt: null,
    nextPollAt: null,
  };
  #timer: ReturnType<typeof setTimeout> | undefined;
  #inFlight: AbortController | undefined;
  #lastStartAt = 0;
  #visibility: VisibilitySource | undefined;
  #stopVisibility: (() => void) | undefined;

  constructor(fetcher: PollingFetcher<T>, options: PollingStoreOptions) {
    if (typeof fetcher !== 'function') throw new TypeError('PollingStore: fetcher must be a function');
    checkPositive('interval', options.interval);
    this.#fetcher = fetcher;
    this.#interval = options.interval;
    this.#enabled = options.enabled ?? true;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    checkPositive('timeoutMs', this.#timeoutMs);
    this.#backoff = resolveBackoff(options.backoff);
    this.#pauseWhenHidden = options.pauseWhenHidden ?? true;
    this.#visibilityOption = options.visibility;
    this.#random = options.random ?? Math.random;
  }

  /** Starts polling on the first listener and stops (aborting any request) after the last one leaves. */
  subscribe = (listener: Listener): (() => void) => {
    this.#listeners.add(listener);
    if (this.#listeners.size === 1) this.#start();
    return () => {
      if (!this.#listeners.delete(listener)) return;
      if (this.#listeners.size === 0) this.#stop();
    };
  };

  getSnapshot = (): PollingSnapshot<T> => this.#snapshot;

  /** The next request calls this fetcher. The schedule is left alone. */
  setFetcher(fetcher: PollingFetcher<T>): void {
    this.#fetcher = fetcher;
  }

  /** Changes the interval; a pending wait is rescheduled from the last request's start. */
  setInterval(interval: number): void {
    checkPositive('interval', interval);
    if (interval === this.#interval) return;
    this.#interval = interval;
    if (this.#snapshot.status === 'waiting') this.#scheduleAt(this.#lastStartAt + interval, 'waiting');
  }

  /** Disabling stops polling (keeping the last data); enabling polls at once. */
  setEnabled(enabled: boolean): void {
    if (enabled === this.#enabled) return;
    this.#enabled = enabled;
    if (this.#listeners.size === 0) return;
    if (enabled) this.#start();
    else this.#stop();
  }

  /** Polls now unless a request is already in flight (then that one's result is the refresh). */
  refresh(): void {
    if (this.#listeners.size === 0 || !this.#enabled) return;
    if (this.#snapshot.status === 'fetching') return;
    this.#poll();
  }

  #start(): void {
    if (!this.#enabled) return;
    if (this.#pauseWhenHidden && this.#stopVisibility === undefined) {
      this.#visibility = this.#visibilityOption ?? documentVisibility();
      this.#stopVisibility = this.#visibility?.subscribe(this.#onVisibilityChange);
    }
    if (this.#isHidden()) this.#update({ status: 'paused', nextPollAt: null });
    else this.#poll();
  }

  #stop(): void {
    this.#clearTimer();
    this.#stopVisibility?.();
    this.#stopVisibility = undefined;
    this.#visibility = undefined;
    // Aborting tells the fetcher to give up; its late result is ignored because #inFlight no longer matches.
    this.#inFlight?.abort();
    this.#inFlight = undefined;
    if (this.#snapshot.status !== 'idle') this.#update({ status: 'idle', nextPollAt: null });
  }

  #isHidden(): boolean {
    return this.#pauseWhenHidden && this.#visibility?.isHidden() === true;
  }

  #onVisibilityChange = (): void => {
    if (this.#listeners.size === 0 || !this.#enabled) return;
    if (this.#isHidden()) {
      // A request in flight may finish; #settle sees the page is hidden and schedules nothing.
      if (this.#snapshot.status !== 'fetching') {
        this.#clearTimer();
        this.#update({ status: 'paused', nextPollAt: null });
      }
    } else if (this.#snapshot.status === 'paused') {
      this.#poll();
    }
  };

  #poll(): void {
    this.#clearTimer();
    const controller = new AbortController();
    this.#inFlight = controller;
    this.#lastStartAt = Date.now();
    this.#update({ status: 'fetching', nextPollAt: null });
    const timeout = setTimeout(() => {
      controller.abort(
        new LivedashError(ErrorCodes.TRANSPORT_FAILED, `poll timed out after ${this.#timeoutMs} ms`),
      );
    }, this.#timeoutMs);
    let request: Promise<T>;
    try {
      request = Promise.resolve(this.#fetcher({ signal: controller.signal }));
    } catch (error) {
      request = Promise.reject(error);
    }
    // A fetcher that ignores the signal still cannot hold the poller past the timeout.
    const aborted = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
    });
    Promise.race([request, aborted]).then(
      (data) => this.#settle(controller, timeout, { data }),
      (error: unknown) => this.#settle(controller, timeout, { error }),
    );
  }

  #settle(controller: AbortController, timeout: ReturnType<typeof setTimeout>, result: PollResult<T>): void {
    clearTimeout(timeout);
    if (this.#inFlight !== controller) return; // stopped or superseded: nobody wants this result
    this.#inFlight = undefined;
    const failures = 'data' in result ? 0 : this.#snapshot.failures + 1;
    const outcome: Partial<PollingSnapshot<T>> =
      'data' in result
        ? { data: result.data, error: null, failures, updatedAt: Date.now() }
        : { error: toError(result.error), failures };
    // One notification per settled request: the result and the next step together.
    if (this.#isHidden()) {
      this.#update({ ...outcome, status: 'paused', nextPollAt: null });
    } else if (failures === 0) {
      this.#scheduleAt(this.#lastStartAt + this.#interval, 'waiting', outcome);
    } else {
      this.#scheduleAt(Date.now() + backoffDelay(failures, this.#backoff, this.#random), 'backoff', outcome);
    }
  }

  #scheduleAt(at: number, status: 'waiting' | 'backoff', outcome: Partial<PollingSnapshot<T>> = {}): void {
    this.#clearTimer();
    const delay = Math.max(0, at - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#poll();
    }, delay);
    this.#update({ ...outcome, status, nextPollAt: Date.now() + delay });
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #update(patch: Partial<PollingSnapshot<T>>): void {
    const previous = this.#snapshot;
    const next = { ...previous, ...patch };
    const keys = Object.keys(patch) as (keyof PollingSnapshot<T>)[];
    if (keys.every((key) => Object.is(previous[key], next[key]))) return;
    this.#snapshot = next;
    for (const listener of [...this.#listeners]) listener();
  }
}

type PollResult<T> = { data: T } | { error: unknown };

function toError(error: unknown): Error {
  if (error instanceof Error) return error;
  return new LivedashError(ErrorCodes.TRANSPORT_FAILED, `poll failed: ${String(error)}`);
}
