import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, type Socket } from 'node:net';
import { attach, createServer, type LivedashServer } from '@livedash/server';
import { afterEach, describe, expect, test } from 'vitest';
import { until } from './helpers/wait.js';
import { httpPublish, TestWsClient } from './helpers/ws-client.js';

let server: LivedashServer | undefined;
const cleanups: Array<() => void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  await server?.close();
  server = undefined;
});

async function start(options: Parameters<typeof createServer>[0] = {}) {
  server = await createServer({ port: 0, publishToken: 'secret', ...options });
  return server;
}

const json = async (path: string) => {
  const response = await fetch(`${(server as LivedashServer).url}${path}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

describe('HTTP API', () => {
  test('POST publishes; GET returns the latest value; the list shows the channel', async () => {
    const s = await start();
    const first = await httpPublish(s.url, 'orders', { id: 1 });
    const second = await httpPublish(s.url, 'orders', { id: 2 });
    expect(first).toEqual({ status: 200, body: { channel: 'orders', epoch: expect.any(String), seq: 1 } });
    expect(second.body.seq).toBe(2);
    const latest = await json('/api/channels/orders');
    expect(latest).toEqual({
      status: 200,
      body: { channel: 'orders', epoch: first.body.epoch, seq: 2, data: { id: 2 }, ts: expect.any(Number) },
    });
    const list = await json('/api/channels');
    expect(list.body.channels).toContainEqual(
      expect.objectContaining({ channel: 'orders', seq: 2, size: 2, epoch: first.body.epoch }),
    );
  });

  test('GET messages: history after since, recovered flag, epoch check, limit (the polling transport)', async () => {
    const s = await start({ history: [{ pattern: '*', maxMessages: 5, maxAgeMs: 60_000 }] });
    let epoch = '';
    for (let i = 1; i <= 8; i++) epoch = (await s.hub.publish('log', i)).epoch;
    const after5 = await json(`/api/channels/log/messages?since=5&epoch=${epoch}`);
    expect(after5.body).toMatchObject({ channel: 'log', epoch, seq: 8, recovered: true });
    expect((after5.body.messages as Array<{ seq: number }>).map((m) => m.seq)).toEqual([6, 7, 8]);
    // Older than history: recovered:false, with everything history still holds (a chart starts full).
    const tooOld = await json('/api/channels/log/messages?since=1');
    expect(tooOld.body).toMatchObject({ recovered: false, seq: 8 });
    expect((tooOld.body.messages as Array<{ seq: number }>).map((m) => m.seq)).toEqual([4, 5, 6, 7, 8]);
    const otherEpoch = await json('/api/channels/log/messages?since=7&epoch=stale');
    expect(otherEpoch.body).toMatchObject({ recovered: false, epoch });
    expect((otherEpoch.body.messages as Array<{ seq: number }>).map((m) => m.seq)).toEqual([4, 5, 6, 7, 8]);
    const limited = await json(`/api/channels/log/messages?since=4&epoch=${epoch}&limit=2`);
    expect((limited.body.messages as Array<{ seq: number }>).map((m) => m.seq)).toEqual([7, 8]);
    const upToDate = await json(`/api/channels/log/messages?since=8&epoch=${epoch}`);
    expect(upToDate.body).toMatchObject({ recovered: true, messages: [] });
  });

  test('/healthz reports ok with node and uptime; /metrics is Prometheus text with the livedash series', async () => {
    const s = await start({ node: 'n1' });
    await httpPublish(s.url, 'x', 1);
    const health = await json('/healthz');
    expect(health).toEqual({
      status: 200,
      body: expect.objectContaining({ status: 'ok', node: 'n1', uptime: expect.any(Number) }),
    });
    const response = await fetch(`${s.url}/metrics`);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    for (const name of [
      'livedash_connections',
      'livedash_subscriptions',
      'livedash_messages_in_total 1',
      'livedash_messages_out_total',
      'livedash_bytes_out_total',
      'livedash_dropped_total',
      'livedash_slow_consumer_disconnects_total',
    ]) {
      expect(text).toContain(name);
    }
  });

  test('two servers in one process keep separate metrics', async () => {
    const a = await start();
    const b = await createServer({ port: 0, publishToken: 'secret' });
    try {
      await httpPublish(a.url, 'x', 1);
      expect(await (await fetch(`${b.url}/metrics`)).text()).toContain('livedash_messages_in_total 0');
      expect(await (await fetch(`${a.url}/metrics`)).text()).toContain('livedash_messages_in_total 1');
    } finally {
      await b.close();
    }
  });

  test('/healthz answers 503 degraded when the broker is', async () => {
    const { MemoryBroker } = await import('@livedash/server');
    const broker = new MemoryBroker();
    broker.health = () => ({ status: 'degraded', reason: 'redis unreachable' });
    cleanups.push(() => void broker.close());
    await start({ broker });
    const health = await json('/healthz');
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: 'degraded', reason: 'redis unreachable' });
  });

  test('the core serves no page: / and unknown paths answer 404 not_found in the JSON error body', async () => {
    const s = await start();
    for (const path of ['/', '/api/dashboard', '/some/route']) {
      const response = await fetch(`${s.url}${path}`);
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({
        error: { code: 'not_found', message: `no route GET ${path}` },
      });
    }
  });

  test('routes adds endpoints on the same port; notFound answers what no route matches', async () => {
    const s = await start({
      routes: (app) => {
        app.get('/version', async () => ({ version: '1.2.0' }));
      },
      notFound: (request, reply) => reply.code(404).type('text/plain').send(`nothing at ${request.url}`),
    });
    expect(await (await fetch(`${s.url}/version`)).json()).toEqual({ version: '1.2.0' });
    const missing = await fetch(`${s.url}/nowhere`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe('nothing at /nowhere');
    // livedash's own routes are untouched.
    await httpPublish(s.url, 'x', 1);
    expect((await json('/api/channels/x')).body).toMatchObject({ channel: 'x', data: 1 });
  });

  test('a routes callback that throws stops the start with its error', async () => {
    await expect(
      start({
        routes: () => {
          throw new Error('no such directory');
        },
      }),
    ).rejects.toThrow('no such directory');
    server = undefined;
  });

  test('with polling off, the history endpoint answers 404 not_found', async () => {
    await start({ transports: { ws: true, sse: true, poll: false } });
    const response = await json('/api/channels/x/messages?since=0');
    expect(response.status).toBe(404);
    expect((response.body.error as { code: string }).code).toBe('not_found');
  });
});

describe('bounded channel state', () => {
  test('GET /api/channels pages its answer in name order: ?limit= and ?after= the previous next', async () => {
    const s = await start();
    for (const name of ['d', 'b', 'e', 'a', 'c']) await s.hub.publish(name, 1);
    const first = await json('/api/channels?limit=2');
    expect((first.body.channels as Array<{ channel: string }>).map((c) => c.channel)).toEqual(['a', 'b']);
    expect(first.body.next).toBe('b');
    const second = await json('/api/channels?limit=2&after=b');
    expect((second.body.channels as Array<{ channel: string }>).map((c) => c.channel)).toEqual(['c', 'd']);
    const last = await json(`/api/channels?limit=2&after=${second.body.next as string}`);
    expect(last.body).toEqual({ channels: [expect.objectContaining({ channel: 'e' })], next: null });
    // An empty page answers at once, looking at no channel (the polling client's check).
    expect(await json('/api/channels?limit=0')).toEqual({ status: 200, body: { channels: [], next: null } });
    expect((await json('/api/channels?limit=-1')).status).toBe(400);
    expect((await json('/api/channels?limit=00')).status).toBe(400);
    expect((await json('/api/channels?limit=1001')).status).toBe(400);
    expect((await json('/api/channels?after=$bad')).status).toBe(400);
  });

  test('reads, history polls and subscriptions of names never published leave nothing listed', async () => {
    const s = await start();
    expect((await json('/api/channels/made.up')).status).toBe(404);
    expect((await json('/api/channels/made.up/messages?since=0')).body).toMatchObject({
      seq: 0,
      messages: [],
    });
    const ws = await TestWsClient.connect(s.url);
    cleanups.push(() => ws.ws.terminate());
    ws.send({ action: 'subscribe', channels: ['made.up.too'] });
    await ws.waitFor((frames) => frames.some((f) => f.type === '$subscribed'));
    ws.send({ action: 'unsubscribe', channels: ['made.up.too'] });
    await ws.waitFor((frames) => frames.some((f) => f.type === '$unsubscribed'));
    expect((await json('/api/channels')).body).toEqual({ channels: [], next: null });
  });

  test('past maxChannels with every channel subscribed, a publish is refused: HTTP 507 and $error capacity_exceeded', async () => {
    const s = await start({ maxChannels: 2 });
    const ws = await TestWsClient.connect(s.url, '/ws?token=secret');
    cleanups.push(() => ws.ws.terminate());
    ws.send({ action: 'subscribe', channels: ['a', 'b'] });
    await ws.waitFor((frames) => frames.filter((f) => f.type === '$subscribed').length === 2);
    await httpPublish(s.url, 'a', 1);
    await httpPublish(s.url, 'b', 1);
    const refused = await httpPublish(s.url, 'c', 1);
    expect(refused.status).toBe(507);
    expect(refused.body.error).toMatchObject({ code: 'capacity_exceeded' });
    ws.send({ action: 'publish', channel: 'c', data: 1, id: 7 });
    await ws.waitFor((frames) => frames.some((f) => f.type === '$error' && f.id === 7));
    expect(ws.ofType('$error')[0]).toMatchObject({ code: 'capacity_exceeded', channel: 'c' });
    // Once a channel is idle it makes room, and the publish goes through.
    ws.send({ action: 'unsubscribe', channels: ['b'] });
    await ws.waitFor((frames) => frames.some((f) => f.type === '$unsubscribed'));
    expect((await httpPublish(s.url, 'c', 1)).status).toBe(200);
    expect((await json('/api/channels/b')).status).toBe(404);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/livedash_channels_evicted_total 1/);
  });
});

describe('channel names of every valid length', () => {
  // The longest name the grammar allows; `:` is sent percent-encoded as browsers' encodeURIComponent does.
  const longest = `a${'b:'.repeat(63)}c`;

  async function everyRoute(base: string) {
    expect(longest).toHaveLength(128);
    const path = `${base}/api/channels/${encodeURIComponent(longest)}`;
    const posted = await fetch(path, {
      method: 'POST',
      headers: { authorization: 'Bearer secret', 'content-type': 'application/json' },
      body: '{"v":1}',
    });
    expect(posted.status).toBe(200);
    expect(await posted.json()).toMatchObject({ channel: longest, seq: 1 });
    const latest = await fetch(path);
    expect(latest.status).toBe(200);
    expect(await latest.json()).toMatchObject({ channel: longest, data: { v: 1 } });
    const history = await fetch(`${path}/messages?since=0`);
    expect(history.status).toBe(200);
    expect(await history.json()).toMatchObject({ channel: longest, seq: 1 });
    const unencoded = await fetch(`${base}/api/channels/${longest}`);
    expect(unencoded.status).toBe(200);
    const listed = (await (await fetch(`${base}/api/channels`)).json()) as {
      channels: Array<{ channel: string }>;
    };
    expect(listed.channels.map((c) => c.channel)).toContain(longest);
    // One character more is outside the grammar: a clear 400, not a 404 for a missing route.
    const tooLong = await fetch(`${base}/api/channels/${longest}x`);
    expect(tooLong.status).toBe(400);
    expect(await tooLong.json()).toMatchObject({ error: { code: 'invalid_channel' } });
  }

  test('every HTTP route of createServer takes a 128-character name', async () => {
    const s = await start();
    await everyRoute(s.url);
  });

  test('every HTTP route of attach takes a 128-character name', async () => {
    const http = createHttpServer((_request, response) => response.writeHead(404).end());
    const live = await attach(http, { publishToken: 'secret' });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    try {
      await everyRoute(`http://127.0.0.1:${(http.address() as AddressInfo).port}`);
    } finally {
      await live.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  });
});

