#!/usr/bin/env node
// Client-side cost (issue 7, item 6): main-thread time headless Chromium spends receiving and applying
// N messages per second through LiveClient, per 1,000 messages, next to a bare WebSocket + JSON.parse
// page receiving the same messages.
//
//   node bench/client-cost.mjs [--rates 500,2000] [--seconds 5] [--rounds 1] [--paths subscribe,channel]
//                              [--baseline <git ref>] [--profile <path prefix>]
//
// Paths: `subscribe` is `client.subscribe(channel, listener)`; `channel` is `client.channel(channel)`,
// the store the React hooks read (one snapshot per animation frame). Each is measured per client build.
//
// --baseline builds the LiveClient of that git ref (packages/client and packages/protocol from `git
// archive`, the working tree untouched) into the same page, so one run measures the old client, the
// new one and the bare page side by side, in turns. --profile then takes a CPU profile of each
// LiveClient page at each rate (after the measurements, so the profiler's overhead is not in them),
// writes `<prefix>-<page>-<rate>.cpuprofile` (open in Chrome DevTools) and prints the top self-time
// functions. Needs the built app (`npm run build`) and Chromium at /usr/bin/chromium (or
// LIVEDASH_CHROMIUM).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { build } from 'vite';
import { checkoutClientSources } from './lib/baseline-client.mjs';

const { values } = parseArgs({
  options: {
    rates: { type: 'string', default: '500,2000' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '1' },
    baseline: { type: 'string' },
    profile: { type: 'string' },
    paths: { type: 'string', default: 'subscribe,channel' },
    top: { type: 'string', default: '12' },
  },
});
const rates = values.rates.split(',').map(Number);
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
if (rates.some((rate) => !(rate > 0)) || !(seconds > 0) || !(rounds >= 1)) {
  throw new Error('--rates takes positive numbers, --seconds a positive number, --rounds at least 1');
}
const root = new URL('..', import.meta.url).pathname;
// The livedash app serves the page (`staticDir`); the core alone serves no files.
const { startLivedash } = await import(new URL('../apps/livedash/dist/index.js', import.meta.url).href);

/**
 * One page with up to two LiveClients in it: `@livedash/client` (the working tree) and
 * `@livedash/client-baseline` (the baseline ref, each with its own protocol package). Unminified, so
 * profiles name the functions; es2022 like the dashboard's build, so `#private` members stay native.
 */
async function buildPage(baselineDir) {
  const outDir = join(root, 'bench/results/client-cost-page');
  const current = {
    client: join(root, 'packages/client/src/index.ts'),
    protocol: join(root, 'packages/protocol/src/index.ts'),
  };
  const baseline = baselineDir
    ? {
        client: join(baselineDir, 'packages/client/src/index.ts'),
        protocol: join(baselineDir, 'packages/protocol/src/index.ts'),
      }
    : current;
  await build({
    root: join(root, 'bench/client-cost'),
    base: './',
    logLevel: 'warn',
    plugins: [
      {
        name: 'livedash-client-versions',
        enforce: 'pre',
        resolveId(id, importer) {
          if (id === '@livedash/client') return current.client;
          if (id === '@livedash/client-baseline') return baseline.client;
          if (id === '@livedash/protocol') {
            const fromBaseline = baselineDir !== undefined && importer?.startsWith(baselineDir);
            return fromBaseline ? baseline.protocol : current.protocol;
          }
          return null;
        },
      },
    ],
    build: { outDir, emptyOutDir: true, minify: false, target: 'es2022' },
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

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Opens `target` (a page of `pages`) with messages flowing at `rate`, warmed up; `run(page, cdp)` then measures. */
async function withPage(browser, url, target, hub, rate, run) {
  const page = await browser.newPage();
  const stop = publish(hub, rate);
  try {
    await page.goto(`${url}/?mode=${target.mode}&client=${target.client}`);
    await page.waitForFunction(() => window.__received > 0, undefined, { timeout: 20_000 });
    await sleep(1000); // warm-up: the JIT has seen the path
    const cdp = await page.context().newCDPSession(page);
    return await run(page, cdp);
  } finally {
    stop();
    await page.close();
  }
}

async function measure(browser, url, target, hub, rate) {
  return withPage(browser, url, target, hub, rate, async (page, cdp) => {
    await cdp.send('Performance.enable');
    const read = async () =>
      Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
    const before = await read();
    const receivedBefore = await page.evaluate(() => window.__received);
    await sleep(seconds * 1000);
    const after = await read();
    const received = (await page.evaluate(() => window.__received)) - receivedBefore;
    const perThousand = (metric) => ((after[metric] - before[metric]) * 1000 * 1000) / received;
    return {
      received,
      taskMsPer1000: perThousand('TaskDuration'),
      scriptMsPer1000: perThousand('ScriptDuration'),
    };
  });
}

/** Self time per function (name, file, line) from a CDP CPU profile, largest first. */
function selfTimes(profile) {
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i + 1] ?? 0;
    const { functionName, url, lineNumber } = byNode.get(id).callFrame;
    const file = url ? url.slice(url.lastIndexOf('/') + 1) : '';
    const key = `${functionName || '(anonymous)'}${file ? ` ${file}:${lineNumber + 1}` : ''}`;
    totals.set(key, (totals.get(key) ?? 0) + delta);
    total += delta;
  });
  return { total, rows: [...totals].sort((a, b) => b[1] - a[1]) };
}

