#!/usr/bin/env node
// Render benchmark: a firehose (thousands of messages per second over many channels) into the livedash
// dashboard in headless Chromium, side by side in one run with the same dashboard as built from an
// earlier commit (`--before`, "today's page") and, with `--kinds ...,naive`, the same panels built the
// guide's way (setState per message). Reports frames per second, main-thread busy time (Chromium's own
// TaskDuration, via CDP) and the CPU time of every Chromium process (renderer, workers, browser, GPU),
// read from /proc.
//
//   node bench/render/run.mjs [--seconds 10] [--rates 200,2000,5000,10000] [--channels 8] [--no-build]
//                             [--kinds before,livedash] [--before <commit>] [--client auto|in-page|worker]
//                             [--json out.json]
//
// Needs the built server and dashboard (`npm run build`; done first unless --no-build) and Chromium at
// /usr/bin/chromium (or LIVEDASH_CHROMIUM). Never part of `npm test`.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import react from '@vitejs/plugin-react';
import { chromium } from 'playwright-core';
import { build } from 'vite';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    rates: { type: 'string', default: '200,2000,5000,10000' },
    channels: { type: 'string', default: '8' },
    'no-build': { type: 'boolean', default: false },
    json: { type: 'string' },
    panels: { type: 'string', default: 'chart,gauge,stat' },
    kinds: { type: 'string', default: 'before,livedash' },
    // The dashboard before connections moved to a worker and charts drew only what changed.
    before: { type: 'string', default: '329a840' },
    client: { type: 'string', default: 'auto' },
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

/**
 * The dashboard as it was at commit `before`: its sources (dashboard and the libraries it imports) are
 * taken from git into a temporary tree whose node_modules point at this checkout's packages, except
 * the workspace's own, which point at that commit's, and built with that commit's Vite config.
 */
async function buildBeforePage(commit) {
  const tree = mkdtempSync(join(tmpdir(), 'livedash-before-'));
  const paths = [
    'apps/dashboard',
    'packages/client',
    'packages/react',
    'packages/protocol',
    'packages/dashboard-config',
  ];
  const files = ['tsconfig.base.json'];
  const archive = spawnSync('git', ['archive', '--format=tar', commit, ...paths, ...files], {
    cwd: root,
    maxBuffer: 1 << 28,
  });
  if (archive.status !== 0) throw new Error(`git archive ${commit} failed: ${archive.stderr}`);
  const untar = spawnSync('tar', ['-x', '-C', tree], { input: archive.stdout });
  if (untar.status !== 0) throw new Error(`tar failed: ${untar.stderr}`);
  const modules = join(tree, 'node_modules');
  mkdirSync(join(modules, '@livedash'), { recursive: true });
  for (const name of readdirSync(join(root, 'node_modules'))) {
    if (name === '@livedash' || name === '.bin') continue;
    symlinkSync(join(root, 'node_modules', name), join(modules, name));
  }
  for (const path of paths) {
    const name = JSON.parse(readFileSync(join(tree, path, 'package.json'), 'utf8')).name.replace(
      '@livedash/',
      '',
    );
    symlinkSync(join(tree, path), join(modules, '@livedash', name));
  }
  const outDir = join(root, 'bench/results/render-before-page');
  await build({
    root: join(tree, 'apps/dashboard'),
    configFile: join(tree, 'apps/dashboard/vite.config.ts'),
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true },
  });
  rmSync(tree, { recursive: true, force: true });
  return outDir;
}

/** Every process started under this one (Chromium's browser, GPU, network, renderers), from /proc. */
function descendants() {
  const parents = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(entry), Number(fields[1]));
    } catch {
      // gone meanwhile
    }
  }
  const mine = new Set([process.pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, parent] of parents)
      if (!mine.has(pid) && mine.has(parent)) {
        mine.add(pid);
        grew = true;
      }
  }
  mine.delete(process.pid);
  return [...mine];
}

/** CPU seconds (user + system) per process, and whether it is a renderer (pages and their workers). */
function cpuTimes() {
  const ticks = 100; // USER_HZ on Linux
  const times = new Map();
  for (const pid of descendants()) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      times.set(pid, {
        seconds: (Number(fields[11]) + Number(fields[12])) / ticks,
        renderer: cmdline.includes('--type=renderer'),
      });
    } catch {
      // gone meanwhile
    }
  }
  return times;
}

