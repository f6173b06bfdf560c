import { isValidChannel, isValidMaxRate, MAX_RATE_RULE, type Result } from '@livedash/protocol';
import { isValidFieldPath } from './field-path.js';
import {
  type DashboardConfig,
  DashboardLimits,
  NAMED_COLORS,
  PANEL_MAX_RATES,
  PANEL_TYPES,
  type Panel,
  type PanelColor,
  type PanelType,
  type Series,
  type TableColumn,
  type Threshold,
  type ValueFormat,
} from './types.js';

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

/** A field path (the one rule in field-path.ts); an empty path, the whole message, only where allowed. */
function fieldPath(object: Json, key: string, path: string, problems: Problems, required: boolean): string {
  const value = object[key];
  if (value === undefined) {
    if (required)
      problems.add(`${path}.${key}`, 'required: a field path such as "cpu" or "disk.0.usePercent"');
    return '';
  }
  const valid = typeof value === 'string' && (value === '' ? !required : isValidFieldPath(value));
  if (!valid) {
    problems.add(
      `${path}.${key}`,
      `expected a field path of dot-separated names or indexes (like "disk.0.usePercent"), got ${describe(value)}`,
    );
    return '';
  }
  return value;
}

/** A panel's `maxRate`: a rate the server takes, null for every message, or the type's default. */
function maxRate(object: Json, path: string, problems: Problems, type: PanelType): number | null {
  const value = object.maxRate;
  if (value === undefined) return PANEL_MAX_RATES[type];
  if (value === null || isValidMaxRate(value)) return value;
  problems.add(
    `${path}.maxRate`,
    `expected ${MAX_RATE_RULE}, or null for every message, got ${describe(value)}`,
  );
  return PANEL_MAX_RATES[type];
}

export const HEX_COLOR = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;

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

const COMMON_KEYS = ['id', 'type', 'title', 'channel', 'width', 'unit', 'decimals', 'maxRate'];
/** The keys each panel type takes (the dashboard's JSON Schema is checked against these). */
export const PANEL_KEYS: Record<PanelType, readonly string[]> = {
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
    maxRate: maxRate(value, path, problems, panelType),
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
