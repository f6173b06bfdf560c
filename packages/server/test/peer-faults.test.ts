/**
 * Nothing a peer sends can throw out of a listener: request-targets in every RFC 9112 form (and
 * everything that is not one) are answered, and an exception that does escape the code handling one
 * peer closes that peer — counted in /metrics — never the process.
 */
import { ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import WebSocket from 'ws';
import { createServer, type LivedashServer } from '../src/index.js';
import { WsEndpoint } from '../src/transports/ws.js';
import { WsConnection } from '../src/transports/ws-connection.js';
import { WsSocket } from '../src/transports/ws-socket.js';
import { expectServerServes, rawExchange, upgradeHeaders } from './security-wire.js';

let server: LivedashServer;

beforeAll(async () => {
  server = await createServer({ port: 0, heartbeatMs: 200 });
});

afterAll(async () => {
  await server.close();
});

afterEach(() => {
  vi.restoreAllMocks();
});

async function faults(where: string): Promise<number> {
  const text = await server.metrics.registry.metrics();
  const match = new RegExp(`livedash_peer_faults_total\\{where="${where}"\\} (\\d+)`).exec(text);
  return Number(match?.[1] ?? Number.NaN);
}

function upgradeTo(target: string): string {
  return upgradeHeaders('/ws').replace('GET /ws HTTP/1.1', `GET ${target} HTTP/1.1`);
}

describe('request-targets on upgrades', () => {
  test('an absolute-form target with port 99999 gets 400 with the reason, and the server keeps serving', async () => {
    const answer = await rawExchange(server.port, [upgradeTo('http://a:99999/ws')], 3000);
    expect(answer.status).toBe(400);
    expect(answer.text).toContain('port 99999 is out of range');
    expect(answer.closed).toBe(true);
    await expectServerServes(server, 'faults.after-port');
  });

  test.each([
    ['http://[::1/ws', /no closing/],
    ['/%zz', /percent-encoding/],
    ['/ws?token=%G0', /percent-encoding/],
    ['*', /only for OPTIONS/],
  ])('%s is refused 400 with its reason', async (target, reason) => {
    const answer = await rawExchange(server.port, [upgradeTo(target)], 3000);
    expect(answer.status).toBe(400);
    expect(answer.text).toMatch(reason);
  });

  test('an absolute-form target naming /ws opens a WebSocket, as origin-form does', async () => {
    const answer = await rawExchange(
      server.port,
      [upgradeTo(`http://127.0.0.1:${server.port}/ws`)],
      2000,
      true,
    );
    expect(answer.status).toBe(101);
  });
});

describe('request-targets on plain HTTP', () => {
  test('absolute-form is routed by its path', async () => {
    const answer = await rawExchange(
      server.port,
      [`GET http://127.0.0.1:${server.port}/healthz HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n`],
      3000,
    );
    expect(answer.status).toBe(200);
  });

  test.each([
    ['http://a:99999/healthz', /out of range/],
    ['/api/channels/%zz', /percent-encoding/],
    ['*', /only for OPTIONS/],
  ])('GET %s is refused 400 with the reason and the connection closed', async (target, reason) => {
    const answer = await rawExchange(
      server.port,
      [`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`],
      3000,
    );
    expect(answer.status).toBe(400);
    expect(answer.text).toMatch(reason);
    expect(answer.text).toContain('"code":"bad_command"');
    expect(answer.closed).toBe(true);
  });
});

describe('an exception while handling one peer closes that peer, is counted, and nothing else', () => {
  test('in the upgrade listener', async () => {
    const before = await faults('upgrade');
    vi.spyOn(WsEndpoint.prototype, 'handleUpgrade').mockImplementationOnce(() => {
      throw new Error('injected upgrade fault');
    });
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const answer = await rawExchange(server.port, [upgradeHeaders('/ws')], 3000);
    expect(answer.closed).toBe(true);
    expect(await faults('upgrade')).toBe(before + 1);
    await expectServerServes(server, 'faults.upgrade');
  });

  test('in the request listener', async () => {
    const before = await faults('request');
    const writeHead = ServerResponse.prototype.writeHead;
    vi.spyOn(ServerResponse.prototype, 'writeHead').mockImplementationOnce(() => {
      throw new Error('injected request fault');
    });
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const answer = await rawExchange(server.port, ['GET /%zz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'], 3000);
    ServerResponse.prototype.writeHead = writeHead;
    expect(answer.closed).toBe(true);
    expect(await faults('request')).toBe(before + 1);
    await expectServerServes(server, 'faults.request');
  });

  test('in a WebSocket data listener', async () => {
    const before = await faults('data');
    vi.spyOn(WsConnection.prototype, 'onText').mockImplementationOnce(() => {
      throw new Error('injected data fault');
    });
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws`);
    ws.on('error', () => {});
    await new Promise((resolve) => ws.once('open', resolve));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send('{"action":"ping"}');
    expect(await closed).toBe(1006);
    expect(await faults('data')).toBe(before + 1);
    await expectServerServes(server, 'faults.data');
  });

  test('in a heartbeat timer', async () => {
    const before = await faults('timer');
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws`);
    ws.on('error', () => {});
    await new Promise((resolve) => ws.once('open', resolve));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    vi.spyOn(WsSocket.prototype, 'ping').mockImplementation(() => {
      throw new Error('injected timer fault');
    });
    vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(await closed).toBe(1006);
    expect(await faults('timer')).toBeGreaterThan(before);
    vi.restoreAllMocks();
    await expectServerServes(server, 'faults.timer');
  });
});
