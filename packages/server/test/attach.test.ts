import { once } from 'node:events';
import {
  createServer as createHttpServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { type AttachedLivedash, attach } from '@livedash/server';
import express from 'express';
import { afterEach, describe, expect, test } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { refusedUpgrade } from './helpers/raw-ws-client.js';
import { TestSseClient } from './helpers/sse-client.js';
import { selfSignedCertificate } from './helpers/tls-certificate.js';
import { TestWsClient } from './helpers/ws-client.js';

// livedash attached to a server the user already runs: its paths are served, the user's own routes
// and upgrades keep working whatever order the listeners were added in, and close() gives everything
// back while the user's server keeps serving.

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

function baseUrl(server: Server, scheme = 'http'): string {
  return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function listen(server: Server): Promise<void> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.push(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
}

/** The user's own WebSocket endpoint: echoes at `path`, upgrades elsewhere are not its business. */
function userEchoUpgrades(server: Server, path: string): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true });
  wss.on('connection', (socket) => socket.on('message', (data) => socket.send(`echo:${String(data)}`)));
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (request.url !== path) return void socket.destroy();
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  });
  cleanup.push(() => {
    for (const client of wss.clients) client.terminate();
    wss.close();
  });
  return wss;
}

async function echo(url: string, options: WebSocket.ClientOptions = {}): Promise<string> {
  const ws = new WebSocket(url, options);
  try {
    await once(ws, 'open');
    ws.send('ping');
    const [data] = (await once(ws, 'message')) as [Buffer];
    return String(data);
  } finally {
    ws.terminate();
  }
}

/** Subscribes over WebSocket, publishes in process, and returns what the subscriber received. */
async function roundTrip(
  live: AttachedLivedash,
  wsBase: string,
  path = '/ws',
  options: WebSocket.ClientOptions = {},
) {
  const client = await TestWsClient.connect(wsBase, path, options);
  cleanup.push(() => client.close());
  client.send({ action: 'subscribe', channels: ['orders'] });
  await client.waitFor((frames) => frames.some((f) => f.type === '$subscribed'));
  const published = await live.publish('orders', { open: 12 });
  await client.waitForData('orders', 1);
  return { client, published, received: client.data('orders')[0] };
}

async function text(url: string, init?: RequestInit): Promise<{ status: number; body: string }> {
  const response = await fetch(url, init);
  return { status: response.status, body: await response.text() };
}

function userHandler(request: IncomingMessage, response: ServerResponse): void {
  if (request.url === '/hello') response.end('hello from the app');
  else {
    response.statusCode = 404;
    response.end('app 404');
  }
}

