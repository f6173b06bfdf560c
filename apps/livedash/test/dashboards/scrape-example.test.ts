import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import type { DashboardDocument, DashboardIndex, Panel } from '@livedash/dashboard-config';
import { readNumber } from '@livedash/dashboard-config';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type LivedashApp, startLivedash } from '../../src/livedash.js';
import { parseScrapeFlags } from '../../src/sources/scrape/scrape-config.js';

const EXAMPLE = new URL('../../../../examples/scrape-node-app/', import.meta.url).pathname;

/** Every field path a panel reads. */
function fieldsOf(panel: Panel): string[] {
  if (panel.type === 'timeseries') return panel.series.map((series) => series.field);
  if ('field' in panel && typeof panel.field === 'string') return [panel.field];
  return [];
}

describe('examples/scrape-node-app: a prom-client service scraped into a ready dashboard', () => {
  let shop: ChildProcess;
  let server: LivedashApp;

  beforeAll(async () => {
    // The example's own process, as its README starts it (on a free port).
    shop = spawn(process.execPath, [`${EXAMPLE}shop.mjs`], {
      env: { ...process.env, PORT: '0' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    shop.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    await vi.waitFor(() => expect(output).toMatch(/metrics at (http:\S+)/), { timeout: 10_000 });
    const url = /metrics at (http:\S+)/.exec(output)?.[1] ?? '';
    const scrape = parseScrapeFlags([`${url},channel=shop,interval=1s`]);
    if (!scrape.ok) throw new Error(scrape.error);
    server = await startLivedash({
      port: 0,
      metricsIntervalMs: 0,
      scrape: scrape.value,
      dashboards: `${EXAMPLE}dashboards`,
    });
  });

  afterAll(async () => {
    await server?.close();
    if (shop && shop.exitCode === null) {
      const exited = once(shop, 'exit');
      shop.kill('SIGTERM');
      await exited;
    }
  });

  it('serves the shop dashboard, valid, and every one of its panels finds a number in the scrape', async () => {
    const index = (await (await fetch(`${server.url}/api/dashboards`)).json()) as DashboardIndex;
    expect(index.dashboards.map((dashboard) => [dashboard.name, dashboard.error])).toContainEqual([
      'shop',
      undefined,
    ]);
    const shopDashboard = (await (
      await fetch(`${server.url}/api/dashboards/shop`)
    ).json()) as DashboardDocument;
    const panels = shopDashboard.config?.panels ?? [];
    expect(panels.length).toBeGreaterThan(5);
    // Rates and quantiles exist from the second scrape on.
    await vi.waitFor(
      async () => {
        const latest = (await (await fetch(`${server.url}/api/channels/shop`)).json()) as {
          data: unknown;
          seq: number;
        };
        expect(latest.seq).toBeGreaterThanOrEqual(3);
        const missing = panels.flatMap((panel) =>
          fieldsOf(panel).filter((field) => readNumber(latest.data, field) === null),
        );
        expect(missing).toEqual([]);
      },
      { timeout: 10_000, interval: 500 },
    );
  });
});
