import { FIELD_PATH_MAX_LENGTH } from './field-path.js';

/**
 * The dashboard config: which panels the dashboard at `/` shows, each bound to a channel and a field path.
 * The livedash app loads it (`livedash serve --dashboard file.json`), validates it with
 * `validateDashboardConfig` and serves it at `GET /api/dashboard`; the dashboard app renders it.
 * The schema is documented in docs/dashboard.md; `validateDashboardConfig` fills every default, so the
 * dashboard app reads a complete config and never guesses.
 */
export const PANEL_TYPES = ['gauge', 'timeseries', 'stat', 'table', 'log', 'alerts'] as const;
export type PanelType = (typeof PANEL_TYPES)[number];

/** Named colours follow the theme (light/dark); hex colours are used as given. */
export const NAMED_COLORS = ['ok', 'info', 'warning', 'critical', 'neutral'] as const;
export type PanelColor = (typeof NAMED_COLORS)[number] | `#${string}`;

/** A colour band: from `value` upwards (until the next threshold) the value is drawn in `color`. */
export interface Threshold {
  value: number;
  color: PanelColor;
}

/** How a number is shown: `B` and `B/s` scale to kB, MB, GB; any other unit is appended as written. */
export interface ValueFormat {
  unit: string;
  decimals: number;
}

interface PanelBase extends ValueFormat {
  /** Unique within the config; generated as `panel-<index>` when omitted. */
  id: string;
  type: PanelType;
  title: string;
  channel: string;
  /** Grid columns the panel spans on wide screens (1–4); narrow screens stack panels. */
  width: 1 | 2 | 3 | 4;
  /**
   * The panel's subscription asks for at most this many updates a second (`SubscribeOptions.maxRate`);
   * null: every message as it is published. Default per type: `PANEL_MAX_RATES`.
   */
  maxRate: number | null;
}

export interface GaugePanel extends PanelBase {
  type: 'gauge';
  field: string;
  min: number;
  max: number;
  thresholds: Threshold[];
}

export interface StatPanel extends PanelBase {
  type: 'stat';
  field: string;
  thresholds: Threshold[];
}

export interface Series {
  field: string;
  label: string;
  color: PanelColor | undefined;
}

export interface TimeseriesPanel extends PanelBase {
  type: 'timeseries';
  series: Series[];
  /** Fixed y range; undefined scales to the data. */
  min: number | undefined;
  max: number | undefined;
  thresholds: Threshold[];
}

export interface TableColumn extends ValueFormat {
  field: string;
  label: string;
  /** Draw the value as a bar from 0 to 100 (a percentage) next to its text. */
  bar: boolean;
  thresholds: Threshold[];
}

export interface TablePanel extends PanelBase {
  type: 'table';
  /** Path to an array of rows (or an object, shown as key/value rows); empty means the whole message. */
  field: string;
  columns: TableColumn[];
}

export interface LogPanel extends PanelBase {
  type: 'log';
  /** Path to the text of each line; empty means the whole message (as JSON when it is not a string). */
  field: string;
  /** Lines kept, newest first. */
  limit: number;
}

export interface AlertsPanel extends PanelBase {
  type: 'alerts';
  limit: number;
}

/**
 * What each panel type subscribes at when its config sets no `maxRate`. Gauges, stats and tables show
 * a value at most 10 times a second (the dashboard's render tick), so more is work nobody sees. A chart
 * keeps 1,000 points: at 10 a second they span 100 s, more than the shortest window (1 minute). Logs
 * and alert feeds take every message: on a state channel a rate would skip lines.
 */
export const PANEL_MAX_RATES: Readonly<Record<PanelType, number | null>> = {
  gauge: 10,
  stat: 10,
  table: 10,
  timeseries: 10,
  log: null,
  alerts: null,
};

export type Panel = GaugePanel | StatPanel | TimeseriesPanel | TablePanel | LogPanel | AlertsPanel;

export interface DashboardConfig {
  title: string;
  panels: Panel[];
}

/** Bounds on a config, so a typo cannot make every browser render a million panels. */
export const DashboardLimits = {
  panels: 100,
  series: 10,
  thresholds: 10,
  columns: 20,
  logLimit: 1000,
  textLength: 200,
  fieldLength: FIELD_PATH_MAX_LENGTH,
} as const;
