import { Counter, type Registry } from 'prom-client';

/**
 * The scrape sources' counters on the server's `/metrics`: scrapes published and failures by reason,
 * both by channel (one per configured target, so the label set stays as small as the config).
 *
 * @example
 * const metrics = new ScrapeMetrics(server.metrics.registry);
 */
export class ScrapeMetrics {
  readonly scrapes: Counter<'channel'>;
  readonly failures: Counter<'channel' | 'reason'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.scrapes = new Counter({
      name: 'livedash_scrapes_total',
      help: 'Prometheus scrapes published, by channel.',
      labelNames: ['channel'],
      registers,
    });
    this.failures = new Counter({
      name: 'livedash_scrape_failures_total',
      help: 'Prometheus scrapes that failed, by channel and reason (timeout, http_status, malformed, unreachable, too_large).',
      labelNames: ['channel', 'reason'],
      registers,
    });
  }
}
