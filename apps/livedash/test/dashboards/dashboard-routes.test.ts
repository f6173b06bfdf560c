import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DASHBOARDS_CHANNEL,
  type DashboardDocument,
  type DashboardIndex,
  defaultDashboard,
  validateDashboardConfig,
} from '@livedash/dashboard-config';
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import type { LivedashOptions } from '../../src/app-options.js';
import { type LivedashApp, startLivedash } from '../../src/livedash.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'livedash-dashboard-routes-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const dashboard = (title: string, panelTitle = `${title} panel`) =>
  JSON.stringify({ title, panels: [{ type: 'stat', title: panelTitle, channel: 'sensors', field: 't' }] });

async function serve(options: LivedashOptions): Promise<LivedashApp> {
  const server = await startLivedash({
    port: 0,
    publishToken: 'routes-test',
    metricsIntervalMs: 0,
    ...options,
  });
  cleanups.push(() => server.close());
  return server;
}

async function getJson<T>(server: LivedashApp, path: string): Promise<{ status: number; body: T }> {
  const response = await fetch(`${server.url}${path}`);
  return { status: response.status, body: (await response.json()) as T };
}

/** A plain WebSocket subscriber of the dashboards channel, collecting what it announces. */
async function watchAnnouncements(server: LivedashApp): Promise<unknown[]> {
  const socket = new WebSocket(`${server.url.replace(/^http/, 'ws')}/ws`);
  cleanups.push(() => {
    socket.terminate();
  });
  const announced: unknown[] = [];
  let subscribed = false;
  socket.on('message', (raw) => {
    const frame = JSON.parse(String(raw)) as { type: string; data?: unknown };
    if (frame.type === '$subscribed') subscribed = true;
    if (frame.type === DASHBOARDS_CHANNEL) announced.push(frame.data);
  });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  socket.send(JSON.stringify({ action: 'subscribe', channels: [DASHBOARDS_CHANNEL] }));
  await vi.waitFor(() => expect(subscribed).toBe(true));
  return announced;
}

describe('GET /api/dashboards', () => {
  it('lists the folder dashboards and the host dashboard, and / lists them', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'checkout.json'), dashboard('Checkout'));
    writeFileSync(join(dir, 'broken.json'), '{');
    writeFileSync(join(dir, 'bad name.json'), dashboard('x'));
    const server = await serve({ dashboards: dir });
    const { status, body } = await getJson<DashboardIndex>(server, '/api/dashboards');
    expect(status).toBe(200);
    expect(body.default).toBe('host');
    expect(body.home).toBe('index');
    expect(body.dashboards.map((entry) => [entry.name, entry.title, entry.path, entry.builtin])).toEqual([
      ['broken', 'broken.json', '/d/broken', false],
      ['checkout', 'Checkout', '/d/checkout', false],
      ['host', defaultDashboard.title, '/d/host', true],
    ]);
    expect(body.dashboards[0]?.error?.problems[0]?.reason).toMatch(/^not valid JSON/);
    expect(body.skipped).toEqual([
      { file: 'bad name.json', reason: expect.stringMatching(/not a dashboard name/) },
    ]);
  });

  it('without a folder lists the --dashboard config as "default" and keeps / on it', async () => {
    const config = validateDashboardConfig(JSON.parse(dashboard('Configured')));
    if (!config.ok) throw new Error(config.error);
    const server = await serve({ dashboard: config.value });
    const { body } = await getJson<DashboardIndex>(server, '/api/dashboards');
    expect(body.default).toBe('default');
    expect(body.home).toBe('dashboard');
    expect(body.dashboards.map((entry) => entry.name)).toEqual(['default', 'host']);
    expect((await getJson<{ title: string }>(server, '/api/dashboard')).body.title).toBe('Configured');
    expect((await getJson<DashboardDocument>(server, '/api/dashboards/default')).body.config?.title).toBe(
      'Configured',
    );
    expect((await getJson<DashboardDocument>(server, '/api/dashboards/host')).body.config).toEqual(
      defaultDashboard,
    );
  });
});

