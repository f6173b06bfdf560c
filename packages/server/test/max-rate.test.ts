import { request } from 'node:http';
import { createServer, type LivedashServer } from '@livedash/server';
import { afterEach, describe, expect, test } from 'vitest';
import { type JsonMessage, RawWsClient } from './helpers/raw-ws-client.js';
import { until } from './helpers/wait.js';
import { assertContiguous } from './helpers/ws-client.js';

// Per-subscription maxRate (docs/protocol.md, "Rate-limited subscriptions"), over the real wire: a raw
// TCP WebSocket client and a raw HTTP SSE reader count what each server write carried.

let server: LivedashServer | undefined;
const cleanups: Array<() => void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  await server?.close();
  server = undefined;
});

async function start(options: Parameters<typeof createServer>[0] = {}): Promise<LivedashServer> {
  server = await createServer({ port: 0, publishToken: 'secret', stateChannels: ['gauge'], ...options });
  return server;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Publishes `{ n }` on `channel` about every 5 ms (200 Hz) for `ms`; returns how many were published. */
async function publishFor(hub: LivedashServer['hub'], channel: string, ms: number): Promise<number> {
  const end = Date.now() + ms;
  let n = 0;
  while (Date.now() < end) {
    await hub.publish(channel, { n: ++n });
    await sleep(5);
  }
  return n;
}

/**
 * A WebSocket over a bare socket that notes, for each TCP read, whether it carried data of `channel`:
 * on loopback each server write arrives as one read (or fewer, merged, when the reader lags).
 */
async function wsReader(port: number, channel: string) {
  const client = await RawWsClient.open(port, {}, { autoPong: true });
  cleanups.push(() => client.destroy());
  let seen = 0;
  const reads = { withData: 0 };
  client.socket.on('data', () => {
    // RawWsClient's own listener ran first: the read's frames are already parsed.
    const fresh = client.json.slice(seen);
    seen = client.json.length;
    if (fresh.some((message) => message.type === channel)) reads.withData++;
  });
  const data = () => client.json.filter((message) => message.type === channel);
  const seqs = () => data().map((message) => message.seq as number);
  return { client, reads, data, seqs };
}

/** An SSE stream read over plain HTTP: every event, and how many reads carried data of `channel`. */
function sseReader(port: number, path: string, channel: string, headers: Record<string, string> = {}) {
  const events: Array<{ id: string | undefined; frame: JsonMessage }> = [];
  const reads = { withData: 0 };
  let status = 0;
  let body = '';
  let buffer = '';
  const req = request({ host: '127.0.0.1', port, path, headers }, (response) => {
    status = response.statusCode ?? 0;
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      if (status !== 200) {
        body += chunk;
        return;
      }
      buffer += chunk;
      let carried = false;
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let id: string | undefined;
        let data: string | undefined;
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) id = line.slice(4);
          else if (line.startsWith('data: ')) data = line.slice(6);
          else if (line.startsWith('event: ')) data = undefined;
        }
        if (data === undefined || block.includes('event: ')) continue;
        const frame = JSON.parse(data) as JsonMessage;
        events.push({ id, frame });
        if (frame.type === channel) carried = true;
      }
      if (carried) reads.withData++;
    });
  });
  req.on('error', () => {});
  req.end();
  const close = () => req.destroy();
  cleanups.push(close);
  const data = () => events.filter((event) => event.frame.type === channel);
  return {
    events,
    reads,
    data,
    seqs: () => data().map((event) => event.frame.seq as number),
    close,
    get status() {
      return status;
    },
    get body() {
      return body;
    },
  };
}

