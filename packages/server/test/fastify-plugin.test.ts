import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { livedash } from '@livedash/server';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, test } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { TestSseClient } from './helpers/sse-client.js';
import { TestWsClient } from './helpers/ws-client.js';

// livedash as a Fastify plugin: its routes under the register prefix, the app's routes, hooks and
// upgrades untouched, `app.livedash.publish` in process, and closing with the app.

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

/** An app with a route of its own, a hook of its own, and a WebSocket endpoint of its own at `/chat`. */
async function userApp(): Promise<{ app: FastifyInstance; hooked: string[] }> {
  const app = Fastify();
  const hooked: string[] = [];
  app.addHook('onRequest', async (request) => {
    hooked.push(request.url);
  });
  app.get('/hello', async () => ({ hello: 'from fastify' }));
  const wss = new WebSocketServer({ noServer: true });
  wss.on('connection', (socket) => socket.on('message', (data) => socket.send(`echo:${String(data)}`)));
  app.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (request.url !== '/chat') return void socket.destroy();
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  });
  cleanup.push(() => {
    for (const client of wss.clients) client.terminate();
    wss.close();
  });
  return { app, hooked };
}

async function echo(url: string): Promise<string> {
  const ws = new WebSocket(url);
  try {
    await once(ws, 'open');
    ws.send('ping');
    const [data] = (await once(ws, 'message')) as [Buffer];
    return String(data);
  } finally {
    ws.terminate();
  }
}

