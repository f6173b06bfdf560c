import type { LivedashServer } from '@livedash/server';
import { afterEach, describe, expect, test } from 'vitest';
import { PrivateRedis } from '../../server/test/redis-helpers.js';
import { collect, nodeClient, startServer } from './helpers/live.js';
import { until } from './helpers/wait.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

test('server restarted with its in-process history lost: the subscriber is told to reset, then gets the latest and live data', async () => {
  let server: LivedashServer = await startServer();
  const port = server.port;
  cleanup.push(() => server.close());
  const client = nodeClient({
    url: server.url,
    backoff: { initialDelayMs: 200, maxDelayMs: 1000 },
    connectTimeoutMs: 3000,
  });
  cleanup.push(() => client.close());
  const events: string[] = [];
  const received: { n: number; epoch: string; reset: boolean }[] = [];
  client.subscribe<{ n: number }>(
    'counter',
    (data, meta) => {
      events.push(`data ${data.n}${meta.reset ? ' reset' : ''}`);
      received.push({ n: data.n, epoch: meta.epoch, reset: meta.reset === true });
    },
    { onReset: () => events.push('reset') },
  );
  await until(() => server.hub.subscriptionCount === 1, 'subscribed', 10_000);
  for (let n = 1; n <= 5; n++) await server.hub.publish('counter', { n });
  await until(() => received.length === 5, 'first five', 10_000);
  const firstEpoch = received[0]?.epoch;

  await server.close();
  server = await startServer({ port });
  await server.hub.publish('counter', { n: 100 }); // the latest value of the new history
  await until(() => received.length === 6, 'latest after restart', 15_000);
  await server.hub.publish('counter', { n: 101 });
  await until(() => received.length === 7, 'live after restart', 10_000);

  expect(events).toEqual([
    'data 1',
    'data 2',
    'data 3',
    'data 4',
    'data 5',
    'reset',
    'data 100 reset',
    'data 101',
  ]);
  expect(received[5]?.epoch).not.toBe(firstEpoch);
  expect(received[6]?.reset).toBe(false);
});

test('the channel store counts resets and is live again after a restart', async () => {
  let server: LivedashServer = await startServer();
  const port = server.port;
  cleanup.push(() => server.close());
  const client = nodeClient({
    url: server.url,
    backoff: { initialDelayMs: 200, maxDelayMs: 1000 },
    connectTimeoutMs: 3000,
  });
  cleanup.push(() => client.close());
  const store = client.channel<{ n: number }>('counter');
  const off = store.subscribe(() => {});
  cleanup.push(off);
  await until(() => server.hub.subscriptionCount === 1, 'subscribed', 10_000);
  await server.hub.publish('counter', { n: 1 });
  await until(() => store.getSnapshot().data?.n === 1, 'first value', 10_000);
  await server.close();
  await until(() => store.getSnapshot().status === 'recovering', 'recovering while down', 10_000);
  expect(store.getSnapshot()).toMatchObject({ stale: true, data: { n: 1 } });
  server = await startServer({ port });
  // Back on any transport (a retry racing the shutdown may land on polling, which has no server subscription).
  await until(
    () => client.state.status === 'open',
    () => `reconnected (state ${JSON.stringify(client.state)})`,
    15_000,
  );
  await server.hub.publish('counter', { n: 2 });
  await until(() => store.getSnapshot().data?.n === 2, 'value after restart', 10_000);
  expect(store.getSnapshot()).toMatchObject({ status: 'live', stale: false, resetCount: 1, seq: 1 });
});

test('a subscription the server refuses reports an error on the channel', async () => {
  const server = await startServer({ maxSubscriptions: 1 });
  cleanup.push(() => server.close());
  const client = nodeClient({ url: server.url });
  cleanup.push(() => client.close());
  const first = collect(client, 'one');
  await until(() => first.subscribed() === 1, 'first subscribed', 10_000);
  const errors: string[] = [];
  client.subscribe('two', () => {}, { onError: (error) => errors.push(error.code) });
  const store = client.channel('two');
  const off = store.subscribe(() => {});
  cleanup.push(off);
  await until(() => errors.length === 1, 'refused', 10_000);
  expect(errors).toEqual(['too_many_subscriptions']);
  await until(() => store.getSnapshot().status === 'error', 'store error', 10_000);
  expect(store.getSnapshot().error?.code).toBe('too_many_subscriptions');
});

