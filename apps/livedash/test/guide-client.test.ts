import { afterEach, expect, test } from 'vitest';
import { type LivedashApp, startLivedash } from '../src/livedash.js';
import { DashboardWebSocket } from './fixtures/guide-client.js';

let server: LivedashApp | undefined;
let guideClient: DashboardWebSocket | undefined;

afterEach(async () => {
  // The guide's class has no disconnect(): stop its reconnect loop and close its socket by hand.
  if (guideClient) {
    const internals = guideClient as unknown as {
      maxReconnectAttempts: number;
      ws: { close(): void } | null;
    };
    internals.maxReconnectAttempts = 0;
    internals.ws?.close();
  }
  await server?.close();
  guideClient = undefined;
  server = undefined;
});

test("the guide's DashboardWebSocket, unchanged, receives live host metrics", async () => {
  server = await startLivedash({ port: 0, publishToken: 'secret', metricsIntervalMs: 200 });
  const client = new DashboardWebSocket();
  guideClient = client;
  const received: Array<{ cpu: number; memory: number }> = [];
  client.on('metrics', (data: { cpu: number; memory: number }) => received.push(data));
  client.connect(`${server.url.replace('http', 'ws')}/ws`);
  const deadline = Date.now() + 15_000;
  while (received.length < 2 && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 50));
  expect(received.length).toBeGreaterThanOrEqual(2);
  for (const metrics of received) {
    expect(metrics.cpu).toBeGreaterThanOrEqual(0);
    expect(metrics.cpu).toBeLessThanOrEqual(100);
    expect(metrics.memory).toBeGreaterThan(0);
    expect(metrics.memory).toBeLessThanOrEqual(100);
  }
});

test("the guide's DashboardWebSocket receives alerts published on its second channel", async () => {
  server = await startLivedash({ port: 0, publishToken: 'secret', metricsIntervalMs: 0 });
  const client = new DashboardWebSocket();
  guideClient = client;
  const alerts: unknown[] = [];
  client.on('alerts', (data: unknown) => alerts.push(data));
  client.connect(`${server.url.replace('http', 'ws')}/ws`);
  const hub = server.hub;
  // Publish until the subscription is in place (the guide's class gives no signal when it is).
  const deadline = Date.now() + 10_000;
  while (alerts.length === 0 && Date.now() < deadline) {
    await hub.publish('alerts', { rule: 'manual', state: 'firing' });
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(alerts[0]).toEqual({ rule: 'manual', state: 'firing' });
});
