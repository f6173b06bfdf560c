import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkCoreOptions, createServer, createServerOptionsSchema } from '@livedash/server';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SERVE_USAGE, serveOptions } from '../src/cli/serve.js';
import { startLivedash } from '../src/livedash.js';
import { OPTION_SOURCES, type OptionSource, valueFromText } from '../src/option-sources.js';

/**
 * Walks the table of options: for every option, its flag, its environment variable and its config
 * key give the same options for a good value and the same message for a bad one (and `createServer`
 * or `startLivedash` the same message too). A new row is covered as soon as it is added: an integer
 * option's samples come from its bounds; any other needs samples below, or this test says so.
 */

const dir = mkdtempSync(join(tmpdir(), 'livedash-sources-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fileAt = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const folderAt = (name: string) => {
  const path = join(dir, name);
  mkdirSync(path);
  return path;
};
const missing = join(dir, 'missing');
const notAFolder = fileAt('not-a-folder.txt', 'text');
const dashboard = fileAt(
  'dashboard.json',
  JSON.stringify({
    title: 'Shop',
    panels: [{ type: 'stat', title: 'Open', channel: 'shop', field: 'open' }],
  }),
);

interface Sample {
  /** Text of the flag and the variable; an integer option's are its maximum and one more. */
  good?: string;
  bad?: string;
  /** The config file's own form of the value, when it is not the text's. */
  file?: { good: unknown; bad: unknown };
  /** Options given alongside, from the same source, with their good samples. */
  with?: string[];
}

const scrapeUrl = 'http://127.0.0.1:9100/metrics';
const SAMPLES: Record<string, Sample> = {
  host: { good: 'dash.example.com', bad: 'a b' },
  node: { good: 'web-1', bad: '.web' },
  transports: {
    good: 'ws,sse',
    bad: 'ws,pigeon',
    file: { good: { poll: false }, bad: { pigeon: true } },
  },
  stateChannels: { good: 'prices,sensors.*', bad: 'a b' },
  allowAnonymous: { good: 'true', bad: 'maybe' },
  allowedOrigins: { good: 'https://dash.example.com,http://127.0.0.1:3000', bad: 'dash.example.com' },
  allowedHosts: { good: 'dash.example.com,.example.org', bad: 'http://dash.example.com' },
  trustProxy: { good: '10.0.0.0/8,loopback', bad: '10.0.0.0/40' },
  anonymousChannels: { good: 'public.*,metrics', bad: 'a b' },
  brokerUrl: { good: 'redis://127.0.0.1:6379', bad: 'http://127.0.0.1:6379' },
  brokerPrefix: { good: 'shop:', bad: 'a b' },
  brokerSentinels: { good: 'h1:26379,h2:26379', bad: 'h1:26379, h2:26379', with: ['brokerSentinelName'] },
  brokerSentinelName: { good: 'mymaster', bad: 'my master', with: ['brokerSentinels'] },
  brokerCluster: { good: 'h1:7000,h2:7000', bad: 'h1:7000, h2:7000' },
  localChannels: { good: 'metrics,local.*', bad: 'a b' },
  metricsIntervalMs: { good: '250', bad: '50' },
  scrape: {
    good: `${scrapeUrl},channel=node,interval=2s`,
    bad: 'ftp://127.0.0.1/metrics',
    file: {
      good: [{ url: scrapeUrl, channel: 'node', intervalMs: '2s' }],
      bad: [{ url: 'ftp://127.0.0.1/metrics' }],
    },
  },
  staticDir: { good: folderAt('static'), bad: notAFolder },
  dashboard: { good: dashboard, bad: missing },
  dashboards: { good: folderAt('dashboards'), bad: notAFolder },
  'jwt.secret': { good: 'a-secret-that-is-long-enough-0123456789', bad: 'x'.repeat(4097) },
  'jwt.publicKey': { good: fileAt('public.pem', 'PEM'), bad: missing },
  'jwt.jwks': { good: fileAt('jwks.json', '{"keys":[]}'), bad: fileAt('jwks-broken.json', '{"keys":') },
  'jwt.issuer': { good: 'https://issuer.example', bad: 'i'.repeat(4097), with: ['jwt.publicKey'] },
  'jwt.audience': { good: 'dashboards', bad: 'a'.repeat(4097), with: ['jwt.publicKey'] },
  'jwt.clockToleranceSec': { with: ['jwt.publicKey'] },
  'tls.cert': { good: fileAt('cert.pem', 'CERT'), bad: missing, with: ['tls.key'] },
  'tls.key': { good: fileAt('key.pem', 'KEY'), bad: missing, with: ['tls.cert'] },
};

const rowOf = (option: string) => OPTION_SOURCES.find((row) => row.option === option) as OptionSource;

/** An integer option's bounds, read from its schema. */
function bounds(row: OptionSource): { minimum: number; maximum: number } | undefined {
  if (row.form !== 'integer') return undefined;
  const json = z.toJSONSchema(row.value, { io: 'input', unrepresentable: 'any' }) as {
    type?: string;
    minimum?: number;
    maximum?: number;
  };
  if (json.type !== 'integer' || json.minimum === undefined || json.maximum === undefined) return undefined;
  return { minimum: json.minimum, maximum: json.maximum };
}

function samplesOf(row: OptionSource): Required<Pick<Sample, 'good' | 'bad'>> & Sample {
  const sample = SAMPLES[row.option] ?? {};
  const range = bounds(row);
  const good = sample.good ?? (range ? String(range.maximum) : undefined);
  const bad = sample.bad ?? (range ? String(range.maximum + 1) : undefined);
  if (good === undefined || bad === undefined)
    throw new Error(`option ${row.option}: add a good and a bad sample to SAMPLES in this test`);
  return { ...sample, good, bad };
}

type Source = 'flag' | 'env' | 'file';

/** Runs `livedash serve`'s option assembly with `option` (and its companions) given by one source. */
function serveWith(source: Source, option: string, kind: 'good' | 'bad', name: string) {
  const args: string[] = [];
  const env: Record<string, string> = { LIVEDASH_PUBLISH_TOKEN: 'p' };
  const config: Record<string, Record<string, unknown> | unknown> = {};
  const main = rowOf(option);
  const given = [
    [main, kind] as const,
    ...(samplesOf(main).with ?? []).map((other) => [rowOf(other), 'good'] as const),
  ];
  for (const [row, which] of given) {
    const sample = samplesOf(row);
    const text = sample[which];
    if (source === 'flag') {
      if (row.form === 'boolean') args.push(`--${row.flag}`);
      else args.push(`--${row.flag}`, text);
    } else if (source === 'env') {
      env[row.env as string] = text;
    } else {
      const value = sample.file ? sample.file[which] : valueFromText(row.form, text);
      const [first, second] = (row.key as string).split('.') as [string, string | undefined];
      if (second === undefined) config[first] = value;
      else config[first] = { ...(config[first] as object), [second]: value };
    }
  }
  const path = join(dir, `${name}.json`);
  if (source === 'file') {
    writeFileSync(path, JSON.stringify(config));
    args.push('--config', path);
  }
  const err: string[] = [];
  const result = serveOptions(args, { out: () => {}, err: (line) => err.push(line), env });
  return { result, err: err.join('\n'), path };
}

/** Where each source names the option at the start of its message. */
function prefixOf(row: OptionSource, source: Source, path: string): string {
  if (source === 'flag') return `livedash serve: --${row.flag}`;
  if (source === 'env') return `livedash serve: ${row.env}`;
  return `livedash serve: invalid config file\n${path}: ${row.key}`;
}

const walked = OPTION_SOURCES.map((row) => {
  const sources = (['flag', 'env', 'file'] as const).filter(
    (source) => (source === 'flag' ? row.flag : source === 'env' ? row.env : row.key) !== undefined,
  );
  return { row, sources };
}).filter(({ sources }) => sources.length >= 2);
const coreOptions = new Set(Object.keys(createServerOptionsSchema.shape));
const appOptions = new Set(['metricsIntervalMs', 'staticDir', 'dashboards']);

describe('every option from every source', () => {
  it('walks every option that two sources can set', () => {
    expect(walked.length).toBeGreaterThanOrEqual(45);
  });

  for (const { row, sources } of walked) {
    const name = row.option.replaceAll('.', '-');
    it(`${row.option}: ${sources.join(', ')} give the same options for a good value`, () => {
      const results = sources.map((source) => {
        const { result, err } = serveWith(source, row.option, 'good', `${name}-good-${source}`);
        expect(err, `${row.option} by ${source}`).toBe('');
        return result.ok ? result.options : undefined;
      });
      const baseline = serveOptions([], {
        out: () => {},
        err: () => {},
        env: { LIVEDASH_PUBLISH_TOKEN: 'p' },
      });
      for (const options of results.slice(1)) expect(options).toEqual(results[0]);
      expect(results[0]).not.toEqual(baseline.ok && baseline.options);
    });

    it(`${row.option}: ${sources.join(', ')} refuse a bad value with the same message, as code does`, async () => {
      const sample = samplesOf(row);
      const rests = new Map<Source, string>();
      for (const source of sources) {
        if (source === 'flag' && row.form === 'boolean') continue; // a switch has no bad value
        const { result, err, path } = serveWith(source, row.option, 'bad', `${name}-bad-${source}`);
        expect(result.ok, `${row.option} by ${source}`).toBe(false);
        const prefix = prefixOf(row, source, path);
        expect(err.startsWith(prefix), `${err}\nshould start with\n${prefix}`).toBe(true);
        if (source === 'file' && sample.file) continue; // the file writes it in its own form
        rests.set(source, err.slice(prefix.length));
      }
      const [first, ...others] = [...rests.values()];
      expect(first).toMatch(/^[.[:]/);
      for (const rest of others) expect(rest).toBe(first);
      const range = bounds(row);
      if (range) expect(first).toContain(`from ${range.minimum} to ${range.maximum}`);
      // Code that passes the same value gets the same message, at the call.
      const value = valueFromText(row.form, sample.bad);
      const schemaRefuses = !row.value.safeParse(value).success;
      if (!schemaRefuses || sample.file || row.option.includes('.')) return;
      if (coreOptions.has(row.option)) {
        expect(() => createServer({ [row.option]: value })).toThrow(
          `invalid livedash options: ${row.option}${first}`,
        );
        expect(() =>
          checkCoreOptions({ [row.option]: row.value.parse(valueFromText(row.form, sample.good)) }),
        ).not.toThrow();
      } else if (appOptions.has(row.option)) {
        expect(() => startLivedash({ [row.option]: value })).toThrow(
          `invalid livedash options: ${row.option}${first}`,
        );
      }
    });
  }
});

describe('every option is documented', () => {
  const docs = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
  it('each flag, variable and config key appears in docs/configuration.md, each flag in livedash serve --help', () => {
    for (const row of OPTION_SOURCES) {
      const names = [
        ...(row.flag === undefined ? [] : [`\`--${row.flag}`]),
        ...(row.env === undefined ? [] : [`\`${row.env}`]),
        ...(row.key === undefined ? [] : [`\`${row.key}`]),
      ];
      for (const name of names) expect(docs.includes(name), `${name} in docs/configuration.md`).toBe(true);
      if (row.flag !== undefined)
        expect(SERVE_USAGE.includes(`--${row.flag}`), `--${row.flag} in livedash serve --help`).toBe(true);
    }
  });
});
