import { createServer, type LivedashServer } from '@livedash/server';
import { afterEach, expect, test } from 'vitest';
import { TestSseClient } from './helpers/sse-client.js';
import { httpPublish, TestWsClient } from './helpers/ws-client.js';

let server: LivedashServer;
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await server?.close();
});

test('an HTTP publish reaches WebSocket, SSE and polling clients as the same envelope with the same seq', async () => {
  server = await createServer({ port: 0, publishToken: 'secret' });
  const ws = await TestWsClient.connect(server.url);
  cleanups.push(() => ws.close());
  ws.send({ action: 'subscribe', channels: ['orders'], id: 1 });
  await ws.waitFor((frames) => frames.some((f) => f.type === '$subscribed'));
  const sse = await TestSseClient.open(`${server.url}/sse?channels=orders`);
  cleanups.push(() => sse.abort());
  await sse.waitFor(() => sse.events.some((e) => e.frame.type === '$subscribed'));

  const published = await httpPublish(server.url, 'orders', { id: 'A-1', total: 12.5 });
  expect(published.status).toBe(200);
  expect(published.body).toMatchObject({ channel: 'orders', seq: 1 });

  await ws.waitForData('orders', 1);
  await sse.waitForData('orders', 1);
  const wsFrame = ws.data('orders')[0];
  const sseEvent = sse.events.find((e) => e.frame.type === 'orders');
  expect(wsFrame).toEqual({
    type: 'orders',
    seq: 1,
    epoch: published.body.epoch,
    ts: expect.any(Number),
    data: { id: 'A-1', total: 12.5 },
  });
  expect(sseEvent?.frame).toEqual(wsFrame);
  expect(sseEvent?.id).toBe(`orders~${published.body.epoch}~1`);

  const poll = await fetch(`${server.url}/api/channels/orders/messages?since=0`);
  const body = (await poll.json()) as { messages: unknown[]; recovered: boolean; seq: number };
  expect(body).toMatchObject({ recovered: true, seq: 1 });
  expect(body.messages).toEqual([wsFrame]);
});

test('one publish is encoded once: every subscriber gets byte-identical data', async () => {
  server = await createServer({ port: 0, publishToken: 'secret' });
  const clients = await Promise.all(Array.from({ length: 5 }, () => TestWsClient.connect(server.url)));
  for (const client of clients) cleanups.push(() => client.close());
  const raw: string[][] = clients.map(() => []);
  clients.forEach((client, i) => {
    client.ws.on('message', (data) => {
      const text = String(data);
      if (text.startsWith('{"type":"ticks"')) raw[i]?.push(text);
    });
    client.send({ action: 'subscribe', channels: ['ticks'] });
  });
  await Promise.all(clients.map((c) => c.waitFor((f) => f.some((x) => x.type === '$subscribed'))));
  for (let i = 0; i < 20; i++) await server.hub.publish('ticks', { i, note: 'é ✓' });
  await Promise.all(clients.map((c) => c.waitForData('ticks', 20)));
  for (const list of raw) expect(list).toEqual(raw[0]);
  expect(clients[0]?.data('ticks').map((f) => f.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
});
