import { readFileSync } from 'node:fs';
import { isValidChannel, type Result } from '@livedash/protocol';

/**
 * The dashboard config: which panels the dashboard at `/` shows, each bound to a channel and a field path.
 * Loaded with `livedash serve --dashboard file.json`, validated here, served at `GET /api/dashboard`.
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
  fieldLength: 256,
} as const;

type Json = Record<string, unknown>;

/** Collects every problem with its path, so one run of the CLI shows them all. */
class Problems {
  readonly list: string[] = [];
  add(path: string, message: string): void {
    this.list.push(`${path}: ${message}`);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKeys(object: Json, allowed: readonly string[], path: string, problems: Problems): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key))
      problems.add(`${path}.${key}`, `unknown key (allowed: ${allowed.join(', ')})`);
  }
}

function text(object: Json, key: string, path: string, problems: Problems, fallback: string): string {
  const value = object[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value.length > DashboardLimits.textLength) {
    problems.add(
      `${path}.${key}`,
      `expected a string of at most ${DashboardLimits.textLength} characters, got ${describe(value)}`,
    );
    return fallback;
  }
  return value;
}

function num(object: Json, key: string, path: string, problems: Problems, fallback: number): number;
function num(
  object: Json,
  key: string,
  path: string,
  problems: Problems,
  fallback: undefined,
): number | undefined;
function num(object: Json, key: string, path: string, problems: Problems, fallback: number | undefined) {
  const value = object[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    problems.add(`${path}.${key}`, `expected a number, got ${describe(value)}`);
    return fallback;
  }
  return value;
}

function integer(
  object: Json,
  key: string,
  path: string,
  problems: Problems,
  range: [number, number],
  fallback: number,
): number {
  const value = object[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < range[0] || value > range[1]) {
    problems.add(
      `${path}.${key}`,
      `expected an integer from ${range[0]} to ${range[1]}, got ${describe(value)}`,
    );
    return fallback;
  }
  return value;
}

const FIELD_SEGMENT = /^[A-Za-z0-9_$-]+$/;

/** A field path is dot-separated keys or array indexes: `cpu`, `network.rxBytesPerSec`, `disk.0.usePercent`. */
function fieldPath(object: Json, key: string, path: string, problems: Problems, required: boolean): string {
  const value = object[key];
  if (value === undefined) {
    if (required)
      problems.add(`${path}.${key}`, 'required: a field path such as "cpu" or "disk.0.usePercent"');
    return '';
  }
  const valid =
    typeof value === 'string' &&
    value.length <= DashboardLimits.fieldLength &&
    (value === '' ? !required : value.split('.').every((segment) => FIELD_SEGMENT.test(segment)));
  if (!valid) {
    problems.add(
      `${path}.${key}`,
      `expected a field path of dot-separated names or indexes (like "disk.0.usePercent"), got ${describe(value)}`,
    );
    return '';
  }
  return value;
}

const HEX_COLOR = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;

function color(value: unknown, path: string, problems: Problems): PanelColor | undefined {
  if (
    typeof value === 'string' &&
    ((NAMED_COLORS as readonly string[]).includes(value) || HEX_COLOR.test(value))
  ) {
    return value as PanelColor;
  }
  problems.add(
    path,
    `expected one of ${NAMED_COLORS.join(', ')} or a hex colour like "#1f77b4", got ${describe(value)}`,
  );
  return undefined;
}

function thresholds(object: Json, path: string, problems: Problems): Threshold[] {
  const value = object.thresholds;
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > DashboardLimits.thresholds) {
    problems.add(
      `${path}.thresholds`,
      `expected an array of at most ${DashboardLimits.thresholds} {value, color}, got ${describe(value)}`,
    );
    return [];
  }
  const result: Threshold[] = [];
  let previous: number | undefined;
  value.forEach((entry: unknown, index) => {
    const at = `${path}.thresholds[${index}]`;
    if (!isObject(entry)) {
      problems.add(at, `expected {value, color}, got ${describe(entry)}`);
      return;
    }
    checkKeys(entry, ['value', 'color'], at, problems);
    const threshold = num(entry, 'value', at, problems, undefined);
    if (threshold === undefined && entry.value === undefined)
      problems.add(`${at}.value`, 'required: a number');
    const band = color(entry.color, `${at}.color`, problems);
    if (threshold !== undefined && previous !== undefined && threshold <= previous) {
      problems.add(`${at}.value`, `thresholds must ascend: ${threshold} is not above ${previous}`);
    }
    previous = threshold ?? previous;
    if (threshold !== undefined && band !== undefined) result.push({ value: threshold, color: band });
  });
  return result;
}

