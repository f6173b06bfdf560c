import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runServe, serveOptions } from '../src/cli/serve.js';

const SECRET = 'serve-flags-test-secret-0123456789abcdefgh';
const dir = mkdtempSync(join(tmpdir(), 'livedash-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capture(env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: {
      out: (l: string) => out.push(l),
      err: (l: string) => err.push(l),
      env: { LIVEDASH_PUBLISH_TOKEN: 'p', ...env },
    },
    out,
    err,
  };
}

describe('livedash serve security flags', () => {
  it('maps flags and environment onto the server options (flag beats environment)', () => {
    const { io } = capture({
      LIVEDASH_JWT_SECRET: SECRET,
      LIVEDASH_ALLOWED_ORIGINS: 'http://env.example',
      LIVEDASH_FRAMES_PER_SEC: '7',
      LIVEDASH_MAX_HISTORY_BYTES: '1048576',
      LIVEDASH_MAX_DISCARD_MS: '2500',
    });
    const result = serveOptions(
      [
        '--allowed-origins',
        'http://a.example, http://b.example',
        '--anonymous-channels',
        'public.*,metrics',
        '--max-connections-per-ip',
        '9',
        '--max-channels',
        '500',
        '--allow-anonymous',
        '--jwt-issuer',
        'me',
        '--max-discard-bytes',
        '1048576',
        '--trust-proxy',
        '127.0.0.1, 10.0.0.0/8,loopback',
        '--allowed-hosts',
        'dash.example.com, .corp.example',
      ],
      io,
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.options).toMatchObject({
      jwt: { secret: SECRET, issuer: 'me' },
      allowedOrigins: ['http://a.example', 'http://b.example'],
      anonymousChannels: ['public.*', 'metrics'],
      maxConnectionsPerIp: 9,
      framesPerSec: 7,
      maxChannels: 500,
      maxHistoryBytes: 1_048_576,
      allowAnonymous: true,
      maxDiscardBytes: 1_048_576,
      maxDiscardMs: 2500,
      trustProxy: ['127.0.0.1', '10.0.0.0/8', 'loopback'],
      allowedHosts: ['dash.example.com', '.corp.example'],
    });
  });

  it('reads key, JWKS and TLS files', () => {
    writeFileSync(
      join(dir, 'jwks.json'),
      JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b' }] }),
    );
    writeFileSync(join(dir, 'cert.pem'), 'CERT');
    writeFileSync(join(dir, 'key.pem'), 'KEY');
    const { io } = capture();
    const result = serveOptions(
      [
        '--jwks',
        join(dir, 'jwks.json'),
        '--tls-cert',
        join(dir, 'cert.pem'),
        '--tls-key',
        join(dir, 'key.pem'),
      ],
      io,
    );
    expect(result.ok && result.options.tls).toEqual({ cert: 'CERT', key: 'KEY' });
    expect(result.ok && result.options.jwt?.jwks?.keys).toHaveLength(1);
  });

  it('explains bad values, naming the flag and never the secret', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--jwt-secret', SECRET, '--jwks', join(dir, 'jwks.json')], /only one of/],
      [['--tls-cert', join(dir, 'cert.pem')], /go together/],
      [['--jwt-public-key', join(dir, 'missing.pem')], /ENOENT/],
      [['--anonymous-channels', 'a b'], /--anonymous-channels/],
      [['--max-headers', '0'], /--max-headers: expected an integer from 8 to 10000, got 0/],
      [['--frames-per-sec', 'fast'], /--frames-per-sec/],
      [
        ['--trust-proxy', '10.0.0.0/8,proxy.local'],
        /--trust-proxy\[1\]: expected an IP address, a CIDR such as "10\.0\.0\.0\/8", or "loopback", got "proxy\.local"/,
      ],
    ];
    for (const [args, message] of cases) {
      const { io, err } = capture();
      const result = serveOptions(args, io);
      expect(result.ok, args.join(' ')).toBe(false);
      expect(err.join('\n')).toMatch(message);
      expect(err.join('\n')).not.toContain(SECRET);
    }
  });

  it('refuses to start on a public address without auth, saying why, with exit code 1', async () => {
    const { io, err } = capture();
    const code = await runServe(
      ['--host', '0.0.0.0', '--port', '0', '--metrics-interval', '0'],
      io,
      new EventEmitter(),
    );
    expect(code).toBe(1);
    expect(err.join('\n')).toMatch(
      /refusing to listen on 0\.0\.0\.0 without authentication.*--allow-anonymous/s,
    );
  });

  it('starts with JWT auth on loopback and stops on SIGTERM', async () => {
    const { io, out } = capture({ LIVEDASH_JWT_SECRET: SECRET });
    const signals = new EventEmitter();
    const running = runServe(['--port', '0', '--metrics-interval', '0'], io, signals);
    const deadline = Date.now() + 10_000;
    while (!out.some((line) => line.includes('listening on')) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const url = /listening on (\S+)/.exec(out.join('\n'))?.[1];
    expect(url).toBeDefined();
    expect((await fetch(`${url}/api/channels/x`)).status).toBe(401);
    signals.emit('SIGTERM');
    expect(await running).toBe(0);
    expect(out.join('\n')).not.toContain(SECRET);
  });
});

