import { validateDashboardConfig } from '@livedash/dashboard-config';
import type { LivedashApp } from 'livedash';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, openBrowser } from './helpers/browser.js';
import { publish, startServer } from './helpers/dashboard-server.js';
import { TcpProxy } from './helpers/tcp-proxy.js';

const config = validateDashboardConfig({
  title: 'Line',
  panels: [{ id: 'rate', type: 'timeseries', title: 'Rate', channel: 'line', field: 'n' }],
});

describe('after a dropped connection', () => {
  let server: LivedashApp;
  let proxy: TcpProxy;
  let browser: Browser;

  beforeAll(async () => {
    if (!config.ok) throw new Error(config.error);
    server = await startServer({ dashboard: config.value });
    proxy = new TcpProxy(server.port);
    await proxy.start();
    browser = await openBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await proxy?.cut();
    await server?.close();
  });

  it('fills the chart with what was published while away: no hole, no line across a gap', async () => {
    const { page } = browser;
    await page.goto(proxy.url);
    await page.locator('[data-testid=connection-badge][data-status=open]').waitFor({ timeout: 15_000 });
    const chart = page.locator('[data-panel="timeseries"] .chart');
    const points = async () => Number(await chart.getAttribute('data-points'));
    // A steady 5 messages a second, before, during and after a 4-second cut. The publisher never
    // pauses: a silence longer than 5 s is a real gap in the data, and the chart rightly breaks its
    // line there (one null point), which is not what this test is about.
    let n = 0;
    let publishing = true;
    const publisher = (async () => {
      while (publishing) {
        await publish(server.url, 'line', { n: ++n });
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    const published = async (count: number) => {
      const target = n + count;
      while (n < target) await new Promise((resolve) => setTimeout(resolve, 50));
    };
    try {
      await published(10);
      await expect.poll(points, { timeout: 10_000 }).toBeGreaterThanOrEqual(10);

      await proxy.cut();
      await page
        .locator('[data-testid=connection-badge]:not([data-status=open])')
        .waitFor({ timeout: 20_000 });
      await published(20);
      await browser.screenshot('recovery-while-away');
      await proxy.start();
      await page.locator('[data-testid=connection-badge][data-status=open]').waitFor({ timeout: 45_000 });
      await published(5);
    } finally {
      publishing = false;
      await publisher;
    }

    // Every message is a point, and no gap marker was needed: exactly n points.
    await expect.poll(points, { timeout: 15_000 }).toBe(n);
    await expect
      .poll(() => page.getByTestId('legend-rate-0').textContent(), { timeout: 10_000 })
      .toBe(`${n}.0`);
    await browser.screenshot('recovery-filled');
  });
});
