import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultDashboard } from '@livedash/dashboard-config';
import { defaultOptions, resolveOptions } from '@livedash/server';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveAppOptions } from '../src/app-options.js';
import { runServe, serveOptions } from '../src/cli/serve.js';
import { loadConfigFile, MAX_CONFIG_FILE_BYTES, validateConfig } from '../src/config-file.js';

const dir = mkdtempSync(join(tmpdir(), 'livedash-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
function writeConfig(content: string): string {
  const path = join(dir, `livedash.config.${++fileCount}.json`);
  writeFileSync(path, content);
  return path;
}

/** The error lines for `config`, without the file path prefix. */
function errorsOf(config: unknown): string[] {
  const result = validateConfig(config);
  if (result.ok) throw new Error(`expected ${JSON.stringify(config)} to be invalid`);
  return result.error;
}

const examplePath = fileURLToPath(new URL('../../../livedash.config.example.json', import.meta.url));

describe('loadConfigFile', () => {
  it('accepts the example config at the repository root and maps it onto the server and app options', () => {
    const result = loadConfigFile(examplePath);
    if (!result.ok) throw new Error(result.error);
    const options = { ...resolveOptions(result.value), ...resolveAppOptions(result.value) };
    expect(options).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      node: 'web-1',
      heartbeatMs: 15_000,
      maxFrameBytes: 65_536,
      maxQueueBytes: 1_048_576,
      metricsIntervalMs: 1000,
      transports: { ws: true, sse: true, poll: true },
    });
    expect(options.history[0]).toEqual({ pattern: 'metrics*', maxMessages: 1000, maxAgeMs: 900_000 });
    expect(options.history[1]).toEqual({ pattern: 'alerts', maxMessages: 1000, maxAgeMs: 86_400_000 });
    expect(options.alerts[0]).toEqual({
      name: 'cpu-high',
      channel: 'metrics',
      field: 'cpu',
      op: '>',
      threshold: 90,
      forMs: 10_000,
      hysteresis: 5,
      severity: 'warning',
    });
    expect(options.alerts.map((rule) => rule.channel)).toContain('service.checkout');
  });

  it('has a key for every server and app option except the ones kept out on purpose', () => {
    const keys = mkdtempSync(join(dir, 'keys-'));
    for (const file of ['jwt.pem', 'cert.pem', 'key.pem']) writeFileSync(join(keys, file), 'PEM');
    writeFileSync(join(keys, 'dashboard.json'), JSON.stringify(defaultDashboard));
    const example = JSON.parse(readFileSync(examplePath, 'utf8')) as Record<string, unknown>;
    const configPath = join(keys, 'livedash.config.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        ...example,
        anonymousChannels: ['metrics'],
        jwt: { publicKeyFile: 'jwt.pem' },
        tls: { certFile: 'cert.pem', keyFile: 'key.pem' },
        dashboard: 'dashboard.json',
        dashboards: '.',
        staticDir: '.',
      }),
    );
    const result = loadConfigFile(configPath);
    if (!result.ok) throw new Error(result.error);
    const configurable = new Set(Object.keys(result.value));
    // A new server option fails this test until it gets a config key (and a row in docs/configuration.md)
    // or joins this list with a reason (the publish token is a secret: environment only).
    const options = [...Object.keys(defaultOptions()), ...Object.keys(resolveAppOptions())];
    const keptOut = options.filter((key) => !configurable.has(key));
    expect(keptOut).toEqual(['publishToken']);
    expect(result.value.staticDir).toBe(keys);
    expect(result.value.dashboards).toBe(keys);
  });

  it('maps an empty file to no options at all, so every default stays', () => {
    const result = loadConfigFile(writeConfig('{}'));
    expect(result).toEqual({ ok: true, value: {} });
  });

  it('fills what an alert or history entry leaves out', () => {
    const result = validateConfig({
      alerts: [{ name: 'queue-deep', channel: 'jobs', field: 'depth', op: '>=', threshold: 1000 }],
      history: [{ pattern: 'jobs' }],
      metrics: { intervalMs: 0 },
      transports: { ws: false },
    });
    expect(result).toEqual({
      ok: true,
      value: {
        alerts: [
          {
            name: 'queue-deep',
            channel: 'jobs',
            field: 'depth',
            op: '>=',
            threshold: 1000,
            forMs: 0,
            hysteresis: 0,
            severity: 'warning',
          },
        ],
        history: [{ pattern: 'jobs', maxMessages: 1000, maxAgeMs: 300_000 }],
        metricsIntervalMs: 0,
        transports: { ws: false, sse: true, poll: true },
      },
    });
  });

  it('maps the broker section onto the Redis settings createServer takes', () => {
    const broker = {
      url: 'redis://127.0.0.1:6379/2',
      prefix: 'staging:',
      localChannels: ['metrics', 'scratch.*'],
    };
    expect(validateConfig({ broker })).toEqual({
      ok: true,
      value: { brokerUrl: broker.url, brokerPrefix: 'staging:', localChannels: ['metrics', 'scratch.*'] },
    });
    expect(
      errorsOf({
        broker: { url: 'http://redis:6379', prefix: 'has space', localChannels: ['ok', 'not ok'] },
      }),
    ).toEqual([
      'broker.url: expected a redis:// or rediss:// URL, got "http://redis:6379"',
      'broker.prefix: expected 1–64 printable characters without spaces, got "has space"',
      'broker.localChannels[1]: expected "*", a channel name, or a channel-name prefix ending in "*", got "not ok"',
    ]);
  });

  it('maps the security keys onto ServerOptions', () => {
    const result = validateConfig({
      allowAnonymous: true,
      allowedOrigins: ['https://dash.example.com', 'http://localhost:5173', '*'],
      trustProxy: ['10.0.0.0/8', '::1'],
      allowedHosts: ['dash.example.com', '.corp.example', '*.apps.example', '10.0.0.5', '[::1]', 'all'],
      anonymousChannels: ['metrics*', 'alerts'],
      stateChannels: ['metrics', 'metrics.*', 'prices.*'],
      limits: {
        maxConnectionsPerIp: 10,
        maxSseStreamsPerIp: 4,
        framesPerSec: 20,
        frameBurst: 40,
        maxHeaderBytes: 8192,
        maxHeaders: 32,
        maxHistoryMessages: 500,
        maxChannels: 2000,
        maxHistoryBytes: 16_777_216,
        maxDiscardBytes: 1_048_576,
        maxDiscardMs: 2000,
      },
    });
    expect(result).toEqual({
      ok: true,
      value: {
        allowAnonymous: true,
        allowedOrigins: ['https://dash.example.com', 'http://localhost:5173', '*'],
        trustProxy: ['10.0.0.0/8', '::1'],
        allowedHosts: ['dash.example.com', '.corp.example', '*.apps.example', '10.0.0.5', '[::1]', 'all'],
        anonymousChannels: ['metrics*', 'alerts'],
        stateChannels: ['metrics', 'metrics.*', 'prices.*'],
        maxConnectionsPerIp: 10,
        maxSseStreamsPerIp: 4,
        framesPerSec: 20,
        frameBurst: 40,
        maxHeaderBytes: 8192,
        maxHeaders: 32,
        maxHistoryMessages: 500,
        maxChannels: 2000,
        maxHistoryBytes: 16_777_216,
        maxDiscardBytes: 1_048_576,
        maxDiscardMs: 2000,
      },
    });
    expect(errorsOf({ allowedOrigins: ['https://dash.example.com/app', 'dash.example.com'] })).toEqual([
      'allowedOrigins[0]: expected "*" or an origin such as "https://dash.example.com", got "https://dash.example.com/app"',
      'allowedOrigins[1]: expected "*" or an origin such as "https://dash.example.com", got "dash.example.com"',
    ]);
    expect(errorsOf({ allowedHosts: ['https://dash.example.com', 'dash.example.com:443'] })).toEqual([
      'allowedHosts[0]: expected a host name such as "dash.example.com", ".example.com" (it and every name under it), "*.example.com" (the names under it), an IP address, or "*", got "https://dash.example.com"',
      'allowedHosts[1]: expected a host name such as "dash.example.com", ".example.com" (it and every name under it), "*.example.com" (the names under it), an IP address, or "*", got "dash.example.com:443"',
    ]);
    expect(errorsOf({ trustProxy: ['10.0.0.0/40'] })).toEqual([
      'trustProxy[0]: expected an IP address, a CIDR such as "10.0.0.0/8", or "loopback", got "10.0.0.0/40"',
    ]);
    expect(errorsOf({ limits: { framesPerSec: 0 } })).toEqual([
      'limits.framesPerSec: expected an integer from 1 to 100000, got 0',
    ]);
  });

  it('reads JWT key and TLS files relative to the config file', () => {
    const keys = mkdtempSync(join(dir, 'keys-'));
    writeFileSync(join(keys, 'jwt.pem'), '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n');
    writeFileSync(join(keys, 'cert.pem'), 'CERT');
    writeFileSync(join(keys, 'key.pem'), 'KEY');
    writeFileSync(join(keys, 'jwks.json'), JSON.stringify({ keys: [{ kty: 'EC', kid: 'k1' }] }));
    const configPath = join(keys, 'livedash.config.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        jwt: {
          publicKeyFile: 'jwt.pem',
          issuer: 'https://id.example',
          audience: 'livedash',
          clockToleranceSec: 5,
        },
        tls: { certFile: 'cert.pem', keyFile: join(keys, 'key.pem') },
      }),
    );
    expect(loadConfigFile(configPath)).toEqual({
      ok: true,
      value: {
        jwt: {
          publicKey: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n',
          issuer: 'https://id.example',
          audience: 'livedash',
          clockToleranceSec: 5,
        },
        tls: { cert: 'CERT', key: 'KEY' },
      },
    });
    writeFileSync(configPath, JSON.stringify({ jwt: { jwksFile: 'jwks.json' } }));
    expect(loadConfigFile(configPath)).toEqual({
      ok: true,
      value: { jwt: { jwks: { keys: [{ kty: 'EC', kid: 'k1' }] } } },
    });
  });

  it('names the key of a dashboard, dashboards folder or static directory that cannot be used', () => {
    const configPath = writeConfig(
      JSON.stringify({ dashboard: 'nope.json', dashboards: 'no-folder', staticDir: 'missing-dir' }),
    );
    const result = loadConfigFile(configPath);
    const lines = result.ok ? [] : result.error.split('\n');
    expect(lines[0]).toMatch(
      new RegExp(`^${escapeRegExp(configPath)}: dashboard: .*nope\\.json: cannot read the dashboard config`),
    );
    expect(lines[1]).toBe(`${configPath}: dashboards: ${join(dir, 'no-folder')} is not a directory`);
    expect(lines.at(-1)).toBe(`${configPath}: staticDir: ${join(dir, 'missing-dir')} is not a directory`);
  });

  it('names the key of a JWT or TLS setting that cannot be used', () => {
    const keys = mkdtempSync(join(dir, 'keys-'));
    writeFileSync(join(keys, 'not-jwks.json'), '{"kty": "EC"}');
    const configPath = join(keys, 'livedash.config.json');
    const errors = (config: unknown) => {
      writeFileSync(configPath, JSON.stringify(config));
      const result = loadConfigFile(configPath);
      return result.ok ? [] : result.error.split('\n').map((line) => line.slice(configPath.length + 2));
    };
    expect(
      errors({ jwt: { publicKeyFile: 'missing.pem' }, tls: { certFile: 'c.pem', keyFile: 'k.pem' } }),
    ).toEqual([
      `jwt.publicKeyFile: cannot read ${join(keys, 'missing.pem')}: ENOENT`,
      `tls.certFile: cannot read ${join(keys, 'c.pem')}: ENOENT`,
      `tls.keyFile: cannot read ${join(keys, 'k.pem')}: ENOENT`,
    ]);
    expect(errors({ jwt: { jwksFile: 'not-jwks.json' } })).toEqual([
      'jwt.jwksFile: expected a JSON Web Key Set ({"keys": [...]})',
    ]);
    expect(errors({ jwt: { secret: 'x'.repeat(40) } })).toEqual([
      'jwt.secret: not read from the config file, so the secret stays out of files that get committed; set LIVEDASH_JWT_SECRET',
    ]);
    expect(errors({ jwt: { issuer: 'https://id.example' } })).toEqual([
      'jwt: expected publicKeyFile or jwksFile (an HS256 secret comes from LIVEDASH_JWT_SECRET, not the file)',
    ]);
    expect(errors({ jwt: { publicKeyFile: 'a.pem', jwksFile: 'b.json' } })).toEqual([
      'jwt: expected only one of publicKeyFile and jwksFile',
    ]);
    expect(errors({ tls: { certFile: 'c.pem' } })).toEqual(['tls.keyFile: required key missing']);
  });

  it('reads durations as milliseconds or as strings with a unit', () => {
    const ages = ['1500ms', '90s', '2.5m', '1h', '7d', 60_000].map((maxAge) => {
      const result = validateConfig({ history: [{ pattern: '*', maxAge }] });
      return result.ok ? result.value.history?.[0]?.maxAgeMs : result.error;
    });
    expect(ages).toEqual([1500, 90_000, 150_000, 3_600_000, 604_800_000, 60_000]);
  });

  it('names the file when it cannot be read', () => {
    const missing = join(dir, 'nope.json');
    const result = loadConfigFile(missing);
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.error).toMatch(
        new RegExp(`^${escapeRegExp(missing)}: cannot read the config file: ENOENT`),
      );
    const directory = loadConfigFile(dir);
    expect(!directory.ok && directory.error.startsWith(`${dir}: cannot read the config file:`)).toBe(true);
  });

  it('names the file, line and column of invalid JSON', () => {
    const path = writeConfig('{\n  "port": 8080,\n}\n');
    const result = loadConfigFile(path);
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.error).toMatch(
        new RegExp(`^${escapeRegExp(path)}: invalid JSON: .* at line 3 column 1$`),
      );
    const empty = loadConfigFile(writeConfig(''));
    expect(!empty.ok && empty.error.includes('invalid JSON')).toBe(true);
  });

  it('accepts a UTF-8 byte-order mark and refuses files over the size limit', () => {
    expect(loadConfigFile(writeConfig('\uFEFF{"port": 9000}'))).toEqual({ ok: true, value: { port: 9000 } });
    const huge = loadConfigFile(writeConfig(`{"node": "${'x'.repeat(MAX_CONFIG_FILE_BYTES)}"}`));
    expect(!huge.ok && huge.error.includes('a config file may be at most')).toBe(true);
  });

  it('prefixes every problem with the file path, one per line', () => {
    const path = writeConfig(JSON.stringify({ port: '8080', host: '', limits: { maxFrameByte: 1 } }));
    const result = loadConfigFile(path);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.split('\n')).toEqual([
        `${path}: port: expected an integer from 0 to 65535, got "8080"`,
        `${path}: host: expected a host name or IP address, got ""`,
        `${path}: limits.maxFrameByte: unknown key (did you mean "maxFrameBytes"?)`,
      ]);
    }
  });

  it('lists at most 20 problems and counts the rest', () => {
    const alerts = Array.from({ length: 25 }, (_, i) => ({
      name: `a${i}`,
      field: 'cpu',
      op: '>',
      threshold: 'x',
    }));
    const result = loadConfigFile(writeConfig(JSON.stringify({ alerts })));
    const lines = result.ok ? [] : result.error.split('\n');
    expect(lines).toHaveLength(21);
    expect(lines[20]).toMatch(/…and 5 more problem\(s\)$/);
  });
});

