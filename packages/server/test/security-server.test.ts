/**
 * Access control and limits end to end: a real server on port 0 with JWT auth, real WebSocket, SSE
 * and HTTP clients. Every refusal is checked for its code and for what it must not disturb.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { mintToken } from '../src/auth/mint-token.js';
import { createServer, type LivedashServer } from '../src/index.js';
import { TestSseClient } from './helpers/sse-client.js';
import { TestWsClient } from './helpers/ws-client.js';
import { buildFrame, closeCodeOf, parseServerFrames, rawExchange, upgradeHeaders } from './security-wire.js';

const SECRET = 'security-server-test-secret-0123456789abcdef';
const PUBLISH = 'security-publish-token';

const token = (subscribe: string[], publish: string[] = [], ttlSec = 600) =>
  mintToken({ secret: SECRET, subscribe, publish, ttlSec });
const wsUrl = (server: LivedashServer, query = '') => `${server.url.replace(/^http/, 'ws')}/ws${query}`;

async function connectWs(
  server: LivedashServer,
  query = '',
  options: WebSocket.ClientOptions = {},
): Promise<TestWsClient> {
  const client = new TestWsClient(wsUrl(server, query), options);
  await client.opened;
  await client.waitFor((frames) => frames.some((f) => f.type === '$welcome'));
  return client;
}

describe('with JWT auth configured', () => {
  let server: LivedashServer;
  const open: Array<{ close(): unknown }> = [];

  beforeAll(async () => {
    server = await createServer({
      port: 0,
      publishToken: PUBLISH,
      jwt: { secret: SECRET, clockToleranceSec: 0 },
      anonymousChannels: ['public.*'],
    });
    for (const channel of ['team.a', 'team.b', 'secret', 'public.news'])
      await server.hub.publish(channel, { channel });
  });

  afterAll(async () => {
    for (const client of open) await client.close();
    await server.close();
  });

  it('a WebSocket token grants its channels; a forbidden one is refused alone and the connection stays', async () => {
    const client = await connectWs(server, `?token=${await token(['team.*'], ['team.a'])}`);
    open.push(client);
    client.send({ action: 'subscribe', channels: ['team.a', 'secret', 'team.b'], id: 1 });
    await client.waitFor((frames) => frames.filter((f) => f.type === '$subscribed').length === 2);
    expect(client.ofType('$error')).toEqual([
      expect.objectContaining({ code: 'forbidden', channel: 'secret', id: 1 }),
    ]);
    client.send({ action: 'publish', channel: 'team.a', data: 1, id: 2 });
    client.send({ action: 'publish', channel: 'team.b', data: 1, id: 3 });
    await client.waitFor((frames) => frames.some((f) => f.type === '$ack' && f.id === 2));
    await client.waitFor((frames) => frames.some((f) => f.type === '$error' && f.id === 3));
    expect(client.ofType('$error').at(-1)).toMatchObject({ code: 'forbidden', channel: 'team.b' });
    client.send({ action: 'ping', id: 'alive' });
    await client.waitFor((frames) => frames.some((f) => f.type === '$pong'));
  });

  it('takes the token from the Authorization header too', async () => {
    const client = await connectWs(server, '', {
      headers: { authorization: `Bearer ${await token(['secret'])}` },
    });
    open.push(client);
    client.send({ action: 'subscribe', channels: ['secret'] });
    await client.waitFor((frames) => frames.some((f) => f.type === 'secret'));
  });

  it('anonymous clients get only the anonymous channels and are told to authenticate for the rest', async () => {
    const client = await connectWs(server);
    open.push(client);
    client.send({ action: 'subscribe', channels: ['public.news', 'team.a'] });
    await client.waitFor((frames) => frames.some((f) => f.type === 'public.news'));
    await client.waitFor((frames) => frames.some((f) => f.type === '$error'));
    expect(client.ofType('$error')[0]).toMatchObject({ code: 'unauthorized', channel: 'team.a' });
    expect(client.data('team.a')).toHaveLength(0);
  });

  it('frames sent along with a refused upgrade request are not answered before the 4001', async () => {
    const garbage = buildFrame({ opcode: 0x1, payload: 'not json' });
    const request = Buffer.concat([Buffer.from(upgradeHeaders('/ws?token=not.a.jwt')), garbage]);
    const { bytes } = await rawExchange(server.port, [request]);
    const body = bytes.subarray(bytes.indexOf('\r\n\r\n') + 4);
    const texts = parseServerFrames(body)
      .filter((frame) => frame.opcode === 0x1)
      .map((frame) => JSON.parse(frame.payload.toString()) as { type: string; code?: string });
    expect(texts.map((frame) => frame.code ?? frame.type)).toEqual(['$welcome', 'unauthorized']);
    expect(closeCodeOf(body)).toBe(4001);
  });

  it('a wrong token gets $error unauthorized and close 4001; an expired one token_expired and 4004', async () => {
    const wrong = new TestWsClient(wsUrl(server, '?token=not.a.jwt'));
    expect((await wrong.closed).code).toBe(4001);
    expect(wrong.ofType('$error')[0]).toMatchObject({ code: 'unauthorized' });
    const signedWithOther = await mintToken({ secret: `${SECRET}-x`, subscribe: ['*'], publish: [] });
    expect((await new TestWsClient(wsUrl(server, `?token=${signedWithOther}`)).closed).code).toBe(4001);
    const { SignJWT } = await import('jose');
    const expired = await new SignJWT({ subscribe: ['*'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(Math.floor(Date.now() / 1000) - 5)
      .sign(new TextEncoder().encode(SECRET));
    const late = new TestWsClient(wsUrl(server, `?token=${expired}`));
    expect((await late.closed).code).toBe(4004);
    expect(late.ofType('$error')[0]).toMatchObject({ code: 'token_expired' });
  });

  it('closes with 4004 when the token runs out, unless a fresh one arrives first, without dropping subscriptions', async () => {
    const staying = await connectWs(server, `?token=${await token(['team.*'], [], 2)}`);
    const leaving = await connectWs(server, `?token=${await token(['team.*'], [], 2)}`);
    open.push(staying, leaving);
    for (const client of [staying, leaving]) client.send({ action: 'subscribe', channels: ['team.a'] });
    await staying.waitFor((frames) => frames.some((f) => f.type === '$subscribed'));
    staying.send({ action: 'auth', token: await token(['team.*'], [], 600), id: 'refresh' });
    await staying.waitFor((frames) => frames.some((f) => f.type === '$ack' && f.id === 'refresh'));
    expect((await leaving.closed).code).toBe(4004);
    const published = await server.hub.publish('team.a', { after: 'expiry' });
    await staying.waitFor((frames) => frames.some((f) => f.type === 'team.a' && f.seq === published.seq));
    expect(staying.ws.readyState).toBe(WebSocket.OPEN);
    expect(staying.ofType('$subscribed')).toHaveLength(1);
  });

  it('a narrower fresh token drops the subscriptions it no longer allows', async () => {
    const client = await connectWs(server, `?token=${await token(['team.*'])}`);
    open.push(client);
    client.send({ action: 'subscribe', channels: ['team.a', 'team.b'] });
    await client.waitFor((frames) => frames.filter((f) => f.type === '$subscribed').length === 2);
    client.send({ action: 'auth', token: await token(['team.a']), id: 'narrow' });
    await client.waitFor((frames) => frames.some((f) => f.type === '$ack' && f.id === 'narrow'));
    expect(client.ofType('$unsubscribed')).toEqual([expect.objectContaining({ channel: 'team.b' })]);
    expect(client.ofType('$error')).toEqual([
      expect.objectContaining({ code: 'forbidden', channel: 'team.b' }),
    ]);
    const before = client.data('team.b').length;
    const a = await server.hub.publish('team.a', { n: 1 });
    await server.hub.publish('team.b', { n: 1 });
    await client.waitFor((frames) => frames.some((f) => f.type === 'team.a' && f.seq === a.seq));
    expect(client.data('team.b')).toHaveLength(before);
  });

  it('SSE takes ?token=, refuses a forbidden channel alone, and answers 401 for a wrong or expired token', async () => {
    const sse = await TestSseClient.open(
      `${server.url}/sse?channels=team.a,secret&token=${await token(['team.*'])}`,
    );
    open.push({ close: () => sse.abort() });
    expect(sse.status).toBe(200);
    await sse.waitFor(() => sse.data('team.a').length > 0, 10_000, 'team.a on SSE');
    const errors = sse.events.filter((e) => e.frame.type === '$error').map((e) => e.frame);
    expect(errors).toEqual([expect.objectContaining({ code: 'forbidden', channel: 'secret' })]);
    const wrong = await fetch(`${server.url}/sse?channels=team.a&token=nope`);
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
  });

  it('an SSE stream ends with $error token_expired when its token runs out', async () => {
    const sse = await TestSseClient.open(
      `${server.url}/sse?channels=team.a&token=${await token(['team.*'], [], 2)}`,
    );
    open.push({ close: () => sse.abort() });
    await sse.waitForEnd(15_000);
    expect(sse.events.at(-1)?.frame).toMatchObject({ type: '$error', code: 'token_expired' });
  });

  it('HTTP reads need subscribe rights, publishing needs publish rights, and listings show only what is allowed', async () => {
    const reader = await token(['team.*']);
    const writer = await token([], ['team.*']);
    const get = (path: string, bearer?: string) =>
      fetch(`${server.url}${path}`, bearer ? { headers: { authorization: `Bearer ${bearer}` } } : {});
    expect((await get('/api/channels/team.a')).status).toBe(401);
    expect((await get('/api/channels/public.news')).status).toBe(200);
    expect((await get('/api/channels/team.a', reader)).status).toBe(200);
    expect((await get('/api/channels/secret', reader)).status).toBe(403);
    expect((await get(`/api/channels/team.a/messages?since=0&token=${reader}`)).status).toBe(200);
    const listed = (await (await get('/api/channels', reader)).json()) as {
      channels: Array<{ channel: string }>;
    };
    expect(listed.channels.map((c) => c.channel).sort()).toEqual(['public.news', 'team.a', 'team.b']);
    const post = (channel: string, bearer: string) =>
      fetch(`${server.url}/api/channels/${channel}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
        body: '{"v":1}',
      });
    expect((await post('team.a', writer)).status).toBe(200);
    expect((await post('secret', writer)).status).toBe(403);
    expect((await post('team.a', reader)).status).toBe(403);
    expect((await post('secret', PUBLISH)).status).toBe(200);
  });

  it('counts refusals in /metrics', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/livedash_auth_refusals_total\{reason="forbidden"\} [1-9]/);
    expect(text).toMatch(/livedash_auth_refusals_total\{reason="unauthorized"\} [1-9]/);
    expect(text).toMatch(/livedash_auth_refusals_total\{reason="token_expired"\} [1-9]/);
  });
});

describe('origins and CORS', () => {
  let server: LivedashServer;
  let open: LivedashServer;

  beforeAll(async () => {
    server = await createServer({
      port: 0,
      publishToken: PUBLISH,
      allowedOrigins: ['http://dash.example'],
    });
    open = await createServer({ port: 0, publishToken: PUBLISH });
  });

  afterAll(async () => {
    await server.close();
    await open.close();
  });

  it('refuses WebSocket and SSE from a foreign Origin with 403, and accepts same-origin and listed ones', async () => {
    const evil = await rawExchange(
      server.port,
      [upgradeHeaders('/ws', { Origin: 'http://evil.example' })],
      5000,
      true,
    );
    expect(evil.status).toBe(403);
    const listed = await rawExchange(
      server.port,
      [upgradeHeaders('/ws', { Origin: 'http://dash.example' })],
      5000,
      true,
    );
    expect(listed.status).toBe(101);
    const self = new URL(server.url);
    const same = await rawExchange(
      server.port,
      [upgradeHeaders('/ws', { Origin: server.url }).replace('Host: 127.0.0.1', `Host: ${self.host}`)],
      5000,
      true,
    );
    expect(same.status).toBe(101);
    const sse = await fetch(`${server.url}/sse?channels=a`, { headers: { origin: 'http://evil.example' } });
    expect(sse.status).toBe(403);
    expect(((await sse.json()) as { error: { code: string } }).error.code).toBe('forbidden');
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/livedash_limit_hits_total\{limit="origin"\} 2/);
  });

  it('sends CORS headers only for configured origins; preflights from others get 403', async () => {
    const allowed = await fetch(`${server.url}/api/channels`, { headers: { origin: 'http://dash.example' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://dash.example');
    const foreign = await fetch(`${server.url}/api/channels`, { headers: { origin: 'http://evil.example' } });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    const byDefault = await fetch(`${open.url}/api/channels`, { headers: { origin: 'http://dash.example' } });
    expect(byDefault.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = (base: string) =>
      fetch(`${base}/api/channels/x`, {
        method: 'OPTIONS',
        headers: { origin: 'http://dash.example', 'access-control-request-method': 'POST' },
      });
    expect((await preflight(server.url)).status).toBe(204);
    expect((await preflight(open.url)).status).toBe(403);
  });

  it('/sse answers CORS for listed origins: the stream, its refusals and the preflight of a resume', async () => {
    const listed = { origin: 'http://dash.example' };
    const stream = await fetch(`${server.url}/sse?channels=a`, { headers: listed });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(stream.headers.get('access-control-allow-origin')).toBe('http://dash.example');
    expect(stream.headers.get('vary')).toBe('Origin');
    await stream.body?.cancel();
    // A refused stream is readable by the page too, so it can show why.
    const refused = await fetch(`${server.url}/sse?channels=${encodeURIComponent('no spaces')}`, {
      headers: listed,
    });
    expect(refused.status).toBe(400);
    expect(refused.headers.get('access-control-allow-origin')).toBe('http://dash.example');
    // An EventSource resuming sends Last-Event-ID, a header outside the CORS safelist: preflighted.
    const preflight = (base: string, origin: string) =>
      fetch(`${base}/sse?channels=a`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'last-event-id',
        },
      });
    const allowed = await preflight(server.url, 'http://dash.example');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://dash.example');
    expect(allowed.headers.get('access-control-allow-headers')).toMatch(/\blast-event-id\b/);
    expect((await preflight(server.url, 'http://evil.example')).status).toBe(403);
    expect((await preflight(open.url, 'http://dash.example')).status).toBe(403);
    // Neither a foreign origin nor a server without listed origins gets the header.
    const foreign = await fetch(`${server.url}/sse?channels=a`, {
      headers: { origin: 'http://evil.example' },
    });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    const unlisted = await fetch(`${open.url}/sse?channels=a`, { headers: { host: new URL(open.url).host } });
    expect(unlisted.status).toBe(200);
    expect(unlisted.headers.get('access-control-allow-origin')).toBeNull();
    await unlisted.body?.cancel();
  });
});

describe('per-connection and per-address limits', () => {
  let server: LivedashServer;

  beforeAll(async () => {
    server = await createServer({
      port: 0,
      publishToken: PUBLISH,
      maxConnectionsPerIp: 3,
      maxSseStreamsPerIp: 2,
      framesPerSec: 5,
      frameBurst: 10,
      maxHistoryMessages: 50,
    });
  });

  afterAll(async () => {
    await server.close();
  });

  it('refuses WebSocket connections past the per-address limit with 429 and frees the slot on close', async () => {
    const clients = await Promise.all([0, 1, 2].map(() => connectWs(server)));
    const refused = await rawExchange(server.port, [upgradeHeaders('/ws')], 5000, true);
    expect(refused.status).toBe(429);
    await clients[0]?.close();
    // The server frees the slot when it sees the socket close, a moment after the client does.
    const deadline = Date.now() + 5000;
    let again: TestWsClient | undefined;
    while (!again) {
      again = await connectWs(server).catch(() => undefined);
      if (!again && Date.now() > deadline) throw new Error('the slot was never freed');
      if (!again) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (const client of [again, ...clients.slice(1)]) await client.close();
  });

  it('refuses SSE streams past the per-address limit with 429', async () => {
    const streams = await Promise.all([0, 1].map(() => TestSseClient.open(`${server.url}/sse?channels=a`)));
    expect(streams.map((s) => s.status)).toEqual([200, 200]);
    const third = await fetch(`${server.url}/sse?channels=a`);
    expect(third.status).toBe(429);
    expect(((await third.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
    for (const stream of streams) await stream.abort();
  });

  it('answers a frame flood with one rate_limited $error, then closes it with 4029; a calm client is untouched', async () => {
    const calm = await connectWs(server);
    calm.send({ action: 'subscribe', channels: ['calm'] });
    await calm.waitFor((frames) => frames.some((f) => f.type === '$subscribed'));
    const flooder = await connectWs(server);
    for (let i = 0; i < 100; i++) flooder.send({ action: 'ping', id: i });
    expect((await flooder.closed).code).toBe(4029);
    // At most the burst is processed (answers still queued when the close comes are not sent).
    expect(flooder.ofType('$pong').length).toBeLessThanOrEqual(10);
    expect(flooder.ofType('$error').map((f) => f.code)).toEqual(['rate_limited', 'rate_limited']);
    const published = await server.hub.publish('calm', { ok: true });
    await calm.waitFor((frames) => frames.some((f) => f.type === 'calm' && f.seq === published.seq));
    await calm.close();
  });

  it('refuses history requests over maxHistoryMessages and caps those without a limit', async () => {
    for (let i = 0; i < 60; i++) await server.hub.publish('long', { i });
    const over = await fetch(`${server.url}/api/channels/long/messages?since=0&limit=51`);
    expect(over.status).toBe(400);
    expect(((await over.json()) as { error: { code: string } }).error.code).toBe('too_large');
    const capped = (await (await fetch(`${server.url}/api/channels/long/messages?since=0`)).json()) as {
      messages: unknown[];
    };
    expect(capped.messages.length).toBeLessThanOrEqual(50);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    for (const limit of ['connections_per_ip', 'sse_streams_per_ip', 'frame_rate', 'history_request']) {
      expect(text).toMatch(new RegExp(`livedash_limit_hits_total\\{limit="${limit}"\\} [1-9]`));
    }
  });
});

describe('logs', () => {
  it('never contain a token, whether it came in the URL, a header or a frame, right or wrong', async () => {
    const lines: string[] = [];
    const server = await createServer({
      port: 0,
      publishToken: PUBLISH,
      jwt: { secret: SECRET },
      logger: { stream: { write: (line: string) => void lines.push(line) } },
    });
    try {
      const good = await token(['*']);
      const wrong = `${good.slice(0, -4)}AAAA`;
      await (await fetch(`${server.url}/api/channels?token=${good}`)).text();
      await (await fetch(`${server.url}/api/channels?token=${wrong}`)).text();
      await (
        await fetch(`${server.url}/api/channels`, { headers: { authorization: `Bearer ${good}` } })
      ).text();
      const sse = await TestSseClient.open(`${server.url}/sse?channels=a&token=${good}`);
      await sse.abort();
      const ws = await connectWs(server, `?token=${wrong}`).catch(() => undefined);
      await ws?.closed;
      const client = await connectWs(server);
      client.send({ action: 'auth', token: good, id: 1 });
      await client.waitFor((frames) => frames.some((f) => f.type === '$ack'));
      await client.close();
      await fetch(`${server.url}/api/channels/x`, {
        method: 'POST',
        headers: { authorization: `Bearer ${PUBLISH}x` },
      });
    } finally {
      await server.close();
    }
    const log = lines.join('');
    expect(log).toContain('token=[redacted]');
    for (const secret of [SECRET, PUBLISH]) expect(log).not.toContain(secret);
    expect(log).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
  });
});

describe('safe defaults and TLS', () => {
  it('refuses to listen on a non-loopback address without auth, and says why', async () => {
    await expect(createServer({ port: 0, host: '0.0.0.0' })).rejects.toThrow(/--allow-anonymous/);
    await expect(createServer({ port: 0, host: '::' })).rejects.toThrow(/without authentication/);
  });

  it('serves HTTPS and WSS with --tls-cert/--tls-key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'livedash-tls-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
      const key = readFileSync(join(dir, 'key.pem'), 'utf8');
      const server = await createServer({
        port: 0,
        publishToken: PUBLISH,
        tls: { cert, key },
      });
      try {
        expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
        const status = await new Promise<number>((resolve, reject) => {
          httpsGet(`${server.url}/healthz`, { ca: cert }, (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          }).on('error', reject);
        });
        expect(status).toBe(200);
        const client = new TestWsClient(`${server.url.replace('https', 'wss')}/ws`, { ca: cert });
        await client.opened;
        await client.waitFor((frames) => frames.some((f) => f.type === '$welcome'));
        await client.close();
      } finally {
        await server.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
