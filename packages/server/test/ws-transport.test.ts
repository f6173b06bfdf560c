import { createServer, type LivedashServer } from '@livedash/server';
import { afterEach, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { type JsonMessage, RawWsClient } from './helpers/raw-ws-client.js';
import { until } from './helpers/wait.js';
import { TestWsClient } from './helpers/ws-client.js';

let server: LivedashServer | undefined;
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await server?.close();
  server = undefined;
});

async function start(options: Parameters<typeof createServer>[0] = {}) {
  server = await createServer({ port: 0, publishToken: 'secret', ...options });
  return server;
}

async function client(path = '/ws', options: WebSocket.ClientOptions = {}) {
  const c = await TestWsClient.connect((server as LivedashServer).url, path, options);
  cleanups.push(() => c.close());
  return c;
}

describe('WebSocket transport', () => {
  test('$welcome comes first, with protocol version, heartbeat interval and node name', async () => {
    await start({ node: 'web-1', heartbeatMs: 12_345 });
    const c = await client();
    await c.waitFor((frames) => frames.length > 0);
    expect(c.frames[0]).toEqual({ type: '$welcome', version: 1, heartbeat: 12_345, node: 'web-1' });
  });

  test('ping answers $pong with the id; unsubscribe answers $unsubscribed and stops delivery', async () => {
    const s = await start();
    const c = await client();
    c.send({ action: 'ping', id: 42 });
    await c.waitFor(() => c.ofType('$pong').length === 1);
    expect(c.ofType('$pong')[0]).toMatchObject({ id: 42, ts: expect.any(Number) });
    c.send({ action: 'subscribe', channels: ['a', 'b'], id: 1 });
    await c.waitFor(() => c.ofType('$subscribed').length === 2);
    expect(c.ofType('$subscribed').map((f) => f.id)).toEqual([1, 1]);
    c.send({ action: 'unsubscribe', channels: ['a'], id: 2 });
    await c.waitFor(() => c.ofType('$unsubscribed').length === 1);
    expect(c.ofType('$unsubscribed')[0]).toEqual({ type: '$unsubscribed', channel: 'a', id: 2 });
    await s.hub.publish('a', 1);
    await s.hub.publish('b', 1);
    await c.waitForData('b', 1);
    expect(c.data('a')).toHaveLength(0);
  });

  test('publish over WebSocket needs the token: by auth command, ?token= or Authorization header', async () => {
    const s = await start();
    const watcher = await client();
    watcher.send({ action: 'subscribe', channels: ['chat'] });
    await watcher.waitFor(() => watcher.ofType('$subscribed').length === 1);

    const anonymous = await client();
    anonymous.send({ action: 'publish', channel: 'chat', data: 'x', id: 1 });
    await anonymous.waitFor(() => anonymous.ofType('$error').length === 1);
    expect(anonymous.ofType('$error')[0]).toMatchObject({ code: 'unauthorized', id: 1, channel: 'chat' });

    anonymous.send({ action: 'auth', token: 'secret', id: 2 });
    anonymous.send({ action: 'publish', channel: 'chat', data: 'by auth', id: 3 });
    await anonymous.waitFor(() => anonymous.ofType('$ack').length === 2);
    expect(anonymous.ofType('$ack')[1]).toMatchObject({ id: 3, channel: 'chat', seq: 1 });

    const byQuery = await client('/ws?token=secret');
    byQuery.send({ action: 'publish', channel: 'chat', data: 'by query', id: 4 });
    const byHeader = await client('/ws', { headers: { authorization: 'Bearer secret' } });
    await byQuery.waitFor(() => byQuery.ofType('$ack').length === 1);
    byHeader.send({ action: 'publish', channel: 'chat', data: 'by header', id: 5 });
    await byHeader.waitFor(() => byHeader.ofType('$ack').length === 1);

    await watcher.waitForData('chat', 3);
    expect(watcher.data('chat').map((f) => f.data)).toEqual(['by auth', 'by query', 'by header']);
    expect(s.hub.subscriptionCount).toBe(1);
  });

  test('subscribing again to a channel restarts it from the new since', async () => {
    const s = await start();
    const { epoch } = await s.hub.publish('log', 1);
    for (let i = 2; i <= 5; i++) await s.hub.publish('log', i);
    const c = await client();
    c.send({ action: 'subscribe', channels: ['log'], since: { log: { epoch, seq: 3 } } });
    await c.waitForData('log', 2);
    c.send({ action: 'subscribe', channels: ['log'], since: { log: { epoch, seq: 1 } } });
    await c.waitForData('log', 6);
    expect(c.data('log').map((f) => f.seq)).toEqual([4, 5, 2, 3, 4, 5]);
    expect(s.hub.subscriptionCount).toBe(1);
  });

  test('idle connections get ping frames and $heartbeat; a peer that stops answering pings is terminated', async () => {
    const s = await start({ heartbeatMs: 200 });
    const lively = await client();
    let pings = 0;
    lively.ws.on('ping', () => pings++);
    await lively.waitFor(() => lively.ofType('$heartbeat').length >= 2, 10_000, 'two heartbeats');
    expect(pings).toBeGreaterThanOrEqual(2);

    // A peer whose socket stops reading never answers pings: the server gives up on it.
    const dead = await client();
    (dead.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const deadline = Date.now() + 10_000;
    while (s.metrics && Date.now() < deadline) {
      const text = await s.metrics.registry.getSingleMetricAsString('livedash_connections');
      if (text.includes('transport="ws"} 1')) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await s.metrics.registry.getSingleMetricAsString('livedash_connections')).toContain(
      'transport="ws"} 1',
    );
    expect(lively.ws.readyState).toBe(WebSocket.OPEN);
    dead.ws.terminate();
  });

  test('anything but /ws is not upgraded; with the ws transport off, /ws is not either', async () => {
    await start({ transports: { ws: false, sse: true, poll: true } });
    for (const path of ['/ws', '/other']) {
      const c = new TestWsClient(`${(server as LivedashServer).url.replace('http', 'ws')}${path}`);
      await expect(c.opened).rejects.toThrow();
      await c.closed;
    }
  });
});

describe('resume of a conflated state channel', () => {
  test('a client cut before the newest value a full queue held resumes from its own position and gets it, over WebSocket and polling', async () => {
    const live = await start({ maxQueueBytes: 16 * 1024, stateChannels: ['gauge'] });
    const conflated = async () => {
      const text = await (await fetch(`${live.url}/metrics`)).text();
      return Number(/livedash_dropped_total\{reason="conflated"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    const first = await RawWsClient.open(live.port, {}, { autoPong: true });
    cleanups.push(() => {
      first.socket.destroy();
    });
    await first.command({ action: 'subscribe', channels: ['gauge'] });
    await first.waitForJson((m) => m.type === '$subscribed', '$subscribed');
    first.socket.pause();
    // Big values fill the stalled connection until its queue holds gauge's newest one.
    const pad = 'x'.repeat(6000);
    let newest = 0;
    await until(
      async () => {
        for (let i = 0; i < 20; i++) newest = (await live.hub.publish('gauge', { pad })).seq;
        return (await conflated()) > 0;
      },
      'the queue to hold a gauge value',
      30_000,
    );
    first.socket.resume();
    await first.waitForJson((m) => m.type === 'gauge' && m.seq === newest, 'the held newest value');
    const values = first.json.filter((m) => m.type === 'gauge');
    const before = values.at(-2) as JsonMessage;
    // The value is announced as a fresh start (values in between were conflated), then sent.
    const notice = first.json.findLast((m) => m.type === '$subscribed');
    expect(notice).toMatchObject({ recovered: false, seq: newest });
    // Cut just before the newest value: resuming from the last value the client had gets it.
    const since = { epoch: before.epoch as string, seq: before.seq as number };
    const second = await RawWsClient.open(live.port, {}, { autoPong: true });
    cleanups.push(() => {
      second.socket.destroy();
    });
    await second.command({ action: 'subscribe', channels: ['gauge'], since: { gauge: since } });
    await second.waitForJson((m) => m.type === 'gauge' && m.seq === newest, 'the newest value on resume');
    const polled = (await (
      await fetch(`${live.url}/api/channels/gauge/messages?since=${since.seq}&epoch=${since.epoch}`)
    ).json()) as { messages: Array<{ seq: number }> };
    expect(polled.messages.at(-1)?.seq).toBe(newest);
  });
});
