import { validateDashboardConfig } from '@livedash/dashboard-config';
import type { LivedashApp } from 'livedash';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, openBrowser } from './helpers/browser.js';
import { publish, startServer, TOKEN } from './helpers/dashboard-server.js';

const config = validateDashboardConfig({
  title: 'Modes',
  panels: [
    { id: 'temp', type: 'stat', title: 'Temperature', channel: 'sensors', field: 'temp', decimals: 1 },
    { id: 'trend', type: 'timeseries', title: 'Trend', channel: 'sensors', field: 'temp' },
  ],
});

/** Open WebSocket connections the server counts right now (its own /metrics). */
async function serverSockets(url: string): Promise<number> {
  const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const text = await response.text();
  const match = /^livedash_connections\{transport="ws"\} (\d+)/m.exec(text);
  if (!match) throw new Error(`no livedash_connections in /metrics:\n${text.slice(0, 500)}`);
  return Number(match[1]);
}

const badge = (page: Page) => page.getByTestId('connection-badge');
const stat = (page: Page) => page.getByTestId('stat-temp');

async function openDashboard(page: Page, url: string, mode?: string): Promise<void> {
  await page.goto(mode ? `${url}/?client=${mode}` : url);
  await page.locator('[data-testid=connection-badge][data-status=open]').waitFor({ timeout: 15_000 });
}

describe('where the connection runs', () => {
  let server: LivedashApp;
  let browser: Browser;

  beforeAll(async () => {
    if (!config.ok) throw new Error(config.error);
    server = await startServer({ dashboard: config.value });
    browser = await openBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  for (const mode of ['shared-worker', 'worker', 'in-page'] as const) {
    it(`${mode}: forced by the option, reported in the connection state, delivers data and pings`, async () => {
      const page = await browser.context.newPage();
      try {
        await openDashboard(page, server.url, mode);
        await expect(badge(page).getAttribute('data-mode')).resolves.toBe(mode);
        // The worker link is a chunk of its own, fetched only when a worker runs the connection.
        const linkLoaded = await page.evaluate(() =>
          performance.getEntriesByType('resource').some((entry) => /\/link-[^/]*\.js$/.test(entry.name)),
        );
        expect(linkLoaded).toBe(mode !== 'in-page');
        for (const temp of [20.1, 20.2, 20.3]) await publish(server.url, 'sensors', { temp });
        await expect.poll(() => stat(page).textContent(), { timeout: 10_000 }).toBe('20.3');
        await expect
          .poll(
            () =>
              page
                .locator('[data-testid="trend"], [data-panel="timeseries"] .chart')
                .first()
                .getAttribute('data-points'),
            {
              timeout: 10_000,
            },
          )
          .not.toBe('0');
        // The round trip is measured through the worker too (the badge pings as soon as it is open).
        await expect.poll(() => badge(page).textContent(), { timeout: 5_000 }).toMatch(/\d+ ms/);
      } finally {
        await page.close();
      }
    });
  }

  it('chooses a SharedWorker by itself in Chromium', async () => {
    const page = await browser.context.newPage();
    try {
      await openDashboard(page, server.url);
      await expect(badge(page).getAttribute('data-mode')).resolves.toBe('shared-worker');
    } finally {
      await page.close();
    }
  });

  it('two tabs share one socket; when one closes, the other keeps receiving', async () => {
    await expect.poll(() => serverSockets(server.url), { timeout: 10_000 }).toBe(0);
    const first = await browser.context.newPage();
    const second = await browser.context.newPage();
    try {
      await openDashboard(first, server.url, 'shared-worker');
      await openDashboard(second, server.url, 'shared-worker');
      await publish(server.url, 'sensors', { temp: 30.5 });
      await expect.poll(() => stat(first).textContent(), { timeout: 10_000 }).toBe('30.5');
      await expect.poll(() => stat(second).textContent(), { timeout: 10_000 }).toBe('30.5');
      expect(await serverSockets(server.url)).toBe(1);
      await browser.screenshot('worker-modes-two-tabs');

      // A dedicated-worker tab beside them has its own socket: the count really counts.
      const third = await browser.context.newPage();
      await openDashboard(third, server.url, 'worker');
      expect(await serverSockets(server.url)).toBe(2);
      await third.close();
      await expect.poll(() => serverSockets(server.url), { timeout: 10_000 }).toBe(1);

      await first.close();
      for (const temp of [31.1, 31.2, 31.3]) await publish(server.url, 'sensors', { temp });
      await expect.poll(() => stat(second).textContent(), { timeout: 10_000 }).toBe('31.3');
      expect(await serverSockets(server.url)).toBe(1);
      await expect(badge(second).getAttribute('data-status')).resolves.toBe('open');

      // The last tab gone, the shared socket closes too.
      await second.close();
      await expect.poll(() => serverSockets(server.url), { timeout: 10_000 }).toBe(0);
    } finally {
      if (!first.isClosed()) await first.close();
      if (!second.isClosed()) await second.close();
    }
  });
});
