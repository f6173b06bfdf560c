import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { createServer, type LivedashServer } from '@livedash/server';
import { afterEach, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { selfSignedCertificate } from './helpers/tls-certificate.js';

// Java's HttpClient (HTTP/2 by default) and `curl --http2` send every request to an http:// URL with
// `Connection: Upgrade, HTTP2-Settings` and `Upgrade: h2c`. Node routes any request with Upgrade to the
// server's `upgrade` event, which only knows WebSocket; these requests must be served as plain HTTP.

const TOKEN = 'secret';
const servers: LivedashServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(tls = false): Promise<LivedashServer> {
  const server = await createServer({
    port: 0,
    host: '127.0.0.1',
    publishToken: TOKEN,
    ...(tls ? { tls: selfSignedCertificate() } : {}),
  });
  servers.push(server);
  return server;
}

/** What Java's HttpClient sends ahead of its body: the h2c upgrade offer, as it spells it. */
function h2cRequest(method: string, path: string, body = ''): string {
  return [
    `${method} ${path} HTTP/1.1`,
    'Connection: Upgrade, HTTP2-Settings',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Host: 127.0.0.1',
    'HTTP2-Settings: AAEAAEAAAAIAAAABAAMAAABkAAQBAAAAAAUAAEAA',
    'Upgrade: h2c',
    'User-Agent: Java-http-client/17.0.15',
    `Authorization: Bearer ${TOKEN}`,
    'Content-Type: application/json',
    '',
    body,
  ].join('\r\n');
}

/** Reads HTTP/1.1 responses off a socket; `next()` resolves with the next whole one. */
function responses(socket: Socket) {
  let buffered = '';
  const waiting: (() => void)[] = [];
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    for (const wake of waiting.splice(0)) wake();
  });
  const take = (): { status: number; headers: string; body: string } | undefined => {
    const end = buffered.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    const headers = buffered.slice(0, end);
    const length = Number(/content-length: (\d+)/i.exec(headers)?.[1] ?? 0);
    if (buffered.length < end + 4 + length) return undefined;
    const body = buffered.slice(end + 4, end + 4 + length);
    buffered = buffered.slice(end + 4 + length);
    return { status: Number(headers.slice(9, 12)), headers, body };
  };
  return {
    async next() {
      for (;;) {
        const response = take();
        if (response) return response;
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
    },
  };
}

