import { redactUrl } from '@livedash/server';
import { ALERTS_CHANNEL, type AlertEvent } from '../alerts.js';
import { consoleSourceLog, describeError, type SourceHub, type SourceLog } from '../source-hub.js';
import { parseExposition } from './exposition.js';
import { type ScrapeMemory, toScrapeData } from './scrape-data.js';
import type { ScrapeMetrics } from './scrape-metrics.js';

/** One Prometheus endpoint to scrape (config key `scrape`, flag `--scrape`). */
export interface ScrapeTarget {
  /** http(s) URL of the exposition, e.g. `http://127.0.0.1:9100/metrics`. */
  url: string;
  /** Channel each scrape is published on. */
  channel: string;
  /** Time between scrapes, ms. */
  intervalMs: number;
  /** A scrape not answered within this is a `timeout` failure; at most `intervalMs`. */
  timeoutMs: number;
  /** Extra request headers (an `Authorization` for a protected endpoint). */
  headers: Record<string, string>;
  /** A body larger than this is a `too_large` failure (and is not read further). */
  maxBodyBytes: number;
}

export const ScrapeDefaults = {
  intervalMs: 5000,
  timeoutMs: 10_000,
  maxBodyBytes: 8 * 1024 * 1024,
} as const;

/** Why a scrape failed: the `reason` label of `livedash_scrape_failures_total`. */
export type ScrapeFailureReason = 'timeout' | 'http_status' | 'malformed' | 'unreachable' | 'too_large';

