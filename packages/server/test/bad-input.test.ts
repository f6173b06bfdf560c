import { connect, type Socket } from 'node:net';
import { createServer, type LivedashServer } from '@livedash/server';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { TestSseClient } from './helpers/sse-client.js';
import { assertContiguous, httpPublish, TestWsClient } from './helpers/ws-client.js';
import { rawExchange } from './security-wire.js';

let server: LivedashServer;
/** A well-behaved client that must keep receiving every message whatever the others send. */
let canary: TestWsClient;
let published = 0;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  server = await createServer({
    port: 0,
    publishToken: 'secret',
    maxSubscriptions: 8,
    requestTimeoutMs: 1000,
  });
  canary = await TestWsClient.connect(server.url);
  canary.send({ action: 'subscribe', channels: ['canary'] });
  await canary.waitFor((frames) => frames.some((f) => f.type === '$subscribed'));
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await expectCanaryGetsEverything();
});

afterAll(async () => {
  await canary.close();
  await server.close();
});

/** Publishes a few messages and checks the canary got them and every earlier one, in order. */
async function expectCanaryGetsEverything(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const result = await httpPublish(server.url, 'canary', { n: ++published });
    expect(result.status).toBe(200);
  }
  await canary.waitForData('canary', published);
  assertContiguous(
    canary.data('canary').map((f) => f.seq as number),
    1,
    published,
  );
}

async function attacker(): Promise<TestWsClient> {
  const client = await TestWsClient.connect(server.url);
  cleanups.push(() => client.close());
  await client.waitFor((frames) => frames.some((f) => f.type === '$welcome'));
  return client;
}

/** Sends `frame` and returns the `$error` it got; then proves the connection still answers. */
async function errorFor(client: TestWsClient, frame: string | Buffer): Promise<Record<string, unknown>> {
  const before = client.ofType('$error').length;
  client.ws.send(frame);
  await client.waitFor(() => client.ofType('$error').length > before, 5000, '$error');
  const pings = client.ofType('$pong').length;
  client.send({ action: 'ping', id: 'alive' });
  await client.waitFor(() => client.ofType('$pong').length > pings, 5000, '$pong after error');
  return client.ofType('$error').at(-1) as Record<string, unknown>;
}

