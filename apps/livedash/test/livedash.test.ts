import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hub, MemoryBroker } from '@livedash/server';
import { afterEach, describe, expect, it, test } from 'vitest';
import WebSocket from 'ws';
import type { AlertRule, LivedashOptions } from '../src/app-options.js';
import { type LivedashApp, startLivedash } from '../src/livedash.js';
import type { AlertEvent } from '../src/sources/alerts.js';
import type { MetricsMessage } from '../src/sources/host-metrics.js';
import { startSources } from '../src/sources/index.js';

const TOKEN = 'sources-test-token';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(options: LivedashOptions): Promise<LivedashApp> {
  const server = await startLivedash({ port: 0, publishToken: TOKEN, ...options });
  cleanups.push(() => server.close());
  return server;
}

interface DataFrame<T = unknown> {
  type: string;
  data: T;
  seq: number;
}

/** A plain `ws` client subscribed to `channels`; resolves once every `$subscribed` arrived. */
async function subscribe(server: LivedashApp, channels: string[]) {
  const socket = new WebSocket(`${server.url.replace(/^http/, 'ws')}/ws`);
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        if (socket.readyState === WebSocket.CLOSED) return resolve();
        socket.once('close', () => resolve());
        socket.terminate();
      }),
  );
  const frames: DataFrame[] = [];
  socket.on('message', (raw) => frames.push(JSON.parse(String(raw)) as DataFrame));
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  socket.send(JSON.stringify({ action: 'subscribe', channels }));
  await waitFor(
    () => frames.filter((f) => f.type === '$subscribed').length === channels.length,
    '$subscribed',
  );
  return {
    data: <T>(channel: string) => frames.filter((f) => f.type === channel) as DataFrame<T>[],
  };
}

