import { Registry } from 'prom-client';
import type { AppOptions } from '../app-options.js';
import { AlertEngine } from './alerts.js';
import { HostMetrics, NODE_NAME_PATTERN } from './host-metrics.js';
import type { HostReader } from './host-reader.js';
import { ScrapeMetrics, ScrapeSource } from './scrape/index.js';
import type { SourceHub, SourceLog } from './source-hub.js';

export { type AlertState, stepAlert } from './alert-state.js';
export { ALERTS_CHANNEL, AlertEngine, type AlertEvent } from './alerts.js';
export { HostMetrics, METRICS_CHANNEL, type MetricsMessage, NODE_NAME_PATTERN } from './host-metrics.js';
export { type DiskUsage, type HostReader, systemHostReader } from './host-reader.js';
export * from './scrape/index.js';
export type { SourceHub, SourceLog } from './source-hub.js';

/** What the sources need: this node's name (the core's `node` option) and the app's source settings. */
export type SourceOptions = { node: string } & Pick<AppOptions, 'metricsIntervalMs' | 'alerts'> &
  Partial<Pick<AppOptions, 'scrape'>>;

/** Test seams: where host numbers come from and where trouble is logged. */
export interface SourceDeps {
  reader?: HostReader;
  log?: SourceLog;
  diskIntervalMs?: number;
  /** Where the scrape counters go: the server's `/metrics` registry. */
  metricsRegistry?: Registry;
}

export interface RunningSources {
  /** Stops every source; nothing is published once it resolves. */
  stop(): Promise<void>;
}

/**
 * Starts the built-in sources: host metrics on `metrics` and `metrics.<node>` (unless
 * `metricsIntervalMs` is 0), the alert rules publishing on `alerts`, and one Prometheus scrape per
 * `scrape` target. Throws on options no server
 * could run with (a node name that makes `metrics.<node>` an invalid channel).
 *
 * @example
 * const sources = startSources(hub, { node: 'web-1', metricsIntervalMs: 1000, alerts: defaultAlertRules });
 * // …
 * await sources.stop();
 */
export function startSources(hub: SourceHub, options: SourceOptions, deps: SourceDeps = {}): RunningSources {
  const { node, metricsIntervalMs } = options;
  if (!NODE_NAME_PATTERN.test(node)) {
    throw new TypeError(
      `node name ${JSON.stringify(node)} is not usable: it names the channel "metrics.<node>", so it needs ` +
        '1–120 letters, digits and _ . : - (not starting with . : -)',
    );
  }
  if (!(Number.isFinite(metricsIntervalMs) && metricsIntervalMs >= 0)) {
    throw new RangeError(`metricsIntervalMs must be 0 (off) or a positive number, got ${metricsIntervalMs}`);
  }
  const log = deps.log;
  // Alerts start first so the very first `metrics` message is already evaluated.
  const alerts = new AlertEngine(hub, options.alerts, log ? { node, log } : { node });
  alerts.start();
  let metrics: HostMetrics | undefined;
  let scrapeMetrics: ScrapeMetrics | undefined;
  if (metricsIntervalMs > 0) {
    metrics = new HostMetrics(hub, {
      intervalMs: metricsIntervalMs,
      node,
      ...(deps.reader && { reader: deps.reader }),
      ...(log && { log }),
      ...(deps.diskIntervalMs !== undefined && { diskIntervalMs: deps.diskIntervalMs }),
    });
    metrics.start();
  }
  const scrapes = (options.scrape ?? []).map((target) => {
    scrapeMetrics ??= new ScrapeMetrics(deps.metricsRegistry ?? new Registry());
    return new ScrapeSource(hub, target, { node, metrics: scrapeMetrics, ...(log && { log }) });
  });
  for (const scrape of scrapes) scrape.start();
  return {
    async stop() {
      await Promise.all(scrapes.map((scrape) => scrape.stop()));
      await metrics?.stop();
      await alerts.stop();
    },
  };
}