describe('maxRate on WebSocket', () => {
  test('a state channel published at 200 Hz reaches a maxRate 5 subscriber about 5 times a second, the last value always', async () => {
    const { hub, port } = await start();
    await hub.publish('gauge', { n: 0 });
    const reader = await wsReader(port, 'gauge');
    await reader.client.command({ action: 'subscribe', channels: ['gauge'], maxRate: 5 });
    const subscribed = await reader.client.waitForJson((m) => m.type === '$subscribed', '$subscribed');
    expect(subscribed).toMatchObject({ channel: 'gauge', maxRate: 5, conflate: true, recovered: false });
    await until(() => reader.data().length === 1, 'the latest value');
    const started = Date.now();
    const published = await publishFor(hub, 'gauge', 2000);
    await until(() => reader.seqs().at(-1) === published + 1, 'the last value');
    const seconds = (Date.now() - started) / 1000;
    const live = reader.data().length - 1;
    // About 5 a second: never more than one per 200 ms tick (+1 for the trailing one), and most ticks
    // carry one (generous for a loaded machine whose timers run late).
    expect(live).toBeLessThanOrEqual(Math.ceil(seconds * 5) + 1);
    expect(live).toBeGreaterThanOrEqual(Math.floor(seconds * 5 * 0.4));
    expect(published).toBeGreaterThan(live * 4);
    const seqs = reader.seqs();
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(reader.data().at(-1)?.data).toEqual({ n: published });
  });

  test('a stream channel delivers every message in order, in at most maxRate writes a second', async () => {
    const { hub, port } = await start();
    const reader = await wsReader(port, 'events');
    await reader.client.command({ action: 'subscribe', channels: ['events'], maxRate: 5 });
    const subscribed = await reader.client.waitForJson((m) => m.type === '$subscribed', '$subscribed');
    expect(subscribed).toMatchObject({ channel: 'events', maxRate: 5 });
    expect(subscribed.conflate).toBeUndefined();
    const started = Date.now();
    const published = await publishFor(hub, 'events', 2000);
    await until(() => reader.data().length === published, `${published} messages`);
    const seconds = (Date.now() - started) / 1000;
    assertContiguous(reader.seqs(), 1, published);
    expect(reader.reads.withData).toBeLessThanOrEqual(Math.ceil(seconds * 5) + 1);
    expect(published).toBeGreaterThan(reader.reads.withData * 4);
  });

  test('one subscribe command gives its maxRate to each of its channels', async () => {
    const { hub, port } = await start();
    const reader = await wsReader(port, 'events');
    await reader.client.command({ action: 'subscribe', channels: ['events', 'gauge'], maxRate: 2, id: 1 });
    await until(() => reader.client.json.filter((m) => m.type === '$subscribed').length === 2, '2 answers');
    const answers = reader.client.json.filter((m) => m.type === '$subscribed');
    expect(answers.map((m) => [m.channel, m.maxRate, m.conflate, m.id])).toEqual(
      expect.arrayContaining([
        ['events', 2, undefined, 1],
        ['gauge', 2, true, 1],
      ]),
    );
    await hub.publish('events', 1);
    await until(() => reader.data().length === 1, 'the first message');
  });

  test('bad maxRate values get $error bad_command naming the range; the connection stays open', async () => {
    const { port } = await start();
    const reader = await wsReader(port, 'events');
    for (const maxRate of [0, -1, 1000, '5', null, 0.01]) {
      await reader.client.command({ action: 'subscribe', channels: ['events'], maxRate, id: `r${maxRate}` });
      const error = await reader.client.waitForJson(
        (m) => m.type === '$error' && m.id === `r${maxRate}`,
        `the error for ${String(maxRate)}`,
      );
      expect(error).toMatchObject({
        code: 'bad_command',
        message: '"maxRate" must be a number of messages per second from 0.1 to 100',
      });
    }
    await reader.client.command({ action: 'ping', id: 'alive' });
    await reader.client.waitForJson((m) => m.type === '$pong' && m.id === 'alive', 'a pong');
    expect(reader.client.json.some((m) => m.type === '$subscribed')).toBe(false);
  });

  test('resume after a reconnect is exact with maxRate: no gap, no duplicate', async () => {
    const { hub, port } = await start();
    const first = await wsReader(port, 'events');
    await first.client.command({ action: 'subscribe', channels: ['events'], maxRate: 4 });
    await first.client.waitForJson((m) => m.type === '$subscribed', '$subscribed');
    for (let n = 1; n <= 30; n++) await hub.publish('events', { n });
    await until(() => first.data().length >= 10, 'some messages');
    // Cut mid-stream: held messages were never written, so the position is the last one that was.
    first.client.destroy();
    const last = first.data().at(-1) as JsonMessage;
    const had = first.seqs();
    for (let n = 31; n <= 60; n++) await hub.publish('events', { n });
    const second = await wsReader(port, 'events');
    await second.client.command({
      action: 'subscribe',
      channels: ['events'],
      maxRate: 4,
      since: { events: { epoch: last.epoch, seq: last.seq } },
    });
    const answer = await second.client.waitForJson((m) => m.type === '$subscribed', '$subscribed');
    expect(answer).toMatchObject({ recovered: true, maxRate: 4 });
    for (let n = 61; n <= 80; n++) await hub.publish('events', { n });
    await until(() => second.seqs().at(-1) === 80, 'every message');
    assertContiguous([...had, ...second.seqs()], 1, 80);
  });

  test('resume on a state channel with maxRate replays what was missed, then goes on conflated', async () => {
    const { hub, port } = await start();
    const first = await wsReader(port, 'gauge');
    await first.client.command({ action: 'subscribe', channels: ['gauge'], maxRate: 5 });
    await first.client.waitForJson((m) => m.type === '$subscribed', '$subscribed');
    await hub.publish('gauge', { n: 1 });
    await until(() => first.data().length === 1, 'the first value');
    first.client.destroy();
    const last = first.data().at(-1) as JsonMessage;
    for (let n = 2; n <= 5; n++) await hub.publish('gauge', { n });
    const second = await wsReader(port, 'gauge');
    await second.client.command({
      action: 'subscribe',
      channels: ['gauge'],
      maxRate: 5,
      since: { gauge: { epoch: last.epoch, seq: last.seq } },
    });
    await until(() => second.seqs().at(-1) === 5, 'the missed values');
    expect(second.seqs()).toEqual([2, 3, 4, 5]);
    expect(second.client.json.find((m) => m.type === '$subscribed')).toMatchObject({ recovered: true });
  });

  test('subscribing again to a channel replaces its rate: with since, it goes on without a gap or a repeat', async () => {
    const { hub, port } = await start();
    const reader = await wsReader(port, 'events');
    await reader.client.command({ action: 'subscribe', channels: ['events'], maxRate: 0.5 });
    await reader.client.waitForJson((m) => m.type === '$subscribed', '$subscribed');
    await hub.publish('events', { n: 1 });
    await until(() => reader.data().length === 1, 'the first message (written at once)');
    for (let n = 2; n <= 10; n++) await hub.publish('events', { n });
    // At 0.5 a second the rest waits up to 2 s; the client raises its rate from where it is.
    const last = reader.data().at(-1) as JsonMessage;
    await reader.client.command({
      action: 'subscribe',
      channels: ['events'],
      maxRate: 20,
      since: { events: { epoch: last.epoch, seq: last.seq } },
      id: 'faster',
    });
    const answer = await reader.client.waitForJson((m) => m.id === 'faster', 'the new answer');
    expect(answer).toMatchObject({ type: '$subscribed', recovered: true, maxRate: 20 });
    await until(() => reader.seqs().at(-1) === 10, 'the held messages, replayed', 1500);
    for (let n = 11; n <= 20; n++) await hub.publish('events', { n });
    await until(() => reader.seqs().at(-1) === 20, 'the rest');
    assertContiguous(reader.seqs(), 1, 20);
    // Without maxRate the subscription is unpaced again.
    await reader.client.command({
      action: 'subscribe',
      channels: ['events'],
      since: { events: { epoch: last.epoch, seq: 20 } },
      id: 'unpaced',
    });
    const plain = await reader.client.waitForJson((m) => m.id === 'unpaced', 'the plain answer');
    expect(plain.maxRate).toBeUndefined();
    expect(server?.hub.subscriptionCount).toBe(1);
  });

  test('many subscribers at the same rate share one clock; two rates, two clocks', async () => {
    const { hub, port } = await start();
    const readers = await Promise.all(Array.from({ length: 20 }, () => wsReader(port, 'events')));
    for (const [i, reader] of readers.entries())
      await reader.client.command({ action: 'subscribe', channels: ['events'], maxRate: i % 2 ? 5 : 10 });
    await until(() => hub.subscriptionCount === 20, '20 subscriptions');
    let most = 0;
    for (let n = 1; n <= 40; n++) {
      await hub.publish('events', { n });
      most = Math.max(most, hub.pacer.running);
      await sleep(5);
    }
    expect(most).toBe(2);
    await until(() => readers.every((reader) => reader.data().length === 40), 'every message everywhere');
    for (const reader of readers) assertContiguous(reader.seqs(), 1, 40);
    // Idle clocks stop by themselves.
    await until(() => hub.pacer.running === 0, 'the clocks to stop', 2000);
  });
});