describe('GET /api/dashboards/<name>', () => {
  it('answers one dashboard with its config, and 404 for names it does not serve, whatever they look like', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'checkout.json'), dashboard('Checkout'));
    writeFileSync(join(tmpdir(), 'outside.json'), dashboard('Outside'));
    cleanups.push(() => rmSync(join(tmpdir(), 'outside.json'), { force: true }));
    const server = await serve({ dashboards: dir });
    const checkout = await getJson<DashboardDocument>(server, '/api/dashboards/checkout');
    expect(checkout.status).toBe(200);
    expect(checkout.body).toMatchObject({
      name: 'checkout',
      file: 'checkout.json',
      title: 'Checkout',
      builtin: false,
    });
    expect(checkout.body.config?.panels[0]?.title).toBe('Checkout panel');
    for (const path of [
      '/api/dashboards/missing',
      '/api/dashboards/checkout.json',
      '/api/dashboards/..%2Foutside',
      '/api/dashboards/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd',
      '/api/dashboards/__proto__',
      '/api/dashboards/default',
    ]) {
      const answer = await getJson<{ error: { code: string; message: string } }>(server, path);
      expect([path, answer.status, answer.body.error.code]).toEqual([path, 404, 'not_found']);
      expect(answer.body.error.message).toMatch(/^no dashboard named /);
    }
  });

  it('keeps the last valid config beside the error of an invalid edit', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ops.json'), dashboard('Ops'));
    const server = await serve({ dashboards: dir });
    writeFileSync(
      join(dir, 'ops.json'),
      JSON.stringify({ title: 'Ops', panels: [{ type: 'gauge', channel: 'bad name' }] }),
    );
    await vi.waitFor(
      async () =>
        expect((await getJson<DashboardDocument>(server, '/api/dashboards/ops')).body.error).toBeDefined(),
      { timeout: 3000 },
    );
    const { body } = await getJson<DashboardDocument>(server, '/api/dashboards/ops');
    expect(body.config?.panels[0]?.title).toBe('Ops panel');
    expect(body.error?.file).toBe('ops.json');
    expect(body.error?.problems.map((problem) => problem.key)).toEqual([
      'panels[0].channel',
      'panels[0].field',
    ]);
  });
});

describe('live reload over the dashboards channel', () => {
  it('announces an edit, an added and a removed file on livedash.dashboards within a second', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.json'), dashboard('A'));
    const server = await serve({ dashboards: dir });
    const announced = await watchAnnouncements(server);
    const first = (await getJson<DashboardIndex>(server, '/api/dashboards')).body.revision;
    const started = Date.now();
    writeFileSync(join(dir, 'a.json'), dashboard('A', 'Renamed panel'));
    await vi.waitFor(() => expect(announced).toContainEqual({ revision: first + 1, changed: ['a'] }), {
      timeout: 1000,
    });
    const latency = Date.now() - started;
    expect(
      (await getJson<DashboardDocument>(server, '/api/dashboards/a')).body.config?.panels[0]?.title,
    ).toBe('Renamed panel');
    writeFileSync(join(dir, 'b.json'), dashboard('B'));
    await vi.waitFor(() => expect(announced).toContainEqual({ revision: first + 2, changed: ['b'] }), {
      timeout: 1000,
    });
    rmSync(join(dir, 'a.json'));
    await vi.waitFor(() => expect(announced).toContainEqual({ revision: first + 3, changed: ['a'] }), {
      timeout: 1000,
    });
    const index = (await getJson<DashboardIndex>(server, '/api/dashboards')).body;
    expect(index.revision).toBe(first + 3);
    expect(index.dashboards.map((entry) => entry.name)).toEqual(['b', 'host']);
    expect(latency).toBeLessThan(1000);
  });

  it('refuses to start on a dashboards path that is not a folder, leaving no port open', async () => {
    const dir = tempDir();
    await expect(
      startLivedash({ port: 0, metricsIntervalMs: 0, dashboards: join(dir, 'missing') }),
    ).rejects.toThrow(/dashboards folder .*missing is not a directory/);
  });
});