describe('WebSocket bad input gets $error and the connection stays', () => {
  test.each([
    ['non-JSON text', 'this is not json', 'bad_json'],
    ['a JSON array', '[1,2,3]', 'bad_command'],
    ['an unknown action', '{"action":"explode","id":5}', 'unknown_action'],
    ['an unknown key', '{"action":"ping","extra":true,"id":6}', 'unknown_key'],
    ['a wrong type', '{"action":"subscribe","channels":"metrics","id":7}', 'bad_command'],
    ['an invalid channel name', '{"action":"subscribe","channels":["bad name!"],"id":8}', 'invalid_channel'],
    ['a $-prefixed channel name', '{"action":"subscribe","channels":["$welcome"]}', 'invalid_channel'],
    [
      'deeply nested JSON',
      `{"action":"publish","channel":"x","data":${'['.repeat(5000)}${']'.repeat(5000)}}`,
      'too_deep',
    ],
    [
      'a bad since',
      '{"action":"subscribe","channels":["a"],"since":{"a":{"epoch":"e","seq":-1}}}',
      'bad_command',
    ],
    ['publish without the token', '{"action":"publish","channel":"canary","data":1,"id":9}', 'unauthorized'],
    ['a prototype-shaped frame', '{"__proto__":{"action":"ping"}}', 'bad_command'],
  ])('%s', async (_name, frame, code) => {
    const client = await attacker();
    const error = await errorFor(client, frame);
    expect(error.code).toBe(code);
    const id = (JSON.parse(frame.length < 200 && frame.startsWith('{') ? frame : '{}') as { id?: unknown })
      .id;
    if (id !== undefined) expect(error.id).toBe(id);
  });

  test('a binary frame gets binary_frame', async () => {
    const client = await attacker();
    const error = await errorFor(client, Buffer.from([1, 2, 3, 0xff]));
    expect(error.code).toBe('binary_frame');
  });

  test('too many channels in one command, or over the limit in total: too_many_subscriptions for the excess', async () => {
    const client = await attacker();
    const nine = Array.from({ length: 9 }, (_, i) => `c${i}`);
    expect((await errorFor(client, JSON.stringify({ action: 'subscribe', channels: nine }))).code).toBe(
      'too_many_subscriptions',
    );
    client.send({ action: 'subscribe', channels: nine.slice(0, 6) });
    await client.waitFor(() => client.ofType('$subscribed').length === 6);
    client.send({ action: 'subscribe', channels: ['x1', 'x2', 'x3', 'x4'], id: 'more' });
    await client.waitFor(() => client.ofType('$error').length === 3);
    const errors = client.ofType('$error').slice(1);
    expect(errors.map((e) => e.code)).toEqual(['too_many_subscriptions', 'too_many_subscriptions']);
    expect(client.ofType('$subscribed')).toHaveLength(8);
  });

  test('__proto__ as a channel name and as data keys is plain data, no prototype is touched', async () => {
    const client = await attacker();
    client.send({ action: 'auth', token: 'secret', id: 'a' });
    client.send({ action: 'subscribe', channels: ['__proto__', 'constructor'], id: 's' });
    await client.waitFor(() => client.ofType('$subscribed').length === 2);
    client.ws.send(
      '{"action":"publish","channel":"__proto__","data":{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}},"id":"p"}',
    );
    await client.waitForData('__proto__', 1);
    expect(client.data('__proto__')[0]?.data).toEqual(
      JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}'),
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  test('an oversized frame closes the connection with 1009', async () => {
    const client = await attacker();
    client.ws.send(JSON.stringify({ action: 'ping', pad: 'x'.repeat(70 * 1024) }));
    const { code } = await client.closed;
    expect(code).toBe(1009);
  });

  test('invalid UTF-8 in a text frame closes with 1007 (ws validates it)', async () => {
    const client = await attacker();
    // Send raw bytes flagged as text, bypassing the client's own encoding.
    (
      client.ws as unknown as { _sender: { send(data: Buffer, options: object, cb?: () => void): void } }
    )._sender.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), {
      binary: false,
      fin: true,
      mask: true,
      compress: false,
      rsv1: false,
      opcode: 1,
      readOnly: false,
    });
    const { code } = await client.closed;
    expect(code).toBe(1007);
  });

  test('a wrong auth token gets $error unauthorized and the connection is closed with 4001', async () => {
    const client = await attacker();
    client.send({ action: 'auth', token: 'nope', id: 10 });
    const { code } = await client.closed;
    expect(code).toBe(4001);
    expect(client.ofType('$error').at(-1)).toMatchObject({ code: 'unauthorized', id: 10 });
  });

  test('a flood of garbage frames does not delay the canary (the flooder is answered, limited or cut)', async () => {
    const client = await attacker();
    for (let i = 0; i < 2000; i++) client.ws.send(i % 2 ? 'garbage' : '{"action":"nope"}');
    await expectCanaryGetsEverything();
    // Either every frame got its $error, or the rate limit answered rate_limited / closed the flood with 4029.
    await client.waitFor(
      (frames) =>
        frames.filter((f) => f.type === '$error').length === 2000 ||
        frames.some((f) => f.type === '$error' && f.code === 'rate_limited'),
      15_000,
      'errors or rate limiting',
    );
  });
});