describe('maxRate on SSE', () => {
  test('/sse?channels=gauge&maxRate=5: about 5 values a second, the last always, each with its id', async () => {
    const { hub, port } = await start();
    const reader = sseReader(port, '/sse?channels=gauge&maxRate=5', 'gauge');
    await until(() => reader.events.some((e) => e.frame.type === '$subscribed'), '$subscribed');
    expect(reader.events.find((e) => e.frame.type === '$subscribed')?.frame).toMatchObject({
      maxRate: 5,
      conflate: true,
    });
    const started = Date.now();
    const published = await publishFor(hub, 'gauge', 2000);
    await until(() => reader.seqs().at(-1) === published, 'the last value');
    const seconds = (Date.now() - started) / 1000;
    expect(reader.data().length).toBeLessThanOrEqual(Math.ceil(seconds * 5) + 1);
    expect(reader.data().length).toBeGreaterThanOrEqual(Math.floor(seconds * 5 * 0.4));
    const lastEvent = reader.data().at(-1);
    expect(lastEvent?.id).toBe(`gauge~${lastEvent?.frame.epoch}~${published}`);
  });

  test('a stream channel: every message in order, in at most maxRate writes a second; Last-Event-ID resumes exactly', async () => {
    const { hub, port } = await start();
    const reader = sseReader(port, '/sse?channels=events,other&maxRate=events~5', 'events');
    await until(() => reader.events.filter((e) => e.frame.type === '$subscribed').length === 2, 'answers');
    const answers = reader.events.filter((e) => e.frame.type === '$subscribed').map((e) => e.frame);
    expect(answers.find((f) => f.channel === 'events')?.maxRate).toBe(5);
    expect(answers.find((f) => f.channel === 'other')?.maxRate).toBeUndefined();
    const started = Date.now();
    const published = await publishFor(hub, 'events', 1500);
    await until(() => reader.data().length === published, 'every message');
    const seconds = (Date.now() - started) / 1000;
    assertContiguous(reader.seqs(), 1, published);
    expect(reader.reads.withData).toBeLessThanOrEqual(Math.ceil(seconds * 5) + 1);
    // Cut, publish more, resume with the last id as a browser would.
    reader.close();
    const lastId = reader.data().at(-1)?.id as string;
    for (let n = 1; n <= 25; n++) await hub.publish('events', { after: n });
    const resumed = sseReader(port, '/sse?channels=events,other&maxRate=events~5', 'events', {
      'last-event-id': lastId,
    });
    await until(() => resumed.seqs().at(-1) === published + 25, 'the missed messages');
    assertContiguous([...reader.seqs(), ...resumed.seqs()], 1, published + 25);
  });

  test.each([
    ['maxRate=0', '"maxRate" entry "0": the rate must be a number of messages per second from 0.1 to 100'],
    [
      'maxRate=fast',
      '"maxRate" entry "fast": the rate must be a number of messages per second from 0.1 to 100',
    ],
    [
      'maxRate=101',
      '"maxRate" entry "101": the rate must be a number of messages per second from 0.1 to 100',
    ],
    ['maxRate=nope~5', '"maxRate" names "nope", which is not among the stream\'s channels'],
    ['maxRate=5,6', '"maxRate" names a rate for every channel twice'],
    ['maxRate=a~5,a~6', '"maxRate" names "a" twice'],
    [
      'maxRate=5&maxRate=6',
      '"maxRate" must be given once: <rate> or <channel>~<rate>,…, each a number of messages per second from 0.1 to 100',
    ],
  ])('/sse?channels=a&%s answers 400 bad_command before the stream starts', async (query, message) => {
    const { port } = await start();
    const reader = sseReader(port, `/sse?channels=a&${query}`, 'a');
    await until(() => reader.status !== 0 && reader.body.endsWith('}'), 'the answer');
    expect(reader.status).toBe(400);
    expect(JSON.parse(reader.body)).toEqual({ error: { code: 'bad_command', message } });
  });
});