function format(object: Json, path: string, problems: Problems): ValueFormat {
  return {
    unit: text(object, 'unit', path, problems, ''),
    decimals: integer(object, 'decimals', path, problems, [0, 6], 1),
  };
}

function seriesList(object: Json, path: string, problems: Problems): Series[] {
  if (object.field !== undefined && object.series !== undefined) {
    problems.add(path, 'give either "field" (one line) or "series" (several), not both');
  }
  if (object.series === undefined) {
    const field = fieldPath(object, 'field', path, problems, true);
    return [{ field, label: text(object, 'title', path, problems, field), color: undefined }];
  }
  const value = object.series;
  if (!Array.isArray(value) || value.length === 0 || value.length > DashboardLimits.series) {
    problems.add(
      `${path}.series`,
      `expected an array of 1 to ${DashboardLimits.series} {field, label?, color?}, got ${describe(value)}`,
    );
    return [];
  }
  return value.flatMap((entry: unknown, index) => {
    const at = `${path}.series[${index}]`;
    if (!isObject(entry)) {
      problems.add(at, `expected {field, label?, color?}, got ${describe(entry)}`);
      return [];
    }
    checkKeys(entry, ['field', 'label', 'color'], at, problems);
    const field = fieldPath(entry, 'field', at, problems, true);
    const seriesColor = entry.color === undefined ? undefined : color(entry.color, `${at}.color`, problems);
    return [{ field, label: text(entry, 'label', at, problems, field), color: seriesColor }];
  });
}

function columns(object: Json, path: string, problems: Problems): TableColumn[] {
  const value = object.columns;
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > DashboardLimits.columns) {
    problems.add(
      `${path}.columns`,
      `expected an array of at most ${DashboardLimits.columns} {field, label?, unit?, decimals?, bar?}, got ${describe(value)}`,
    );
    return [];
  }
  return value.flatMap((entry: unknown, index) => {
    const at = `${path}.columns[${index}]`;
    if (!isObject(entry)) {
      problems.add(
        at,
        `expected {field, label?, unit?, decimals?, bar?, thresholds?}, got ${describe(entry)}`,
      );
      return [];
    }
    checkKeys(entry, ['field', 'label', 'unit', 'decimals', 'bar', 'thresholds'], at, problems);
    const field = fieldPath(entry, 'field', at, problems, true);
    if (entry.bar !== undefined && typeof entry.bar !== 'boolean')
      problems.add(`${at}.bar`, `expected true or false, got ${describe(entry.bar)}`);
    return [
      {
        field,
        label: text(entry, 'label', at, problems, field),
        ...format(entry, at, problems),
        bar: entry.bar === true,
        thresholds: thresholds(entry, at, problems),
      },
    ];
  });
}

const COMMON_KEYS = ['id', 'type', 'title', 'channel', 'width', 'unit', 'decimals'];
const PANEL_KEYS: Record<PanelType, readonly string[]> = {
  gauge: [...COMMON_KEYS, 'field', 'min', 'max', 'thresholds'],
  stat: [...COMMON_KEYS, 'field', 'thresholds'],
  timeseries: [...COMMON_KEYS, 'field', 'series', 'min', 'max', 'thresholds'],
  table: [...COMMON_KEYS, 'field', 'columns'],
  log: [...COMMON_KEYS, 'field', 'limit'],
  alerts: [...COMMON_KEYS, 'limit'],
};

