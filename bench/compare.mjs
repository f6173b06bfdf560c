#!/usr/bin/env node
// `node bench/compare.mjs [--baseline=291fc4d] [--rounds=3] [--clients=1000] [--kinds=livedash,livedash-sse] [--keep]`
//
// Did a change make the server slower? Builds the baseline commit in a temporary git worktree, then runs
// `npm run bench`'s fan-out scenario (one channel, N subscribers, 10 msg/s to each, then saturation)
// against the baseline's server and this checkout's, alternating (baseline, current, then current,
// baseline, …) in one run so both see the same machine load, and prints each measure's median per build
// and the ratio current / baseline. Takes a few minutes; never part of `npm test`.
//
// The two builds differ only in the server: the load generator, the measuring and the server harness
// (bench/servers/livedash.mjs) are this checkout's, pointed at the baseline's `packages/server/dist`.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { spawnWorker } from './lib/ipc.mjs';
import { runServerKind } from './scenarios/fanout.mjs';

const { values } = parseArgs({
  options: {
    baseline: { type: 'string', default: '291fc4d' },
    rounds: { type: 'string', default: '3' },
    clients: { type: 'string', default: '1000' },
    kinds: { type: 'string', default: 'livedash,livedash-sse' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(`usage: node bench/compare.mjs [--baseline=<commit>] [--rounds=<n>] [--clients=<n>] [--kinds=<k,…>] [--keep]
  --baseline  commit to compare with (default 291fc4d, the last commit before the packages were split)
  --rounds    runs of each build per kind, alternating (default 3; the medians are compared)
  --clients   subscribers (default 1000)
  --kinds     livedash (WebSocket) and/or livedash-sse (default both)
  --keep      keep the baseline's worktree (in the temp folder) for the next run instead of removing it`);
  process.exit(0);
}
const rounds = Number(values.rounds);
const clients = Number(values.clients);
const kinds = values.kinds.split(',');
if (!Number.isInteger(rounds) || rounds < 1)
  throw new Error(`--rounds takes a whole number ≥ 1, got ${values.rounds}`);
if (!Number.isInteger(clients) || clients < 1)
  throw new Error(`--clients takes a whole number ≥ 1, got ${values.clients}`);
for (const kind of kinds)
  if (kind !== 'livedash' && kind !== 'livedash-sse')
    throw new Error(`--kinds takes livedash and livedash-sse, got ${kind}`);

const root = fileURLToPath(new URL('..', import.meta.url));
const git = (...args) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
const baselineCommit = git('rev-parse', '--short', `${values.baseline}^{commit}`);
const currentCommit = git('rev-parse', '--short', 'HEAD');
const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
const log = (line) => console.log(line);

/** Builds the server (and what it imports) of a checkout with tsc; emitted output is used despite type errors. */
function buildServer(dir) {
  for (const name of ['protocol', 'client', 'server']) {
    const config = join(dir, `packages/${name}/tsconfig.build.json`);
    if (!existsSync(config)) continue;
    spawnSync('npx', ['tsc', '-p', config], { cwd: dir, stdio: 'ignore' });
  }
  const dist = join(dir, 'packages/server/dist/index.js');
  if (!existsSync(dist)) throw new Error(`building the server in ${dir} produced no ${dist}`);
  return dist;
}

/** The baseline in a worktree of its own, with its own dependencies, built. */
function prepareBaseline() {
  const dir = join(tmpdir(), `livedash-bench-baseline-${baselineCommit}`);
  if (!existsSync(join(dir, 'node_modules'))) {
    if (existsSync(dir)) git('worktree', 'remove', '--force', dir);
    log(`baseline ${baselineCommit}: worktree in ${dir}, installing its dependencies…`);
    git('worktree', 'add', '--detach', dir, baselineCommit);
    const install = spawnSync(
      'npm',
      ['ci', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'],
      {
        cwd: dir,
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    if (install.status !== 0) throw new Error(`npm ci in ${dir} failed`);
  }
  log(`baseline ${baselineCommit}: building the server…`);
  return { dir, dist: buildServer(dir) };
}

const median = (list) => {
  const sorted = list.filter((value) => typeof value === 'number').sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** What is compared, per phase: lower is better for all but throughput. */
const MEASURES = [
  ['fixed', 'cpuMicrosPerDelivery', 'µs CPU/delivery at 10 msg/s'],
  ['fixed', 'p99', 'p99 latency at 10 msg/s, ms'],
  ['saturation', 'cpuMicrosPerDelivery', 'µs CPU/delivery, saturated'],
  ['saturation', 'achievedPerSecond', 'deliveries/s, saturated (higher is better)'],
  ['saturation', 'p50', 'p50 latency saturated, ms'],
  ['idle', 'rssPerIdleConnectionBytes', 'RSS per idle connection, bytes'],
];

function pick(run, phase, measure) {
  if (phase === 'idle') return run[measure];
  const result = run.phases?.[phase];
  if (!result) return undefined;
  if (measure === 'p50' || measure === 'p99') return result.latencyMs?.[measure];
  return result[measure];
}

/** The 1-, 5- and 15-minute load averages, to say how busy the machine was. */
const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');

async function main() {
  const startedAt = Date.now();
  const loadAtStart = load();
  const baseline = prepareBaseline();
  log(`current ${currentCommit}${dirty ? ' (with uncommitted changes)' : ''}: building the server…`);
  const current = { dir: root, dist: buildServer(root) };
  const builds = {
    baseline: {
      ...baseline,
      // Before the split the server started host metrics and alerts unless told not to.
      env: {
        LIVEDASH_BENCH_SERVER_DIST: baseline.dist,
        LIVEDASH_BENCH_SERVER_OPTIONS: JSON.stringify({ metricsIntervalMs: 0, alerts: [] }),
      },
    },
    current: { ...current, env: { LIVEDASH_BENCH_SERVER_DIST: current.dist } },
  };
  const phases = [
    { name: 'fixed', rate: 10, count: 30, idleMs: 2000 },
    {
      name: 'saturation',
      rate: 0,
      count: Math.max(1, Math.round(50_000 / clients)),
      burst: 10,
      idleMs: 2000,
    },
  ];
  const runs = { baseline: {}, current: {} };
  const loadgen = spawnWorker(new URL('./loadgen.mjs', import.meta.url).pathname, { name: 'loadgen' });
  try {
    for (let round = 0; round < rounds; round++) {
      // Alternate which build goes first, so neither always runs on a warmer (or busier) machine.
      const order = round % 2 === 0 ? ['baseline', 'current'] : ['current', 'baseline'];
      for (const kind of kinds) {
        for (const build of order) {
          log(`round ${round + 1}/${rounds}, ${kind}, ${build}:`);
          const run = await runServerKind({
            kind,
            clients,
            channelCount: 1,
            phases,
            loadgen,
            log,
            env: builds[build].env,
          });
          runs[build][kind] = [...(runs[build][kind] ?? []), run];
        }
      }
    }
  } finally {
    await loadgen.stop();
    if (!values.keep) git('worktree', 'remove', '--force', baseline.dir);
  }

  const rows = [];
  for (const kind of kinds) {
    for (const [phase, measure, label] of MEASURES) {
      const before = median(runs.baseline[kind].map((run) => pick(run, phase, measure)));
      const after = median(runs.current[kind].map((run) => pick(run, phase, measure)));
      const ratio = before && after !== null ? Math.round((after / before) * 100) / 100 : null;
      rows.push({ kind, label, before, after, ratio });
    }
  }
  const seconds = Math.round((Date.now() - startedAt) / 1000);
  const lines = [
    `baseline ${baselineCommit} vs current ${currentCommit}${dirty ? '+changes' : ''}: ${clients} subscribers on one channel, ` +
      `${rounds} alternating round(s), medians, in ${seconds} s; load average ${loadAtStart} at the start, ${load()} at the end`,
    '',
    '| transport | measure | baseline | current | current / baseline |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map(
      ({ kind, label, before, after, ratio }) =>
        `| ${kind === 'livedash' ? 'WebSocket' : 'SSE'} | ${label} | ${before ?? '—'} | ${after ?? '—'} | ${ratio ?? '—'} |`,
    ),
  ];
  log(`\n${lines.join('\n')}`);
  const dir = join(root, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const stamp = new Date(startedAt).toISOString().replace(/[:.]/g, '-');
  writeFileSync(
    join(dir, `compare-${stamp}.json`),
    `${JSON.stringify({ baselineCommit, currentCommit, dirty, clients, rounds, loadAtStart, loadAtEnd: load(), runs, rows }, null, 2)}\n`,
  );
  writeFileSync(join(dir, `compare-${stamp}.md`), `${lines.join('\n')}\n`);
  log(`\nwrote bench/results/compare-${stamp}.json and .md`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