async function post(server: LivedashApp, channel: string, body: unknown): Promise<void> {
  const response = await fetch(`${server.url}/api/channels/${channel}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const roomTooHot: AlertRule = {
  name: 'room-too-hot',
  channel: 'sensors.room1',
  field: 'celsius',
  op: '>',
  threshold: 30,
  forMs: 300,
  hysteresis: 2,
  severity: 'critical',
};

describe('startLivedash: host metrics and alerts', () => {
  it('serves host metrics on metrics and metrics.<node> to a WebSocket client', async () => {
    const server = await serve({ metricsIntervalMs: 200, node: 'node-a', alerts: [] });
    const client = await subscribe(server, ['metrics', 'metrics.node-a']);
    await waitFor(() => client.data('metrics.node-a').length >= 3, 'three per-node messages');

    const shared = client.data<MetricsMessage>('metrics');
    const perNode = client.data<MetricsMessage>('metrics.node-a');
    expect(shared.length).toBeGreaterThanOrEqual(3);
    for (const frame of [...shared, ...perNode]) {
      expect(frame.data).toMatchObject({
        node: 'node-a',
        network: expect.any(Object),
        disk: expect.any(Array),
      });
      expect(frame.data.cpu).toBeGreaterThanOrEqual(0);
      expect(frame.data.cpu).toBeLessThanOrEqual(100);
      expect(frame.data.memory).toBeGreaterThan(0);
      expect(frame.data.memory).toBeLessThanOrEqual(100);
    }
    // Each channel numbers its own messages; both carry the same readings.
    expect(perNode.map((f) => f.seq)).toEqual(perNode.map((_, i) => perNode[0]!.seq + i));
    const byTs = new Map(shared.map((f) => [f.data.ts, f.data]));
    for (const frame of perNode)
      if (byTs.has(frame.data.ts)) expect(frame.data).toEqual(byTs.get(frame.data.ts));
  });

  it('fires and resolves an alert from values published over HTTP, seen by a WebSocket client', async () => {
    const server = await serve({ metricsIntervalMs: 0, node: 'node-b', alerts: [roomTooHot] });
    const client = await subscribe(server, ['alerts']);
    const alerts = () => client.data<AlertEvent>('alerts').map((frame) => frame.data);

    await post(server, 'sensors.room1', { celsius: 33 });
    await post(server, 'sensors.room1', { celsius: 35 });
    await waitFor(() => alerts().length === 1, 'the firing alert');
    const firing = alerts()[0]!;
    expect(firing).toMatchObject({
      rule: 'room-too-hot',
      state: 'firing',
      value: 35,
      threshold: 30,
      node: 'node-b',
    });
    expect(firing.ts - firing.since).toBeGreaterThanOrEqual(300);

    // Under the threshold, inside the hysteresis band: no resolve yet.
    await post(server, 'sensors.room1', { celsius: 29 });
    await post(server, 'sensors.room1', { celsius: 28.5 });
    const latest = (await (await fetch(`${server.url}/api/channels/alerts`)).json()) as {
      data: AlertEvent;
      seq: number;
    };
    expect(latest.data.state).toBe('firing');

    await post(server, 'sensors.room1', { celsius: 26 });
    await waitFor(() => alerts().length === 2, 'the resolved alert');
    expect(alerts()[1]).toMatchObject({ id: firing.id, state: 'resolved', value: 26, since: firing.since });
    const history = (await (await fetch(`${server.url}/api/channels/alerts/messages?since=0`)).json()) as {
      messages: Array<{ data: AlertEvent }>;
    };
    expect(history.messages.map((m) => m.data.state)).toEqual(['firing', 'resolved']);
  });

  it('evaluates alert rules on the host metrics it publishes', async () => {
    const alwaysOn: AlertRule = {
      ...roomTooHot,
      name: 'memory-used',
      channel: 'metrics',
      field: 'memory',
      threshold: 0,
      forMs: 0,
    };
    const server = await serve({ metricsIntervalMs: 200, alerts: [alwaysOn] });
    const client = await subscribe(server, ['alerts']);
    await waitFor(() => client.data('alerts').length >= 1, 'an alert from real metrics');
    const event = client.data<AlertEvent>('alerts')[0]!.data;
    expect(event).toMatchObject({
      rule: 'memory-used',
      state: 'firing',
      channel: 'metrics',
      field: 'memory',
      node: 'local',
    });
    expect(event.value).toBeGreaterThan(0);
  });

  it('publishes no metrics with metricsIntervalMs 0', async () => {
    const server = await serve({ metricsIntervalMs: 0 });
    await post(server, 'probe', { ok: true });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await fetch(`${server.url}/api/channels/metrics`)).status).toBe(404);
  });
});

describe('options no app can run with', () => {
  it('refuses a node name that cannot be part of a channel name', async () => {
    const broker = new MemoryBroker();
    cleanups.push(() => broker.close());
    const hub = new Hub(broker, { maxQueueBytes: 1 << 20, maxSubscriptions: 256 });
    for (const node of ['web 1', '', 'x'.repeat(121)]) {
      expect(() => startSources(hub, { node, metricsIntervalMs: 0, alerts: [] })).toThrow(/node name/);
    }
    expect(() => startSources(hub, { node: 'ok', metricsIntervalMs: -1, alerts: [] })).toThrow(
      /metricsIntervalMs/,
    );
    const sources = startSources(hub, { node: 'web-1.eu:2', metricsIntervalMs: 0, alerts: [] });
    await sources.stop();
  });

  it('startLivedash with an unusable node name or interval throws at the call and leaves no port listening', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createNetServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    expect(() => startLivedash({ port, node: 'web 1', metricsIntervalMs: 0 })).toThrow(/node name/);
    expect(() => startLivedash({ port, metricsIntervalMs: 5 })).toThrow(
      'invalid livedash options: metricsIntervalMs: expected 0 (off) or an integer from 100 to 3600000, got 5',
    );
    // The port is free again: a second server can take it.
    const server = await startLivedash({ port, metricsIntervalMs: 0 });
    await server.close();
  });
});

describe('startLivedash: the page at / and /api/dashboard', () => {
  test('without a dashboard build, / is the built-in live page; /api/dashboard serves the dashboard config', async () => {
    const s = await serve({ metricsIntervalMs: 0, dashboard: { title: 'mine', panels: [] } });
    const page = await fetch(`${s.url}/`);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toContain('/ws');
    expect(html).toContain("channels: ['metrics']");
    expect(await (await fetch(`${s.url}/api/dashboard`)).json()).toEqual({ title: 'mine', panels: [] });
  });

  test('a static dir is served at / with an SPA fallback for non-API paths only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'livedash-static-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>app</title>');
    writeFileSync(join(dir, 'app.js'), 'console.log(1)');
    const s = await serve({ metricsIntervalMs: 0, staticDir: dir });
    expect(await (await fetch(`${s.url}/`)).text()).toContain('<title>app</title>');
    expect(await (await fetch(`${s.url}/app.js`)).text()).toBe('console.log(1)');
    expect(await (await fetch(`${s.url}/some/client/route`)).text()).toContain('<title>app</title>');
    const api = await fetch(`${s.url}/api/unknown`);
    expect(api.status).toBe(404);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  test('without a dashboard option, /api/dashboard serves the built-in host dashboard', async () => {
    const s = await serve({ metricsIntervalMs: 0 });
    const served = (await (await fetch(`${s.url}/api/dashboard`)).json()) as {
      panels: Array<{ id: string }>;
    };
    expect(served.panels.map((panel) => panel.id)).toContain('cpu');
  });

  test('close stops host metrics before the server; a second close returns the same promise', async () => {
    const s = await startLivedash({ port: 0, publishToken: TOKEN, metricsIntervalMs: 100 });
    let published = 0;
    s.hub.watch('metrics', () => published++);
    await waitFor(() => published >= 2, 'two metrics messages');
    const closing = s.close();
    expect(s.close()).toBe(closing);
    await closing;
    const atClose = published;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(published).toBe(atClose);
  });
});
