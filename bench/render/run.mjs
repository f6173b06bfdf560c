#!/usr/bin/env node
// Render benchmark: a firehose (thousands of messages per second over many channels) into the livedash
// dashboard in headless Chromium, next to the same panels built the seed's way (setState per message).
// Reports frames per second and main-thread busy time (Chromium's own TaskDuration, via CDP).
//
//   node bench/render/run.mjs [--seconds 10] [--rates 1000,4000] [--channels 8] [--no-build] [--json out.json]
//
// Needs the built server and dashboard (`npm run build`; done first unless --no-build) and Chromium at
// /usr/bin/chromium (or LIVEDASH_CHROMIUM). Never part of `npm test`.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import react from '@vitejs/plugin-react';
import { chromium } from 'playwright-core';
import { build } from 'vite';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    rates: { type: 'string', default: '1000,4000' },
    channels: { type: 'string', default: '8' },
    'no-build': { type: 'boolean', default: false },
    json: { type: 'string' },
    panels: { type: 'string', default: 'chart,gauge,stat' },
    kinds: { type: 'string', default: 'livedash,seed' },
  },
});
const root = new URL('../../', import.meta.url).pathname;
const seconds = Number(values.seconds);
const rates = values.rates.split(',').map(Number);
const channelCount = Number(values.channels);
const channels = Array.from({ length: channelCount }, (_, i) => `fire.${i}`);
const WARMUP_MS = 3000;
const panelKinds = values.panels.split(',');
const pageKinds = values.kinds.split(',');

if (!values['no-build']) {
  const result = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) console.warn('warning: the build reported errors; benchmarking what was emitted');
}
const { startLivedash } = await import(`${root}apps/livedash/dist/index.js`);
const { validateDashboardConfig } = await import(`${root}packages/dashboard-config/dist/index.js`);

/** The same panels on both pages: per channel a chart of two series, a gauge and a stat. */
function dashboardConfig() {
  const panels = channels.flatMap((channel) =>
    [
      {
        id: `${channel}-chart`,
        type: 'timeseries',
        title: channel,
        channel,
        series: [{ field: 'v' }, { field: 'w' }],
      },
      { id: `${channel}-gauge`, type: 'gauge', title: `${channel} gauge`, channel, field: 'v', unit: '%' },
      { id: `${channel}-stat`, type: 'stat', title: `${channel} stat`, channel, field: 'w', decimals: 0 },
    ].filter((panel) => panelKinds.includes(panel.id.split('-').at(-1))),
  );
  const result = validateDashboardConfig({ title: 'Firehose', panels });
  if (!result.ok) throw new Error(result.error);
  return result.value;
}

function panelCount() {
  return channels.length * panelKinds.length;
}

async function buildSeedPage() {
  const outDir = join(root, 'bench/results/render-seed-page');
  await build({
    root: join(root, 'bench/render/seed-page'),
    base: './',
    logLevel: 'warn',
    plugins: [react()],
    build: { outDir, emptyOutDir: true },
  });
  return outDir;
}

/** Publishes `rate` messages per second in total, spread over the channels, in 10 ms slices. */
function startFirehose(hub, rate) {
  let cursor = 0;
  let published = 0;
  const started = performance.now();
  const timer = setInterval(() => {
    // A starved event loop does not catch up in a burst: what is more than 100 ms late is skipped.
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    cursor = Math.max(cursor, due - Math.floor(rate / 10));
    for (; cursor < due; cursor++, published++) {
      const channel = channels[cursor % channels.length];
      void hub.publish(channel, { v: 50 + 45 * Math.sin(cursor / 50), w: 1000 + (cursor % 500) });
    }
  }, 10);
  return { stop: () => clearInterval(timer), sent: () => published };
}

