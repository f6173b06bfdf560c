import type { Socket } from 'node:net';
import { createServer, type LivedashServer } from '@livedash/server';
import { EventSource } from 'eventsource';
import { afterEach, expect, test } from 'vitest';
import { TestSseClient } from './helpers/sse-client.js';
import { assertContiguous, type Frame, TestWsClient } from './helpers/ws-client.js';

let server: LivedashServer;
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await server?.close();
});

/** Publishes 1..count on `channel`, yielding now and then so deliveries interleave with it. */
async function publishMany(channel: string, from: number, to: number): Promise<void> {
  for (let i = from; i <= to; i++) {
    await server.hub.publish(channel, { i });
    if (i % 5 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

const seqsOf = (frames: Frame[]) => frames.map((frame) => frame.seq as number);

test('WebSocket: after a dropped connection, subscribing with since replays what was missed, with publishes in flight', async () => {
  server = await createServer({ port: 0, publishToken: 'secret' });
  const first = await TestWsClient.connect(server.url);
  first.send({ action: 'subscribe', channels: ['feed', 'other'] });
  await first.waitFor((frames) => frames.filter((f) => f.type === '$subscribed').length === 2);
  const publishing = publishMany('feed', 1, 400);
  await first.waitForData('feed', 40);
  // Drop the connection abruptly (no close handshake) while publishes continue.
  first.ws.terminate();
  await first.closed;
  const seen = seqsOf(first.data('feed'));
  const last = first.data('feed').at(-1) as Frame;

  const second = await TestWsClient.connect(server.url);
  cleanups.push(() => second.close());
  second.send({
    action: 'subscribe',
    channels: ['feed'],
    since: { feed: { epoch: last.epoch, seq: last.seq } },
    id: 'r1',
  });
  await publishing;
  await second.waitForData('feed', 400 - (last.seq as number));
  const subscribed = second.ofType('$subscribed')[0];
  expect(subscribed).toMatchObject({ channel: 'feed', recovered: true, id: 'r1', epoch: last.epoch });
  const all = [...seen, ...seqsOf(second.data('feed'))];
  assertContiguous(all, 1, 400);
  // The $subscribed frame comes before any replayed data.
  expect(second.frames.findIndex((f) => f.type === '$subscribed')).toBeLessThan(
    second.frames.findIndex((f) => f.type === 'feed'),
  );
});

test('WebSocket: a position older than history says recovered:false and sends the latest value', async () => {
  server = await createServer({
    port: 0,
    publishToken: 'secret',
    history: [{ pattern: '*', maxMessages: 10, maxAgeMs: 60_000 }],
  });
  const result = await server.hub.publish('feed', { i: 1 });
  await publishMany('feed', 2, 50);
  const client = await TestWsClient.connect(server.url);
  cleanups.push(() => client.close());
  client.send({ action: 'subscribe', channels: ['feed'], since: { feed: { epoch: result.epoch, seq: 3 } } });
  await client.waitForData('feed', 1);
  expect(client.ofType('$subscribed')[0]).toMatchObject({ recovered: false, seq: 50 });
  expect(seqsOf(client.data('feed'))).toEqual([50]);
});

test('SSE: Last-Event-ID resumes in every channel of the stream with publishes in flight, no gap, no duplicate', async () => {
  server = await createServer({ port: 0, publishToken: 'secret' });
  const first = await TestSseClient.open(`${server.url}/sse?channels=a,b`);
  await first.waitFor(() => first.events.filter((e) => e.frame.type === '$subscribed').length === 2);
  const publishing = Promise.all([publishMany('a', 1, 300), publishMany('b', 1, 300)]);
  await first.waitFor(() => first.data('a').length >= 30 && first.data('b').length >= 30);
  await first.abort();
  const token = first.lastEventId as string;
  const seenA = seqsOf(first.data('a'));
  const seenB = seqsOf(first.data('b'));
  expect(token).toMatch(/^a~[\w-]+~\d+,b~[\w-]+~\d+$|^b~[\w-]+~\d+,a~[\w-]+~\d+$/);

  const second = await TestSseClient.open(`${server.url}/sse?channels=a,b`, { 'last-event-id': token });
  cleanups.push(() => second.abort());
  await publishing;
  await second.waitFor(() => second.data('a').at(-1)?.seq === 300 && second.data('b').at(-1)?.seq === 300);
  for (const frame of second.events.filter((e) => e.frame.type === '$subscribed')) {
    expect(frame.frame.recovered).toBe(true);
  }
  assertContiguous([...seenA, ...seqsOf(second.data('a'))], 1, 300);
  assertContiguous([...seenB, ...seqsOf(second.data('b'))], 1, 300);
});

test('SSE: ?since= resumes like Last-Event-ID, and Last-Event-ID wins when both are sent', async () => {
  server = await createServer({ port: 0, publishToken: 'secret' });
  const { epoch } = await server.hub.publish('a', 1);
  await publishMany('a', 2, 20);
  const bySince = await TestSseClient.open(`${server.url}/sse?channels=a&since=a~${epoch}~15`);
  cleanups.push(() => bySince.abort());
  await bySince.waitForData('a', 5);
  expect(seqsOf(bySince.data('a'))).toEqual([16, 17, 18, 19, 20]);
  const both = await TestSseClient.open(`${server.url}/sse?channels=a&since=a~${epoch}~2`, {
    'last-event-id': `a~${epoch}~18`,
  });
  cleanups.push(() => both.abort());
  await both.waitForData('a', 2);
  expect(seqsOf(both.data('a'))).toEqual([19, 20]);
});

test('SSE: a real EventSource reconnects by itself after the stream drops and resumes without a gap', async () => {
  server = await createServer({ port: 0, publishToken: 'secret' });
  const sockets = new Set<Socket>();
  server.app.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const received: number[] = [];
  let opens = 0;
  // Cut the first stream from the server side after a while: the EventSource must reconnect with Last-Event-ID.
  const source = new EventSource(`${server.url}/sse?channels=ticks`);
  cleanups.push(() => source.close());
  source.onopen = () => {
    opens++;
  };
  source.onmessage = (event) => {
    const frame = JSON.parse(event.data) as Frame;
    if (frame.type === 'ticks') received.push(frame.seq as number);
  };
  const deadline = Date.now() + 15_000;
  while (opens === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  await new Promise((resolve) => setTimeout(resolve, 100));
  const publishing = publishMany('ticks', 1, 200);
  while (received.length < 20 && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 5));
  // End every open SSE response: the same thing a proxy timeout or a network blip does.
  for (const socket of sockets) socket.destroy();
  await publishing;
  while (received.at(-1) !== 200 && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 20));
  expect(opens).toBeGreaterThanOrEqual(2);
  assertContiguous(received, 1, 200);
});
