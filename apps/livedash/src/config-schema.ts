/**
 * A tiny schema checker for the config file: each `Check` validates one value at a key path and
 * pushes a message naming the path and what is wrong. Enough for one JSON file; no dependency needed.
 *
 * @example
 * const errors: string[] = [];
 * const port = integer(0, 65_535)('8080', 'port', errors);
 * // port === undefined; errors: ['port: expected an integer from 0 to 65535, got "8080"']
 */

/** Checks one value at `path`; pushes what is wrong to `errors` and returns undefined when invalid. */
export type Check = (value: unknown, path: string, errors: string[]) => unknown;

export const integer =
  (min: number, max: number): Check =>
  (value, path, errors) => {
    if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
    return fail(errors, path, `expected an integer from ${min} to ${max}`, value);
  };

export const finiteNumber =
  (min = Number.NEGATIVE_INFINITY): Check =>
  (value, path, errors) => {
    if (typeof value === 'number' && Number.isFinite(value) && value >= min) return value;
    return fail(
      errors,
      path,
      min === Number.NEGATIVE_INFINITY ? 'expected a number' : `expected a number ≥ ${min}`,
      value,
    );
  };

export const boolean: Check = (value, path, errors) =>
  typeof value === 'boolean' ? value : fail(errors, path, 'expected true or false', value);

export const oneOf =
  (choices: readonly string[]): Check =>
  (value, path, errors) =>
    typeof value === 'string' && choices.includes(value)
      ? value
      : fail(errors, path, `expected one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`, value);

export const matching =
  (test: (value: string) => boolean, expected: string): Check =>
  (value, path, errors) =>
    typeof value === 'string' && test(value) ? value : fail(errors, path, `expected ${expected}`, value);

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration: milliseconds as a number, or a string such as `"500ms"`, `"10s"`, `"5m"`, `"1h"`, `"7d"`. */
export const duration =
  (minMs: number, maxMs: number): Check =>
  (value, path, errors) => {
    const match = typeof value === 'string' ? DURATION.exec(value) : null;
    const ms =
      typeof value === 'number' ? value : match ? Number(match[1]) * UNIT_MS[match[2]!]! : Number.NaN;
    if (Number.isFinite(ms) && ms >= minMs && ms <= maxMs) return Math.round(ms);
    const range = `from ${formatMs(minMs)} to ${formatMs(maxMs)}`;
    return fail(
      errors,
      path,
      `expected a duration ${range} (milliseconds, or a string like "10s", "5m")`,
      value,
    );
  };

export interface ObjectShape {
  fields: Record<string, Check>;
  required?: readonly string[];
  /** Keys that are refused with a specific hint instead of "unknown key". */
  refused?: Record<string, string>;
}

export const object =
  (shape: ObjectShape): Check =>
  (value, path, errors) =>
    checkObject(value, path, shape, errors);

export const arrayOf =
  (item: Check, maxItems: number): Check =>
  (value, path, errors) => {
    if (!Array.isArray(value)) return fail(errors, path, 'expected an array', value);
    if (value.length > maxItems)
      return fail(errors, path, `expected at most ${maxItems} entries`, `${value.length} entries`);
    const items = value.map((entry, index) => item(entry, `${path}[${index}]`, errors));
    return items.includes(undefined) ? undefined : items;
  };

export function checkObject(
  value: unknown,
  path: string,
  shape: ObjectShape,
  errors: string[],
): Record<string, unknown> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail(errors, path || '(top level)', 'expected an object', value);
  }
  const before = errors.length;
  // No prototype: a key such as `__proto__` in the file can only ever be an unknown key here.
  const result: Record<string, unknown> = Object.create(null);
  const known = Object.keys(shape.fields);
  for (const [key, entry] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    const check = Object.hasOwn(shape.fields, key) ? shape.fields[key] : undefined;
    if (check) result[key] = check(entry, at, errors);
    else if (shape.refused && Object.hasOwn(shape.refused, key)) errors.push(`${at}: ${shape.refused[key]}`);
    else errors.push(`${at}: ${describeUnknownKey(key, known)}`);
  }
  for (const key of shape.required ?? []) {
    if (!Object.hasOwn(value, key)) errors.push(`${path ? `${path}.` : ''}${key}: required key missing`);
  }
  return errors.length === before ? result : undefined;
}

/** Names the key that was probably meant (a typo or a wrong case), else every key allowed there. */
function describeUnknownKey(key: string, known: readonly string[]): string {
  const distances = known.map((candidate) => editDistance(key.toLowerCase(), candidate.toLowerCase()));
  const best = Math.min(...distances);
  const closest = known.filter((_, index) => distances[index] === best);
  if (best <= 2 && closest.length === 1) return `unknown key (did you mean "${closest[0]}"?)`;
  return `unknown key (expected one of ${known.join(', ')})`;
}

/** Levenshtein distance, for short keys only (callers compare config keys, a few dozen characters). */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2 || a.length > 64 || b.length > 64) return Number.POSITIVE_INFINITY;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

export function fail(errors: string[], path: string, expected: string, got: unknown): undefined {
  errors.push(`${path}: ${expected}, got ${describeValue(got)}`);
  return undefined;
}

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

function formatMs(ms: number): string {
  if (ms === 0 || ms % 1000 !== 0) return `${ms} ms`;
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}
