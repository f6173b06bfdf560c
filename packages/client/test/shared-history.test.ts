import type { LivedashServer } from '@livedash/server';
import { afterEach, describe, expect, test } from 'vitest';
import { fetchChannelHistory } from '../src/history-fetch.js';
import type { HistoryEntry, LiveClient } from '../src/index.js';
import { SHARED_HISTORY_LIMIT, SharedHistory } from '../src/worker/shared-history.js';
import { nodeClient, startServer, waitFor } from './helpers/live.js';
import { TcpProxy } from './helpers/tcp-proxy.js';

// The worker's copy of a channel's history, fed as the worker feeds it (every message its connection
// receives, here from a real client's connection) and completed from a real server over HTTP.

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function server(options: Parameters<typeof startServer>[0] = {}): Promise<LivedashServer> {
  const started = await startServer(options);
  cleanup.push(() => started.close());
  return started;
}

/** A shared history of `channel` on the server at `url`, and the `since` of every HTTP read it made. */
function sharedHistory(url: () => string, channel: string, limit?: number) {
  const reads: number[] = [];
  const history = new SharedHistory((since, epoch) => {
    reads.push(since);
    return fetchChannelHistory(fetch, url(), undefined, channel, since, epoch);
  }, limit);
  return { history, reads };
}

/** A client whose every message on `channel` is recorded, as the worker's connection does. */
function recordFrom(client: LiveClient, channel: string, history: SharedHistory) {
  const received: HistoryEntry[] = [];
  cleanup.push(() => client.close());
  client.subscribe(channel, (data, meta) => {
    const entry = { data, seq: meta.seq, epoch: meta.epoch, ts: meta.ts };
    received.push(entry);
    history.record(entry);
  });
  return received;
}

