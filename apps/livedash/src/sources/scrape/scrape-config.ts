import { isValidChannel } from '@livedash/protocol';
import {
  type Check,
  duration,
  fail,
  integer,
  matching,
  type ObjectShape,
  object,
} from '../../config-schema.js';
import { ScrapeDefaults, type ScrapeTarget } from './scrape-source.js';

/**
 * The `scrape` entries of the config file, and `--scrape` / `LIVEDASH_SCRAPE`, checked by one shape so
 * a flag and a file key accept exactly the same things with the same messages.
 */

/** More targets than this is a job for Prometheus itself, not a dashboard server. */
export const MAX_SCRAPE_TARGETS = 100;
const MAX_HEADERS = 32;

const isHttpUrl = (text: string): boolean => {
  if (text.length > 2048) return false;
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
};

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;

/** Request headers: names as HTTP allows, values without line breaks (which would split the request). */
const headers: Check = (value, path, errors) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail(errors, path, 'expected an object of header names to values', value);
  }
  const entries = Object.entries(value);
  if (entries.length > MAX_HEADERS)
    return fail(errors, path, `expected at most ${MAX_HEADERS} headers`, value);
  const result: Record<string, string> = Object.create(null);
  const before = errors.length;
  for (const [name, text] of entries) {
    if (!HEADER_NAME.test(name)) errors.push(`${path}.${name}: not a valid header name`);
    else if (typeof text !== 'string' || text.length > 8192 || /[\r\n\0]/.test(text))
      fail(
        errors,
        `${path}.${name}`,
        'expected a header value of at most 8192 characters without line breaks',
        text,
      );
    else result[name] = text;
  }
  return errors.length === before ? result : undefined;
};

export const scrapeShape: ObjectShape = {
  fields: {
    url: matching(isHttpUrl, 'an http:// or https:// URL of a Prometheus exposition'),
    channel: matching(isValidChannel, 'a channel name'),
    intervalMs: duration(100, 86_400_000),
    timeoutMs: duration(100, 600_000),
    headers,
    maxBodyBytes: integer(1024, 256 * 1024 * 1024),
  },
  required: ['url'],
};

export const scrapeEntry: Check = object(scrapeShape);

type Fields = Record<string, unknown>;

/**
 * Fills what an entry leaves out (channel `scrape`, every 5 s, a timeout of at most 10 s and never
 * longer than the interval) and checks what only the whole list can: a timeout within its interval,
 * one target per channel.
 */
export function toScrapeTargets(entries: readonly Fields[], path: string, errors: string[]): ScrapeTarget[] {
  const channels = new Map<string, number>();
  return entries.map((entry, index) => {
    const intervalMs = (entry.intervalMs as number | undefined) ?? ScrapeDefaults.intervalMs;
    const timeoutMs =
      (entry.timeoutMs as number | undefined) ?? Math.min(ScrapeDefaults.timeoutMs, intervalMs);
    const channel = (entry.channel as string | undefined) ?? 'scrape';
    if (timeoutMs > intervalMs)
      errors.push(
        `${path}[${index}].timeoutMs: ${timeoutMs} ms is longer than intervalMs (${intervalMs} ms)`,
      );
    const earlier = channels.get(channel);
    if (earlier !== undefined)
      errors.push(`${path}[${index}].channel: "${channel}" is already scraped by ${path}[${earlier}]`);
    else channels.set(channel, index);
    return {
      url: entry.url as string,
      channel,
      intervalMs,
      timeoutMs,
      headers: { ...((entry.headers as Record<string, string> | undefined) ?? {}) },
      maxBodyBytes: (entry.maxBodyBytes as number | undefined) ?? ScrapeDefaults.maxBodyBytes,
    };
  });
}

const FLAG_KEYS: Record<string, string> = {
  channel: 'channel',
  interval: 'intervalMs',
  timeout: 'timeoutMs',
  'max-body-bytes': 'maxBodyBytes',
};

/**
 * Reads `--scrape url[,channel=…][,interval=…][,timeout=…][,max-body-bytes=…]` (repeatable; the
 * environment's `LIVEDASH_SCRAPE` holds the same, separated by spaces). Durations are ms or `"5s"`.
 *
 * @example
 * parseScrapeFlags(['http://127.0.0.1:9100/metrics,channel=node,interval=1s']);
 * // { ok: true, value: [{ url: 'http://127.0.0.1:9100/metrics', channel: 'node', intervalMs: 1000, … }] }
 */
export function parseScrapeFlags(
  values: readonly string[],
): { ok: true; value: ScrapeTarget[] } | { ok: false; error: string } {
  const errors: string[] = [];
  const entries: Fields[] = [];
  if (values.length > MAX_SCRAPE_TARGETS) {
    return { ok: false, error: `--scrape: at most ${MAX_SCRAPE_TARGETS} targets` };
  }
  values.forEach((text, index) => {
    const at = values.length === 1 ? '--scrape' : `--scrape[${index}]`;
    // Options follow the URL after a comma; a comma inside the URL stays part of it.
    const parts = text.split(/,(?=[a-z-]+=)/);
    const entry: Fields = { url: parts[0] };
    for (const part of parts.slice(1)) {
      const [key = '', ...rest] = part.split('=');
      const field = Object.hasOwn(FLAG_KEYS, key) ? FLAG_KEYS[key] : undefined;
      if (!field) {
        errors.push(`${at}: unknown option "${key}" (expected ${Object.keys(FLAG_KEYS).join(', ')})`);
        continue;
      }
      const raw = rest.join('=');
      entry[field] = field === 'channel' || !/^\d+$/.test(raw) ? raw : Number(raw);
    }
    const checked = scrapeEntry(entry, at, errors) as Fields | undefined;
    if (checked) entries.push(checked);
  });
  const targets = toScrapeTargets(entries, '--scrape', errors);
  return errors.length > 0 ? { ok: false, error: errors.join('\n') } : { ok: true, value: targets };
}
