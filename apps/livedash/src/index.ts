/**
 * The livedash app as a library: what `livedash serve` runs, for code that wants the whole app (host
 * metrics, alerts, the dashboard) in its own process. Code that wants only live channels uses
 * `@livedash/server`.
 */
export {
  type AlertRule,
  type AppOptions,
  defaultAlertRules,
  type LivedashOptions,
  resolveAppOptions,
} from './app-options.js';
export { type ConfigFileOptions, loadConfigFile, validateConfig } from './config-file.js';
export { loadDashboardConfig } from './dashboard-file.js';
export { type LivedashApp, startLivedash } from './livedash.js';
export { ALERTS_CHANNEL, type AlertEvent } from './sources/alerts.js';
export { METRICS_CHANNEL, type MetricsMessage } from './sources/host-metrics.js';
