import type { LivedashServer } from '@livedash/server';
import { afterEach, beforeEach, expect, test } from 'vitest';
import WebSocket from 'ws';
import { DashboardWebSocket } from '../src/index.js';
import { startServer } from './helpers/live.js';
import { until } from './helpers/wait.js';

let server: LivedashServer;
let dashboard: DashboardWebSocket;

beforeEach(async () => {
  server = await startServer();
  dashboard = new DashboardWebSocket({ WebSocket });
});

afterEach(async () => {
  dashboard.disconnect();
  await server.close();
});

const wsUrl = () => `${server.url.replace('http', 'ws')}/ws`;

test("the guide's usage: connect(ws url) subscribes metrics and alerts; on(channel) gets data", async () => {
  const metrics: { cpu: number; memory: number }[] = [];
  const alerts: unknown[] = [];
  dashboard.on('metrics', (m: { cpu: number; memory: number }) => metrics.push(m));
  dashboard.on('alerts', (a: unknown) => alerts.push(a));
  dashboard.connect(wsUrl());
  await until(() => server.hub.subscriptionCount === 2, 'metrics and alerts subscribed', 10_000);
  await server.hub.publish('metrics', { cpu: 12, memory: 34 });
  await server.hub.publish('alerts', { name: 'cpu-high', state: 'firing' });
  await until(() => metrics.length === 1 && alerts.length === 1, 'data', 10_000);
  expect(metrics[0]).toEqual({ cpu: 12, memory: 34 });
  expect(dashboard.state).toBe('open');
});

test("subscribe before connect and after it both work (the guide's class forgot the later ones on reconnect)", async () => {
  const seen: string[] = [];
  dashboard.on('early', (d: string) => seen.push(d));
  dashboard.on('later', (d: string) => seen.push(d));
  dashboard.subscribe(['early']);
  dashboard.connect(wsUrl());
  await until(() => dashboard.state === 'open');
  dashboard.subscribe(['later']);
  await until(() => server.hub.subscriptionCount === 4, 'four channels', 10_000);
  await server.hub.publish('early', 'e');
  await server.hub.publish('later', 'l');
  await until(() => seen.length === 2);
  expect(seen.sort()).toEqual(['e', 'l']);
});

test('disconnect() closes for good and ends the server subscriptions', async () => {
  dashboard.connect(wsUrl());
  await until(() => server.hub.subscriptionCount === 2);
  const client = dashboard.client;
  dashboard.disconnect();
  expect(client?.state.status).toBe('closed');
  await until(() => server.hub.subscriptionCount === 0, 'unsubscribed', 10_000);
  expect(dashboard.state).toBe('idle');
});
