import { validateDashboardConfig } from '@livedash/dashboard-config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, openBrowser } from './helpers/browser.js';
import { freePort, publish, ServerProcess } from './helpers/dashboard-server.js';

const config = validateDashboardConfig({
  title: 'Pump station',
  panels: [
    { id: 'pressure', type: 'gauge', title: 'Pressure', channel: 'pump', field: 'bar', unit: 'bar', max: 10 },
    { id: 'flow', type: 'stat', title: 'Flow', channel: 'pump', field: 'flow', unit: 'l/s' },
    { id: 'history', type: 'timeseries', title: 'Pressure', channel: 'pump', field: 'bar', unit: 'bar' },
  ],
});

describe('the connection, honestly', () => {
  let server: ServerProcess;
  let browser: Browser;

  beforeAll(async () => {
    if (!config.ok) throw new Error(config.error);
    server = new ServerProcess(await freePort());
    await server.start({ dashboard: config.value });
    browser = await openBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.kill();
  });

  it('marks values stale and shows reconnecting when the server is killed, and is live again after a restart', async () => {
    if (!config.ok) throw new Error(config.error);
    const { page } = browser;
    await page.goto(server.url);
    const badge = page.getByTestId('connection-badge');
    await page.locator('[data-testid=connection-badge][data-status=open]').waitFor({ timeout: 15_000 });
    await publish(server.url, 'pump', { bar: 4.2, flow: 12 });
    await expect
      .poll(() => page.getByTestId('gauge-pressure').getAttribute('aria-valuetext'), { timeout: 10_000 })
      .toBe('4.2 bar');
    expect(await page.locator('[data-stale=true]').count()).toBe(0);

    await server.kill();
    // The badge says so, with the countdown to its next attempt, and every panel is marked stale.
    await expect.poll(() => badge.textContent(), { timeout: 20_000 }).toMatch(/Reconnecting/);
    await expect.poll(() => page.locator('section[data-stale=true]').count(), { timeout: 20_000 }).toBe(3);
    await expect
      .poll(() => page.getByTestId('stale').first().textContent(), { timeout: 10_000 })
      .toMatch(/last update \d+ s ago/);
    await expect
      .poll(() => page.getByTestId('banner').textContent(), { timeout: 10_000 })
      .toContain('Connection lost');
    await page
      .locator('[data-testid=connection-badge][data-status=reconnecting]')
      .waitFor({ timeout: 20_000 });
    await expect.poll(() => badge.textContent(), { timeout: 10_000 }).toMatch(/Reconnecting in \d+ s/);
    // The last value is still shown (dimmed), not blanked.
    expect(await page.getByTestId('gauge-pressure').getAttribute('aria-valuetext')).toBe('4.2 bar');
    await browser.screenshot('server-killed');

    await server.start({ dashboard: config.value });
    await page.locator('[data-testid=connection-badge][data-status=open]').waitFor({ timeout: 45_000 });
    await publish(server.url, 'pump', { bar: 5.5, flow: 14 });
    await expect
      .poll(() => page.getByTestId('gauge-pressure').getAttribute('aria-valuetext'), { timeout: 10_000 })
      .toBe('5.5 bar');
    await expect.poll(() => page.locator('section[data-stale=true]').count(), { timeout: 10_000 }).toBe(0);
    expect(await badge.textContent()).toContain('Live');
    expect(await page.getByTestId('banner').count()).toBe(0);
    await browser.screenshot('server-restarted');
  });
});