describe('HTTP bad input', () => {
  const post = (channel: string, body: string | Uint8Array, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/api/channels/${channel}`, {
      method: 'POST',
      headers: { authorization: 'Bearer secret', 'content-type': 'application/json', ...headers },
      body,
    });

  test.each([
    ['no token', () => post('canary', '1', { authorization: '' }), 401, 'unauthorized'],
    ['a wrong token', () => post('canary', '1', { authorization: 'Bearer wrong' }), 401, 'unauthorized'],
    [
      'a non-Bearer scheme',
      () => post('canary', '1', { authorization: 'Basic c2VjcmV0' }),
      401,
      'unauthorized',
    ],
    ['invalid JSON', () => post('canary', '{"a":'), 400, 'bad_json'],
    ['an empty body', () => post('canary', ''), 400, 'bad_json'],
    [
      'a body that is not UTF-8',
      () => post('canary', new Uint8Array([0x22, 0xff, 0xfe, 0x22])),
      400,
      'bad_json',
    ],
    ['too deep JSON', () => post('canary', `${'['.repeat(100)}${']'.repeat(100)}`), 400, 'too_deep'],
    [
      'an oversized body',
      () => post('canary', JSON.stringify({ pad: 'x'.repeat(70 * 1024) })),
      413,
      'too_large',
    ],
    ['a wrong content type', () => post('canary', '1', { 'content-type': 'text/plain' }), 415, 'bad_command'],
    ['an invalid channel', () => post('bad%20name', '1'), 400, 'invalid_channel'],
    [
      'an unknown channel read',
      () => fetch(`${server.url}/api/channels/never-published`),
      404,
      'unknown_channel',
    ],
    ['a bad since', () => fetch(`${server.url}/api/channels/canary/messages?since=-4`), 400, 'bad_command'],
    ['a bad epoch', () => fetch(`${server.url}/api/channels/canary/messages?epoch=a~b`), 400, 'bad_command'],
    ['a bad limit', () => fetch(`${server.url}/api/channels/canary/messages?limit=0`), 400, 'bad_command'],
    [
      'an SSE invalid channel',
      () => fetch(`${server.url}/sse?channels=ok,bad%20name`),
      400,
      'invalid_channel',
    ],
    ['an SSE without channels', () => fetch(`${server.url}/sse`), 400, 'bad_command'],
    [
      'an SSE with too many channels',
      () => fetch(`${server.url}/sse?channels=a,b,c,d,e,f,g,h,i`),
      400,
      'too_many_subscriptions',
    ],
    [
      'an SSE with a bad Last-Event-ID',
      () => fetch(`${server.url}/sse?channels=a`, { headers: { 'last-event-id': 'a~~x' } }),
      400,
      'bad_command',
    ],
    ['an unknown route', () => fetch(`${server.url}/api/nothing`), 404, 'not_found'],
  ])('%s', async (_name, request, status, code) => {
    const response = await request();
    expect(response.status).toBe(status);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe(code);
    expect(body.error.message).toEqual(expect.any(String));
  });

  test('HEAD /sse is answered 405 (Allow: GET) at once and opens no stream', async () => {
    const before = (await (await fetch(`${server.url}/healthz`)).json()) as { connections: { sse: number } };
    for (let i = 0; i < 20; i++) {
      const response = await fetch(`${server.url}/sse?channels=a`, { method: 'HEAD' });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('GET');
    }
    const after = (await (await fetch(`${server.url}/healthz`)).json()) as { connections: { sse: number } };
    expect(after.connections.sse).toBe(before.connections.sse);
    const sse = await fetch(`${server.url}/sse?channels=a`);
    expect(sse.status).toBe(200);
    await sse.body?.cancel();
  });

  test('an Expect other than 100-continue gets 417 with the JSON error body', async () => {
    const answer = await rawExchange(server.port, [
      'POST /api/channels/canary HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer secret\r\n' +
        'Content-Type: application/json\r\nContent-Length: 1\r\nExpect: something-else\r\n\r\n1',
    ]);
    expect(answer.status).toBe(417);
    expect(answer.text).toContain('"code":"bad_command"');
    expect(answer.text).toContain('Expect');
  });

  test.each([
    ['gzip, chunked', 501],
    ['deflate, chunked', 501],
    ['deflate', 501],
    // Chunked, then another coding: the body's length cannot be known (RFC 9112 §6.3); Node refuses it.
    ['chunked, identity', 400],
  ])(
    'a transfer coding the server does not implement (%s) gets %i, and nothing is published',
    async (coding, status) => {
      const before = (await server.hub.broker.read('te-canary')).seq;
      const answer = await rawExchange(server.port, [
        'POST /api/channels/te-canary HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer secret\r\n' +
          `Content-Type: application/json\r\nTransfer-Encoding: ${coding}\r\n\r\n7\r\n{"a":1}\r\n0\r\n\r\n`,
      ]);
      expect(answer.status).toBe(status);
      expect(answer.text).toContain('"code":"bad_command"');
      expect((await server.hub.broker.read('te-canary')).seq).toBe(before);
    },
  );

  test('a __proto__ body is published as plain data', async () => {
    const body = '{"__proto__":{"polluted":1},"ok":true}';
    const response = await post('proto-http', body);
    expect(response.status).toBe(200);
    const latest = (await (await fetch(`${server.url}/api/channels/proto-http`)).json()) as { data: unknown };
    expect(latest.data).toEqual(JSON.parse(body));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('a slowloris request (headers never finished) is cut after requestTimeoutMs, without delaying others', async () => {
    const socket = await openRaw();
    socket.write('GET /api/channels HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    const drip = setInterval(() => socket.write('a'), 100);
    const closedAt = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
    const start = Date.now();
    await expectCanaryGetsEverything();
    const elapsed = (await closedAt) - start;
    clearInterval(drip);
    expect(elapsed).toBeLessThan(8000);
  });

  test('a half-sent upgrade request is cut the same way', async () => {
    const socket = await openRaw();
    const start = Date.now();
    socket.write('GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n');
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    expect(Date.now() - start).toBeLessThan(8000);
  });

  test('an abrupt reset mid-request changes nothing', async () => {
    const socket = await openRaw();
    socket.write(
      'POST /api/channels/canary HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAuthorization: Bearer secret\r\nContent-Length: 1000\r\n\r\n{"a":',
    );
    socket.resetAndDestroy();
  });

  test('an SSE client that disconnects at once leaves no subscription behind', async () => {
    const before = server.hub.subscriptionCount;
    const sse = await TestSseClient.open(`${server.url}/sse?channels=canary`);
    await sse.abort();
    const deadline = Date.now() + 5000;
    while (server.hub.subscriptionCount !== before && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(server.hub.subscriptionCount).toBe(before);
  });
});

function openRaw(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1', () => resolve(socket));
    // Read (and discard) whatever the server answers, so its end of the connection is seen.
    socket.resume();
    socket.on('error', () => {});
    socket.once('error', reject);
    cleanups.push(() => {
      socket.destroy();
    });
  });
}
