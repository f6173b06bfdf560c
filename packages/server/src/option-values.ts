import { isValidChannel } from '@livedash/protocol';
import { type core, z } from 'zod';
import { isValidChannelPattern } from './auth/channel-grant.js';

/**
 * The value schemas every livedash option is built from (zod). Each carries one message that says
 * what is expected, bounds included, so a value out of bounds reads the same whether it came from
 * `createServer`, a flag, an environment variable or the config file:
 * `expected an integer from 8 to 10000, got 1`. `describeIssues` turns zod's issues into such lines.
 *
 * @example
 * const port = integer(0, 65_535);
 * describeIssues(port.safeParse(70_000).error!.issues, 'port'); // ['port: expected an integer from 0 to 65535, got 70000']
 */

/** A whole number from `min` to `max`. */
export function integer(min: number, max: number) {
  const error = `expected an integer from ${min} to ${max}`;
  return z.int({ error }).min(min, { error }).max(max, { error });
}

/** A finite number, at least `min` when given. */
export function finiteNumber(min?: number) {
  if (min === undefined) return z.number({ error: 'expected a number' });
  const error = `expected a number ≥ ${min}`;
  return z.number({ error }).min(min, { error });
}

export const boolean = () => z.boolean({ error: 'expected true or false' });

/** One of a few strings. */
export function oneOf<const T extends readonly [string, ...string[]]>(choices: T) {
  return z.enum(choices, { error: `expected one of ${choices.map((c) => JSON.stringify(c)).join(', ')}` });
}

/** A string that passes `test`; `expected` completes "expected …" in the message. */
export function text(test: (value: string) => boolean, expected: string) {
  const error = `expected ${expected}`;
  return z.string({ error }).refine(test, { error });
}

/** A string of 1–4096 characters (a path, a claim): `expected` says what it is. */
export const nonEmptyText = (expected: string) =>
  text((value) => value.length > 0 && value.length <= 4096, expected);

/** A list of at most `maxItems` entries. */
export function listOf<T extends z.ZodType>(item: T, maxItems: number) {
  return z
    .array(item, { error: 'expected an array' })
    .max(maxItems, { error: `expected at most ${maxItems} entries` });
}

/** `*`, a channel name, or a prefix ending in `*` (`sensors.*`). */
export const channelPattern = () =>
  text(isValidChannelPattern, '"*", a channel name, or a channel-name prefix ending in "*"');

export const channelName = () => text(isValidChannel, 'a channel name');

/** `*`, `null`, or exactly `scheme://host[:port]` (what browsers send in `Origin`). */
export function isOrigin(origin: string): boolean {
  if (origin === '*' || origin === 'null') return true;
  if (!/^https?:\/\/[^/?#\s]+$/i.test(origin)) return false;
  try {
    return new URL(origin).origin !== 'null';
  } catch {
    return false;
  }
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds from a duration string such as `"500ms"`, `"10s"`, `"5m"`, `"1h"`, `"7d"`; NaN otherwise. */
export function parseDuration(value: string): number {
  const match = DURATION.exec(value);
  return match ? Number(match[1]) * UNIT_MS[match[2]!]! : Number.NaN;
}

/** A duration from `minMs` to `maxMs`: milliseconds as a number, or a string like `"10s"`; yields ms. */
export function duration(minMs: number, maxMs: number) {
  const error = `expected a duration from ${formatMs(minMs)} to ${formatMs(maxMs)} (milliseconds, or a string like "10s", "5m")`;
  return z
    .union([z.number(), z.string().regex(DURATION, { error })], { error })
    .transform((value) => Math.round(typeof value === 'number' ? value : parseDuration(value)))
    .pipe(z.number().min(minMs, { error }).max(maxMs, { error }));
}

function formatMs(ms: number): string {
  if (ms === 0 || ms % 1000 !== 0) return `${ms} ms`;
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}

/**
 * One line per problem, `<where>: <what is wrong>, got <value>`, `where` being `prefix` followed by
 * the issue's path (`limits.maxHeaders`, `alerts[1].op`). An unknown key names the key that was
 * probably meant, else every key allowed there.
 *
 * @example
 * const result = schema.safeParse(json, { reportInput: true });
 * if (!result.success) console.error(describeIssues(result.error.issues, '').join('\n'));
 */
export function describeIssues(
  issues: readonly core.$ZodIssue[],
  prefix: string,
  schema?: z.ZodType,
): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    const where = joinPath(prefix, issue.path);
    if (issue.code === 'unrecognized_keys') {
      const known = schema ? keysAt(schema, issue.path) : [];
      for (const key of issue.keys)
        lines.push(`${joinPath(where, [key])}: ${describeUnknownKey(key, known)}`);
    } else if (!('input' in issue) || issue.input === undefined) {
      lines.push(`${where || '(top level)'}: required key missing`);
    } else if (issue.code === 'invalid_type' && (issue.expected === 'object' || issue.expected === 'array')) {
      lines.push(
        `${where || '(top level)'}: expected an ${issue.expected}, got ${describeValue(issue.input)}`,
      );
    } else if (issue.message.startsWith('expected')) {
      lines.push(`${where || '(top level)'}: ${issue.message}, got ${describeValue(issue.input)}`);
    } else {
      lines.push(`${where || '(top level)'}: ${issue.message}`);
    }
  }
  return lines;
}

/** The keys an object schema allows at `path` (through optional, default, pipe and array wrappers). */
export function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let current: z.ZodType | undefined = unwrap(schema);
  for (const segment of path) {
    if (current instanceof z.ZodObject) current = unwrap(current.shape[String(segment)] as z.ZodType);
    else if (current instanceof z.ZodArray) current = unwrap(current.element as z.ZodType);
    else return [];
  }
  return current instanceof z.ZodObject ? Object.keys(current.shape) : [];
}

function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  let current = schema;
  for (;;) {
    if (current instanceof z.ZodOptional || current instanceof z.ZodDefault)
      current = current.unwrap() as z.ZodType;
    else if (current instanceof z.ZodPipe) current = current.in as z.ZodType;
    else return current;
  }
}

function joinPath(prefix: string, path: readonly PropertyKey[]): string {
  let joined = prefix;
  for (const segment of path) {
    if (typeof segment === 'number') joined += `[${segment}]`;
    else joined += joined === '' ? String(segment) : `.${String(segment)}`;
  }
  return joined;
}

/** A value as a message shows it: strings quoted, long ones cut, objects and arrays named. */
export function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return shown.length > 60 ? `${shown.slice(0, 57)}…` : shown;
}

/** Names the key that was probably meant (a typo or a wrong case), else every key allowed there. */
function describeUnknownKey(key: string, known: readonly string[]): string {
  if (known.length === 0) return 'unknown key';
  const distances = known.map((candidate) => editDistance(key.toLowerCase(), candidate.toLowerCase()));
  const best = Math.min(...distances);
  const closest = known.filter((_, index) => distances[index] === best);
  if (best <= 2 && closest.length === 1) return `unknown key (did you mean "${closest[0]}"?)`;
  return `unknown key (expected one of ${known.join(', ')})`;
}

/** Levenshtein distance, for short keys only (callers compare option keys, a few dozen characters). */
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
