import { describe, expect, test } from 'vitest';
import type { ConnectionSnapshot } from '../src/index.js';
import { collect, nodeClient, useLiveServer } from './helpers/live.js';
import { until } from './helpers/wait.js';

const live = useLiveServer();
const client = live.client;

describe('LiveClient over WebSocket', () => {
  test('subscribing before the connection opens just works; messages arrive in order with meta', async () => {
    const c = client();
    expect(c.state.status).toBe('connecting');
    const ticks = collect<{ n: number }>(c, 'ticks');
    await until(() => live.server.hub.subscriptionCount === 1, 'server subscription', 10_000);
    for (let n = 1; n <= 20; n++) await live.server.hub.publish('ticks', { n });
    await until(() => ticks.received.length === 20, '20 messages', 10_000);
    expect(ticks.received.map((m) => m.data.n)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(ticks.received.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(ticks.received.every((m) => m.replayed === false && m.epoch.length > 0)).toBe(true);
    expect(c.state).toMatchObject({ status: 'open', transport: 'ws' });
  });

  test('many listeners on one channel are one server subscription; the last unsubscribe ends it', async () => {
    const c = client();
    const a = collect<number>(c, 'shared');
    const b = collect<number>(c, 'shared');
    await until(() => live.server.hub.subscriptionCount === 1 && c.state.status === 'open');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(live.server.hub.subscriptionCount).toBe(1);
    await live.server.hub.publish('shared', 1);
    await until(() => a.received.length === 1 && b.received.length === 1);
    a.off();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(live.server.hub.subscriptionCount).toBe(1);
    await live.server.hub.publish('shared', 2);
    await until(() => b.received.length === 2);
    expect(a.received).toHaveLength(1);
    b.off();
    await until(() => live.server.hub.subscriptionCount === 0, 'server unsubscribe', 10_000);
  });

  test('a channel subscribed after connect, and a late listener, get the latest value marked replayed', async () => {
    await live.server.hub.publish('late', { v: 'before' });
    const c = client();
    await until(() => c.state.status === 'open');
    const first = collect<{ v: string }>(c, 'late');
    await until(() => first.received.length === 1);
    expect(first.received[0]).toMatchObject({ data: { v: 'before' }, seq: 1, replayed: true });
    const second = collect<{ v: string }>(c, 'late');
    await until(() => second.received.length === 1);
    expect(second.received[0]).toMatchObject({ data: { v: 'before' }, replayed: true });
    await live.server.hub.publish('late', { v: 'after' });
    await until(() => first.received.length === 2 && second.received.length === 2);
    expect(first.received[1]).toMatchObject({ data: { v: 'after' }, seq: 2, replayed: false });
  });

  test('a listener that unsubscribes another or subscribes a new one mid-delivery: that message goes to the listeners as they were', async () => {
    const c = client();
    const log: string[] = [];
    let offB = () => {};
    c.subscribe<number>('mid', (n) => {
      log.push(`a${n}`);
      if (n !== 1) return;
      offB();
      c.subscribe<number>('mid', (m, meta) => log.push(`c${m}${meta.replayed ? ' replayed' : ''}`));
    });
    offB = c.subscribe<number>('mid', (n) => log.push(`b${n}`));
    await until(() => live.server.hub.subscriptionCount === 1 && c.state.status === 'open');
    await live.server.hub.publish('mid', 1);
    await until(() => log.length === 3, 'first message', 10_000);
    await live.server.hub.publish('mid', 2);
    await until(() => log.length === 5, 'second message', 10_000);
    // b still gets the message during which it was removed; c gets it as its catch-up, not twice.
    expect(log).toEqual(['a1', 'b1', 'c1 replayed', 'a2', 'c2']);
  });

  test('typed channel maps type the data', async () => {
    const c = client<{ metrics: { cpu: number } }>();
    let cpu = -1;
    c.subscribe('metrics', (m) => {
      cpu = m.cpu; // typed: m is { cpu: number }
    });
    await until(() => live.server.hub.subscriptionCount === 1);
    await live.server.hub.publish('metrics', { cpu: 42 });
    await until(() => cpu === 42);
  });

  test('bad channel names and listeners are rejected at once', () => {
    const c = client({ autoConnect: false });
    expect(() => c.subscribe('$nope', () => {})).toThrow(TypeError);
    expect(() => c.subscribe('a b', () => {})).toThrow(/invalid channel/);
    expect(() => c.channel('')).toThrow(TypeError);
    expect(() => nodeClient({ url: 'localhost:8080' })).toThrow(/absolute http/);
    expect(() => nodeClient({ url: live.server.url, transports: [] })).toThrow(/transports/);
    expect(() => nodeClient({ url: live.server.url, backoff: { initialDelayMs: -1 } })).toThrow(/positive/);
    expect(() => nodeClient({ url: live.server.url, notifyInterval: -1 })).toThrow(/notifyInterval/);
  });

  test('in plain Node 20 (no WebSocket, no EventSource) new LiveClient({ url }) polls over fetch', async () => {
    const { LiveClient } = await import('../src/index.js');
    const plain = new LiveClient({ url: live.server.url, pollIntervalMs: 100 });
    live.adopt(plain);
    const ticks = collect<{ n: number }>(plain, 'plain');
    await until(() => ticks.subscribed() >= 1, 'polling', 10_000);
    expect(plain.state).toMatchObject({ status: 'open', transport: 'poll' });
    await live.server.hub.publish('plain', { n: 1 });
    await until(() => ticks.received.length === 1, 'message', 10_000);
  });

  test('with no implementation for any transport the constructor says so', async () => {
    const { LiveClient } = await import('../src/index.js');
    expect(() => new LiveClient({ url: live.server.url, transports: ['ws', 'sse'] })).toThrow(
      /no implementation/,
    );
  });

  test('autoConnect:false stays idle until the first subscription', async () => {
    const c = client({ autoConnect: false });
    expect(c.state.status).toBe('idle');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(c.state.status).toBe('idle');
    collect(c, 'x');
    await until(() => c.state.status === 'open');
  });

  test('ping measures a round trip and records it in the state', async () => {
    const c = client();
    await until(() => c.state.status === 'open');
    const rtt = await c.ping();
    expect(rtt).toBeGreaterThanOrEqual(0);
    expect(rtt).toBeLessThan(5000);
    expect(c.state.rtt).toBe(rtt);
  });

  test('ping while not connected rejects with a LivedashError', async () => {
    const c = client({ autoConnect: false });
    await expect(c.ping()).rejects.toMatchObject({ name: 'LivedashError', code: 'transport_failed' });
  });

  test('close() is final: state closed, no reconnect, server connection gone', async () => {
    const c = client();
    const states: ConnectionSnapshot['status'][] = [];
    c.onState((s) => states.push(s.status));
    collect(c, 'x');
    await until(() => live.server.hub.subscriptionCount === 1);
    c.close();
    expect(c.state.status).toBe('closed');
    await until(() => live.server.hub.subscriptionCount === 0);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(states.at(-1)).toBe('closed');
    expect(states.filter((s) => s === 'connecting')).toHaveLength(0);
    expect(() => c.subscribe('x', () => {})).toThrow(/closed/);
    // Stores of a closed client can still be subscribed to (a component mounting late): stale, no throw.
    const store = c.channel('x');
    const off = store.subscribe(() => {});
    await until(() => store.getSnapshot().status === 'stale');
    off();
    c.history('x').subscribe(() => {})();
  });
});
