import { channelName, describeIssues, duration, integer, listOf, text } from '@livedash/server';
import { z } from 'zod';
import { ScrapeDefaults, type ScrapeTarget } from './scrape-source.js';

/**
 * The `scrape` entries of the config file, and `--scrape` / `LIVEDASH_SCRAPE`, checked by one schema so
 * a flag and a file key accept exactly the same things with the same messages.
 */

/** More targets than this is a job for Prometheus itself, not a dashboard server. */
export const MAX_SCRAPE_TARGETS = 100;
const MAX_HEADERS = 32;

const isHttpUrl = (value: string): boolean => {
  if (value.length > 2048) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
};

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;

/** Request headers: names as HTTP allows, values without line breaks (which would split the request). */
const headersSchema = z
  .record(
    text((name) => HEADER_NAME.test(name), 'a header name'),
    text(
      (value) => value.length <= 8192 && !/[\r\n\0]/.test(value),
      'a header value of at most 8192 characters without line breaks',
    ),
    { error: 'expected an object of valid HTTP header names to text values' },
  )
  .refine((headers) => Object.keys(headers).length <= MAX_HEADERS, {
    error: `expected at most ${MAX_HEADERS} headers`,
  });

export const scrapeEntrySchema = z.strictObject({
  url: text(isHttpUrl, 'an http:// or https:// URL of a Prometheus exposition').describe(
    'The exposition, e.g. http://127.0.0.1:9100/metrics.',
  ),
  channel: channelName().optional().describe('Channel each scrape is published on (default "scrape").'),
  intervalMs: duration(100, 86_400_000).optional().describe('Time between scrapes (default 5s).'),
  timeoutMs: duration(100, 600_000)
    .optional()
    .describe('A scrape not answered by then fails (default the interval, at most 10s).'),
  headers: headersSchema.optional().describe('Extra request headers.'),
  maxBodyBytes: integer(1024, 256 * 1024 * 1024)
    .optional()
    .describe('A larger body fails the scrape (default 8 MiB).'),
});

export const scrapeListSchema = listOf(scrapeEntrySchema, MAX_SCRAPE_TARGETS);

type ScrapeEntry = z.output<typeof scrapeEntrySchema>;

/**
 * Fills what an entry leaves out (channel `scrape`, every 5 s, a timeout of at most 10 s and never
 * longer than the interval) and checks what only the whole list can: a timeout within its interval,
 * one target per channel.
 */
export function toScrapeTargets(
  entries: readonly ScrapeEntry[],
  path: string,
  errors: string[],
): ScrapeTarget[] {
  const channels = new Map<string, number>();
  return entries.map((entry, index) => {
    const intervalMs = entry.intervalMs ?? ScrapeDefaults.intervalMs;
    const timeoutMs = entry.timeoutMs ?? Math.min(ScrapeDefaults.timeoutMs, intervalMs);
    const channel = entry.channel ?? 'scrape';
    if (timeoutMs > intervalMs)
      errors.push(
        `${path}[${index}].timeoutMs: ${timeoutMs} ms is longer than intervalMs (${intervalMs} ms)`,
      );
    const earlier = channels.get(channel);
    if (earlier !== undefined)
      errors.push(`${path}[${index}].channel: "${channel}" is already scraped by ${path}[${earlier}]`);
    else channels.set(channel, index);
    return {
      url: entry.url,
      channel,
      intervalMs,
      timeoutMs,
      headers: { ...(entry.headers ?? {}) },
      maxBodyBytes: entry.maxBodyBytes ?? ScrapeDefaults.maxBodyBytes,
    };
  });
}

const FLAG_KEYS: Record<string, keyof ScrapeEntry> = {
  channel: 'channel',
  interval: 'intervalMs',
  timeout: 'timeoutMs',
  'max-body-bytes': 'maxBodyBytes',
};

/**
 * Reads `--scrape url[,channel=…][,interval=…][,timeout=…][,max-body-bytes=…]` (repeatable; the
 * environment's `LIVEDASH_SCRAPE` holds the same, separated by spaces). Durations are ms or `"5s"`.
 * Problems are prefixed by `source` (the flag or the variable).
 *
 * @example
 * parseScrapeFlags(['http://127.0.0.1:9100/metrics,channel=node,interval=1s']);
 * // { ok: true, value: [{ url: 'http://127.0.0.1:9100/metrics', channel: 'node', intervalMs: 1000, … }] }
 */
export function parseScrapeFlags(
  values: readonly string[],
  source = '--scrape',
): { ok: true; value: ScrapeTarget[] } | { ok: false; error: string } {
  if (values.length > MAX_SCRAPE_TARGETS) {
    return { ok: false, error: `${source}: at most ${MAX_SCRAPE_TARGETS} targets` };
  }
  const errors: string[] = [];
  const entries: ScrapeEntry[] = [];
  values.forEach((flag, index) => {
    const at = values.length === 1 ? source : `${source}[${index}]`;
    // Options follow the URL after a comma; a comma inside the URL stays part of it.
    const parts = flag.split(/,(?=[a-z-]+=)/);
    const entry: Record<string, unknown> = { url: parts[0] };
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
    const checked = scrapeEntrySchema.safeParse(entry, { reportInput: true });
    if (checked.success) entries.push(checked.data);
    else errors.push(...describeIssues(checked.error.issues, at, scrapeEntrySchema));
  });
  const targets = toScrapeTargets(entries, source, errors);
  return errors.length > 0 ? { ok: false, error: errors.join('\n') } : { ok: true, value: targets };
}
