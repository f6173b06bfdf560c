/**
 * DNS rebinding: a page on any domain that makes its name resolve to 127.0.0.1 talks to a loopback
 * livedash same-origin, so only the `Host` it sends (the attacker's name) gives it away. Every place
 * livedash answers a peer — WebSocket upgrades, `/sse`, `/api` — refuses a name the server does not
 * answer to, on createServer, attach() and the Fastify plugin. Real sockets, hand-written requests.
 */
import { once } from 'node:events';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { afterEach, describe, expect, test } from 'vitest';
import { attach, createServer, livedash } from '../src/index.js';
import { HostPolicy, parseHostHeader } from '../src/limits/host-policy.js';
import { rawExchange, upgradeHeaders } from './security-wire.js';

const TOKEN = 'host-validation-secret';

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function start(options: Parameters<typeof createServer>[0] = {}) {
  const server = await createServer({ port: 0, publishToken: TOKEN, ...options });
  cleanup.push(() => server.close());
  await server.hub.publish('prices', { eur: 1.08 });
  return server;
}

type Place = 'ws' | 'sse' | 'api';

/** The request a browser on a rebinding page would send to each place, with `hostLines` as its Host header lines. */
function requestTo(place: Place, hostLines: string[], prefix = '', extra: string[] = []): string {
  const host = hostLines.map((value) => `Host: ${value}\r\n`).join('');
  const more = extra.map((line) => `${line}\r\n`).join('');
  if (place === 'ws') {
    const upgrade = upgradeHeaders(`${prefix}/ws`).replace('Host: 127.0.0.1\r\n', host);
    return upgrade.replace(/\r\n\r\n$/, `\r\n${more}\r\n`);
  }
  const target = place === 'sse' ? `${prefix}/sse?channels=prices` : `${prefix}/api/channels/prices`;
  return `GET ${target} HTTP/1.1\r\n${host}Accept: */*\r\nConnection: close\r\n${more}\r\n`;
}

/** What the server answers at `place` to a request with these Host lines: status and error code, if any. */
async function answer(
  port: number,
  place: Place,
  hostLines: string[],
  prefix = '',
  extra: string[] = [],
): Promise<{ status: number | undefined; code: string | undefined; text: string }> {
  // A granted SSE stream stays open: its header block is enough.
  const result = await rawExchange(port, [requestTo(place, hostLines, prefix, extra)], 3000, true);
  let text = result.text;
  if (result.status !== undefined && result.status >= 400) {
    const full = await rawExchange(port, [requestTo(place, hostLines, prefix, extra)], 3000);
    text = full.text;
  }
  const code = /"code":"([a-z_]+)"/.exec(text)?.[1];
  return { status: result.status, code, text };
}

const granted = (place: Place) => (place === 'ws' ? 101 : 200);
const PLACES: Place[] = ['ws', 'sse', 'api'];

async function expectGranted(port: number, hostLines: string[], prefix = '') {
  for (const place of PLACES) {
    const { status, text } = await answer(port, place, hostLines, prefix);
    expect(status, `${place} with Host ${hostLines.join(' / ')}: ${text.slice(0, 200)}`).toBe(granted(place));
  }
}

async function expectRefused(port: number, hostLines: string[], status: 400 | 403, prefix = '') {
  for (const place of PLACES) {
    const result = await answer(port, place, hostLines, prefix);
    const what = `${place} with Host ${JSON.stringify(hostLines)}: ${result.text.slice(0, 300)}`;
    expect(result.status, what).toBe(status);
    expect(result.code, what).toBe(status === 403 ? 'host_not_allowed' : 'bad_command');
  }
}

