import { validateDashboardConfig } from '@livedash/dashboard-config';
import type { LivedashApp } from 'livedash';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, openBrowser } from './helpers/browser.js';
import { publish, startServer } from './helpers/dashboard-server.js';

// One chart at the top; below a tall column of panels, a chart and a gauge far out of view.
const config = validateDashboardConfig({
  title: 'Draw on change',
  panels: [
    { id: 'top', type: 'timeseries', title: 'Top', channel: 'steady', field: 'v', min: 0, max: 100 },
    ...Array.from({ length: 8 }, (_, i) => ({
      id: `filler-${i}`,
      type: 'log',
      title: `Filler ${i}`,
      channel: 'filler',
      field: 'text',
      width: 4,
    })),
    { id: 'below', type: 'timeseries', title: 'Below', channel: 'far', field: 'v' },
    { id: 'below-gauge', type: 'gauge', title: 'Below gauge', channel: 'far', field: 'v', max: 1000 },
  ],
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('charts draw only what changes on screen', () => {
  let server: LivedashApp;
  let browser: Browser;

  beforeAll(async () => {
    if (!config.ok) throw new Error(config.error);
    server = await startServer({ dashboard: config.value });
    browser = await openBrowser({ width: 1440, height: 700 });
    await browser.page.goto(server.url);
    await browser.page
      .locator('[data-testid=connection-badge][data-status=open]')
      .waitFor({ timeout: 15_000 });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const draws = (id: string) =>
    browser.page
      .locator(`section[aria-labelledby="${id}-title"] .chart`)
      .getAttribute('data-draws')
      .then(Number);
  const points = (id: string) =>
    browser.page
      .locator(`section[aria-labelledby="${id}-title"] .chart`)
      .getAttribute('data-points')
      .then(Number);

  it('a 15-minute chart fed 20 messages a second that land in the same pixel draws a few times, not per message', async () => {
    const { page } = browser;
    await page.getByLabel('Last 15 minutes').check();
    await publish(server.url, 'steady', { v: 50 });
    await expect.poll(() => points('top'), { timeout: 10_000 }).toBe(1);
    const before = await draws('top');
    // 3 s at 20 messages a second, values moving less than a pixel (0.1 of 0…100 on a ~190 px chart).
    const started = Date.now();
    let sent = 0;
    while (Date.now() - started < 3_000) {
      await publish(server.url, 'steady', { v: 50 + (sent % 2) * 0.1 });
      sent++;
      await sleep(50);
    }
    await expect.poll(() => points('top'), { timeout: 10_000 }).toBe(sent + 1);
    const drawn = (await draws('top')) - before;
    // The axis slides a pixel every ~1.6 s (15 min over ~560 px): 2 slides in 3 s, a few more for
    // the newest point's first moves; drawing per message would be dozens.
    expect(sent).toBeGreaterThan(30);
    expect(drawn).toBeLessThanOrEqual(8);
    expect(drawn).toBeGreaterThanOrEqual(1);
    await page.getByLabel('Last 5 minutes').check();
  });

  it('panels out of view do not draw, and show everything when scrolled into view', async () => {
    const { page } = browser;
    const belowDraws = await draws('below');
    const gauge = page.getByTestId('gauge-below-gauge');
    for (let v = 1; v <= 20; v++) await publish(server.url, 'far', { v: v * 10 });
    await sleep(1_500);
    expect(await draws('below')).toBe(belowDraws);
    // Not re-rendered while out of view: still shows what it showed before the messages.
    expect(await gauge.getAttribute('aria-valuetext')).toBe('no data');

    await page.locator('section[aria-labelledby="below-title"]').scrollIntoViewIfNeeded();
    await expect.poll(() => points('below'), { timeout: 10_000 }).toBe(20);
    await expect.poll(() => gauge.getAttribute('aria-valuetext'), { timeout: 10_000 }).toBe('200.0');
    expect(await draws('below')).toBeGreaterThan(belowDraws);
    await browser.screenshot('draw-on-change-scrolled');

    // And the chart at the top, now out of view, stops drawing while messages arrive for it.
    const topDraws = await draws('top');
    for (let v = 1; v <= 10; v++) await publish(server.url, 'steady', { v: v * 9 });
    await sleep(1_500);
    expect(await draws('top')).toBe(topDraws);
    await page.locator('section[aria-labelledby="top-title"]').scrollIntoViewIfNeeded();
    await expect.poll(() => draws('top'), { timeout: 10_000 }).toBeGreaterThan(topDraws);
    await expect
      .poll(() => page.getByTestId('legend-top-0').textContent(), { timeout: 10_000 })
      .toMatch(/^90(\.0)?$/);
    expect(browser.errors).toEqual([]);
  });
});