/** GET `url` with `host` as the Host header; resolves with the status and the body. */
function getWithHost(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { headers: { host, connection: 'close' } }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('livedash serve --allowed-hosts (DNS rebinding)', () => {
  it('on loopback, answers localhost and the listed names, and refuses any other Host with 403', async () => {
    const { io, out } = capture({ LIVEDASH_ALLOWED_HOSTS: 'env.example' });
    const signals = new EventEmitter();
    const running = runServe(
      ['--port', '0', '--metrics-interval', '0', '--allowed-hosts', '.dash.example'],
      io,
      signals,
    );
    const deadline = Date.now() + 10_000;
    while (!out.some((line) => line.includes('listening on')) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const url = /listening on (\S+)/.exec(out.join('\n'))?.[1];
    expect(url).toBeDefined();
    const port = new URL(url!).port;
    for (const host of [`localhost:${port}`, `dash.example:${port}`, 'live.dash.example']) {
      expect((await getWithHost(`${url}/api/channels`, host)).status, host).toBe(200);
    }
    // The flag replaces the variable; a rebinding name is refused on the API and the dashboard alike.
    for (const path of ['/api/channels', '/sse?channels=metrics', '/']) {
      for (const host of ['env.example', `evil.example:${port}`]) {
        const refused = await getWithHost(`${url}${path}`, host);
        expect(refused.status, `${path} ${host}`).toBe(403);
        expect(JSON.parse(refused.body).error.code).toBe('host_not_allowed');
      }
    }
    signals.emit('SIGTERM');
    expect(await running).toBe(0);
  });
});

describe('one bound for every source', () => {
  it('a number option out of bounds gets the same message from its flag, its variable and its config key', async () => {
    const { OPTION_SOURCES } = await import('../src/option-sources.js');
    const { validateConfig } = await import('../src/config-file.js');
    const numeric = OPTION_SOURCES.filter(
      (row) => row.form === 'integer' && row.key?.startsWith('limits.') && row.flag && row.env,
    );
    expect(numeric.length).toBeGreaterThanOrEqual(16);
    for (const row of numeric) {
      const [section, key] = row.key!.split('.') as [string, string];
      const file = validateConfig({ [section]: { [key]: 0 } });
      const fileError = file.ok ? '' : file.error.join('\n');
      const message = fileError.slice(row.key!.length);
      expect(fileError, row.key).toMatch(/: expected an integer from \d+ to \d+, got 0$/);
      const byFlag = capture();
      expect(serveOptions([`--${row.flag}`, '0'], byFlag.io).ok).toBe(false);
      expect(byFlag.err.join('\n')).toBe(`livedash serve: --${row.flag}${message}`);
      const byEnv = capture({ [row.env!]: '0' });
      expect(serveOptions([], byEnv.io).ok).toBe(false);
      expect(byEnv.err.join('\n')).toBe(`livedash serve: ${row.env}${message}`);
    }
  });

  it('refuses a bad --trust-proxy entry with the message the config file gives for trustProxy', async () => {
    const { validateConfig } = await import('../src/config-file.js');
    const file = validateConfig({ trustProxy: ['10.0.0.0/8', '10.0.0.0/40'] });
    expect(file.ok ? [] : file.error).toEqual([
      'trustProxy[1]: expected an IP address, a CIDR such as "10.0.0.0/8", or "loopback", got "10.0.0.0/40"',
    ]);
    const byFlag = capture();
    expect(serveOptions(['--trust-proxy', '10.0.0.0/8, 10.0.0.0/40'], byFlag.io).ok).toBe(false);
    expect(byFlag.err).toEqual([
      'livedash serve: --trust-proxy[1]: expected an IP address, a CIDR such as "10.0.0.0/8", or "loopback", got "10.0.0.0/40"',
    ]);
    const byEnv = capture({ LIVEDASH_TRUST_PROXY: '10.0.0.0/8,10.0.0.0/40' });
    expect(serveOptions([], byEnv.io).ok).toBe(false);
    expect(byEnv.err).toEqual([
      'livedash serve: LIVEDASH_TRUST_PROXY[1]: expected an IP address, a CIDR such as "10.0.0.0/8", or "loopback", got "10.0.0.0/40"',
    ]);
    const good = capture({ LIVEDASH_TRUST_PROXY: '::1, loopback' });
    const result = serveOptions([], good.io);
    expect(result.ok && result.options.trustProxy).toEqual(['::1', 'loopback']);
  });

  it('refuses a bad --allowed-hosts entry with the message the config file gives for allowedHosts', async () => {
    const { validateConfig } = await import('../src/config-file.js');
    const expected =
      'expected a host name such as "dash.example.com", ".example.com" (it and every name under it), "*.example.com" (the names under it), an IP address, or "*", got "dash.example.com:8080"';
    const file = validateConfig({ allowedHosts: ['ok.example', 'dash.example.com:8080'] });
    expect(file.ok ? [] : file.error).toEqual([`allowedHosts[1]: ${expected}`]);
    const byFlag = capture();
    expect(serveOptions(['--allowed-hosts', 'ok.example,dash.example.com:8080'], byFlag.io).ok).toBe(false);
    expect(byFlag.err).toEqual([`livedash serve: --allowed-hosts[1]: ${expected}`]);
    const byEnv = capture({ LIVEDASH_ALLOWED_HOSTS: 'ok.example, dash.example.com:8080' });
    expect(serveOptions([], byEnv.io).ok).toBe(false);
    expect(byEnv.err).toEqual([`livedash serve: LIVEDASH_ALLOWED_HOSTS[1]: ${expected}`]);
    const flagBeatsEnv = capture({ LIVEDASH_ALLOWED_HOSTS: 'env.example' });
    const result = serveOptions(['--allowed-hosts', '*.apps.example'], flagBeatsEnv.io);
    expect(result.ok && result.options.allowedHosts).toEqual(['*.apps.example']);
  });

  it('--broker-ack-replicas and --broker-ack-timeout-ms take what broker.ackReplicas and broker.ackTimeoutMs take', async () => {
    const { validateConfig } = await import('../src/config-file.js');
    const file = validateConfig({ broker: { ackReplicas: 17, ackTimeoutMs: 5000 } });
    expect(file.ok ? [] : file.error).toEqual([
      'broker.ackReplicas: expected an integer from 0 to 16, got 17',
      'broker.ackTimeoutMs: expected an integer from 1 to 1500, got 5000',
    ]);
    const byFlag = capture();
    expect(serveOptions(['--broker-ack-timeout-ms', '5000'], byFlag.io).ok).toBe(false);
    expect(byFlag.err).toEqual([
      'livedash serve: --broker-ack-timeout-ms: expected an integer from 1 to 1500, got 5000',
    ]);
    const byEnv = capture({ LIVEDASH_REDIS_ACK_REPLICAS: '17' });
    expect(serveOptions([], byEnv.io).ok).toBe(false);
    expect(byEnv.err).toEqual([
      'livedash serve: LIVEDASH_REDIS_ACK_REPLICAS: expected an integer from 0 to 16, got 17',
    ]);
    const good = capture({ LIVEDASH_REDIS_ACK_REPLICAS: '1' });
    const result = serveOptions(['--broker-ack-timeout-ms', '300'], good.io);
    expect(result.ok && [result.options.brokerAckReplicas, result.options.brokerAckTimeoutMs]).toEqual([
      1, 300,
    ]);
    expect(validateConfig({ broker: { ackReplicas: 2, ackTimeoutMs: 800 } })).toMatchObject({
      ok: true,
      value: { brokerAckReplicas: 2, brokerAckTimeoutMs: 800 },
    });
  });

  it('--max-headers 1 is refused as in the file (the flag used to take any whole number ≥ 1)', () => {
    const { io, err } = capture();
    expect(serveOptions(['--max-headers', '1'], io).ok).toBe(false);
    expect(err).toEqual(['livedash serve: --max-headers: expected an integer from 8 to 10000, got 1']);
  });
});

describe('--dashboards', () => {
  it('takes a folder from the flag or LIVEDASH_DASHBOARDS (flag first) and refuses what is not a folder', () => {
    const folder = mkdtempSync(join(dir, 'dashboards-'));
    const other = mkdtempSync(join(dir, 'dashboards-'));
    const byFlag = capture({ LIVEDASH_DASHBOARDS: other });
    const flagged = serveOptions(['--dashboards', folder], byFlag.io);
    expect(flagged.ok && flagged.options.dashboards).toBe(folder);
    const byEnv = capture({ LIVEDASH_DASHBOARDS: other });
    const fromEnv = serveOptions([], byEnv.io);
    expect(fromEnv.ok && fromEnv.options.dashboards).toBe(other);
    const file = join(dir, 'not-a-folder.json');
    writeFileSync(file, '{}');
    const refused = capture();
    expect(serveOptions(['--dashboards', file], refused.io).ok).toBe(false);
    expect(refused.err).toEqual([`livedash serve: --dashboards: ${file} is not a directory`]);
    const refusedEnv = capture({ LIVEDASH_DASHBOARDS: join(dir, 'missing') });
    expect(serveOptions([], refusedEnv.io).ok).toBe(false);
    expect(refusedEnv.err).toEqual([
      `livedash serve: LIVEDASH_DASHBOARDS: ${join(dir, 'missing')} is not a directory`,
    ]);
  });
});