export class ScrapeFailure extends Error {
  readonly reason: ScrapeFailureReason;
  constructor(reason: ScrapeFailureReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** OpenMetrics first, the older text format as the fallback; both parse the same way. */
const ACCEPT = 'application/openmetrics-text;version=1.0.0;q=0.9,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

export interface ScrapeSourceOptions {
  node: string;
  metrics: ScrapeMetrics;
  log?: SourceLog;
}

/**
 * Scrapes one target on a timer and publishes each scrape as one message on its channel (shape:
 * `toScrapeData`). A failed scrape publishes nothing; it is logged (once per streak, and its
 * recovery), counted in `livedash_scrape_failures_total{channel,reason}`, and put on the alerts feed
 * as a `firing` event, resolved when the target answers again. Nothing a target does stops the server.
 *
 * @example
 * const source = new ScrapeSource(hub, { url: 'http://127.0.0.1:9100/metrics', channel: 'node',
 *   intervalMs: 5000, timeoutMs: 4000, headers: {}, maxBodyBytes: 8 << 20 }, { node: 'web-1', metrics });
 * source.start();
 * // …
 * await source.stop();
 */
export class ScrapeSource {
  readonly #hub: SourceHub;
  readonly #target: ScrapeTarget;
  readonly #options: ScrapeSourceOptions;
  readonly #log: SourceLog;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #abort: AbortController | undefined;
  #memory: ScrapeMemory | undefined;
  /** While failing: when the streak began, how many scrapes failed, and the last reason. */
  #failing: { since: number; count: number; reason: ScrapeFailureReason } | undefined;
  #stopped = false;

  constructor(hub: SourceHub, target: ScrapeTarget, options: ScrapeSourceOptions) {
    this.#hub = hub;
    this.#target = target;
    this.#options = options;
    this.#log = options.log ?? consoleSourceLog;
  }

  start(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    this.#tick();
  }

  /** Stops the timer, aborts a scrape in flight and waits for it; nothing is published after. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#abort?.abort();
    await this.#running;
  }

  /** Scrapes now (the timer's job; tests call it to step without waiting). */
  scrapeOnce(): Promise<void> {
    this.#running ??= this.#scrape().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  #tick(): void {
    const started = Date.now();
    void this.scrapeOnce().then(() => {
      if (this.#stopped) return;
      // Keep the cadence: a slow scrape shortens the wait instead of pushing every later one back.
      const wait = Math.max(0, this.#target.intervalMs - (Date.now() - started));
      this.#timer = setTimeout(() => this.#tick(), wait);
      this.#timer.unref();
    });
  }

  async #scrape(): Promise<void> {
    const { channel } = this.#target;
    let body: string;
    try {
      body = await this.#fetchBody();
    } catch (error) {
      if (this.#stopped) return;
      this.#failed(toFailure(error, this.#target));
      return;
    }
    if (this.#stopped) return;
    const parsed = parseExposition(body);
    if (!parsed.ok) {
      const { line, reason } = parsed.error;
      this.#failed(new ScrapeFailure('malformed', `malformed exposition at line ${line}: ${reason}`));
      return;
    }
    const { data, memory } = toScrapeData(parsed.value, this.#memory, Date.now());
    this.#memory = memory;
    try {
      await this.#hub.publish(channel, data);
    } catch (error) {
      this.#log(`scrape ${channel}: publish failed: ${describeError(error)}`);
      return;
    }
    this.#options.metrics.scrapes.inc({ channel });
    this.#succeeded();
  }

  async #fetchBody(): Promise<string> {
    const { url, headers, timeoutMs, maxBodyBytes } = this.#target;
    const abort = new AbortController();
    this.#abort = abort;
    const timer = setTimeout(
      () => abort.abort(new ScrapeFailure('timeout', `no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    try {
      const { href, authorization } = splitCredentials(url);
      const response = await fetch(href, {
        headers: { accept: ACCEPT, ...authorization, ...headers },
        signal: abort.signal,
        redirect: 'follow',
      });
      if (!response.ok) {
        await response.body?.cancel().catch(() => {});
        throw new ScrapeFailure('http_status', `answered HTTP ${response.status}`);
      }
      const declared = Number(response.headers.get('content-length'));
      if (Number.isFinite(declared) && declared > maxBodyBytes) {
        await response.body?.cancel().catch(() => {});
        throw new ScrapeFailure('too_large', `body of ${declared} bytes is over ${maxBodyBytes}`);
      }
      return await readLimited(response, maxBodyBytes);
    } catch (error) {
      // An abort surfaces as the reason it was given (the timeout) or as an AbortError.
      if (abort.signal.aborted && abort.signal.reason instanceof ScrapeFailure) throw abort.signal.reason;
      throw error;
    } finally {
      clearTimeout(timer);
      this.#abort = undefined;
    }
  }

  #failed(failure: ScrapeFailure): void {
    const { channel, url } = this.#target;
    this.#options.metrics.failures.inc({ channel, reason: failure.reason });
    if (this.#failing) {
      this.#failing.count++;
      this.#failing.reason = failure.reason;
      return;
    }
    const since = Date.now();
    this.#failing = { since, count: 1, reason: failure.reason };
    this.#log(
      `scrape ${channel} (${redactUrl(url)}) failed: ${failure.reason}: ${failure.message} (logged once until it recovers)`,
    );
    this.#alert('firing', since, since, `scrape of ${redactUrl(url)} failed: ${failure.message}`);
  }

  #succeeded(): void {
    const failing = this.#failing;
    if (!failing) return;
    this.#failing = undefined;
    const { channel, url } = this.#target;
    this.#log(`scrape ${channel} (${redactUrl(url)}) recovered after ${failing.count} failure(s)`);
    this.#alert(
      'resolved',
      failing.since,
      Date.now(),
      `scrape of ${redactUrl(url)} recovered after ${failing.count} failure(s)`,
    );
  }

  #alert(state: AlertEvent['state'], since: number, ts: number, message: string): void {
    const { channel } = this.#target;
    const rule = `scrape-${channel}`;
    const event: AlertEvent = {
      id: `${this.#options.node}:${rule}:${since}`,
      rule,
      state,
      value: state === 'firing' ? 0 : 1,
      threshold: 1,
      severity: 'warning',
      message,
      ts,
      since,
      node: this.#options.node,
      channel,
      field: 'up',
    };
    this.#hub.publish(ALERTS_CHANNEL, event).catch((error: unknown) => {
      this.#log(`scrape ${channel}: alert publish failed: ${describeError(error)}`);
    });
  }
}

/**
 * `http://user:pass@host/metrics` means basic auth (as in a Prometheus config); fetch refuses a URL
 * with credentials, so they travel as an `Authorization` header instead.
 */
function splitCredentials(url: string): { href: string; authorization: Record<string, string> } {
  const parsed = new URL(url);
  if (!parsed.username && !parsed.password) return { href: url, authorization: {} };
  const user = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  parsed.username = '';
  parsed.password = '';
  const basic = Buffer.from(`${user}:${password}`).toString('base64');
  return { href: parsed.toString(), authorization: { authorization: `Basic ${basic}` } };
}

async function readLimited(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new ScrapeFailure('too_large', `body is over ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function toFailure(error: unknown, target: ScrapeTarget): ScrapeFailure {
  if (error instanceof ScrapeFailure) return error;
  if (error instanceof Error && error.name === 'TimeoutError') {
    return new ScrapeFailure('timeout', `no answer within ${target.timeoutMs} ms`);
  }
  // fetch rejects with a TypeError whose cause says why: ECONNREFUSED, ENOTFOUND, a reset socket.
  const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
  return new ScrapeFailure('unreachable', describeError(cause));
}