function panel(value: unknown, index: number, problems: Problems): Panel | undefined {
  const path = `panels[${index}]`;
  if (!isObject(value)) {
    problems.add(path, `expected a panel object, got ${describe(value)}`);
    return undefined;
  }
  const type = value.type;
  if (typeof type !== 'string' || !(PANEL_TYPES as readonly string[]).includes(type)) {
    problems.add(`${path}.type`, `expected one of ${PANEL_TYPES.join(', ')}, got ${describe(type)}`);
    return undefined;
  }
  const panelType = type as PanelType;
  checkKeys(value, PANEL_KEYS[panelType], path, problems);
  const channel = value.channel ?? (panelType === 'alerts' ? 'alerts' : undefined);
  if (!isValidChannel(channel)) {
    problems.add(
      `${path}.channel`,
      `expected a channel name (letters, digits, _ . : -, up to 128), got ${describe(channel)}`,
    );
  }
  const base = {
    id: text(value, 'id', path, problems, `panel-${index}`),
    title: text(value, 'title', path, problems, typeof value.field === 'string' ? value.field : panelType),
    channel: typeof channel === 'string' ? channel : '',
    width: integer(
      value,
      'width',
      path,
      problems,
      [1, 4],
      panelType === 'gauge' || panelType === 'stat' ? 1 : 2,
    ) as 1 | 2 | 3 | 4,
    ...format(value, path, problems),
  };
  switch (panelType) {
    case 'gauge': {
      const min = num(value, 'min', path, problems, 0);
      const max = num(value, 'max', path, problems, 100);
      if (min >= max) problems.add(`${path}.max`, `must be above min (${min}), got ${max}`);
      const field = fieldPath(value, 'field', path, problems, true);
      return { ...base, type: 'gauge', field, min, max, thresholds: thresholds(value, path, problems) };
    }
    case 'stat':
      return {
        ...base,
        type: 'stat',
        field: fieldPath(value, 'field', path, problems, true),
        thresholds: thresholds(value, path, problems),
      };
    case 'timeseries': {
      const min = num(value, 'min', path, problems, undefined);
      const max = num(value, 'max', path, problems, undefined);
      if (min !== undefined && max !== undefined && min >= max)
        problems.add(`${path}.max`, `must be above min (${min}), got ${max}`);
      return {
        ...base,
        type: 'timeseries',
        series: seriesList(value, path, problems),
        min,
        max,
        thresholds: thresholds(value, path, problems),
      };
    }
    case 'table':
      return {
        ...base,
        type: 'table',
        field: fieldPath(value, 'field', path, problems, false),
        columns: columns(value, path, problems),
      };
    case 'log':
      return {
        ...base,
        type: 'log',
        field: fieldPath(value, 'field', path, problems, false),
        limit: integer(value, 'limit', path, problems, [1, DashboardLimits.logLimit], 100),
      };
    case 'alerts':
      return {
        ...base,
        type: 'alerts',
        limit: integer(value, 'limit', path, problems, [1, DashboardLimits.logLimit], 50),
      };
  }
}

/**
 * Checks a parsed JSON value against the dashboard schema and fills every default.
 * Errors name the path of each problem, one per line.
 *
 * @example
 * const result = validateDashboardConfig({ title: 'Shop', panels: [{ type: 'stat', channel: 'orders', field: 'perMinute' }] });
 * if (!result.ok) console.error(result.error); // e.g. "panels[0].type: expected one of gauge, timeseries, …"
 */
export function validateDashboardConfig(json: unknown): Result<DashboardConfig, string> {
  const problems = new Problems();
  if (!isObject(json))
    return { ok: false, error: `(root): expected an object {title, panels}, got ${describe(json)}` };
  checkKeys(json, ['$schema', 'title', 'panels'], '(root)', problems);
  const title = text(json, 'title', '(root)', problems, 'livedash');
  const panels: Panel[] = [];
  if (!Array.isArray(json.panels) || json.panels.length > DashboardLimits.panels) {
    problems.add(
      'panels',
      `expected an array of at most ${DashboardLimits.panels} panels, got ${describe(json.panels)}`,
    );
  } else {
    const ids = new Set<string>();
    json.panels.forEach((entry: unknown, index) => {
      const result = panel(entry, index, problems);
      if (result === undefined) return;
      if (ids.has(result.id))
        problems.add(`panels[${index}].id`, `duplicate id ${JSON.stringify(result.id)}`);
      ids.add(result.id);
      panels.push(result);
    });
  }
  if (problems.list.length > 0) return { ok: false, error: problems.list.join('\n') };
  return { ok: true, value: { title, panels } };
}

