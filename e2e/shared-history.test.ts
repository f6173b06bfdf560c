import type { IncomingMessage } from 'node:http';
import { validateDashboardConfig } from '@livedash/dashboard-config';
import type { LivedashApp } from 'livedash';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, type Browser, openBrowser } from './helpers/browser.js';
import { publish, startServer } from './helpers/dashboard-server.js';

// Two tabs of one dashboard in SharedWorker mode: the history their charts start with is read from the
// server once, by the worker, and the second tab draws the same points without asking the server.

const config = validateDashboardConfig({
  title: 'Shared history',
  panels: [
    { id: 'readings', type: 'log', title: 'Readings', channel: 'sensors', field: 'temp', limit: 100 },
    { id: 'trend', type: 'timeseries', title: 'Trend', channel: 'sensors', field: 'temp' },
  ],
});

const lines = (page: Page) => page.getByTestId('log-readings').locator('li .line').allTextContents();
const points = (page: Page) =>
  page.locator('[data-panel="timeseries"] .chart').first().getAttribute('data-points');

async function openDashboard(page: Page, url: string, mode: string): Promise<void> {
  await page.goto(`${url}/?client=${mode}`);
  await page.locator('[data-testid=connection-badge][data-status=open]').waitFor({ timeout: 15_000 });
}

describe('one history per channel for every tab (SharedWorker)', () => {
  let server: LivedashApp;
  let browser: Browser;
  /** Every `GET /api/channels/sensors/messages` the server has answered. */
  const historyRequests: string[] = [];
  const count = (request: IncomingMessage) => {
    if (request.url?.startsWith('/api/channels/sensors/messages')) historyRequests.push(request.url);
  };

  beforeAll(async () => {
    if (!config.ok) throw new Error(config.error);
    server = await startServer({ dashboard: config.value });
    server.app.server.on('request', count);
    browser = await openBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    server?.app.server.off('request', count);
    await server?.close();
  });

  it('the second tab makes no history request and shows the same points; a tab closing keeps the history', async () => {
    for (let i = 0; i < 40; i++) await publish(server.url, 'sensors', { temp: 20 + i / 10 });

    const first = await browser.context.newPage();
    const second = await browser.context.newPage();
    const third = await browser.context.newPage();
    try {
      await openDashboard(first, server.url, 'shared-worker');
      await expect(first.getByTestId('connection-badge').getAttribute('data-mode')).resolves.toBe(
        'shared-worker',
      );
      await expect.poll(() => lines(first), { timeout: 15_000 }).toHaveLength(40);
      await expect.poll(() => points(first), { timeout: 10_000 }).toBe('40');
      const shown = await lines(first);
      expect(new Set(shown).size).toBe(40); // forty different readings, newest first
      // The first tab's backfill: read by the worker over HTTP, once for both panels.
      expect(historyRequests).toHaveLength(1);

      await openDashboard(second, server.url, 'shared-worker');
      await expect.poll(() => lines(second), { timeout: 15_000 }).toEqual(shown);
      await expect.poll(() => points(second), { timeout: 10_000 }).toBe('40');
      expect(historyRequests).toHaveLength(1);
      await second.screenshot({ path: `${ARTIFACTS}shared-history-second-tab.png`, fullPage: true });

      // The first tab goes; the channel's history stays in the worker for the tab still showing it.
      await first.close();
      await publish(server.url, 'sensors', { temp: 30 });
      await expect.poll(() => lines(second), { timeout: 10_000 }).toHaveLength(41);
      const after = await lines(second);
      expect(after.slice(1)).toEqual(shown);
      await openDashboard(third, server.url, 'shared-worker');
      await expect.poll(() => lines(third), { timeout: 15_000 }).toEqual(after);
      // The same points as the tab that stayed (41 readings, and a break in the line if the pause was long).
      await expect.poll(() => points(second), { timeout: 10_000 }).not.toBe('40');
      const drawn = await points(second);
      await expect.poll(() => points(third), { timeout: 10_000 }).toBe(drawn);
      expect(historyRequests).toHaveLength(1);
    } finally {
      for (const page of [first, second, third]) if (!page.isClosed()) await page.close();
    }
  });

  it('a tab with its connection in the page reads history over HTTP itself', async () => {
    const before = historyRequests.length;
    const page = await browser.context.newPage();
    try {
      await openDashboard(page, server.url, 'in-page');
      await expect.poll(() => lines(page), { timeout: 15_000 }).not.toEqual([]);
      expect(historyRequests.length).toBeGreaterThan(before);
    } finally {
      await page.close();
    }
  });
});