describe('a server on a loopback address answers only to loopback names', () => {
  test('localhost, *.localhost, IP addresses and the bound address are served, with any port, in any case', async () => {
    const server = await start();
    const port = server.port;
    for (const host of [
      `127.0.0.1:${port}`,
      '127.0.0.1',
      `localhost:${port}`,
      'LocalHost',
      `localhost.:${port}`,
      `dashboard.localhost:${port}`,
      `[::1]:${port}`,
      '[::1]',
      `[0:0:0:0:0:0:0:1]:${port}`,
      '127.0.0.2:80',
      // An address in Host means the browser connected to that very address: no name to rebind.
      '192.168.1.20:8080',
    ]) {
      await expectGranted(port, [host]);
    }
  });

  test('a rebinding page (its own name in Host, Origin naming the same) gets 403 host_not_allowed on /ws, /sse and /api', async () => {
    const server = await start();
    const port = server.port;
    for (const host of [
      `evil.example:${port}`,
      'evil.example',
      'EVIL.example.',
      `127.0.0.1.nip.io:${port}`,
      `localhost.evil.example:${port}`,
      `localhost-evil.example:${port}`,
      'xn--80ak6aa92e.com',
    ]) {
      await expectRefused(port, [host], 403);
    }
    // What the browser of a rebinding page sends: Origin and Host agree, so the origin check alone let it in.
    const host = `rebind.example:${port}`;
    for (const place of PLACES) {
      const refused = await answer(port, place, [host], '', [`Origin: http://${host}`]);
      expect(refused.status, place).toBe(403);
      expect(refused.text).toContain('host \\"rebind.example\\" is not allowed');
    }
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/livedash_limit_hits_total\{limit="host"\} ([2-9]\d|\d{3,})/);
    // A well-behaved client is served as before.
    const ok = await fetch(`${server.url}/api/channels/prices`);
    expect(ok.status).toBe(200);
  });

  test('a missing, repeated or malformed Host is refused with 400', async () => {
    const server = await start();
    const port = server.port;
    for (const lines of [
      ['127.0.0.1', 'evil.example'],
      ['evil.example', '127.0.0.1'],
      ['::1'],
      [`[::1]x:${port}`],
      ['[::1'],
      ['localhost:99999'],
      ['localhost:0'],
      ['localhost:'],
      ['localhost:80:80'],
      ['local host'],
      ['local..host'],
      ['user@localhost'],
      ['%6cocalhost'],
    ]) {
      await expectRefused(port, lines, 400);
    }
    // HTTP/1.0 may leave Host out (HTTP/1.1 without it is refused by Node's parser before livedash).
    const noHost = await rawExchange(port, ['GET /api/channels/prices HTTP/1.0\r\n\r\n'], 3000);
    expect(noHost.status).toBe(400);
    expect(noHost.text).toContain('no Host header');
  });

  test('an absolute-form target names the host: its authority is what is checked', async () => {
    const server = await start();
    const port = server.port;
    const refused = await rawExchange(
      port,
      [
        `GET http://evil.example:${port}/api/channels/prices HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
      ],
      3000,
    );
    expect(refused.status).toBe(403);
    const served = await rawExchange(
      port,
      [
        `GET http://localhost:${port}/api/channels/prices HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n`,
      ],
      3000,
    );
    expect(served.status).toBe(200);
  });

  test('the configured host name is allowed', async () => {
    const server = await start({ host: 'localhost' });
    await expectGranted(server.port, [`localhost:${server.port}`]);
    await expectRefused(server.port, ['evil.example'], 403);
  });
});

describe('allowedHosts', () => {
  test('exact names, .domain (it and every name under it) and *.domain (only the names under it)', async () => {
    const server = await start({ allowedHosts: ['dash.example.com', '.corp.example', '*.apps.example'] });
    const port = server.port;
    for (const host of [
      `dash.example.com:${port}`,
      'DASH.Example.COM.',
      'corp.example',
      `a.b.corp.example:${port}`,
      'x.apps.example',
      'localhost',
      '127.0.0.1',
    ]) {
      await expectGranted(port, [host]);
    }
    for (const host of [
      'x.dash.example.com',
      'example.com',
      'apps.example',
      'xcorp.example',
      'corp.example.evil',
      'evil.example',
    ]) {
      await expectRefused(port, [host], 403);
    }
  });

  test('"*" and "all" turn the check off', async () => {
    for (const entry of ['*', 'all']) {
      const server = await start({ allowedHosts: [entry] });
      await expectGranted(server.port, ['evil.example']);
      await expectGranted(server.port, ['not a host']);
    }
  });

  test('an entry that is not a host pattern stops the start, named with its index', async () => {
    for (const entry of [
      'http://dash.example.com',
      'dash.example.com:443',
      '',
      'a..b',
      '*.',
      '.',
      'a b',
      '*.*.x',
    ]) {
      await expect((async () => createServer({ port: 0, allowedHosts: [entry] }))(), entry).rejects.toThrow(
        /allowedHosts\[0\]: expected a host name such as "dash\.example\.com"/,
      );
    }
  });
});