/** CPU used between two `cpuTimes()` readings, as % of one core: renderers, and all of Chromium. */
function cpuBetween(before, after, wallSeconds) {
  let renderer = 0;
  let all = 0;
  for (const [pid, end] of after) {
    const used = end.seconds - (before.get(pid)?.seconds ?? 0);
    all += used;
    if (end.renderer) renderer += used;
  }
  return {
    rendererCpuPercent: Number(((100 * renderer) / wallSeconds).toFixed(1)),
    chromiumCpuPercent: Number(((100 * all) / wallSeconds).toFixed(1)),
  };
}

async function buildNaivePage() {
  const outDir = join(root, 'bench/results/render-naive-page');
  await build({
    root: join(root, 'bench/render/naive-page'),
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
  const cpuBefore = cpuTimes();
  const wallStarted = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const cpu = cpuBetween(cpuBefore, cpuTimes(), (performance.now() - wallStarted) / 1000);
  const after = await read();
  const frames = (await page.evaluate(() => window.__frames)) - startedFrames;
  const commits = (await page.evaluate(() => window.__commits)) - startedCommits;
  const wall = after.Timestamp - before.Timestamp;
  await cdp.detach();
  return {
    ...cpu,
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

async function run(kind, rate, dirs) {
  // Each page is served by the livedash app itself, so both connect same-origin.
  const server = await startLivedash({
    port: 0,
    publishToken: 'bench',
    metricsIntervalMs: 0,
    alerts: [],
    staticDir: dirs[kind],
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
    const url =
      kind === 'naive'
        ? `${server.url}/?${query}`
        : kind === 'livedash'
          ? `${server.url}/?client=${values.client}`
          : server.url;
    await page.goto(url);
    await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
    const sentBefore = firehose.sent();
    const startedAt = performance.now();
    const result = await measure(page);
    const published = firehose.sent() - sentBefore;
    const elapsed = (performance.now() - startedAt) / 1000;
    const received = kind === 'naive' ? await page.evaluate(() => window.__received ?? 0) : undefined;
    const mode =
      kind === 'naive'
        ? 'in-page'
        : ((await page.locator('[data-testid=connection-badge]').getAttribute('data-mode')) ?? 'in-page');
    mkdirSync(join(root, 'bench/results'), { recursive: true });
    await page.screenshot({ path: join(root, `bench/results/render-${kind}-${rate}.png`) });
    return {
      kind,
      rate,
      ...result,
      panels: panelCount(),
      publishedPerSec: Math.round(published / elapsed),
      received,
      mode,
      load: loadavg()[0].toFixed(1),
    };
  } finally {
    firehose.stop();
    await context.close();
    rmSync(profile, { recursive: true, force: true });
    await server.close();
  }
}

const dirs = {
  livedash: join(root, 'apps/dashboard/dist'),
  naive: pageKinds.includes('naive') ? await buildNaivePage() : undefined,
  before: pageKinds.includes('before') ? await buildBeforePage(values.before) : undefined,
};
if (!existsSync(dirs.livedash)) throw new Error('no dashboard build: run npm run build');
const results = [];
for (const rate of rates) {
  for (const kind of pageKinds) {
    console.log(`render: ${kind} at ${rate} msg/s over ${channels.length} channels, ${seconds} s…`);
    const result = await run(kind, rate, dirs);
    console.log(`  ${JSON.stringify(result)}`);
    results.push(result);
  }
}

const machine = `${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}, Node ${process.version}`;
const NAMES = {
  livedash: 'livedash dashboard',
  before: `dashboard at ${values.before}`,
  naive: 'naive (setState per message)',
};
const lines = [
  `| page (connection) | msg/s (published) | panels | fps | main thread busy | renderer CPU | all Chromium CPU | React commits/s | load avg |`,
  `|---|---|---|---|---|---|---|---|---|`,
  ...results.map(
    (r) =>
      `| ${NAMES[r.kind]} (${r.mode}) | ${r.rate} (${r.publishedPerSec}) | ${r.panels} | ${r.fps} | ${r.busyPercent}% | ${r.rendererCpuPercent}% | ${r.chromiumCpuPercent}% | ${r.reactCommitsPerSec} | ${r.load} |`,
  ),
];
console.log(`\n${machine}\n${lines.join('\n')}`);
if (values.json)
  writeFileSync(
    values.json,
    JSON.stringify({ machine, seconds, channels: channels.length, results }, null, 2),
  );
