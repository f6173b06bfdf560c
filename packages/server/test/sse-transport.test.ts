import { request } from 'node:http';
import { parseResumeToken } from '@livedash/protocol';
import { createServer, type LivedashServer } from '@livedash/server';
import { EventSource } from 'eventsource';
import { afterEach, describe, expect, test } from 'vitest';
import { TestSseClient } from './helpers/sse-client.js';
import { until } from './helpers/wait.js';
import type { Frame } from './helpers/ws-client.js';

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

/**
 * An SSE stream read over plain HTTP that can stop reading (`pause`), so the server's queue for it
 * fills as it would for a client on a stalled network; every event is kept with its `id:`.
 */
function pausableSseReader(port: number, path: string, headers: Record<string, string> = {}) {
  const events: Array<{ id: string | undefined; frame: Frame }> = [];
  let buffer = '';
  let paused: (() => void) | undefined;
  let resume: (() => void) | undefined;
  const req = request({ host: '127.0.0.1', port, path, headers }, (response) => {
    response.setEncoding('utf8');
    paused = () => response.pause();
    resume = () => response.resume();
    response.on('data', (chunk: string) => {
      buffer += chunk;
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let id: string | undefined;
        let data: string | undefined;
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) id = line.slice(4);
          else if (line.startsWith('data: ')) data = line.slice(6);
        }
        if (data !== undefined && !block.includes('event: ')) events.push({ id, frame: JSON.parse(data) });
      }
    });
  });
  req.on('error', () => {});
  req.end();
  cleanups.push(() => {
    req.destroy();
  });
  return {
    events,
    data: (channel: string) => events.filter((e) => e.frame.type === channel).map((e) => e.frame),
    pause: () => paused?.(),
    resume: () => resume?.(),
    close: () => req.destroy(),
  };
}