describe('requests that offer an upgrade other than WebSocket', () => {
  test('an h2c publish is served as HTTP/1.1: 200, the message stored, the connection kept for the next request', async () => {
    const server = await start();
    const socket = connect(server.port, '127.0.0.1');
    await once(socket, 'connect');
    const read = responses(socket);
    const body = JSON.stringify({ value: 42 });
    // The body split over two writes, after the head: it must not be lost on the way back to HTTP.
    const request = h2cRequest('POST', '/api/channels/java.orders', body);
    socket.write(request.slice(0, -5));
    await new Promise((resolve) => setTimeout(resolve, 20));
    socket.write(request.slice(-5));

    const published = await read.next();
    expect(published.status).toBe(200);
    expect(published.headers).not.toMatch(/^upgrade:/im);
    expect(JSON.parse(published.body)).toMatchObject({ channel: 'java.orders', seq: 1 });
    const stored = await server.hub.broker.read('java.orders');
    expect(stored.messages[0]?.frame).toContain('"data":{"value":42}');

    // Keep-alive: a second h2c request and then a plain one, on the same socket.
    socket.write(h2cRequest('GET', '/api/channels/java.orders'));
    const latest = await read.next();
    expect(latest.status).toBe(200);
    expect(JSON.parse(latest.body)).toMatchObject({ channel: 'java.orders', seq: 1, data: { value: 42 } });
    socket.write('GET /api/channels HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const list = await read.next();
    expect(list.status).toBe(200);
    expect(JSON.parse(list.body).channels.map((c: { channel: string }) => c.channel)).toContain(
      'java.orders',
    );
    socket.destroy();
  });

  test('h2c requests pipelined in one write are each answered, in order, and the connection stays usable', async () => {
    const server = await start();
    const socket = connect(server.port, '127.0.0.1');
    await once(socket, 'connect');
    const read = responses(socket);
    // Three h2c offers and a plain request, all in one write: each is served after the one before it.
    socket.write(
      h2cRequest('POST', '/api/channels/java.pipe', '{"n":1}') +
        h2cRequest('POST', '/api/channels/java.pipe', '{"n":2}') +
        h2cRequest('GET', '/api/channels/java.pipe') +
        'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
    );
    const first = await read.next();
    const second = await read.next();
    const latest = await read.next();
    const health = await read.next();
    expect([first.status, second.status, latest.status, health.status]).toEqual([200, 200, 200, 200]);
    expect(JSON.parse(first.body)).toMatchObject({ seq: 1 });
    expect(JSON.parse(second.body)).toMatchObject({ seq: 2 });
    expect(JSON.parse(latest.body)).toMatchObject({ seq: 2, data: { n: 2 } });
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok' });
    socket.write(h2cRequest('GET', '/api/channels/java.pipe'));
    expect((await read.next()).status).toBe(200);
    socket.destroy();
  });

  test('a peer that resets while its h2c request waits behind an SSE stream costs its socket, not the process', async () => {
    const server = await start();
    const faults: unknown[] = [];
    const onUncaught = (error: unknown) => faults.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      for (let round = 0; round < 5; round++) {
        const socket = connect(server.port, '127.0.0.1');
        socket.on('error', () => {});
        await once(socket, 'connect');
        socket.write(
          `GET /sse?channels=waits HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n${h2cRequest('GET', '/api/channels/waits')}`,
        );
        await new Promise((resolve) => setTimeout(resolve, 100));
        if (round % 2 === 0) socket.end();
        else socket.resetAndDestroy();
        await new Promise((resolve) => setTimeout(resolve, 50));
        // Writes to the stream now fail on the closed socket.
        await server.hub.publish('waits', { round });
        await server.hub.publish('waits', { round });
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(faults).toEqual([]);
      const health = await fetch(`${server.url}/healthz`);
      expect(health.status).toBe(200);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  test('a peer that reads none of the answers ahead of its h2c request is still cut after the response timeout', async () => {
    const server = await createServer({
      port: 0,
      host: '127.0.0.1',
      publishToken: TOKEN,
      responseTimeoutMs: 500,
    });
    servers.push(server);
    const pad = 'x'.repeat(60 * 1024);
    for (let i = 1; i <= 16; i++) await server.hub.publish('big', { i, pad });
    const accepted = once(server.app.server, 'connection') as Promise<[Socket]>;
    const socket = connect(server.port, '127.0.0.1');
    socket.pause();
    socket.on('error', () => {});
    await once(socket, 'connect');
    const poll = 'GET /api/channels/big/messages?since=0 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
    socket.write(poll.repeat(8) + h2cRequest('GET', '/api/channels/big'));
    const [serverSide] = await accepted;
    const deadline = Date.now() + 10_000;
    while (!serverSide.destroyed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(serverSide.destroyed).toBe(true);
    socket.destroy();
  });

  test('over TLS too (https server): the h2c offer is ignored and the request served', async () => {
    const server = await start(true);
    const socket = connectTls({ port: server.port, host: '127.0.0.1', rejectUnauthorized: false });
    await once(socket, 'secureConnect');
    const read = responses(socket as unknown as Socket);
    socket.write(h2cRequest('POST', '/api/channels/tls.orders', '{"ok":true}'));
    const published = await read.next();
    expect(published.status).toBe(200);
    expect(JSON.parse(published.body)).toMatchObject({ channel: 'tls.orders', seq: 1 });
    socket.destroy();
  });

  test('a WebSocket upgrade still gets 101, whatever the case of the token; an h2c offer on /ws is not a WebSocket', async () => {
    const server = await start();
    const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/ws`, {
      headers: { Upgrade: 'WebSocket' },
    });
    await once(ws, 'open');
    ws.close();

    const socket = connect(server.port, '127.0.0.1');
    await once(socket, 'connect');
    const read = responses(socket);
    socket.write(h2cRequest('GET', '/ws'));
    const answer = await read.next();
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    expect(answer.status).not.toBe(101);
    socket.destroy();
  });
});