/**
 * A scripted WebSocket server (real sockets) for wire-level misbehaviour the livedash server never shows:
 * `onCommand` answers each client command with raw frames.
 */
async function scriptedServer(
  onCommand: (command: Record<string, unknown>, send: (frame: object) => void) => void,
) {
  const { WebSocketServer } = await import('ws');
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => wss.once('listening', resolve));
  const commands: Record<string, unknown>[] = [];
  wss.on('connection', (socket) => {
    const send = (frame: object) => socket.send(JSON.stringify(frame));
    send({ type: '$welcome', version: 1, heartbeat: 15000, node: 'scripted' });
    socket.on('message', (raw) => {
      const command = JSON.parse(String(raw)) as Record<string, unknown>;
      commands.push(command);
      onCommand(command, send);
    });
  });
  cleanup.push(() => new Promise((resolve) => wss.close(resolve)));
  return { url: `http://127.0.0.1:${(wss.address() as { port: number }).port}`, commands };
}

const envelope = (seq: number) => ({ type: 'wire', seq, epoch: 'E1', ts: seq, data: { seq } });

test('duplicates are dropped and a skipped seq is not delivered: the channel is resubscribed from its position', async () => {
  const server = await scriptedServer((command, send) => {
    if (command.action !== 'subscribe') return;
    const since = (command.since as Record<string, { seq: number }> | undefined)?.wire;
    if (!since) {
      send({ type: '$subscribed', channel: 'wire', epoch: 'E1', seq: 0, recovered: false });
      for (const seq of [1, 1, 2, 4]) send(envelope(seq)); // a duplicate, then a gap (3 missing)
    } else {
      send({ type: '$subscribed', channel: 'wire', epoch: 'E1', seq: 4, recovered: true });
      for (let seq = since.seq + 1; seq <= 5; seq++) send(envelope(seq));
    }
  });
  const client = nodeClient({ url: server.url, transports: ['ws'] });
  cleanup.push(() => client.close());
  const wire = collect<{ seq: number }>(client, 'wire');
  await until(
    () => wire.received.length === 5,
    () => `5 messages, got ${JSON.stringify(wire.received)}`,
    10_000,
  );
  expect(wire.received.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
  expect(server.commands.filter((c) => c.action === 'subscribe').at(-1)).toEqual({
    action: 'subscribe',
    channels: ['wire'],
    since: { wire: { epoch: 'E1', seq: 2 } },
  });
  expect(wire.resets).toHaveLength(0);
});

test('malformed frames from the server are skipped without breaking the connection', async () => {
  const server = await scriptedServer((command, send) => {
    if (command.action !== 'subscribe') return;
    send({ type: '$subscribed', channel: 'wire', epoch: 'E1', seq: 0, recovered: false });
    send({ type: 'wire', data: 'no seq' });
    send({ type: '$mystery' });
    send(envelope(1));
  });
  const client = nodeClient({ url: server.url, transports: ['ws'] });
  cleanup.push(() => client.close());
  const wire = collect<{ seq: number }>(client, 'wire');
  await until(() => wire.received.length === 1, 'the good frame', 10_000);
  expect(client.state.status).toBe('open');
});

test('a burst of gapped messages sends one resubscribe for the channel, not one per message', async () => {
  const server = await scriptedServer((command, send) => {
    if (command.action !== 'subscribe') return;
    const since = (command.since as Record<string, { seq: number }> | undefined)?.wire;
    if (!since) {
      send({ type: '$subscribed', channel: 'wire', epoch: 'E1', seq: 0, recovered: false });
      send(envelope(1));
      // seq 2 is missing, and 40 more messages follow it before the client's resubscribe can be answered.
      for (let seq = 3; seq <= 42; seq++) send(envelope(seq));
    } else {
      // Answered a little later, as a server reading history would: gapped messages keep coming meanwhile.
      setTimeout(() => {
        send({ type: '$subscribed', channel: 'wire', epoch: 'E1', seq: 42, recovered: true });
        for (let seq = since.seq + 1; seq <= 42; seq++) send(envelope(seq));
      }, 100);
    }
  });
  const client = nodeClient({ url: server.url, transports: ['ws'] });
  cleanup.push(() => client.close());
  const wire = collect<{ seq: number }>(client, 'wire');
  await until(
    () => wire.received.length === 42,
    () => `42 messages, got ${wire.received.length}`,
    10_000,
  );
  // Give any further resubscribes time to show up on the wire.
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(wire.received.map((m) => m.seq)).toEqual(Array.from({ length: 42 }, (_, i) => i + 1));
  const subscribes = server.commands.filter((c) => c.action === 'subscribe');
  expect(subscribes).toEqual([
    { action: 'subscribe', channels: ['wire'] },
    { action: 'subscribe', channels: ['wire'], since: { wire: { epoch: 'E1', seq: 1 } } },
  ]);
});

describe('a channel the server cannot serve for now ($error unavailable)', () => {
  for (const transport of ['ws', 'sse', 'poll'] as const) {
    test(`${transport}: subscribes again with the reconnect backoff, says when in onError, and gets the channel once Redis is back`, async () => {
      const redis = await PrivateRedis.start();
      cleanup.push(() => redis.stop());
      const server = await startServer({ brokerUrl: redis.url });
      cleanup.push(() => server.close());
      await redis.stop();
      await until(
        async () => (await fetch(`${server.url}/healthz`)).status === 503,
        'the server to see Redis gone',
      );
      const client = nodeClient({
        url: server.url,
        transports: [transport],
        pollIntervalMs: 100,
        backoff: { initialDelayMs: 300, maxDelayMs: 1200 },
        random: () => 0.5,
      });
      cleanup.push(() => client.close());
      const statuses: string[] = [];
      client.onState((state) => statuses.push(state.status));
      const refusals: Array<{ code: string; wait: number | undefined }> = [];
      const received: unknown[] = [];
      client.subscribe('orders', (data) => received.push(data), {
        onError: (error, retryAt) =>
          refusals.push({ code: error.code, wait: retryAt === undefined ? undefined : retryAt - Date.now() }),
      });
      await until(
        () => refusals.length >= 3,
        () => `three refusals, got ${JSON.stringify(refusals)}`,
      );
      expect(refusals.every((r) => r.code === 'unavailable')).toBe(true);
      // The reconnect backoff, equal jitter at random() = 0.5: 225, 450, 900 ms (then 900 at the cap).
      const waits = refusals.slice(0, 3).map((r) => r.wait as number);
      for (const [index, expected] of [225, 450, 900].entries()) {
        expect(waits[index]).toBeGreaterThan(expected - 50);
        expect(waits[index]).toBeLessThanOrEqual(expected);
      }
      // The connection never dropped: only the channel was retried.
      expect(statuses.slice(statuses.indexOf('open'))).toEqual(
        statuses.map(() => 'open').slice(statuses.indexOf('open')),
      );
      expect(statuses).toContain('open');
      await redis.start();
      await until(async () => (await fetch(`${server.url}/healthz`)).status === 200, 'Redis back');
      await until(async () => {
        await fetch(`${server.url}/api/channels/orders`, {
          method: 'POST',
          headers: { authorization: 'Bearer secret', 'content-type': 'application/json' },
          body: JSON.stringify({ n: received.length }),
        });
        return received.length > 0;
      }, 'a message on the channel once Redis is back');
      expect(client.state.status).toBe('open');
    }, 30_000);
  }
});