describe('history answers bounded in bytes', () => {
  // 40 messages of ~40 KiB: 1.6 MB of history, over the 512 KiB bound set here.
  const pad = 'x'.repeat(40 * 1024);
  const fill = async (s: LivedashServer) => {
    for (let i = 1; i <= 40; i++) await s.hub.publish('big', { i, pad });
  };
  type Answer = { recovered: boolean; seq: number; messages: Array<{ seq: number }> };

  test('a poll far behind gets the oldest messages that fit, and goes on after them without a gap', async () => {
    const s = await start({ maxQueueBytes: 512 * 1024 });
    await fill(s);
    const epoch = (await s.hub.broker.read('big')).epoch;
    const seen: number[] = [];
    let since = 0;
    for (let polls = 0; polls < 10 && since < 40; polls++) {
      const response = await fetch(`${s.url}/api/channels/big/messages?since=${since}&epoch=${epoch}`);
      const text = await response.text();
      expect(text.length).toBeLessThan(512 * 1024 + 41 * 1024);
      const answer = JSON.parse(text) as Answer;
      expect(answer).toMatchObject({ recovered: true, seq: 40 });
      expect(answer.messages.length).toBeGreaterThan(0);
      for (const message of answer.messages) seen.push(message.seq);
      since = answer.messages.at(-1)?.seq ?? since;
    }
    expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });

  test('a poll history does not cover gets the newest messages that fit, with recovered:false', async () => {
    const s = await start({ maxQueueBytes: 512 * 1024 });
    await fill(s);
    const response = await fetch(`${s.url}/api/channels/big/messages?since=0&epoch=AAAAAAAAAAAAAAAA`);
    const text = await response.text();
    expect(text.length).toBeLessThan(512 * 1024 + 41 * 1024);
    const answer = JSON.parse(text) as Answer;
    expect(answer.recovered).toBe(false);
    expect(answer.messages.at(-1)?.seq).toBe(40);
    expect(answer.messages.length).toBeLessThan(40);
  });

  test('a state channel over the bound conflates to its newest values that fit, with recovered:false', async () => {
    const s = await start({ maxQueueBytes: 512 * 1024, stateChannels: ['big'] });
    await fill(s);
    const epoch = (await s.hub.broker.read('big')).epoch;
    const response = await fetch(`${s.url}/api/channels/big/messages?since=0&epoch=${epoch}`);
    const answer = JSON.parse(await response.text()) as Answer;
    expect(answer.recovered).toBe(false);
    expect(answer.messages.at(-1)?.seq).toBe(40);
    expect(answer.messages.length).toBeLessThan(40);
  });

  test('a message bigger than the bound is still answered, alone', async () => {
    const s = await start({ maxQueueBytes: 16 * 1024 });
    await s.hub.publish('huge', { pad: 'y'.repeat(20 * 1024) });
    await s.hub.publish('huge', { pad: 'z'.repeat(20 * 1024) });
    const answer = (await json('/api/channels/huge/messages?since=0')).body as unknown as Answer;
    expect(answer.messages.map((message) => message.seq)).toEqual([1]);
  });
});

