import { validateDashboardConfig } from '@livedash/dashboard-config';
import type { LivedashApp } from 'livedash';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, openBrowser } from './helpers/browser.js';
import { startServer } from './helpers/dashboard-server.js';

// Each panel subscribes at its `maxRate` (docs/dashboard.md, "Update rate"): read off the page's own
// WebSocket, in Chromium, against the real server.

const config = validateDashboardConfig({
  title: 'Rates',
  panels: [
    { id: 'dial', type: 'gauge', title: 'Dial', channel: 'dial', field: 'v', max: 100_000, maxRate: 2 },
    { id: 'count', type: 'stat', title: 'Count', channel: 'counts', field: 'v' },
    { id: 'trend', type: 'timeseries', title: 'Trend', channel: 'counts', field: 'v' },
    { id: 'feed', type: 'log', title: 'Feed', channel: 'events', field: 'text' },
  ],
});

interface Wire {
  /** The rate each channel was subscribed with (null: none), in the order of the subscribe commands. */
  rates: Map<string, (number | null)[]>;
  /** Data frames received per channel. */
  frames: Map<string, number>;
}

/** Records the subscribe commands the page sends and the data frames it receives, per channel. */
function watchWire(page: Page): Wire {
  const wire: Wire = { rates: new Map(), frames: new Map() };
  page.on('websocket', (socket) => {
    socket.on('framesent', ({ payload }) => {
      const command = JSON.parse(String(payload)) as {
        action?: string;
        channels?: string[];
        maxRate?: number;
      };
      if (command.action !== 'subscribe') return;
      for (const channel of command.channels ?? [])
        wire.rates.set(channel, [...(wire.rates.get(channel) ?? []), command.maxRate ?? null]);
    });
    socket.on('framereceived', ({ payload }) => {
      for (const line of String(payload).split('\n')) {
        const type = /^\{"type":"([^"$][^"]*)"/.exec(line)?.[1];
        if (type) wire.frames.set(type, (wire.frames.get(type) ?? 0) + 1);
      }
    });
  });
  return wire;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('dashboard panels and their maxRate', () => {
  let server: LivedashApp;
  let browser: Browser;

  beforeAll(async () => {
    if (!config.ok) throw new Error(config.error);
    server = await startServer({ dashboard: config.value, stateChannels: ['dial', 'counts'] });
    browser = await openBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('subscribes each panel at its rate: the configured one, the type default, or every message', async () => {
    const page = browser.page;
    const wire = watchWire(page);
    // In the page, so its WebSocket is the page's own (a worker's is not visible to the test).
    await page.goto(`${server.url}/?client=in-page`);
    await page.locator('[data-testid=connection-badge][data-status=open]').waitFor({ timeout: 15_000 });
    const panelChannels = ['dial', 'counts', 'events'];
    await expect
      .poll(() => panelChannels.filter((channel) => wire.rates.has(channel)).length, { timeout: 10_000 })
      .toBe(3);
    expect(Object.fromEntries(panelChannels.map((channel) => [channel, wire.rates.get(channel)]))).toEqual({
      dial: [2], // as configured
      counts: [10], // a stat and a chart: both default to 10 a second, one subscription
      events: [null], // a log: every message
    });

    // A state channel published at ~100/s reaches the page about twice a second, ending on the last value.
    const started = performance.now();
    let v = 0;
    while (performance.now() - started < 2000) {
      await server.hub.publish('dial', { v: ++v });
      await sleep(10);
    }
    await expect
      .poll(() => page.getByTestId('gauge-dial').getAttribute('aria-valuenow'), { timeout: 10_000 })
      .toBe(String(v));
    const seconds = (performance.now() - started) / 1000;
    expect(v).toBeGreaterThan(50);
    expect(wire.frames.get('dial') ?? 0).toBeLessThanOrEqual(Math.ceil(seconds * 2) + 3);

    // The feed takes every message, however close together.
    for (const text of ['one', 'two', 'three']) await server.hub.publish('events', { text });
    await expect
      .poll(() => page.getByTestId('log-feed').locator('li').allTextContents(), { timeout: 10_000 })
      .toEqual([
        expect.stringContaining('three'),
        expect.stringContaining('two'),
        expect.stringContaining('one'),
      ]);
    expect(wire.frames.get('events')).toBe(3);
    // Something on the stat and the chart too, for the screenshot.
    for (let n = 1; n <= 5; n++) await server.hub.publish('counts', { v: n * 10 });
    await expect
      .poll(() => page.getByTestId('stat-count').textContent(), { timeout: 10_000 })
      .toContain('50');
    await browser.screenshot('panel-rates');
  });
});
