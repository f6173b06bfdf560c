import {
  type BackoffOptions,
  backoffDelay,
  type CancelScheduled,
  nextFrame,
  resolveBackoff,
  type Scheduler,
} from '@livedash/client';
import { ErrorCodes, LivedashError } from '@livedash/protocol';

/**
 * Where the stream is:
 *  - `idle`: nobody is subscribed; no EventSource exists;
 *  - `connecting`: the first EventSource is opening;
 *  - `open`: events flow;
 *  - `reconnecting`: the stream dropped; the EventSource retries by itself, or (when it gave up, e.g. on
 *    an HTTP error) this store opens a new one after a backoff delay (`nextRetryAt`);
 *  - `closed`: `maxRetries` used up, or no EventSource implementation exists; `error` says why.
 */
export type SSEStatus = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

/** An immutable view of an SSE stream. The same object is returned until something changes. */
export interface SSESnapshot<T> {
  /** The last event that parsed; kept across parse errors and reconnects. `null` before the first. */
  readonly data: T | null;
  /** The last failure (a frame that did not parse, a dropped stream); cleared by the next good event. */
  readonly error: LivedashError | null;
  readonly status: SSEStatus;
  /** The `id:` of the last event, sent back on reconnect so the server can resume. */
  readonly lastEventId: string | null;
  /** Reconnect attempts this store made since the stream was last open. */
  readonly attempt: number;
  /** When this store opens its next EventSource (ms since the Unix epoch), or `null`. */
  readonly nextRetryAt: number | null;
}

/** The part of the `EventSource` constructor this store uses, so Node can pass the `eventsource` package. */
export type EventSourceConstructor = new (
  url: string,
  init?: { withCredentials?: boolean },
) => Pick<EventSource, 'readyState' | 'close' | 'addEventListener' | 'removeEventListener'>;

export interface SSEStoreOptions<T> {
  /** Defaults to `globalThis.EventSource`. */
  EventSource?: EventSourceConstructor;
  /** Turns an event's `data` text into a value; a throw is reported as `error`, never rethrown. Default `JSON.parse`. */
  parse?: (text: string) => T;
  /** Event types to listen to. Default `['message']` (events without an `event:` field). */
  events?: readonly string[];
  withCredentials?: boolean;
  /**
   * When this store itself reopens the stream (the EventSource gave up), the last event id is lost
   * unless it goes in the URL: with `resumeParam: 'since'` the new URL gets `?since=<lastEventId>`.
   * Default: none (the EventSource's own reconnects always send `Last-Event-ID`).
   */
  resumeParam?: string;
  /** Delays between reopens after the EventSource gave up (see `backoffDelay`). Default 0.5–1 s doubling to 15–30 s. */
  backoff?: BackoffOptions;
  /** Reopens before giving up (`status: 'closed'`). Default `Infinity`. */
  maxRetries?: number;
  /** Returns a number in [0, 1) for retry jitter. Default `Math.random`. */
  random?: () => number;
  /** When listeners hear about changes: once per animation frame by default (`nextFrame`). */
  scheduler?: Scheduler;
}

type Listener = () => void;
type Source = InstanceType<EventSourceConstructor>;

/** Every change to the stream goes through `transition` with one of these. */
type SSEEvent =
  | { type: 'start' }
  | { type: 'open' }
  | { type: 'message'; data: unknown; lastEventId: string | null }
  | { type: 'bad-frame'; error: LivedashError; lastEventId: string | null }
  | { type: 'dropped'; error: LivedashError }
  | { type: 'retry-scheduled'; attempt: number; at: number }
  | { type: 'gave-up'; error: LivedashError }
  | { type: 'stop' };

/**
 * A framework-free store over one Server-Sent Events stream, from any server. Opens on the first
 * listener, closes on the last. Each event's data is parsed (JSON by default); a frame that does not
 * parse becomes `error` and the stream goes on. Listeners hear about a burst once per animation frame.
 *
 * @example
 * const stream = new SSEStore<Price>('/prices');
 * const stop = stream.subscribe(() => show(stream.getSnapshot()));
 */
