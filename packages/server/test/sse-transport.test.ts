import { createServer, type LivedashServer } from '@livedash/server';
import { EventSource } from 'eventsource';
import { afterEach, describe, expect, test } from 'vitest';
import { TestSseClient } from './helpers/sse-client.js';

let server: LivedashServer | undefined;
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await server?.close();
  server = undefined;
});

async function open(url: string, headers: Record<string, string> = {}) {
  const client = await TestSseClient.open(url, headers);
  cleanups.push(() => client.abort());
  return client;
}

describe('SSE transport', () => {
  test('sends retry, $welcome, $subscribed per channel, then unnamed data events with resume-token ids', async () => {
    server = await createServer({ port: 0, publishToken: 'secret' });
    const response = await fetch(`${server.url}/sse?channels=a,b`);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    await response.body?.cancel();
    const sse = await open(`${server.url}/sse?channels=a,b`);
    await sse.waitFor(() => sse.events.filter((e) => e.frame.type === '$subscribed').length === 2);
    const a = await server.hub.publish('a', { x: 1 });
    const b = await server.hub.publish('b', { y: 2 });
    await sse.waitFor(() => sse.data('b').length === 1);
    expect(sse.retries).toEqual([1000]);
    expect(sse.events[0]?.frame).toMatchObject({ type: '$welcome', version: 1 });
    const ids = sse.events.filter((e) => e.frame.type === 'a' || e.frame.type === 'b').map((e) => e.id);
    expect(ids[0]?.split(',').sort()).toEqual([`a~${a.epoch}~1`, `b~${b.epoch}~0`].sort());
    expect(ids[1]?.split(',').sort()).toEqual([`a~${a.epoch}~1`, `b~${b.epoch}~1`].sort());
  });

  test('a real EventSource gets every event through onmessage (no event: names)', async () => {
    server = await createServer({ port: 0, publishToken: 'secret' });
    const source = new EventSource(`${server.url}/sse?channels=prices`);
    cleanups.push(() => source.close());
    const types: string[] = [];
    source.onmessage = (event) => types.push((JSON.parse(event.data) as { type: string }).type);
    const deadline = Date.now() + 10_000;
    while (!types.includes('$subscribed') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    await server.hub.publish('prices', 1);
    while (!types.includes('prices') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(types).toEqual(['$welcome', '$subscribed', 'prices']);
  });

  test('heartbeat comments keep a quiet stream alive', async () => {
    server = await createServer({ port: 0, publishToken: 'secret', heartbeatMs: 150 });
    const sse = await open(`${server.url}/sse?channels=quiet`);
    await sse.waitFor(
      () => sse.comments.filter((c) => c === 'heartbeat').length >= 2,
      10_000,
      'two heartbeats',
    );
  });

  test('with the SSE transport off, /sse is not served', async () => {
    server = await createServer({
      port: 0,
      publishToken: 'secret',
      transports: { ws: true, sse: false, poll: true },
    });
    const response = await fetch(`${server.url}/sse?channels=a`);
    expect(response.status).toBe(404);
    await response.body?.cancel();
  });

  test('server.close() ends open streams', async () => {
    server = await createServer({ port: 0, publishToken: 'secret' });
    const sse = await open(`${server.url}/sse?channels=a`);
    await sse.waitFor(() => sse.events.some((e) => e.frame.type === '$subscribed'));
    await server.close();
    await sse.waitForEnd();
    expect(sse.ended).toBe(true);
  });
});
