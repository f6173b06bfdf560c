#!/usr/bin/env node
// Client-side cost (issue 7, item 6): main-thread time headless Chromium spends receiving and applying
// N messages per second through LiveClient, per 1,000 messages, next to a bare WebSocket + JSON.parse
// page receiving the same messages. `node bench/client-cost.mjs [--rates 500,2000] [--seconds 5]`
// Needs the built server (`npm run build`) and Chromium at /usr/bin/chromium (or LIVEDASH_CHROMIUM).
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { build } from 'vite';

const { values } = parseArgs({
  options: { rates: { type: 'string', default: '500,2000' }, seconds: { type: 'string', default: '5' } },
});
const rates = values.rates.split(',').map(Number);
const seconds = Number(values.seconds);
const root = new URL('..', import.meta.url).pathname;
const { createServer } = await import(new URL('../packages/server/dist/index.js', import.meta.url).href);

async function buildPage() {
  const outDir = join(root, 'bench/results/client-cost-page');
  await build({
    root: join(root, 'bench/client-cost'),
    base: './',
    logLevel: 'warn',
    // The client from source, as the dashboard's build takes it.
    resolve: {
      alias: {
        '@livedash/client': join(root, 'packages/client/src/index.ts'),
        '@livedash/protocol': join(root, 'packages/protocol/src/index.ts'),
      },
    },
    build: { outDir, emptyOutDir: true },
  });
  return outDir;
}

/** Publishes `rate` messages/s of a small metrics-like object, in 10 ms slices. */
function publish(hub, rate) {
  let sent = 0;
  const started = performance.now();
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    for (; sent < due; sent++)
      void hub.publish('cost', { cpu: sent % 100, memory: 42.5, load: [0.5, 0.4, 0.3], ts: Date.now() });
  }, 10);
  return () => clearInterval(timer);
}

async function measure(browser, url, mode, hub, rate) {
  const page = await browser.newPage();
  await page.goto(`${url}/?mode=${mode}`);
  await page.waitForFunction(() => window.__received !== undefined);
  const stop = publish(hub, rate);
  await page.waitForFunction(() => window.__received > 0, undefined, { timeout: 20_000 });
  await new Promise((resolve) => setTimeout(resolve, 1000)); // warm-up
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const read = async () =>
    Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  const before = await read();
  const receivedBefore = await page.evaluate(() => window.__received);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const after = await read();
  const received = (await page.evaluate(() => window.__received)) - receivedBefore;
  stop();
  await page.close();
  const perThousand = (metric) =>
    Number(((((after[metric] - before[metric]) * 1000) / received) * 1000).toFixed(2));
  return {
    mode,
    rate,
    received,
    taskMsPer1000: perThousand('TaskDuration'),
    scriptMsPer1000: perThousand('ScriptDuration'),
  };
}

const pageDir = await buildPage();
const server = await createServer({
  port: 0,
  publishToken: 'bench',
  metricsIntervalMs: 0,
  alerts: [],
  staticDir: pageDir,
});
const browser = await chromium.launch({
  executablePath: process.env.LIVEDASH_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--disable-gpu', '--no-sandbox'],
});
try {
  console.log(
    '| page | msg/s | received | main thread ms / 1,000 msgs | script ms / 1,000 msgs |\n|---|---:|---:|---:|---:|',
  );
  for (const rate of rates) {
    for (const mode of ['liveclient', 'raw']) {
      const r = await measure(browser, server.url, mode, server.hub, rate);
      console.log(
        `| ${mode === 'raw' ? 'bare WebSocket + JSON.parse' : 'LiveClient'} | ${rate} | ${r.received} | ${r.taskMsPer1000} | ${r.scriptMsPer1000} |`,
      );
    }
  }
} finally {
  await browser.close();
  await server.close();
}