describe('SSE resume of a conflated state channel', () => {
  test('no id names a state value a full queue still holds: Last-Event-ID resumes with the newest value', async () => {
    server = await createServer({
      port: 0,
      publishToken: 'secret',
      maxQueueBytes: 16 * 1024,
      stateChannels: ['gauge', 'small'],
    });
    const live = server;
    const conflated = async () => {
      const text = await (await fetch(`${live.url}/metrics`)).text();
      return Number(/livedash_dropped_total\{reason="conflated"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    const reader = pausableSseReader(live.port, '/sse?channels=gauge,small');
    await until(() => reader.data('$subscribed').length === 2, 'both channels answered');
    reader.pause();
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
    // Small values of another channel still fit: their ids name every channel's position.
    for (let i = 1; i <= 3; i++) await live.hub.publish('small', { i });
    reader.resume();
    await until(
      () => reader.data('gauge').at(-1)?.seq === newest && reader.data('small').length === 3,
      () => `gauge ${newest} and 3 small values, got gauge ${reader.data('gauge').at(-1)?.seq}`,
    );
    // A resume from any id loses nothing the stream had still to send: no id names a value of a
    // channel at or past one that comes later on the stream (values skipped in between were conflated).
    for (const [index, { id, frame }] of reader.events.entries()) {
      if (id === undefined) continue;
      const named = parseResumeToken(id);
      if (!named.ok) throw new Error(`bad id ${id}`);
      for (const [channel, position] of named.value) {
        const next = reader.events.slice(index + 1).find((e) => e.frame.type === channel)?.frame.seq;
        if (next !== undefined)
          expect(position.seq, `${channel} in the id of ${frame.type} ${frame.seq}`).toBeLessThan(
            next as number,
          );
      }
    }
    // A browser cut just before gauge's newest value resumes from the last id it got, and gets that value.
    const cut = reader.events.findIndex((e) => e.frame.type === 'gauge' && e.frame.seq === newest);
    const lastId = reader.events.slice(0, cut).findLast((e) => e.id !== undefined)?.id as string;
    reader.close();
    const resumed = pausableSseReader(live.port, '/sse?channels=gauge,small', {
      'last-event-id': lastId,
    });
    await until(
      () => resumed.data('gauge').at(-1)?.seq === newest,
      () =>
        `gauge ${newest} on the resumed stream, got ${JSON.stringify(resumed.events.map((e) => e.frame.type))}`,
    );
  });
});

describe('SSE resume from a position history does not cover', () => {
  test('the $subscribed id names where the stream really is, never the position the request claimed', async () => {
    server = await createServer({ port: 0, publishToken: 'secret' });
    const live = server;
    let epoch = '';
    for (let i = 1; i <= 3; i++) epoch = (await live.hub.publish('orders', { i })).epoch;
    // Ahead of the channel in its own epoch, and an epoch the channel never had.
    for (const claimed of [`orders~${epoch}~999999`, 'orders~AAAAAAAAAAAAAAAA~2']) {
      const reader = pausableSseReader(live.port, '/sse?channels=orders', { 'last-event-id': claimed });
      await until(() => reader.data('orders').length === 1, `the latest value after ${claimed}`);
      const answer = reader.events.find((e) => e.frame.type === '$subscribed');
      reader.close();
      expect(answer?.frame).toMatchObject({ epoch, seq: 3, recovered: false });
      // The id names the position just before the latest value that follows the answer, so a browser
      // cut right after the answer resumes from it and gets that value, exactly once.
      expect(answer?.id).toBe(`orders~${epoch}~2`);
      const resumed = pausableSseReader(live.port, '/sse?channels=orders', {
        'last-event-id': answer?.id as string,
      });
      await until(() => resumed.data('orders').length === 1, 'the latest value again on resume');
      expect(resumed.data('$subscribed')[0]).toMatchObject({ recovered: true });
      expect(resumed.data('orders')[0]).toMatchObject({ seq: 3, data: { i: 3 } });
      resumed.close();
    }
  });

  test('a position history covers is kept as claimed in the $subscribed id', async () => {
    server = await createServer({ port: 0, publishToken: 'secret' });
    const live = server;
    let epoch = '';
    for (let i = 1; i <= 3; i++) epoch = (await live.hub.publish('orders', { i })).epoch;
    const reader = pausableSseReader(live.port, '/sse?channels=orders', {
      'last-event-id': `orders~${epoch}~1`,
    });
    await until(() => reader.data('orders').length === 2, 'messages 2 and 3');
    const answer = reader.events.find((e) => e.frame.type === '$subscribed');
    reader.close();
    expect(answer?.frame).toMatchObject({ recovered: true });
    expect(answer?.id).toBe(`orders~${epoch}~1`);
  });

  test('a stream subscribed without a position: its $subscribed id resumes to the latest value', async () => {
    server = await createServer({ port: 0, publishToken: 'secret' });
    const live = server;
    let epoch = '';
    for (let i = 1; i <= 3; i++) epoch = (await live.hub.publish('orders', { i })).epoch;
    const reader = pausableSseReader(live.port, '/sse?channels=orders,empty');
    await until(() => reader.data('orders').length === 1, 'the latest value');
    reader.close();
    const answers = reader.events.filter((e) => e.frame.type === '$subscribed');
    expect(answers.map((e) => e.frame.channel)).toEqual(['orders', 'empty']);
    expect(answers[0]?.id).toBe(`orders~${epoch}~2`);
    // A channel nothing was published to has a position of its own once answered: its epoch, seq 0;
    // the id goes on naming where orders is (its latest value may have gone out in between).
    const empty = reader.events.findIndex(
      (e) => e.frame.type === '$subscribed' && e.frame.channel === 'empty',
    );
    const ordersBefore = reader.events.slice(0, empty).filter((e) => e.frame.type === 'orders').length;
    const answer = reader.events[empty];
    expect(answer?.id?.split(',').sort()).toEqual(
      [`empty~${answer?.frame.epoch}~0`, `orders~${epoch}~${ordersBefore === 1 ? 3 : 2}`].sort(),
    );
  });
});

describe('SSE resume of several channels', () => {
  test('no id names a channel back at the start of its epoch while its replay is on the way, and a message bigger than the queue bound is still sent', async () => {
    server = await createServer({ port: 0, publishToken: 'secret', maxQueueBytes: 16 * 1024 });
    const live = server;
    let b = '';
    for (let i = 1; i <= 3; i++)
      b = (await live.hub.publish('b', { i, pad: 'p'.repeat(i === 3 ? 20_000 : 10) })).epoch;
    const a = (await live.hub.publish('a', { n: 0 })).epoch;
    const reader = pausableSseReader(live.port, '/sse?channels=a,b', {
      'last-event-id': `a~${a}~1,b~${b}~2`,
    });
    await until(() => reader.data('$subscribed').length === 2, 'both channels answered');
    for (let n = 1; n <= 3; n++) await live.hub.publish('a', { n });
    await until(
      () => reader.data('a').length === 3 && reader.data('b').length === 1,
      () =>
        `a 2-4 and b's 20 kB message 3, got ${JSON.stringify(reader.events.map((e) => [e.frame.type, e.frame.seq]))}`,
    );
    expect(reader.data('b')[0]).toMatchObject({ seq: 3 });
    for (const { id } of reader.events) {
      if (id === undefined) continue;
      const named = parseResumeToken(id);
      if (!named.ok) throw new Error(`bad id ${id}`);
      expect(named.value.get('b')?.seq, id).toBeGreaterThanOrEqual(2);
      expect(named.value.get('a')?.seq, id).toBeGreaterThanOrEqual(1);
    }
  });
});