const seqs = (entries: readonly HistoryEntry[]) => entries.map((entry) => entry.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('answering from the shared copy', () => {
  test('a range the copy holds is answered without a request; an older one is read once and kept', async () => {
    const s = await server();
    for (let n = 1; n <= 20; n++) await s.hub.publish('temps', { n });
    const { history, reads } = sharedHistory(() => s.url, 'temps');
    const received = recordFrom(nodeClient({ url: s.url }), 'temps', history);
    await waitFor(() => received.length === 1, 10_000, 'the latest value');
    const epoch = received[0]?.epoch as string;

    expect(seqs(await history.read(10, epoch))).toEqual(range(11, 20));
    expect(reads).toEqual([10]);
    expect(seqs(await history.read(15, epoch))).toEqual(range(16, 20));
    for (let n = 21; n <= 22; n++) await s.hub.publish('temps', { n });
    await waitFor(() => received.length === 3, 10_000, 'live messages');
    expect(seqs(await history.read(10, epoch))).toEqual(range(11, 22));
    expect(reads).toEqual([10]);

    expect(seqs(await history.read(0, epoch))).toEqual(range(1, 22));
    expect((await history.read(0, epoch)).map((entry) => (entry.data as { n: number }).n)).toEqual(
      range(1, 22),
    );
    expect(reads).toEqual([10, 0]);
  });

  test('a channel received from its first message needs no request at all', async () => {
    const s = await server();
    const { history, reads } = sharedHistory(() => s.url, 'fresh');
    const client = nodeClient({ url: s.url });
    let confirmations = 0;
    client.subscribe('fresh', () => {}, { onSubscribed: () => confirmations++ });
    const received = recordFrom(client, 'fresh', history);
    await waitFor(() => confirmations === 1, 10_000, 'subscribed');
    for (let n = 1; n <= 5; n++) await s.hub.publish('fresh', { n });
    await waitFor(() => received.length === 5, 10_000, 'five live messages');
    expect(seqs(await history.read(0, received[0]?.epoch))).toEqual(range(1, 5));
    expect(reads).toEqual([]);
  });

  test('tabs asking at the same time share one request', async () => {
    const s = await server();
    for (let n = 1; n <= 10; n++) await s.hub.publish('temps', { n });
    const { history, reads } = sharedHistory(() => s.url, 'temps');
    const received = recordFrom(nodeClient({ url: s.url }), 'temps', history);
    await waitFor(() => received.length === 1, 10_000, 'the latest value');
    const epoch = received[0]?.epoch as string;
    const answers = await Promise.all([
      history.read(0, epoch),
      history.read(0, epoch),
      history.read(4, epoch),
    ]);
    expect(answers.map(seqs)).toEqual([range(1, 10), range(1, 10), range(5, 10)]);
    expect(reads).toEqual([0]);
  });
});

describe('gaps and epochs', () => {
  test('messages the connection missed start the copy over: no answer has a hole, and the server is read once', async () => {
    // The server keeps only 5 messages, so a connection cut while 17 are published misses some for good.
    const s = await server({ history: [{ pattern: '*', maxMessages: 5, maxAgeMs: 60_000 }] });
    const proxy = await TcpProxy.start(s.port);
    cleanup.push(() => proxy.close());
    const { history, reads } = sharedHistory(() => s.url, 'temps');
    const client = nodeClient({ url: proxy.url, backoff: { initialDelayMs: 100, maxDelayMs: 300 } });
    let confirmations = 0;
    client.subscribe('temps', () => {}, { onSubscribed: () => confirmations++ });
    const received = recordFrom(client, 'temps', history);
    await waitFor(() => confirmations === 1, 10_000, 'subscribed');
    for (let n = 1; n <= 3; n++) await s.hub.publish('temps', { n });
    await waitFor(() => received.length === 3, 10_000, 'three live messages');
    const epoch = received[0]?.epoch as string;
    expect(seqs(await history.read(0, epoch))).toEqual(range(1, 3));

    proxy.cut();
    for (let n = 4; n <= 20; n++) await s.hub.publish('temps', { n });
    proxy.restore();
    await waitFor(() => received.at(-1)?.seq === 20, 15_000, 'back after the cut');
    expect(seqs(received)).not.toContain(10); // the connection really missed messages

    // What is held now starts at 20; the server still has 16–20: those, and never 1–3 before a hole.
    expect(seqs(await history.read(3, epoch))).toEqual(range(16, 20));
    expect(reads).toEqual([3]);
    expect(seqs(await history.read(0, epoch))).toEqual(range(16, 20));
    expect(reads).toEqual([3]);
  });

  test('a new epoch (server restarted, history lost) starts the copy over; the old epoch is not mixed in', async () => {
    let s = await server();
    const port = s.port;
    for (let n = 1; n <= 5; n++) await s.hub.publish('temps', { n });
    const { history, reads } = sharedHistory(() => s.url, 'temps');
    const client = nodeClient({ url: s.url, backoff: { initialDelayMs: 200, maxDelayMs: 1000 } });
    const received = recordFrom(client, 'temps', history);
    await waitFor(() => received.length === 1, 10_000, 'the latest value');
    const oldEpoch = received[0]?.epoch as string;
    expect(seqs(await history.read(0, oldEpoch))).toEqual(range(1, 5));

    await s.close();
    s = await startServer({ port });
    cleanup.push(() => s.close());
    await waitFor(() => client.state.status === 'open', 15_000, 'reconnected');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await s.hub.publish('temps', { n: 100 });
    await s.hub.publish('temps', { n: 101 });
    await waitFor(() => received.at(-1)?.seq === 2, 10_000, 'the new epoch');
    const newEpoch = received.at(-1)?.epoch as string;
    expect(newEpoch).not.toBe(oldEpoch);

    const fresh = await history.read(0, newEpoch);
    expect(fresh.map((entry) => (entry.data as { n: number }).n)).toEqual([100, 101]);
    expect(reads).toEqual([0]);
    // A tab still on the old epoch gets what the server now holds, all of the new epoch.
    const stale = await history.read(3, oldEpoch);
    expect(stale.every((entry) => entry.epoch === newEpoch)).toBe(true);
    expect(seqs(await history.read(0, newEpoch))).toEqual([1, 2]);
  });
  test('a tab already on a newer epoch than the copy is answered from the server, not from the old copy', async () => {
    let s = await server();
    const port = s.port;
    for (let n = 1; n <= 5; n++) await s.hub.publish('temps', { n });
    const { history, reads } = sharedHistory(() => s.url, 'temps');
    const client = nodeClient({ url: s.url });
    const received = recordFrom(client, 'temps', history);
    await waitFor(() => received.length === 1, 10_000, 'the latest value');
    expect(seqs(await history.read(0, received[0]?.epoch))).toEqual(range(1, 5));
    client.close();

    await s.close();
    s = await startServer({ port });
    cleanup.push(() => s.close());
    await s.hub.publish('temps', { n: 100 });
    const newEpoch = (await fetchChannelHistory(fetch, s.url, undefined, 'temps', 0))?.epoch;
    const answer = await history.read(0, newEpoch);
    expect(answer.map((entry) => [entry.epoch, entry.data])).toEqual([[newEpoch, { n: 100 }]]);
    expect(reads).toEqual([0, 0]);
  });
});

describe('the bound', () => {
  test(`keeps at most ${SHARED_HISTORY_LIMIT} messages of a channel by default, dropping the oldest`, () => {
    const { history } = sharedHistory(() => 'http://127.0.0.1:9', 'temps');
    for (let seq = 1; seq <= SHARED_HISTORY_LIMIT + 5; seq++)
      history.record({ data: seq, seq, epoch: 'e1', ts: seq });
    expect(history.size).toBe(SHARED_HISTORY_LIMIT);
  });

  test('past its bound a tab reads from the server, getting what it would get in the page', async () => {
    const s = await server();
    const { history, reads } = sharedHistory(() => s.url, 'temps', 50);
    const client = nodeClient({ url: s.url });
    let confirmations = 0;
    client.subscribe('temps', () => {}, { onSubscribed: () => confirmations++ });
    const received = recordFrom(client, 'temps', history);
    await waitFor(() => confirmations === 1, 10_000, 'subscribed');
    for (let n = 1; n <= 80; n++) await s.hub.publish('temps', { n });
    await waitFor(() => received.length === 80, 10_000, 'eighty live messages');
    const epoch = received[0]?.epoch as string;
    expect(history.size).toBe(50);

    expect(seqs(await history.read(30, epoch))).toEqual(range(31, 80));
    expect(reads).toEqual([]);
    const http = await fetchChannelHistory(fetch, s.url, undefined, 'temps', 10, epoch);
    expect(seqs(await history.read(10, epoch))).toEqual(seqs(http?.messages ?? []));
    expect(seqs(http?.messages ?? [])).toEqual(range(11, 80));
    expect(reads).toEqual([10]);
    expect(history.size).toBe(50);
  });
});
