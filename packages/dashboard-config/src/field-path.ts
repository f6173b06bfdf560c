/**
 * Field paths: the one rule by which a dashboard panel, an alert rule and every other reader picks a
 * value out of a channel message (docs/dashboard.md, "Field paths").
 *
 * - Syntax: dot-separated segments of letters, digits, `_`, `$`, `:` and `-`, at most 256 characters
 *   (`cpu`, `network.rxBytesPerSec`, `disk.0.usePercent`). A key holding other characters is written
 *   in brackets, `requests[code=200,method=GET]` (a `]` inside it only within a "quoted" part), which
 *   is how a Prometheus label set is reached. An empty path is the whole message, where the reader
 *   allows one (a table's rows, a log's lines).
 * - Reading: only own properties are followed, so `__proto__.x` or `constructor` reads nothing; in an
 *   array a segment of digits is an index and any other segment (`length`) reads nothing.
 * - Numbers: a finite number, or a string holding one (`"21.5"`); anything else is no value.
 */

/** Longest field path accepted, characters. */
export const FIELD_PATH_MAX_LENGTH = 256;

const PLAIN = '[A-Za-z0-9_$:-]+';
const BRACKETED = '\\[(?:[^\\]"]|"(?:[^"\\\\]|\\\\.)*")+\\]';
/** The syntax of a non-empty field path (its length is bounded apart: `FIELD_PATH_MAX_LENGTH`). */
export const FIELD_PATH_PATTERN = new RegExp(`^(?:${PLAIN}|${BRACKETED})(?:\\.${PLAIN}|${BRACKETED})*$`);
/** One segment at a time: a plain one (after its dot) or a bracketed key. */
const SEGMENT = new RegExp(`\\.?(${PLAIN})|\\[((?:[^\\]"]|"(?:[^"\\\\]|\\\\.)*")+)\\]`, 'gy');

/**
 * True when `path` is a non-empty field path by the rule above.
 *
 * @example
 * isValidFieldPath('disk.0.usePercent'); // true
 * isValidFieldPath('disk..use'); // false
 */
export function isValidFieldPath(path: string): boolean {
  return path.length <= FIELD_PATH_MAX_LENGTH && FIELD_PATH_PATTERN.test(path);
}

// Paths come from the config (a few dozen) and are read for every point of every chart: split once.
const split = new Map<string, readonly string[]>();
function segmentsOf(path: string): readonly string[] {
  let segments = split.get(path);
  if (!segments) {
    segments = FIELD_PATH_PATTERN.test(path)
      ? Array.from(path.matchAll(SEGMENT), (match) => (match[1] ?? match[2]) as string)
      : path.split('.');
    if (split.size < 1000) split.set(path, segments);
  }
  return segments;
}

/**
 * Reads a field path from a message; `undefined` when the path leads nowhere.
 *
 * @example
 * readField({ load: [0.5, 0.4] }, 'load.1'); // 0.4
 * readField({ load: [0.5, 0.4] }, 'load.length'); // undefined
 */
export function readField(data: unknown, path: string): unknown {
  if (path === '') return data;
  let value: unknown = data;
  for (const segment of segmentsOf(path)) {
    if (Array.isArray(value)) {
      value = /^\d+$/.test(segment) ? value[Number(segment)] : undefined;
    } else if (typeof value === 'object' && value !== null && Object.hasOwn(value, segment)) {
      value = (value as Record<string, unknown>)[segment];
    } else {
      return undefined;
    }
  }
  return value;
}

/**
 * The field as a finite number (numeric strings count), or null: a gap in a chart, "no data" in a
 * gauge, no sample for an alert rule.
 *
 * @example
 * readNumber({ disk: [{ usePercent: 71.2 }] }, 'disk.0.usePercent'); // 71.2
 * readNumber({ cpu: '90' }, 'cpu'); // 90
 * readNumber({ cpu: 'hot' }, 'cpu'); // null
 */
export function readNumber(data: unknown, path: string): number | null {
  const value = readField(data, path);
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) ? number : null;
}