describe('maxRate on polling', () => {
  test('a state channel polled with maxRate answers only the newest message, marked conflate; a stream every one', async () => {
    const { hub, url } = await start();
    const first = await hub.publish('gauge', { n: 1 });
    for (let n = 2; n <= 10; n++) await hub.publish('gauge', { n });
    for (let n = 1; n <= 10; n++) await hub.publish('events', { n });
    const poll = async (path: string) =>
      (await (await fetch(`${url}${path}`)).json()) as {
        recovered: boolean;
        conflate?: boolean;
        seq: number;
        messages: Array<{ seq: number }>;
      };
    const state = await poll(`/api/channels/gauge/messages?since=1&epoch=${first.epoch}&maxRate=5`);
    expect(state).toMatchObject({ recovered: true, conflate: true, seq: 10 });
    expect(state.messages.map((m: { seq: number }) => m.seq)).toEqual([10]);
    const plain = await poll(`/api/channels/gauge/messages?since=1&epoch=${first.epoch}`);
    expect(plain.messages).toHaveLength(9);
    expect(plain.conflate).toBeUndefined();
    const stream = await poll('/api/channels/events/messages?since=0&maxRate=5');
    expect(stream.messages).toHaveLength(10);
    expect(stream.conflate).toBeUndefined();
  });

  test.each(['0', 'x', '1e3', '500'])('maxRate=%s answers 400 bad_command', async (value) => {
    const { url } = await start();
    const response = await fetch(`${url}/api/channels/events/messages?maxRate=${value}`);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: {
        code: 'bad_command',
        message: '"maxRate" must be a number of messages per second from 0.1 to 100',
      },
    });
  });
});
