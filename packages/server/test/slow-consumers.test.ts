import { createServer } from '@livedash/server';
import { afterEach, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { until } from './helpers/wait.js';

// Slow consumers (docs/performance.md): 200 clients that never read while ~10 MB/s is published. The
// outgoing queue is bounded in bytes; the state channel (`metrics.*`) conflates, the stream channel
// disconnects its slow readers with 4008; readers that keep up get every message without added delay.

const MAX_QUEUE_BYTES = 256 * 1024;
const SLOW_PER_CHANNEL = 100;
const FAST_PER_CHANNEL = 2;
const STATE = 'metrics.bulk';
const STREAM = 'events.bulk';
const PAYLOAD = 'x'.repeat(8000);
/** ~8 KB × 1,250 messages/s ≈ 10 MB/s, split over the two channels. */
const MESSAGES_PER_SECOND = 1250;
/**
 * The stated bound on the server's memory growth while the slow clients sit there: their queues
 * (200 × 256 KiB = 50 MiB at most) plus two channels' history (2 × 1,000 × 8 KB) plus GC headroom
 * for ~10 MB/s of garbage. Without the bound, queues grow by up to 10 MB/s per slow client.
 */
const RSS_GROWTH_BOUND = 300 * 2 ** 20;

/** `encodeEnvelope`'s head: `{"type":"<channel>","seq":N,"epoch":"…","ts":T,"data":…`. */
const ENVELOPE_HEAD = /^\{"type":"([^"]+)","seq":(\d+),"epoch":"[^"]*","ts":(\d+),/;

/** A WebSocket subscriber that keeps only positions and latencies (never the payloads). */
class Reader {
  readonly ws: WebSocket;
  readonly seqs: number[] = [];
  readonly latencies: number[] = [];
  readonly subscribed: Array<{ seq: number; recovered: boolean }> = [];
  closeCode: number | undefined;
  readonly ready: Promise<void>;

  constructor(url: string, channel: string) {
    this.ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`, { perMessageDeflate: false });
    this.ws.on('error', () => {});
    this.ws.on('close', (code) => {
      this.closeCode = code;
    });
    this.ready = new Promise((resolve, reject) => {
      this.ws.once('open', () => this.ws.send(JSON.stringify({ action: 'subscribe', channels: [channel] })));
      this.ws.once('close', () => reject(new Error('closed before subscribing')));
      this.ws.on('message', (data: Buffer) => {
        // Data frames are 8 KB; their position and time are in the envelope's head, so only that is
        // decoded (readers catching up on megabytes must not spend the test's time in JSON.parse).
        const head = data.toString('latin1', 0, 160);
        if (head.startsWith('{"type":"$')) {
          const frame = JSON.parse(String(data)) as { type: string; seq: number; recovered?: boolean };
          if (frame.type !== '$subscribed') return;
          this.subscribed.push({ seq: frame.seq, recovered: frame.recovered === true });
          resolve();
          return;
        }
        const match = ENVELOPE_HEAD.exec(head);
        if (match?.[1] !== channel) return;
        this.seqs.push(Number(match[2]));
        this.latencies.push(Date.now() - Number(match[3]));
      });
    });
    this.ready.catch(() => {});
  }

  get lastSeq(): number {
    return this.seqs.at(-1) ?? 0;
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/**
 * Publishes alternately on both channels at up to MESSAGES_PER_SECOND for at least `minMs`, then
 * until `done()` (or `maxMs`): how long the slow clients' kernel buffers take to fill depends on the
 * machine's load, so the test waits for the outcome instead of guessing a duration.
 */
async function publishUntil(
  hub: { publish(channel: string, data: unknown): Promise<unknown> },
  minMs: number,
  maxMs: number,
  done: () => Promise<boolean> = async () => true,
): Promise<void> {
  const started = Date.now();
  let sent = 0;
  let pending: Promise<unknown>[] = [];
  for (;;) {
    const elapsed = Date.now() - started;
    if (elapsed >= maxMs || (elapsed >= minMs && (await done()))) break;
    // At most 25 messages (~200 KB) per tick: a stalled timer must not turn into one burst bigger than
    // a fast reader's queue bound (that reader would then rightly be treated as slow).
    const due = Math.min(sent + 25, Math.floor((elapsed * MESSAGES_PER_SECOND) / 1000));
    for (; sent < due; sent++)
      pending.push(hub.publish(sent % 2 === 0 ? STATE : STREAM, { n: sent, pad: PAYLOAD }));
    await Promise.all(pending);
    pending = [];
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('slow consumers', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  test('200 clients that never read: memory stays bounded, state conflates, streams close 4008, fast readers unaffected', async () => {
    const server = await createServer({
      port: 0,
      publishToken: 'secret',
      maxQueueBytes: MAX_QUEUE_BYTES,
      maxConnectionsPerIp: 1000,
    });
    const readers: Reader[] = [];
    cleanup.push(() => server.close());
    cleanup.push(() => {
      for (const reader of readers) reader.ws.terminate();
    });
    const open = (channel: string) => {
      const reader = new Reader(server.url, channel);
      readers.push(reader);
      return reader;
    };

    const fast = [STATE, STREAM].flatMap((channel) =>
      Array.from({ length: FAST_PER_CHANNEL }, () => open(channel)),
    );
    await Promise.all(fast.map((reader) => reader.ready));

    // Control: the same load with nobody slow, for the fast readers' latency without slow consumers.
    await publishUntil(server.hub, 1500, 1500);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const control = fast.flatMap((reader) => reader.latencies.splice(0));

    const slowState = Array.from({ length: SLOW_PER_CHANNEL }, () => open(STATE));
    const slowStream = Array.from({ length: SLOW_PER_CHANNEL }, () => open(STREAM));
    const slow = [...slowState, ...slowStream];
    await Promise.all(slow.map((reader) => reader.ready));
    for (const reader of slow) reader.ws.pause(); // never read again (until the end)

    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }, 50);
    cleanup.push(() => clearInterval(sampler));
    const streamSeqBefore = Math.max(...fast.slice(FAST_PER_CHANNEL).map((reader) => reader.lastSeq));
    const counter = async (metric: 'slowConsumerDisconnects' | 'dropped', label: string) =>
      (await server.metrics[metric].get()).values.find((v) => Object.values(v.labels).includes(label))
        ?.value ?? 0;
    // Until every slow stream reader was cut and the slow state readers were conflated for a while.
    await publishUntil(
      server.hub,
      3000,
      45_000,
      async () =>
        (await counter('slowConsumerDisconnects', 'ws')) >= SLOW_PER_CHANNEL &&
        (await counter('dropped', 'conflated')) >= 5 * SLOW_PER_CHANNEL,
    );
    const lastState = (await server.hub.publish(STATE, { n: 'last', pad: '' })).seq;
    const lastStream = (await server.hub.publish(STREAM, { n: 'last', pad: '' })).seq;
    clearInterval(sampler);

    // Memory: bounded whatever the slow clients do.
    const growth = rssPeak - rssBefore;
    expect(growth, `RSS grew by ${(growth / 2 ** 20).toFixed(1)} MiB`).toBeLessThan(RSS_GROWTH_BOUND);

    // Readers that keep up: every message, in order, without added delay.
    await until(
      () => fast.every((reader, i) => reader.lastSeq === (i < FAST_PER_CHANNEL ? lastState : lastStream)),
      `fast readers to catch up to ${lastState}/${lastStream}: ${fast.map((r) => `${r.lastSeq}(${r.seqs.length},${r.closeCode})`)}`,
      20_000,
    );
    for (const reader of fast.slice(FAST_PER_CHANNEL)) {
      const run = reader.seqs.filter((seq) => seq > streamSeqBefore);
      expect(run).toEqual(
        Array.from({ length: lastStream - streamSeqBefore }, (_, i) => streamSeqBefore + 1 + i),
      );
    }
    for (const reader of fast) expect(reader.closeCode).toBeUndefined();
    const loaded = fast.flatMap((reader) => reader.latencies);
    const [controlP50, loadedP50] = [percentile(control, 50), percentile(loaded, 50)];
    const [controlP99, loadedP99] = [percentile(control, 99), percentile(loaded, 99)];
    console.log(
      `slow consumers: RSS +${(growth / 2 ** 20).toFixed(1)} MiB; fast readers p50 ${controlP50} → ${loadedP50} ms, ` +
        `p99 ${controlP99} → ${loadedP99} ms`,
    );
    expect(loadedP50).toBeLessThanOrEqual(controlP50 * 3 + 100);
    expect(loadedP99).toBeLessThanOrEqual(controlP99 * 3 + 750);

    // Stream channel: every slow reader was cut with 4008 (counted by the server: a paused client does
    // not read its socket, so it sees the close only once it reads again).
    expect(
      await counter('slowConsumerDisconnects', 'ws'),
      `slow-consumer disconnects (conflated drops: ${await counter('dropped', 'conflated')})`,
    ).toBe(SLOW_PER_CHANNEL);
    // One of them reads again: it gets what its socket held, then the close (4008, or 1006 when the
    // server had to terminate it because the close frame could not get through in time).
    const witness = slowStream[0]!;
    witness.ws.resume();
    await until(() => witness.closeCode !== undefined, 'a slow stream reader to see the close', 30_000);
    expect([4008, 1006]).toContain(witness.closeCode);

    // State channel: the slow readers are still connected, and once they read they get the newest
    // value, announced by `$subscribed` recovered:false (the values in between were conflated).
    for (const reader of slowState) expect(reader.ws.readyState).toBe(WebSocket.OPEN);
    for (const reader of slowState) reader.ws.resume();
    await until(
      () => slowState.every((reader) => reader.lastSeq === lastState),
      'slow state readers to get the newest value',
      20_000,
    );
    for (const reader of slowState) {
      expect(reader.subscribed.length).toBeGreaterThan(1);
      expect(reader.subscribed.slice(1).every((notice) => !notice.recovered)).toBe(true);
      expect(reader.seqs).toEqual([...reader.seqs].sort((a, b) => a - b));
      expect(reader.seqs.length).toBeLessThan(lastState);
    }
  }, 120_000);
});