describe('validateConfig error messages', () => {
  it('wrong types name the key path and show the value', () => {
    const alerts = [
      { name: 'cpu-high', field: 'cpu', op: '>', threshold: 90 },
      { name: 'memory-high', field: 'memory', op: '>', threshold: '90' },
    ];
    expect(errorsOf({ alerts })).toEqual(['alerts[1].threshold: expected a number, got "90"']);
    expect(errorsOf({ transports: { sse: 'yes' } })).toEqual([
      'transports.sse: expected true or false, got "yes"',
    ]);
    expect(errorsOf({ limits: [] })).toEqual(['limits: expected an object, got an array']);
    expect(errorsOf({ history: { pattern: '*' } })).toEqual(['history: expected an array, got an object']);
    expect(errorsOf({ node: null })).toEqual([
      'node: expected a node name: letters, digits and _ . : - (at most 120, not starting with . : -), got null',
    ]);
    expect(errorsOf([])).toEqual(['(top level): expected an object, got an array']);
  });

  it('out-of-range values say the range', () => {
    expect(errorsOf({ port: 70_000 })).toEqual(['port: expected an integer from 0 to 65535, got 70000']);
    expect(errorsOf({ limits: { maxSubscriptions: 0 } })).toEqual([
      'limits.maxSubscriptions: expected an integer from 1 to 100000, got 0',
    ]);
    expect(errorsOf({ heartbeatMs: 1.5 })).toEqual([
      'heartbeatMs: expected an integer from 100 to 3600000, got 1.5',
    ]);
    expect(errorsOf({ metrics: { intervalMs: 10 } })).toEqual([
      'metrics.intervalMs: expected 0 (off) or an integer from 100 to 3600000, got 10',
    ]);
    expect(
      errorsOf({ alerts: [{ name: 'x', field: 'cpu', op: '>', threshold: 1, hysteresis: -1 }] }),
    ).toEqual(['alerts[0].hysteresis: expected a number ≥ 0, got -1']);
    expect(errorsOf({ history: [{ pattern: '*', maxAge: '5 minutes' }] })).toEqual([
      'history[0].maxAge: expected a duration from 1s to 30d (milliseconds, or a string like "10s", "5m"), got "5 minutes"',
    ]);
    expect(errorsOf({ history: [{ pattern: '*', maxAge: 10 }] })[0]).toMatch(
      /^history\[0\]\.maxAge: expected a duration/,
    );
  });

  it('unknown keys are refused, naming what is allowed', () => {
    expect(errorsOf({ prot: 8080 })).toEqual(['prot: unknown key (did you mean "port"?)']);
    expect(errorsOf({ PORT: 8080 })).toEqual(['PORT: unknown key (did you mean "port"?)']);
    expect(errorsOf({ colour: 'blue' })[0]).toMatch(
      /^colour: unknown key \(expected one of port, host, node, /,
    );
    expect(errorsOf({ alerts: [{ name: 'x', field: 'cpu', op: '>', threshold: 1, forMs: 1000 }] })).toEqual([
      'alerts[0].forMs: unknown key (did you mean "for"?)',
    ]);
    expect(errorsOf({ publishToken: 's3cret' })).toEqual([
      'publishToken: not read from the config file, so the token stays out of files that get committed; set LIVEDASH_PUBLISH_TOKEN',
    ]);
  });

  it('a __proto__ key is an unknown key and pollutes nothing', () => {
    const parsed: unknown = JSON.parse(
      '{"__proto__": {"polluted": true}, "limits": {"__proto__": {"port": 1}}}',
    );
    expect(errorsOf(parsed)).toEqual([
      expect.stringMatching(/^limits\.__proto__: unknown key/),
      expect.stringMatching(/^__proto__: unknown key/),
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('bad patterns, channels, field paths and enums say what is expected', () => {
    expect(errorsOf({ history: [{ pattern: 'a b*' }, { pattern: '$sys' }, { pattern: '**' }] })).toEqual([
      'history[0].pattern: expected "*", a channel name, or a channel-name prefix ending in "*", got "a b*"',
      'history[1].pattern: expected "*", a channel name, or a channel-name prefix ending in "*", got "$sys"',
      'history[2].pattern: expected "*", a channel name, or a channel-name prefix ending in "*", got "**"',
    ]);
    const alert = { name: 'x', field: 'cpu', op: '>', threshold: 1 };
    expect(errorsOf({ alerts: [{ ...alert, channel: 'has space' }] })).toEqual([
      'alerts[0].channel: expected a channel name, got "has space"',
    ]);
    expect(errorsOf({ alerts: [{ ...alert, field: 'disk..use' }] })).toEqual([
      'alerts[0].field: expected a dot-separated field path such as "cpu" or "disk.0.usePercent", got "disk..use"',
    ]);
    expect(errorsOf({ alerts: [{ ...alert, op: 'gt', severity: 'fatal' }] })).toEqual([
      'alerts[0].op: expected one of ">", ">=", "<", "<=", got "gt"',
      'alerts[0].severity: expected one of "info", "warning", "critical", got "fatal"',
    ]);
  });

  it('missing required keys and duplicate alert names are reported', () => {
    expect(errorsOf({ alerts: [{ name: 'x', field: 'cpu' }], history: [{ maxMessages: 5 }] })).toEqual([
      'history[0].pattern: required key missing',
      'alerts[0].op: required key missing',
      'alerts[0].threshold: required key missing',
    ]);
    const alert = { field: 'cpu', op: '>', threshold: 1 };
    expect(
      errorsOf({
        alerts: [
          { name: 'a', ...alert },
          { name: 'b', ...alert },
          { name: 'a', ...alert },
        ],
      }),
    ).toEqual(['alerts[2].name: "a" is already used by alerts[0]']);
  });

  it('reports every problem at once, in file order', () => {
    expect(
      errorsOf({ port: -1, node: '.bad', alerts: [{ name: 'a', field: 'cpu', op: '>', threshold: true }] }),
    ).toEqual([
      'port: expected an integer from 0 to 65535, got -1',
      'node: expected a node name: letters, digits and _ . : - (at most 120, not starting with . : -), got ".bad"',
      'alerts[0].threshold: expected a number, got true',
    ]);
  });

  it('lists a clash of alert names with the other problems, not only once they are fixed', () => {
    const alert = { channel: 'metrics', field: 'cpu', op: '>', threshold: 90 };
    expect(
      errorsOf({
        port: 70_000,
        alerts: [
          { name: 'cpu-high', ...alert },
          { name: 'disk', ...alert, threshold: '90' },
          { name: 'cpu-high', ...alert },
        ],
      }),
    ).toEqual([
      'port: expected an integer from 0 to 65535, got 70000',
      'alerts[1].threshold: expected a number, got "90"',
      'alerts[2].name: "cpu-high" is already used by alerts[0]',
    ]);
  });
});

describe('livedash serve --config', () => {
  const io = (env: NodeJS.ProcessEnv = {}) => {
    const lines = { out: [] as string[], err: [] as string[] };
    return {
      lines,
      io: { out: (l: string) => lines.out.push(l), err: (l: string) => lines.err.push(l), env },
    };
  };

  it('exits with a usage error naming the file and key, without starting a server', async () => {
    const path = writeConfig(
      JSON.stringify({ alerts: [{ name: 'cpu', field: 'cpu', op: '>', threshold: '90' }] }),
    );
    const { lines, io: testIo } = io();
    expect(await runServe(['--config', path], testIo)).toBe(2);
    expect(lines.err.join('\n')).toContain(`${path}: alerts[0].threshold: expected a number, got "90"`);
    expect(lines.out).toEqual([]);
  });

  it('reads the file from LIVEDASH_CONFIG; flags and env variables beat its keys', () => {
    const path = writeConfig(
      JSON.stringify({
        port: 9001,
        host: '0.0.0.0',
        node: 'from-file',
        metrics: { intervalMs: 2000 },
        allowedOrigins: ['https://file.example'],
        allowedHosts: ['file.example'],
        limits: { framesPerSec: 7, frameBurst: 9 },
        broker: { prefix: 'file:' },
      }),
    );
    const { io: testIo } = io({
      LIVEDASH_CONFIG: path,
      HOST: '127.0.0.2',
      LIVEDASH_PUBLISH_TOKEN: 't',
      LIVEDASH_ALLOWED_ORIGINS: 'https://env.example',
      LIVEDASH_ALLOWED_HOSTS: 'env.example, .env.example',
    });
    const resolved = serveOptions(['--port', '9002', '--frames-per-sec', '8'], testIo);
    if (!resolved.ok) throw new Error('expected valid options');
    expect(resolved.options).toMatchObject({
      port: 9002,
      host: '127.0.0.2',
      node: 'from-file',
      metricsIntervalMs: 2000,
      allowedOrigins: ['https://env.example'],
      allowedHosts: ['env.example', '.env.example'],
      framesPerSec: 8,
      frameBurst: 9,
      brokerPrefix: 'file:',
    });
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