export class SSEStore<T> {
  readonly #url: string;
  readonly #EventSource: EventSourceConstructor | undefined;
  readonly #parse: (text: string) => T;
  readonly #events: readonly string[];
  readonly #withCredentials: boolean;
  readonly #resumeParam: string | undefined;
  readonly #backoff: Required<BackoffOptions>;
  readonly #maxRetries: number;
  readonly #random: () => number;
  readonly #scheduler: Scheduler;

  readonly #listeners = new Set<Listener>();
  #snapshot: SSESnapshot<T> = initialSnapshot();
  #source: Source | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #cancelNotify: CancelScheduled | undefined;

  constructor(url: string, options: SSEStoreOptions<T> = {}) {
    if (typeof url !== 'string' || url === '')
      throw new TypeError('SSEStore: url must be a non-empty string');
    this.#url = url;
    this.#EventSource =
      options.EventSource ?? (globalThis as { EventSource?: EventSourceConstructor }).EventSource;
    this.#parse = options.parse ?? ((text: string) => JSON.parse(text) as T);
    this.#events = options.events ?? ['message'];
    if (this.#events.length === 0) throw new TypeError('SSEStore: events must name at least one event type');
    this.#withCredentials = options.withCredentials ?? false;
    this.#resumeParam = options.resumeParam;
    this.#backoff = resolveBackoff(options.backoff);
    this.#maxRetries = options.maxRetries ?? Number.POSITIVE_INFINITY;
    if (!(this.#maxRetries >= 0)) throw new TypeError('SSEStore: maxRetries must be >= 0');
    this.#random = options.random ?? Math.random;
    this.#scheduler = options.scheduler ?? nextFrame;
  }

  subscribe = (listener: Listener): (() => void) => {
    this.#listeners.add(listener);
    if (this.#listeners.size === 1) this.#transition({ type: 'start' });
    return () => {
      if (!this.#listeners.delete(listener)) return;
      if (this.#listeners.size === 0) this.#transition({ type: 'stop' });
    };
  };

  getSnapshot = (): SSESnapshot<T> => this.#snapshot;

  /** The single place the snapshot changes; side effects (open, close, timers) follow from the event. */
  #transition(event: SSEEvent): void {
    const s = this.#snapshot;
    let next: SSESnapshot<T> = s;
    switch (event.type) {
      case 'start':
        next = { ...s, status: 'connecting', attempt: 0, nextRetryAt: null };
        this.#open();
        break;
      case 'open':
        next = { ...s, status: 'open', error: null, attempt: 0, nextRetryAt: null };
        break;
      case 'message':
        next = { ...s, status: 'open', data: event.data as T, error: null, lastEventId: event.lastEventId };
        break;
      case 'bad-frame':
        next = { ...s, error: event.error, lastEventId: event.lastEventId };
        break;
      case 'dropped':
        next = { ...s, status: 'reconnecting', error: event.error };
        break;
      case 'retry-scheduled':
        next = { ...s, status: 'reconnecting', attempt: event.attempt, nextRetryAt: event.at };
        break;
      case 'gave-up':
        next = { ...s, status: 'closed', error: event.error, nextRetryAt: null };
        this.#close();
        break;
      case 'stop':
        next = { ...s, status: 'idle', nextRetryAt: null };
        this.#close();
        break;
    }
    if (next === s) return;
    this.#snapshot = next;
    if (event.type === 'stop') {
      // Nobody is listening any more; a pending notification would reach no one.
      this.#cancelNotify?.();
      this.#cancelNotify = undefined;
    } else {
      this.#notifySoon();
    }
  }

  #notifySoon(): void {
    if (this.#cancelNotify !== undefined) return;
    this.#cancelNotify = this.#scheduler(() => {
      this.#cancelNotify = undefined;
      for (const listener of [...this.#listeners]) listener();
    });
  }

  #open(): void {
    const Impl = this.#EventSource;
    if (Impl === undefined) {
      const error = new LivedashError(ErrorCodes.TRANSPORT_FAILED, 'no EventSource implementation available');
      queueMicrotask(() => {
        if (this.#listeners.size > 0) this.#transition({ type: 'gave-up', error });
      });
      return;
    }
    let source: Source;
    try {
      source = new Impl(this.#resumeUrl(), { withCredentials: this.#withCredentials });
    } catch (cause) {
      const error = new LivedashError(
        ErrorCodes.TRANSPORT_FAILED,
        `cannot open ${this.#url}: ${String(cause)}`,
      );
      queueMicrotask(() => {
        if (this.#listeners.size > 0) this.#transition({ type: 'gave-up', error });
      });
      return;
    }
    this.#source = source;
    source.addEventListener('open', this.#onOpen);
    source.addEventListener('error', this.#onError);
    for (const type of this.#events) source.addEventListener(type, this.#onMessage as EventListener);
  }

  #close(): void {
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const source = this.#source;
    if (source === undefined) return;
    this.#source = undefined;
    source.removeEventListener('open', this.#onOpen);
    source.removeEventListener('error', this.#onError);
    for (const type of this.#events) source.removeEventListener(type, this.#onMessage as EventListener);
    source.close();
  }

  #resumeUrl(): string {
    const id = this.#snapshot.lastEventId;
    if (this.#resumeParam === undefined || id === null) return this.#url;
    const separator = this.#url.includes('?') ? '&' : '?';
    return `${this.#url}${separator}${encodeURIComponent(this.#resumeParam)}=${encodeURIComponent(id)}`;
  }

  #onOpen = (): void => {
    this.#transition({ type: 'open' });
  };

  #onMessage = (event: MessageEvent): void => {
    const lastEventId = event.lastEventId === '' ? this.#snapshot.lastEventId : event.lastEventId;
    let data: T;
    try {
      data = this.#parse(String(event.data));
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      const error = new LivedashError(
        ErrorCodes.BAD_JSON,
        `event ${lastEventId ?? '(no id)'} did not parse: ${reason}`,
      );
      this.#transition({ type: 'bad-frame', error, lastEventId });
      return;
    }
    this.#transition({ type: 'message', data, lastEventId });
  };

  #onError = (): void => {
    const source = this.#source;
    if (source === undefined) return;
    // readyState 2 (CLOSED): the EventSource gave up for good (HTTP error, wrong content type); we retry.
    // Otherwise it is already reconnecting on its own, sending Last-Event-ID.
    if (source.readyState !== 2) {
      const error = new LivedashError(
        ErrorCodes.TRANSPORT_FAILED,
        `stream ${this.#url} dropped; reconnecting`,
      );
      this.#transition({ type: 'dropped', error });
      return;
    }
    this.#close();
    const attempt = this.#snapshot.attempt + 1;
    if (attempt > this.#maxRetries) {
      const error = new LivedashError(
        ErrorCodes.TRANSPORT_FAILED,
        `stream ${this.#url} failed; gave up after ${this.#maxRetries} retries`,
      );
      this.#transition({ type: 'gave-up', error });
      return;
    }
    const delay = backoffDelay(attempt, this.#backoff, this.#random);
    const error = new LivedashError(ErrorCodes.TRANSPORT_FAILED, `stream ${this.#url} failed; retrying`);
    this.#transition({ type: 'dropped', error });
    this.#transition({ type: 'retry-scheduled', attempt, at: Date.now() + delay });
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#listeners.size > 0) this.#open();
    }, delay);
  };
}

function initialSnapshot<T>(): SSESnapshot<T> {
  return { data: null, error: null, status: 'idle', lastEventId: null, attempt: 0, nextRetryAt: null };
}
