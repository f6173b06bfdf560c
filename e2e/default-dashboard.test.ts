import { totalmem } from 'node:os';
import type { LivedashApp } from 'livedash';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, openBrowser } from './helpers/browser.js';
import { startServer } from './helpers/dashboard-server.js';

/** The gauge's value in words, as a screen reader hears it (e.g. "12.5%"). */
async function gaugeText(browser: Browser, id: string): Promise<string> {
  return (await browser.page.getByTestId(`gauge-${id}`).getAttribute('aria-valuetext')) ?? '';
}

describe('the default dashboard', () => {
  let server: LivedashApp;
  let browser: Browser;

  beforeAll(async () => {
    // Real host metrics, faster than the default 1 Hz so the test sees several values quickly.
    server = await startServer({ metricsIntervalMs: 400 });
    browser = await openBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows CPU and memory values that change, charts filled from history, and a live badge', async () => {
    // Let a few seconds of history build up first: the charts must start from it, not empty.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const { page } = browser;
    await page.goto(server.url);
    await expect
      .poll(() => page.getByTestId('connection-badge').textContent(), { timeout: 15_000 })
      .toContain('Live');
    await expect.poll(() => gaugeText(browser, 'cpu'), { timeout: 15_000 }).toMatch(/^\d+(\.\d)?%/);
    await expect.poll(() => gaugeText(browser, 'memory'), { timeout: 15_000 }).toMatch(/^\d+(\.\d)?%/);

    // The charts were backfilled from the server's history: several points at once, not one per second.
    const points = () => page.locator('[data-panel="timeseries"] .chart').first().getAttribute('data-points');
    await expect.poll(async () => Number(await points()), { timeout: 5000 }).toBeGreaterThanOrEqual(5);
    const first = { cpu: await gaugeText(browser, 'cpu'), memory: await gaugeText(browser, 'memory') };
    const seen = { cpu: new Set([first.cpu]), memory: new Set([first.memory]) };
    const firstPoints = Number(await points());
    // An idle machine's memory use can sit on one tenth of a percent for a long time: move it a little
    // (about 0.5% of RAM, at most 512 MiB, touched so it is really resident) while watching.
    const ballast = Buffer.alloc(Math.min(512 * 2 ** 20, Math.floor(totalmem() / 200)), 1);
    try {
      await expect
        .poll(
          async () => {
            seen.cpu.add(await gaugeText(browser, 'cpu'));
            seen.memory.add(await gaugeText(browser, 'memory'));
            // A saturated machine reads 100% CPU every time, so the CPU chart growing counts as the
            // CPU panel moving; memory is moved by the ballast.
            const cpuMoved = seen.cpu.size > 1 || Number(await points()) > firstPoints + 2;
            return cpuMoved && seen.memory.size > 1;
          },
          { timeout: 40_000, interval: 300 },
        )
        .toBe(true);
    } finally {
      // Referenced until here, so it is not collected before the poll ends.
      ballast.fill(0);
    }

    const aria = await page.getByTestId('gauge-cpu').evaluate((element) => ({
      role: element.getAttribute('role'),
      label: element.getAttribute('aria-label'),
      min: element.getAttribute('aria-valuemin'),
      max: element.getAttribute('aria-valuemax'),
    }));
    expect(aria).toEqual({ role: 'meter', label: 'CPU', min: '0', max: '100' });
    await expect
      .poll(() => page.getByTestId('legend-cpu-chart-0').textContent(), { timeout: 10_000 })
      .toMatch(/\d%$/);
    await browser.screenshot('default-dashboard-light');
    expect(browser.errors).toEqual([]);
  });

  it('looks right in dark mode and on a phone', async () => {
    const dark = await openBrowser({ colorScheme: 'dark' });
    const phone = await openBrowser({ width: 390, height: 844 });
    try {
      for (const view of [dark, phone]) {
        await view.page.goto(server.url);
        await expect
          .poll(() => view.page.getByTestId('connection-badge').textContent(), { timeout: 15_000 })
          .toContain('Live');
        await expect.poll(() => gaugeText(view, 'cpu'), { timeout: 15_000 }).toMatch(/%/);
      }
      // On a phone nothing overflows sideways.
      const overflow = await phone.page.evaluate(
        () => document.documentElement.scrollWidth - window.innerWidth,
      );
      expect(overflow).toBeLessThanOrEqual(0);
      const background = await dark.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      expect(background).toBe('rgb(12, 16, 22)');
      await dark.screenshot('default-dashboard-dark');
      await phone.screenshot('default-dashboard-phone');
    } finally {
      await dark.close();
      await phone.close();
    }
  });

  it('can be driven from the keyboard: window picker and pause', async () => {
    const { page } = browser;
    await page.goto(server.url);
    await expect.poll(() => gaugeText(browser, 'cpu'), { timeout: 15_000 }).toMatch(/%/);
    await page.getByLabel('Last 5 minutes').focus();
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.evaluate(() => location.hash), { timeout: 10_000 }).toBe('#window=15m');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await expect
      .poll(() => page.getByTestId('pause').getAttribute('aria-pressed'), { timeout: 10_000 })
      .toBe('true');
    const frozen = await gaugeText(browser, 'cpu');
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await gaugeText(browser, 'cpu')).toBe(frozen);
    await browser.screenshot('default-dashboard-paused');
    await page.keyboard.press('Enter');
    await expect
      .poll(() => page.getByTestId('pause').getAttribute('aria-pressed'), { timeout: 10_000 })
      .toBe('false');
  });
});
