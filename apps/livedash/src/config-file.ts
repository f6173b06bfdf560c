import { readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Result } from '@livedash/protocol';
import { describeIssues, type ServerOptions } from '@livedash/server';
import type { AlertRule, AppOptions } from './app-options.js';
import { configFileSchema, FILE_READ_KEYS } from './config-file-schema.js';
import { checkOneKeySource, readReferencedFiles } from './config-key-files.js';
import { OPTION_SOURCES } from './option-sources.js';
import { toScrapeTargets } from './sources/scrape/scrape-config.js';

/**
 * The config file (`livedash serve --config livedash.config.json`): JSON whose keys map onto
 * `ServerOptions`, validated strictly so a typo stops the server with a message naming the key, not a
 * silently ignored setting. docs/configuration.md lists every key.
 */

/**
 * What a config file sets: server options, the Redis broker settings that `createServer` takes beside
 * them (`brokerUrl`, `brokerPrefix`, `localChannels`), and the app's own (metrics, alerts, dashboard,
 * static files). Every key is a `startLivedash` option.
 */
export type ConfigFileOptions = Partial<ServerOptions> &
  Partial<AppOptions> & {
    brokerUrl?: string;
    brokerPrefix?: string;
    brokerSentinels?: string;
    brokerSentinelName?: string;
    brokerCluster?: string;
    brokerAckReplicas?: number;
    brokerAckTimeoutMs?: number;
    localChannels?: string[];
    requestTimeoutMs?: number;
    responseTimeoutMs?: number;
  };

/** A config file larger than this is surely not one; refuse it rather than read it all. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;
/** At most this many problems are listed; the rest are counted. */
const MAX_REPORTED_ERRORS = 20;

/**
 * Reads and validates a config file. The error is one line per problem, each starting with the file
 * path and naming the key: `livedash.config.json: alerts[1].threshold: expected a number, got "90"`.
 *
 * @example
 * const config = loadConfigFile('livedash.config.json');
 * if (!config.ok) { console.error(config.error); process.exit(1); }
 * const options = resolveOptions({ ...config.value, ...fromFlags });
 */
export function loadConfigFile(path: string): Result<ConfigFileOptions, string> {
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > MAX_CONFIG_FILE_BYTES) {
      return {
        ok: false,
        error: `${path}: file is ${size} bytes; a config file may be at most ${MAX_CONFIG_FILE_BYTES}`,
      };
    }
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return { ok: false, error: `${path}: cannot read the config file: ${(error as Error).message}` };
  }
  let json: unknown;
  try {
    // A byte-order mark is legal in a UTF-8 file but not in JSON; editors on Windows write one.
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    return { ok: false, error: `${path}: invalid JSON: ${describeJsonError(error as Error, text)}` };
  }
  const result = validateConfig(json, dirname(path));
  if (result.ok) return result;
  const lines = result.error.slice(0, MAX_REPORTED_ERRORS).map((line) => `${path}: ${line}`);
  const more = result.error.length - MAX_REPORTED_ERRORS;
  if (more > 0) lines.push(`${path}: …and ${more} more problem(s)`);
  return { ok: false, error: lines.join('\n') };
}

/**
 * Validates parsed config JSON and maps it onto `ServerOptions` keys (only those present). Every
 * problem found is listed, each as `<key path>: <what is wrong>`. Files the config names (key files,
 * dashboard, static directory) are read relative to `baseDir` once the rest is valid.
 *
 * @example
 * validateConfig({ port: '80' }); // { ok: false, error: ['port: expected an integer from 0 to 65535, got "80"'] }
 */
export function validateConfig(json: unknown, baseDir = process.cwd()): Result<ConfigFileOptions, string[]> {
  const parsed = configFileSchema.safeParse(json, { reportInput: true });
  if (!parsed.success) {
    const errors = describeIssues(parsed.error.issues, '', configFileSchema);
    // Names are compared on the entries as written too, so a clash is listed with the other problems.
    const alerts = (json as Fields | null)?.alerts;
    if (Array.isArray(alerts)) checkUniqueNames(alerts, errors);
    return { ok: false, error: errors };
  }
  const config = parsed.data as Fields;
  const errors: string[] = [];
  if (config.alerts) checkUniqueNames(config.alerts as AlertRule[], errors);
  if (config.jwt) checkOneKeySource(config.jwt as Fields, errors);
  const scrape = config.scrape
    ? toScrapeTargets(config.scrape as Parameters<typeof toScrapeTargets>[0], 'scrape', errors)
    : undefined;
  if (errors.length > 0) return { ok: false, error: errors };
  const options = toOptions(config);
  if (scrape) options.scrape = scrape;
  // Key and certificate files are read only once the whole file is known to be valid.
  const files = readReferencedFiles(config, baseDir, errors);
  if (errors.length > 0) return { ok: false, error: errors };
  return { ok: true, value: { ...options, ...files } };
}

/** Alert names identify alerts in the feed (and in alert ids), so two rules cannot share one. */
function checkUniqueNames(alerts: readonly unknown[], errors: string[]): void {
  const first = new Map<string, number>();
  alerts.forEach((alert, index) => {
    const name = (alert as Partial<AlertRule> | null)?.name;
    if (typeof name !== 'string') return;
    const earlier = first.get(name);
    if (earlier === undefined) first.set(name, index);
    else errors.push(`alerts[${index}].name: ${JSON.stringify(name)} is already used by alerts[${earlier}]`);
  });
}

// ── mapping onto the options ───────────────────────────────────────────────────

type Fields = Record<string, unknown>;

/** Copies every key the file set onto the option it names (`limits.maxHeaders` → `maxHeaders`). */
function toOptions(config: Fields): ConfigFileOptions {
  const options: Fields = {};
  for (const source of OPTION_SOURCES) {
    if (source.key === undefined || source.option.includes('.')) continue;
    if (FILE_READ_KEYS.has(source.key)) continue;
    const [section, key] = source.key.split('.') as [string, string | undefined];
    const value = key === undefined ? config[section] : (config[section] as Fields | undefined)?.[key];
    if (value !== undefined) options[source.option] = value;
  }
  if (config.transports)
    options.transports = { ws: true, sse: true, poll: true, ...(config.transports as Fields) };
  return options as ConfigFileOptions;
}

function describeJsonError(error: Error, text: string): string {
  const position = /at position (\d+)/.exec(error.message);
  if (!position) return error.message;
  const before = text.slice(0, Number(position[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `${error.message.replace(/ in JSON at position \d+.*$/, '')} at line ${line} column ${column}`;
}