describe('attach to a node:http server', () => {
  test("livedash's paths are served; the app's routes and its upgrade listener, added after attach, keep working", async () => {
    const server = createHttpServer(userHandler);
    const live = await attach(server);
    cleanup.push(() => live.close());
    userEchoUpgrades(server, '/chat'); // after attach: still gets its upgrades, never livedash's
    await listen(server);
    const base = baseUrl(server);

    const { published, received } = await roundTrip(live, base);
    expect(published).toMatchObject({ channel: 'orders', seq: 1 });
    expect(published.epoch).toMatch(/.+/);
    expect(received).toMatchObject({ data: { open: 12 }, seq: 1 });

    expect(await text(`${base}/hello`)).toEqual({ status: 200, body: 'hello from the app' });
    expect(await text(`${base}/elsewhere`)).toEqual({ status: 404, body: 'app 404' });
    expect(await echo(`${base.replace('http', 'ws')}/chat`)).toBe('echo:ping');

    const latest = await fetch(`${base}/api/channels/orders`);
    expect(await latest.json()).toMatchObject({ channel: 'orders', seq: 1, data: { open: 12 } });
    const sse = await TestSseClient.open(`${base}/sse?channels=orders`);
    cleanup.push(() => sse.abort());
    await sse.waitFor(() => sse.data('orders').length === 1);
    expect(sse.data('orders')[0]).toMatchObject({ data: { open: 12 }, seq: 1 });
  });

  test('a request listener added after attach never sees, nor answers, a livedash request', async () => {
    const server = createHttpServer();
    const live = await attach(server);
    cleanup.push(() => live.close());
    const seen: string[] = [];
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      seen.push(request.url ?? '');
      userHandler(request, response);
    });
    await listen(server);
    const base = baseUrl(server);
    expect((await fetch(`${base}/api/channels`)).status).toBe(200);
    expect((await text(`${base}/hello`)).body).toBe('hello from the app');
    expect(seen).toEqual(['/hello']);
  });

  test("close() ends livedash's connections, gives its paths back, and the server keeps serving", async () => {
    const server = createHttpServer(userHandler);
    userEchoUpgrades(server, '/chat'); // before attach
    const live = await attach(server);
    await listen(server);
    const base = baseUrl(server);
    const { client } = await roundTrip(live, base);
    const sse = await TestSseClient.open(`${base}/sse?channels=orders`);
    cleanup.push(() => sse.abort());

    await live.close();
    expect((await client.closed).code).toBe(1012);
    await sse.waitFor(() => sse.ended);
    expect(await text(`${base}/hello`)).toEqual({ status: 200, body: 'hello from the app' });
    expect(await text(`${base}/api/channels`)).toEqual({ status: 404, body: 'app 404' });
    expect(await echo(`${base.replace('http', 'ws')}/chat`)).toBe('echo:ping');
    // /ws is the app's again: its upgrade listener refuses paths it does not serve.
    await expect(echo(`${base.replace('http', 'ws')}/ws`)).rejects.toThrow();
    await live.close(); // twice is fine
  });

  test('without an upgrade listener of the app, other upgrades are served as the plain requests they are', async () => {
    const server = createHttpServer(userHandler);
    const live = await attach(server);
    cleanup.push(() => live.close());
    await listen(server);
    const port = (server.address() as AddressInfo).port;
    // A WebSocket upgrade elsewhere: the app answers it as it would without livedash.
    const elsewhere = await refusedUpgrade(port, { path: '/hello' }, 1000);
    expect(elsewhere.status).toBe(200);
    // curl --http2 and Java's HttpClient add `Upgrade: h2c` to every request.
    const h2c = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = httpRequest(
        {
          port,
          host: '127.0.0.1',
          path: '/hello',
          headers: { connection: 'Upgrade, HTTP2-Settings', upgrade: 'h2c', 'http2-settings': '' },
        },
        (response) => {
          let body = '';
          response.on('data', (chunk) => (body += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        },
      );
      request.on('error', reject);
      request.end();
    });
    expect(h2c).toEqual({ status: 200, body: 'hello from the app' });
  });

  test("under a prefix, only the prefixed paths are livedash's", async () => {
    const server = createHttpServer(userHandler);
    const live = await attach(server, { prefix: '/live' });
    cleanup.push(() => live.close());
    await listen(server);
    const base = baseUrl(server);
    const { received } = await roundTrip(live, `${base}/live`);
    expect(received).toMatchObject({ seq: 1 });
    expect((await fetch(`${base}/live/api/channels/orders`)).status).toBe(200);
    expect(await text(`${base}/api/channels`)).toEqual({ status: 404, body: 'app 404' });
    expect(() => attach(server, { prefix: 'live/' })).toThrow(/prefix must look like/);
    expect(() => attach(server, { maxQueueBytes: 10 })).toThrow(
      'invalid livedash options: maxQueueBytes: expected an integer from 16384 to 1073741824, got 10',
    );
  });
});

