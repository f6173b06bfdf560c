import { Counter, type Registry } from 'prom-client';

/** Every limit the server enforces, as named in the `limit` label and in docs/security.md. */
export type LimitName =
  | 'connections_per_ip'
  | 'sse_streams_per_ip'
  | 'frame_rate'
  | 'subscriptions'
  | 'frame_size'
  | 'body_size'
  | 'header_count'
  | 'header_size'
  | 'history_request'
  | 'origin'
  | 'host';

export type AuthOutcome = 'unauthorized' | 'token_expired' | 'forbidden';

/**
 * Counters of refusals, on the server's own registry (several servers in one test process must not
 * share counters). Scraped at `/metrics` as `livedash_limit_hits_total{limit}` and
 * `livedash_auth_refusals_total{reason}`.
 *
 * @example
 * const metrics = new SecurityMetrics(registry);
 * metrics.limitHit('frame_rate');
 */
export class SecurityMetrics {
  readonly #limits: Counter<'limit'>;
  readonly #auth: Counter<'reason'>;

  constructor(registry: Registry) {
    this.#limits = new Counter({
      name: 'livedash_limit_hits_total',
      help: 'Requests, connections or frames refused because a limit was hit, by limit.',
      labelNames: ['limit'],
      registers: [registry],
    });
    this.#auth = new Counter({
      name: 'livedash_auth_refusals_total',
      help: 'Connections, requests or commands refused for missing, wrong, expired or insufficient credentials.',
      labelNames: ['reason'],
      registers: [registry],
    });
  }

  limitHit(limit: LimitName): void {
    this.#limits.inc({ limit });
  }

  authRefused(reason: AuthOutcome): void {
    this.#auth.inc({ reason });
  }
}