describe('the livedash Fastify plugin', () => {
  test("serves under the register prefix next to the app's own routes, hooks and upgrades", async () => {
    const { app, hooked } = await userApp();
    await app.register(livedash, { prefix: '/live', publishToken: 'secret' });
    await app.listen({ port: 0, host: '127.0.0.1' });
    cleanup.push(() => app.close());
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

    const client = await TestWsClient.connect(`${base}/live`);
    cleanup.push(() => client.close());
    client.send({ action: 'subscribe', channels: ['orders'] });
    await client.waitFor((frames) => frames.some((f) => f.type === '$subscribed'));
    const published = await app.livedash.publish('orders', { open: 12 });
    expect(published).toMatchObject({ channel: 'orders', seq: 1 });
    await client.waitForData('orders', 1);
    expect(client.data('orders')[0]).toMatchObject({ data: { open: 12 }, seq: 1 });

    const sse = await TestSseClient.open(`${base}/live/sse?channels=orders`);
    // Read to its end after the app closes: the close ends the stream (an aborted fetch would keep
    // its TCP connection, and the app's close waiting, for undici's keep-alive time).
    cleanup.unshift(() => sse.abort());
    await sse.waitFor(() => sse.data('orders').length === 1);
    const posted = await fetch(`${base}/live/api/channels/orders`, {
      method: 'POST',
      headers: { authorization: 'Bearer secret', 'content-type': 'application/json' },
      body: '{"open":13}',
    });
    expect(await posted.json()).toMatchObject({ channel: 'orders', seq: 2 });
    expect((await fetch(`${base}/live/healthz`)).status).toBe(200);

    expect(await (await fetch(`${base}/hello`)).json()).toEqual({ hello: 'from fastify' });
    // livedash's paths exist only under the prefix; the app's 404 answers the rest.
    expect((await fetch(`${base}/api/channels`)).status).toBe(404);
    expect(await echo(`${base.replace('http', 'ws')}/chat`)).toBe('echo:ping');
    // The app's own hooks see its requests as before (livedash's scope does not hide them).
    expect(hooked).toContain('/hello');
  });

  test('inside a plugin with its own prefix, the prefixes add up and app.livedash is on that scope', async () => {
    const { app } = await userApp();
    let scoped: FastifyInstance | undefined;
    await app.register(
      async (scope) => {
        await scope.register(livedash, { prefix: '/live' });
        scoped = scope;
      },
      { prefix: '/tenant' },
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    cleanup.push(() => app.close());
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    expect(app.hasDecorator('livedash')).toBe(false);
    const client = await TestWsClient.connect(`${base}/tenant/live`);
    cleanup.push(() => client.close());
    client.send({ action: 'subscribe', channels: ['orders'] });
    await client.waitFor((frames) => frames.some((f) => f.type === '$subscribed'));
    await scoped?.livedash.publish('orders', { open: 1 });
    await client.waitForData('orders', 1);
    expect((await fetch(`${base}/tenant/live/api/channels/orders`)).status).toBe(200);
    expect((await fetch(`${base}/live/api/channels/orders`)).status).toBe(404);
  });

  test("livedash's body parser and error handler stay in its scope", async () => {
    const { app } = await userApp();
    app.post('/notes', async (request) => ({ got: request.body }));
    await app.register(livedash, { prefix: '/live', publishToken: 'secret' });
    await app.listen({ port: 0, host: '127.0.0.1' });
    cleanup.push(() => app.close());
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const note = await fetch(`${base}/notes`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hi',
    });
    expect(await note.json()).toEqual({ got: 'hi' });
    const refused = await fetch(`${base}/live/api/channels/orders`, {
      method: 'POST',
      headers: { authorization: 'Bearer secret', 'content-type': 'text/plain' },
      body: 'hi',
    });
    expect(refused.status).toBe(415);
    expect(await refused.json()).toMatchObject({ error: { code: 'bad_command' } });
  });

  test("an app's catch-all body parser does not turn livedash's 415 into another answer", async () => {
    const { app } = await userApp();
    // Apps that accept any body (webhooks, proxies) register a parser for every content type.
    app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, { raw: body }));
    app.post('/hook', async (request) => ({ got: request.body }));
    await app.register(livedash, { prefix: '/live', publishToken: 'secret' });
    await app.listen({ port: 0, host: '127.0.0.1' });
    cleanup.push(() => app.close());
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const hook = await fetch(`${base}/hook`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-anything' },
      body: 'x',
    });
    expect(await hook.json()).toEqual({ got: { raw: 'x' } });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream']) {
      const refused = await fetch(`${base}/live/api/channels/orders`, {
        method: 'POST',
        headers: { authorization: 'Bearer secret', 'content-type': type },
        body: 'a=1',
      });
      expect(refused.status, type).toBe(415);
      expect(await refused.json()).toMatchObject({
        error: { code: 'bad_command', message: 'the body must be application/json' },
      });
    }
    const published = await fetch(`${base}/live/api/channels/orders`, {
      method: 'POST',
      headers: { authorization: 'Bearer secret', 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    expect(published.status).toBe(200);
  });

  test('livedash.close() ends its connections and leaves the app serving; app.close() finishes with none open', async () => {
    const { app } = await userApp();
    await app.register(livedash, { prefix: '/live' });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const client = await TestWsClient.connect(`${base}/live`);
    await app.livedash.close();
    expect((await client.closed).code).toBe(1012);
    expect((await fetch(`${base}/hello`)).status).toBe(200);
    expect((await fetch(`${base}/live/api/channels`)).status).toBe(503);
    expect(await echo(`${base.replace('http', 'ws')}/chat`)).toBe('echo:ping');
    await app.close();
  });

  test('closing the app closes open livedash WebSockets with 1012 instead of waiting on them', async () => {
    const { app } = await userApp();
    await app.register(livedash);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const client = await TestWsClient.connect(base);
    const started = Date.now();
    await app.close();
    expect((await client.closed).code).toBe(1012);
    expect(Date.now() - started).toBeLessThan(4000);
  });

  test('listening on every interface without auth: its paths answer 503 with the reason', async () => {
    const { app } = await userApp();
    await app.register(livedash, { prefix: '/live' });
    const original = console.error;
    console.error = () => {};
    try {
      await app.listen({ port: 0, host: '0.0.0.0' });
    } finally {
      console.error = original;
    }
    cleanup.push(() => app.close());
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const refused = await fetch(`${base}/live/api/channels`);
    expect(refused.status).toBe(503);
    expect(JSON.stringify(await refused.json())).toMatch(/without authentication/);
    expect((await fetch(`${base}/hello`)).status).toBe(200);
  });
});
