import type { DashboardConfig } from '@livedash/dashboard-config';
import type { CreateServerOptions } from '@livedash/server';
import type { ScrapeTarget } from './sources/scrape/scrape-source.js';

/** A rule that watches one field of a channel and publishes on `alerts` when it fires and resolves. */
export interface AlertRule {
  /** Unique name, shown in the alert feed. */
  name: string;
  /** Channel to watch (default `metrics`). */
  channel: string;
  /** Field path in the channel's data (`cpu`, `disk.0.usePercent`; docs/dashboard.md, "Field paths"). */
  field: string;
  op: '>' | '>=' | '<' | '<=';
  threshold: number;
  /** How long the condition must hold before the alert fires, ms. */
  forMs: number;
  /** The value must cross back by this much before the alert resolves (hysteresis). */
  hysteresis: number;
  severity: 'info' | 'warning' | 'critical';
}

/**
 * What the livedash app adds to the server core: host metrics, alert rules, the dashboard config and
 * the files served at `/`. Every field has a default (`resolveAppOptions`).
 */
export interface AppOptions {
  /** Host metrics interval, ms; 0 turns the `metrics` source off. */
  metricsIntervalMs: number;
  /** Alert rules; `[]` turns alerts off. */
  alerts: AlertRule[];
  /** Prometheus endpoints scraped onto channels; `[]` scrapes nothing. */
  scrape: ScrapeTarget[];
  /** Directory of static files served at `/` (the built dashboard); undefined serves the built-in page. */
  staticDir: string | undefined;
  /** Dashboard config served at `GET /api/dashboard`, already validated; undefined serves the host dashboard. */
  dashboard: DashboardConfig | undefined;
  /**
   * A folder whose `<name>.json` files are dashboards at `/d/<name>`, followed while the server runs
   * (docs/dashboard.md, "Many dashboards"); undefined: only the default and host dashboards.
   */
  dashboards: string | undefined;
}

/**
 * Everything `startLivedash` takes: the core's `createServer` options (`@livedash/server`) and the
 * app's own. The app registers its routes itself, so the core's `routes` and `notFound` are not here.
 */
export type LivedashOptions = Omit<CreateServerOptions, 'routes' | 'notFound'> & Partial<AppOptions>;

/** The alerts a server has unless told otherwise: CPU or memory above 90 % for 10 s. */
export const defaultAlertRules: AlertRule[] = [
  {
    name: 'cpu-high',
    channel: 'metrics',
    field: 'cpu',
    op: '>',
    threshold: 90,
    forMs: 10_000,
    hysteresis: 5,
    severity: 'warning',
  },
  {
    name: 'memory-high',
    channel: 'metrics',
    field: 'memory',
    op: '>',
    threshold: 90,
    forMs: 10_000,
    hysteresis: 5,
    severity: 'warning',
  },
];

/**
 * Fills every missing app option with its default: metrics every second, the `cpu-high` and
 * `memory-high` alerts, the built-in page, the host dashboard.
 *
 * @example
 * resolveAppOptions({ metricsIntervalMs: 0 }).alerts; // defaultAlertRules
 */
export function resolveAppOptions(partial: Partial<AppOptions> = {}): AppOptions {
  return {
    metricsIntervalMs: partial.metricsIntervalMs ?? 1000,
    alerts: partial.alerts ?? defaultAlertRules,
    scrape: partial.scrape ?? [],
    staticDir: partial.staticDir,
    dashboard: partial.dashboard,
    dashboards: partial.dashboards,
  };
}
