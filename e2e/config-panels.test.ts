import { validateDashboardConfig } from '@livedash/dashboard-config';
import type { LivedashApp } from 'livedash';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, openBrowser } from './helpers/browser.js';
import { publish, startServer } from './helpers/dashboard-server.js';

const config = validateDashboardConfig({
  title: 'Greenhouse',
  panels: [
    {
      id: 'temp',
      type: 'stat',
      title: 'Temperature',
      channel: 'sensors',
      field: 'temp',
      unit: '°C',
      decimals: 1,
    },
    {
      id: 'humidity',
      type: 'gauge',
      title: 'Humidity',
      channel: 'sensors',
      field: 'humidity',
      unit: '%',
      thresholds: [{ value: 80, color: 'warning' }],
    },
    { id: 'label', type: 'stat', title: 'Label', channel: 'labels', field: 'text' },
    { id: 'trend', type: 'timeseries', title: 'Temperature', channel: 'sensors', field: 'temp', unit: '°C' },
    {
      id: 'beds',
      type: 'table',
      title: 'Beds',
      channel: 'sensors',
      field: 'beds',
      columns: [
        { field: 'name', label: 'Bed' },
        { field: 'moisture', label: 'Moisture', unit: '%', bar: true },
      ],
    },
    { id: 'notes', type: 'log', title: 'Notes', channel: 'notes', field: 'text' },
    { id: 'alerts', type: 'alerts', title: 'Alerts' },
  ],
});

describe('config-driven panels', () => {
  let server: LivedashApp;
  let browser: Browser;

  beforeAll(async () => {
    if (!config.ok) throw new Error(config.error);
    server = await startServer({
      dashboard: config.value,
      alerts: [
        {
          name: 'too-hot',
          channel: 'sensors',
          field: 'temp',
          op: '>',
          threshold: 35,
          forMs: 0,
          hysteresis: 1,
          severity: 'critical',
        },
      ],
    });
    browser = await openBrowser();
    await browser.page.goto(server.url);
    await browser.page
      .locator('[data-testid=connection-badge][data-status=open]')
      .waitFor({ timeout: 15_000 });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows a channel published over HTTP in its panel within a second', async () => {
    const { page } = browser;
    await expect(page.locator('h1').textContent()).resolves.toBe('Greenhouse');
    const started = Date.now();
    await publish(server.url, 'sensors', {
      temp: 21.44,
      humidity: 63,
      beds: [
        { name: 'tomatoes', moisture: 41 },
        { name: 'basil', moisture: 77 },
      ],
    });
    await page.getByTestId('stat-temp').getByText('21.4').waitFor({ timeout: 10_000 });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(1000);
    await expect
      .poll(() => page.getByTestId('gauge-humidity').getAttribute('aria-valuetext'), { timeout: 10_000 })
      .toBe('63.0%');
    await expect
      .poll(() => page.getByTestId('table-beds').textContent(), { timeout: 10_000 })
      .toContain('basil');
    for (const temp of [22.1, 22.8, 23.5])
      await publish(server.url, 'sensors', { temp, humidity: 64, beds: [] });
    await expect
      .poll(() => page.getByTestId('legend-trend-0').textContent(), { timeout: 10_000 })
      .toBe('23.5 °C');
    await browser.screenshot('config-panels');
  });

  it('shows an alert fired by a rule in the feed and as a toast, then resolved', async () => {
    const { page } = browser;
    await publish(server.url, 'sensors', { temp: 41.2, humidity: 64, beds: [] });
    await expect
      .poll(() => page.getByTestId('alerts-alerts').textContent(), { timeout: 10_000 })
      .toContain('too-hot');
    await expect
      .poll(() => page.getByTestId('toast').first().textContent(), { timeout: 10_000 })
      .toContain('Critical: too-hot');
    expect(await page.locator('.alert-pill').first().textContent()).toBe('firing');
    await browser.screenshot('alert-firing');
    await publish(server.url, 'sensors', { temp: 20, humidity: 64, beds: [] });
    await expect
      .poll(() => page.locator('.alert-pill').first().textContent(), { timeout: 10_000 })
      .toBe('resolved');
    // Newest first: the resolution sits above the firing it ends.
    expect(await page.locator('.alert-pill').allTextContents()).toEqual(['resolved', 'firing']);
  });

  it('renders channel data as text, never as HTML', async () => {
    const { page } = browser;
    const attack = '<img src=x onerror=alert(1)>';
    await publish(server.url, 'labels', { text: attack });
    await publish(server.url, 'notes', { text: `<script>alert(2)</script>${attack}` });
    await expect
      .poll(() => page.getByTestId('stat-label').textContent(), { timeout: 10_000 })
      .toContain(attack);
    await expect
      .poll(() => page.getByTestId('log-notes').textContent(), { timeout: 10_000 })
      .toContain(`<script>alert(2)</script>${attack}`);
    // No element was created from the data, and nothing ran.
    expect(await page.locator('main img, main script').count()).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(browser.dialogs).toEqual([]);
    await browser.screenshot('xss-as-text');
    expect(browser.errors).toEqual([]);
  });
});