describe('attach: anonymous access follows the address the server listens on', () => {
  test('listening on every interface without auth: attach refuses with the reason', async () => {
    const server = createHttpServer(userHandler);
    server.listen(0, '0.0.0.0');
    await once(server, 'listening');
    cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    await expect(attach(server)).rejects.toThrow(/without authentication/);
    const live = await attach(server, { allowAnonymous: true });
    cleanup.push(() => live.close());
    expect(
      (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/channels`)).status,
    ).toBe(200);
  });

  test('attached first, then listening on every interface without auth: its paths answer 503 with the reason, the app still serves', async () => {
    const server = createHttpServer(userHandler);
    const live = await attach(server);
    cleanup.push(() => live.close());
    const errors: string[] = [];
    const original = console.error;
    console.error = (line: string) => errors.push(line);
    try {
      server.listen(0, '0.0.0.0');
      await once(server, 'listening');
    } finally {
      console.error = original;
    }
    cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const refused = await fetch(`${base}/api/channels`);
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(
      /without authentication/,
    );
    expect(errors.join('\n')).toMatch(/without authentication/);
    expect((await refusedUpgrade((server.address() as AddressInfo).port, { path: '/ws' }, 1000)).status).toBe(
      503,
    );
    expect((await text(`${base}/hello`)).status).toBe(200);
  });
  test('attached while on loopback, then listening again on every interface without auth: 503 from then on', async () => {
    const server = createHttpServer(userHandler);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const live = await attach(server);
    cleanup.push(() => live.close());
    expect(
      (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/channels`)).status,
    ).toBe(200);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const original = console.error;
    console.error = () => {};
    try {
      server.listen(0, '0.0.0.0');
      await once(server, 'listening');
    } finally {
      console.error = original;
    }
    cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    expect((await fetch(`${base}/api/channels`)).status).toBe(503);
    expect((await text(`${base}/hello`)).status).toBe(200);
  });
});

describe('attach to an https server', () => {
  test("wss:// and https:// to livedash, the app's routes and upgrades alongside, and after close", async () => {
    const server = createHttpsServer(selfSignedCertificate(), userHandler) as unknown as Server;
    userEchoUpgrades(server, '/chat');
    const live = await attach(server);
    await listen(server);
    const base = baseUrl(server, 'https');
    const tls = { rejectUnauthorized: false };
    const { received, client } = await roundTrip(live, base, '/ws', tls);
    expect(received).toMatchObject({ data: { open: 12 }, seq: 1 });
    expect(await echo(`${base.replace('https', 'wss')}/chat`, tls)).toBe('echo:ping');
    const hello = await new Promise<string>((resolve, reject) => {
      const request = httpsRequest(`${base}/hello`, tls, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk));
        response.on('end', () => resolve(body));
      });
      request.on('error', reject);
      request.end();
    });
    expect(hello).toBe('hello from the app');

    await live.close();
    expect((await client.closed).code).toBe(1012);
    expect(await echo(`${base.replace('https', 'wss')}/chat`, tls)).toBe('echo:ping');
  });
});

describe('attach to an Express app', () => {
  test("Express routes, its 404 and the app's WebSocket endpoint work alongside livedash, and after close", async () => {
    const app = express();
    app.get('/hello', (_request, response) => {
      response.send('hello from express');
    });
    const server = createHttpServer(app);
    userEchoUpgrades(server, '/chat');
    const live = await attach(server, { publishToken: 'secret' });
    await listen(server);
    const base = baseUrl(server);

    const { client, received } = await roundTrip(live, base);
    expect(received).toMatchObject({ data: { open: 12 }, seq: 1 });
    expect(await text(`${base}/hello`)).toEqual({ status: 200, body: 'hello from express' });
    expect((await fetch(`${base}/nothing-here`)).status).toBe(404);
    expect(await echo(`${base.replace('http', 'ws')}/chat`)).toBe('echo:ping');
    const published = await fetch(`${base}/api/channels/orders`, {
      method: 'POST',
      headers: { authorization: 'Bearer secret', 'content-type': 'application/json' },
      body: JSON.stringify({ open: 13 }),
    });
    expect(await published.json()).toMatchObject({ channel: 'orders', seq: 2 });

    await live.close();
    expect((await client.closed).code).toBe(1012);
    expect(await text(`${base}/hello`)).toEqual({ status: 200, body: 'hello from express' });
    expect((await fetch(`${base}/api/channels`)).status).toBe(404);
  });
});