async function profilePage(browser, url, target, hub, rate, path) {
  return withPage(browser, url, target, hub, rate, async (page, cdp) => {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 100 }); // µs
    const receivedBefore = await page.evaluate(() => window.__received);
    await cdp.send('Profiler.start');
    await sleep(seconds * 1000);
    const { profile } = await cdp.send('Profiler.stop');
    const received = (await page.evaluate(() => window.__received)) - receivedBefore;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, JSON.stringify(profile));
    return { received, ...selfTimes(profile) };
  });
}

const paths = values.paths.split(',');
if (paths.some((path) => path !== 'subscribe' && path !== 'channel')) {
  throw new Error('--paths takes subscribe and/or channel');
}
/** The pages measured, in the order they take turns: the bare page, then each path per client build. */
const pages = [{ key: 'raw', mode: 'raw', client: 'new', label: 'bare WebSocket + JSON.parse' }];
for (const path of paths) {
  const what = path === 'subscribe' ? 'LiveClient subscribe' : 'LiveClient channel store';
  if (values.baseline)
    pages.push({
      key: `baseline-${path}`,
      mode: path,
      client: 'baseline',
      label: `${what} (${values.baseline})`,
    });
  pages.push({
    key: path,
    mode: path,
    client: 'new',
    label: `${what}${values.baseline ? ' (working tree)' : ''}`,
  });
}
const median = (list) => {
  const sorted = [...list].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const baselineDir = values.baseline ? checkoutClientSources(root, values.baseline) : undefined;
const pageDir = await buildPage(baselineDir);
const server = await startLivedash({
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
  if (values.baseline) console.log(`baseline: ${values.baseline}; rounds: ${rounds}; ${seconds} s each`);
  /** results[rate][page] = one entry per round; the pages take turns so drifting load hits all alike. */
  const results = new Map(rates.map((rate) => [rate, new Map(pages.map((p) => [p.key, []]))]));
  for (let round = 0; round < rounds; round++) {
    for (const rate of rates) {
      for (const p of pages) {
        results
          .get(rate)
          .get(p.key)
          .push(await measure(browser, server.url, p, server.hub, rate));
      }
    }
  }
  console.log(
    `\n| page | msg/s | received | main thread ms / 1,000 msgs | script ms / 1,000 msgs | script vs bare |${rounds > 1 ? ' script per round |' : ''}`,
  );
  console.log(`|---|---:|---:|---:|---:|---:|${rounds > 1 ? '---|' : ''}`);
  for (const rate of rates) {
    const bareScript = median(
      results
        .get(rate)
        .get('raw')
        .map((r) => r.scriptMsPer1000),
    );
    for (const p of pages) {
      const runs = results.get(rate).get(p.key);
      const task = median(runs.map((r) => r.taskMsPer1000));
      const script = median(runs.map((r) => r.scriptMsPer1000));
      const received = Math.round(median(runs.map((r) => r.received)));
      const perRound = rounds > 1 ? ` ${runs.map((r) => r.scriptMsPer1000.toFixed(1)).join(', ')} |` : '';
      console.log(
        `| ${p.label} | ${rate} | ${received} | ${task.toFixed(1)} | ${script.toFixed(2)} | ${(script / bareScript).toFixed(2)}× |${perRound}`,
      );
    }
  }
  if (values.profile) {
    const top = Number(values.top);
    for (const rate of rates) {
      for (const p of pages) {
        const path = `${values.profile}-${p.key}-${rate}.cpuprofile`;
        const { received, total, rows } = await profilePage(browser, server.url, p, server.hub, rate, path);
        console.log(`\n${p.label} at ${rate} msg/s: ${received} messages, profile in ${path}`);
        console.log('| self time (µs per message) | % of samples | function |\n|---:|---:|---|');
        for (const [name, us] of rows.slice(0, top)) {
          console.log(`| ${(us / received).toFixed(3)} | ${((us / total) * 100).toFixed(1)} | ${name} |`);
        }
      }
    }
  }
} finally {
  await browser.close();
  await server.close();
  if (baselineDir) rmSync(baselineDir, { recursive: true, force: true });
}