/**
 * Reads and validates a dashboard config file. Errors start with the file's path.
 *
 * @example
 * const loaded = loadDashboardConfig('examples/service-health/dashboard.json');
 * if (!loaded.ok) { console.error(loaded.error); process.exit(1); }
 */
export function loadDashboardConfig(path: string): Result<DashboardConfig, string> {
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (error) {
    return { ok: false, error: `${path}: cannot read the dashboard config (${(error as Error).message})` };
  }
  let json: unknown;
  try {
    json = JSON.parse(source);
  } catch (error) {
    return { ok: false, error: `${path}: not valid JSON (${(error as Error).message})` };
  }
  const result = validateDashboardConfig(json);
  if (result.ok) return result;
  return { ok: false, error: `${path}: invalid dashboard config\n${result.error.replace(/^/gm, '  ')}` };
}

const hostDashboard = {
  title: 'This machine',
  panels: [
    {
      id: 'cpu',
      type: 'gauge',
      title: 'CPU',
      channel: 'metrics',
      field: 'cpu',
      unit: '%',
      decimals: 1,
      thresholds: [
        { value: 70, color: 'warning' },
        { value: 90, color: 'critical' },
      ],
    },
    {
      id: 'memory',
      type: 'gauge',
      title: 'Memory',
      channel: 'metrics',
      field: 'memory',
      unit: '%',
      decimals: 1,
      thresholds: [
        { value: 75, color: 'warning' },
        { value: 90, color: 'critical' },
      ],
    },
    { id: 'load-now', type: 'stat', title: 'Load (1 min)', channel: 'metrics', field: 'load.0', decimals: 2 },
    {
      id: 'rx-now',
      type: 'stat',
      title: 'Network in',
      channel: 'metrics',
      field: 'network.rxBytesPerSec',
      unit: 'B/s',
    },
    {
      id: 'cpu-chart',
      type: 'timeseries',
      title: 'CPU',
      channel: 'metrics',
      unit: '%',
      min: 0,
      max: 100,
      series: [{ field: 'cpu', label: 'CPU' }],
      thresholds: [{ value: 90, color: 'critical' }],
    },
    {
      id: 'memory-chart',
      type: 'timeseries',
      title: 'Memory',
      channel: 'metrics',
      unit: '%',
      min: 0,
      max: 100,
      series: [{ field: 'memory', label: 'Memory' }],
      thresholds: [{ value: 90, color: 'critical' }],
    },
    {
      id: 'load-chart',
      type: 'timeseries',
      title: 'Load average',
      channel: 'metrics',
      decimals: 2,
      series: [
        { field: 'load.0', label: '1 min' },
        { field: 'load.1', label: '5 min' },
        { field: 'load.2', label: '15 min' },
      ],
    },
    {
      id: 'network-chart',
      type: 'timeseries',
      title: 'Network',
      channel: 'metrics',
      unit: 'B/s',
      series: [
        { field: 'network.rxBytesPerSec', label: 'rx' },
        { field: 'network.txBytesPerSec', label: 'tx' },
      ],
    },
    {
      id: 'disk',
      type: 'table',
      title: 'Disk usage',
      channel: 'metrics',
      field: 'disk',
      columns: [
        { field: 'mount', label: 'Mount' },
        { field: 'used', label: 'Used', unit: 'B' },
        { field: 'size', label: 'Size', unit: 'B' },
        {
          field: 'usePercent',
          label: 'Use',
          unit: '%',
          bar: true,
          thresholds: [
            { value: 80, color: 'warning' },
            { value: 95, color: 'critical' },
          ],
        },
      ],
    },
    { id: 'alerts', type: 'alerts', title: 'Alerts', channel: 'alerts' },
  ],
};

function builtIn(json: unknown): DashboardConfig {
  const result = validateDashboardConfig(json);
  // The built-in config is code: if it does not validate, that is a bug to catch at startup, not at runtime.
  if (!result.ok) throw new Error(`built-in dashboard config is invalid:\n${result.error}`);
  return result.value;
}

/** The built-in host dashboard: CPU and memory gauges, charts for CPU, memory, load and network, disks, alerts. */
export const defaultDashboard: DashboardConfig = builtIn(hostDashboard);