async function measure(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const read = async () =>
    Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  await page.evaluate(() => {
    window.__frames = 0;
    const count = () => {
      window.__frames++;
      requestAnimationFrame(count);
    };
    requestAnimationFrame(count);
  });
  const before = await read();
  const startedFrames = await page.evaluate(() => window.__frames);
  const startedCommits = await page.evaluate(() => window.__commits);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const after = await read();
  const frames = (await page.evaluate(() => window.__frames)) - startedFrames;
  const commits = (await page.evaluate(() => window.__commits)) - startedCommits;
  const wall = after.Timestamp - before.Timestamp;
  await cdp.detach();
  return {
    fps: Number((frames / wall).toFixed(1)),
    reactCommitsPerSec: Number((commits / wall).toFixed(1)),
    busyPercent: Number(((100 * (after.TaskDuration - before.TaskDuration)) / wall).toFixed(1)),
    scriptPercent: Number(((100 * (after.ScriptDuration - before.ScriptDuration)) / wall).toFixed(1)),
    layoutStylePercent: Number(
      (
        (100 *
          (after.LayoutDuration -
            before.LayoutDuration +
            after.RecalcStyleDuration -
            before.RecalcStyleDuration)) /
        wall
      ).toFixed(1),
    ),
  };
}

async function run(kind, rate, seedDir) {
  // Each page is served by the livedash app itself, so both connect same-origin.
  const server = await startLivedash({
    port: 0,
    publishToken: 'bench',
    metricsIntervalMs: 0,
    alerts: [],
    staticDir: kind === 'livedash' ? join(root, 'apps/dashboard/dist') : seedDir,
    dashboard: dashboardConfig(),
    history: [{ pattern: '*', maxMessages: 1000, maxAgeMs: 5 * 60_000 }],
  });
  const profile = mkdtempSync(join(tmpdir(), 'livedash-render-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.LIVEDASH_CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    headless: true,
    viewport: { width: 1600, height: 1000 },
  });
  const firehose = startFirehose(server.hub, rate);
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    // React commits per second, counted through the hook React DevTools uses (both pages run React 19).
    await page.addInitScript(() => {
      window.__commits = 0;
      window.__REACT_DEVTOOLS_GLOBAL_HOOK__ = {
        supportsFiber: true,
        renderers: new Map(),
        inject: () => 1,
        onCommitFiberRoot: () => {
          window.__commits++;
        },
        onCommitFiberUnmount: () => {},
        onPostCommitFiberRoot: () => {},
        checkDCE: () => {},
      };
    });
    const query = `server=${encodeURIComponent(server.url)}&channels=${channels.join(',')}&panels=${panelKinds.join(',')}`;
    const url = kind === 'livedash' ? server.url : `${server.url}/?${query}`;
    await page.goto(url);
    await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
    const sentBefore = firehose.sent();
    const startedAt = performance.now();
    const result = await measure(page);
    const published = firehose.sent() - sentBefore;
    const elapsed = (performance.now() - startedAt) / 1000;
    const received = kind === 'seed' ? await page.evaluate(() => window.__received ?? 0) : undefined;
    mkdirSync(join(root, 'bench/results'), { recursive: true });
    await page.screenshot({ path: join(root, `bench/results/render-${kind}-${rate}.png`) });
    return {
      kind,
      rate,
      ...result,
      panels: panelCount(),
      publishedPerSec: Math.round(published / elapsed),
      received,
    };
  } finally {
    firehose.stop();
    await context.close();
    rmSync(profile, { recursive: true, force: true });
    await server.close();
  }
}

const seedDir = await buildSeedPage();
const results = [];
for (const rate of rates) {
  for (const kind of pageKinds) {
    console.log(`render: ${kind} at ${rate} msg/s over ${channels.length} channels, ${seconds} s…`);
    const result = await run(kind, rate, seedDir);
    console.log(`  ${JSON.stringify(result)}`);
    results.push(result);
  }
}

const machine = `${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}, Node ${process.version}`;
const lines = [
  `| page | msg/s (published) | panels | fps | React commits/s | main thread busy | script | layout+style |`,
  `|---|---|---|---|---|---|---|---|`,
  ...results.map(
    (r) =>
      `| ${r.kind === 'livedash' ? 'livedash dashboard' : 'seed-style (setState per message)'} | ${r.rate} (${r.publishedPerSec}) | ${r.panels} | ${r.fps} | ${r.reactCommitsPerSec} | ${r.busyPercent}% | ${r.scriptPercent}% | ${r.layoutStylePercent}% |`,
  ),
];
console.log(`\n${machine}\n${lines.join('\n')}`);
if (values.json)
  writeFileSync(
    values.json,
    JSON.stringify({ machine, seconds, channels: channels.length, results }, null, 2),
  );
