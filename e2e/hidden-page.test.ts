import { validateDashboardConfig } from '@livedash/dashboard-config';
import type { LivedashApp } from 'livedash';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, openBrowser } from './helpers/browser.js';
import { publish, startServer } from './helpers/dashboard-server.js';

const config = validateDashboardConfig({
  title: 'Meter',
  panels: [{ id: 'power', type: 'timeseries', title: 'Power', channel: 'meter', field: 'watts', unit: 'W' }],
});

function setVisibility(page: Browser['page'], state: 'hidden' | 'visible'): Promise<void> {
  return page.evaluate((next) => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => next });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => next === 'hidden' });
    document.dispatchEvent(new Event('visibilitychange'));
  }, state);
}

describe('a hidden page', () => {
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

  it('draws nothing while hidden and catches up with everything that arrived when visible again', async () => {
    const { page } = browser;
    await page.goto(server.url);
    await page.locator('[data-testid=connection-badge][data-status=open]').waitFor({ timeout: 15_000 });
    const chart = page.locator('[data-panel="timeseries"] .chart');
    const points = async () => Number(await chart.getAttribute('data-points'));
    for (let watts = 1; watts <= 3; watts++) await publish(server.url, 'meter', { watts });
    await expect.poll(points, { timeout: 10_000 }).toBe(3);

    // Playwright keeps every page visible, so the page is told it is hidden the way a browser tells it
    // (visibilityState + visibilitychange); a real background tab also stops animation frames.
    await setVisibility(page, 'hidden');
    for (let watts = 4; watts <= 8; watts++) await publish(server.url, 'meter', { watts });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await points()).toBe(3);

    await setVisibility(page, 'visible');
    await expect.poll(points, { timeout: 10_000 }).toBe(8);
    await expect
      .poll(() => page.getByTestId('legend-power-0').textContent(), { timeout: 10_000 })
      .toBe('8.0 W');
    await browser.screenshot('hidden-page-caught-up');
  });
});