describe('a server on a non-loopback address', () => {
  test('checks nothing without allowedHosts, and the list (plus the defaults) with it', async () => {
    const open = await start({ host: '0.0.0.0', allowAnonymous: true });
    await expectGranted(open.port, ['evil.example']);
    const listed = await start({ host: '0.0.0.0', allowAnonymous: true, allowedHosts: ['dash.example.com'] });
    await expectGranted(listed.port, [`dash.example.com:${listed.port}`]);
    await expectGranted(listed.port, ['localhost']);
    await expectGranted(listed.port, ['10.0.0.7']);
    await expectRefused(listed.port, ['evil.example'], 403);
  });
});

async function listen(server: Server, host: string): Promise<number> {
  server.listen(0, host);
  await once(server, 'listening');
  cleanup.push(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as AddressInfo).port;
}

describe('attach() and the Fastify plugin: the address the server listens on decides', () => {
  test('attached to a server on 127.0.0.1, its paths refuse a rebinding Host; the server’s own routes are its own', async () => {
    const server = createHttpServer((_request, response) => response.end('own'));
    const live = await attach(server, { publishToken: TOKEN, prefix: '/live' });
    cleanup.push(() => live.close());
    const port = await listen(server, '127.0.0.1');
    await live.publish('prices', { eur: 1 });
    await expectGranted(port, [`localhost:${port}`], '/live');
    await expectRefused(port, [`evil.example:${port}`], 403, '/live');
    const own = await rawExchange(port, [
      'GET /page HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n',
    ]);
    expect(own.text).toMatch(/own$/);
  });

  test('attached to a server on every interface, nothing is checked unless allowedHosts is given', async () => {
    const server = createHttpServer((_request, response) => response.end('own'));
    const live = await attach(server, { publishToken: TOKEN, allowAnonymous: true });
    cleanup.push(() => live.close());
    const port = await listen(server, '0.0.0.0');
    await live.publish('prices', { eur: 1 });
    await expectGranted(port, ['evil.example']);

    const other = createHttpServer();
    const checked = await attach(other, {
      publishToken: TOKEN,
      allowAnonymous: true,
      allowedHosts: ['.example.com'],
    });
    cleanup.push(() => checked.close());
    const otherPort = await listen(other, '0.0.0.0');
    await checked.publish('prices', { eur: 1 });
    await expectGranted(otherPort, ['dash.example.com']);
    await expectRefused(otherPort, ['evil.example'], 403);
  });

  test('the Fastify plugin on 127.0.0.1 refuses a rebinding Host under its prefix', async () => {
    const app = Fastify();
    await app.register(livedash, { prefix: '/live', publishToken: TOKEN });
    await app.listen({ port: 0, host: '127.0.0.1' });
    cleanup.push(() => app.close());
    const port = (app.server.address() as AddressInfo).port;
    await app.livedash.publish('prices', { eur: 1 });
    await expectGranted(port, [`127.0.0.1:${port}`], '/live');
    await expectRefused(port, [`evil.example:${port}`], 403, '/live');
  });
});

describe('HostPolicy', () => {
  test('parses Host values strictly', () => {
    expect(parseHostHeader('LocalHost:8080')).toBe('localhost');
    expect(parseHostHeader('example.com.')).toBe('example.com');
    expect(parseHostHeader('[::1]:80')).toBe('::1');
    expect(parseHostHeader('[FE80::1]')).toBe('fe80::1');
    expect(parseHostHeader('10.0.0.1:65535')).toBe('10.0.0.1');
    for (const bad of [
      '',
      ':80',
      '::1',
      '[::1',
      '[::1]80',
      '[zz::1]',
      'a:65536',
      'a:08x',
      'a b',
      'a/b',
      '-a.com',
      'a-.com',
      'é.com',
    ]) {
      expect(parseHostHeader(bad), bad).toBeUndefined();
    }
  });

  test('follows the address listened on: loopback checks, anything else checks only with a list', () => {
    const policy = new HostPolicy([], '127.0.0.1');
    expect(policy.checking).toBe(true);
    policy.listeningOn('0.0.0.0');
    expect(policy.checking).toBe(false);
    policy.listeningOn('::1');
    expect(policy.checking).toBe(true);
    policy.listeningOn(undefined); // a Unix socket: reached through a proxy
    expect(policy.checking).toBe(false);
    const listed = new HostPolicy(['dash.example.com'], '0.0.0.0');
    expect(listed.checking).toBe(true);
    expect(new HostPolicy(['*'], '127.0.0.1').checking).toBe(false);
  });
});
