import { createServer, type LivedashServer } from '@livedash/server';
import { afterEach, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { until } from './helpers/wait.js';
import { assertContiguous } from './helpers/ws-client.js';

// A client far behind on a stream channel — more history to replay than its outgoing queue may hold —
// recovers: the replay goes out in pieces as it reads, instead of closing it with 4008 every time.

const MAX_QUEUE_BYTES = 64 * 1024;
const PAYLOAD = 'x'.repeat(1000);
const HISTORY = 1000; // ~1 MB of history: 16 × the queue bound

let server: LivedashServer | undefined;
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  await server?.close();
  server = undefined;
});

/** A subscriber that reads 20 frames, then stops reading for 30 ms, and so on. */
function slowReader(url: string, channel: string, since: { epoch: string; seq: number }) {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`, { perMessageDeflate: false });
  sockets.push(ws);
  const seqs: number[] = [];
  const subscribed: Array<{ recovered: boolean }> = [];
  let closeCode: number | undefined;
  let frames = 0;
  ws.on('error', () => {});
  ws.on('close', (code) => {
    closeCode = code;
  });
  ws.once('open', () =>
    ws.send(JSON.stringify({ action: 'subscribe', channels: [channel], since: { [channel]: since } })),
  );
  ws.on('message', (data: Buffer) => {
    const frame = JSON.parse(String(data)) as { type: string; seq: number; recovered?: boolean };
    if (frame.type === '$subscribed') subscribed.push({ recovered: frame.recovered === true });
    if (frame.type === channel) seqs.push(frame.seq);
    if (++frames % 20 === 0) {
      ws.pause();
      setTimeout(() => ws.resume(), 30);
    }
  });
  return {
    seqs,
    subscribed,
    get closeCode() {
      return closeCode;
    },
  };
}

describe('recovery larger than the outgoing queue bound', () => {
  test('a slow reader replaying 16 × maxQueueBytes of history gets all of it, in order, and stays connected', async () => {
    server = await createServer({
      port: 0,
      publishToken: 'secret',
      maxQueueBytes: MAX_QUEUE_BYTES,
      history: [{ pattern: '*', maxMessages: 5000, maxAgeMs: 600_000 }],
    });
    let epoch = '';
    for (let i = 0; i < HISTORY; i++) epoch = (await server.hub.publish('events', { i, PAYLOAD })).epoch;
    const reader = slowReader(server.url, 'events', { epoch, seq: 0 });
    // Live messages keep coming while the replay is paced, more than the live buffer holds, so they
    // are read back from history too.
    let live = 0;
    const publisher = setInterval(() => {
      for (let i = 0; i < 10 && live < 200; i++, live++)
        void server?.hub.publish('events', { live, PAYLOAD });
    }, 20);
    try {
      await until(
        () => reader.seqs.length >= HISTORY + 200 || reader.closeCode !== undefined,
        'the whole replay and the live messages',
        30_000,
      );
    } finally {
      clearInterval(publisher);
    }
    expect(reader.closeCode).toBeUndefined();
    expect(reader.subscribed).toEqual([{ recovered: true }]);
    assertContiguous(reader.seqs, 1, HISTORY + 200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).not.toMatch(/livedash_slow_consumer_disconnects_total\{transport="ws"\} [1-9]/);
  }, 40_000);
});