describe('an answer nobody reads', () => {
  /**
   * Publishes `messages` of 60 KiB on `big`, then asks for its whole history `answers` times in one
   * pipelined write on a socket that reads nothing until the test reads it.
   */
  async function pipelinedHistory(s: LivedashServer, messages: number, answers: number) {
    const pad = 'x'.repeat(60 * 1024);
    for (let i = 1; i <= messages; i++) await s.hub.publish('big', { i, pad });
    const accepted = once(s.app.server, 'connection') as Promise<[Socket]>;
    const socket = connect(s.port, '127.0.0.1');
    socket.pause();
    cleanups.push(() => socket.destroy());
    await once(socket, 'connect');
    socket.write(
      'GET /api/channels/big/messages?since=0 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'.repeat(answers),
    );
    const [serverSide] = await accepted;
    return { socket, serverSide: serverSide as Socket };
  }

  test('a connection that takes none of its answers for responseTimeoutMs is cut, and the server goes on serving', async () => {
    const s = await start({ maxQueueBytes: 1024 * 1024, responseTimeoutMs: 500 });
    // The whole history eight times over, never read: more than the kernel holds, so answers wait in the server.
    const { serverSide } = await pipelinedHistory(s, 30, 8);
    await until(() => serverSide.destroyed, 'the server to cut the connection', 10_000);
    expect((await json('/healthz')).status).toBe(200);
  });

  test('a slow reader that keeps taking its answers is not cut, though they take longer than the timeout', async () => {
    const s = await start({ maxQueueBytes: 1024 * 1024, responseTimeoutMs: 5000 });
    // Eight answers of ~1 MB pipelined: more than the kernel holds, so the server waits on this reader.
    const answers = 8;
    const { socket, serverSide } = await pipelinedHistory(s, 16, answers);
    let received = 0;
    let serverWaited = false;
    // At most 2.5 MB/s, in reads 50 ms apart: longer than the timeout in all, and the kernel, which
    // only takes more once much of what it holds is read, still takes some within each timeout.
    const started = Date.now();
    const timer = setInterval(() => {
      serverWaited ||= serverSide.writableLength > 0;
      for (let taken = 0; taken < 128 * 1024; ) {
        const chunk: Buffer | null = socket.read();
        if (!chunk) break;
        taken += chunk.length;
        received += chunk.length;
      }
    }, 50);
    cleanups.push(() => clearInterval(timer));
    const total = answers * 16 * 60 * 1024;
    await until(() => received >= total || serverSide.destroyed, 'every answer, read slowly', 60_000);
    expect(serverWaited).toBe(true);
    expect(serverSide.destroyed).toBe(false);
    expect(received).toBeGreaterThanOrEqual(total);
    // A cut on total time rather than on silence would have come before the end.
    expect(Date.now() - started).toBeGreaterThan(5000);
  });
});
