#!/usr/bin/env node
// `npm run bench [-- --quick] [-- --only=fanout,sse,channels,max-rate,storm] [-- --kinds=livedash,ws]`
// Builds the libraries, then runs each benchmark with the servers under test and the load generator in
// separate processes on 127.0.0.1, and writes bench/results/<date>.json and .md. Never part of `npm test`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { spawnWorker } from './lib/ipc.mjs';
import { renderMarkdown } from './lib/report.mjs';
import { plans } from './plans.mjs';
import { runServerKind } from './scenarios/fanout.mjs';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    kinds: { type: 'string' },
    clients: { type: 'string' },
    profile: { type: 'string' },
    'no-build': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(`usage: npm run bench [-- --quick] [-- --only=<${Object.keys(plans.full).join(',')}>] [-- --kinds=<k,…>]
  --quick     small runs, under 3 minutes
  --only      run only these benchmarks
  --kinds     run only these server kinds (livedash, socketio, ws, raw, livedash-sse, sse-raw)
  --clients   subscriber counts for the fan-out and max-rate benchmarks instead of the plan's (e.g. --clients=5000)
  --profile   write a V8 CPU profile of every fan-out and max-rate server under test into this folder
  --no-build  skip building the libraries first`);
  process.exit(0);
}

const plan = values.quick ? plans.quick : plans.full;
const only = values.only ? new Set(values.only.split(',')) : null;
const kindsFilter = values.kinds ? new Set(values.kinds.split(',')) : null;
const clientsOverride = values.clients ? values.clients.split(',').map(Number) : null;
if (clientsOverride?.some((n) => !Number.isInteger(n) || n < 1))
  throw new Error(`--clients takes positive whole numbers, e.g. --clients=1000,5000 (got ${values.clients})`);
for (const name of only ?? []) if (!plan[name]) throw new Error(`unknown benchmark ${name}`);

const root = new URL('..', import.meta.url).pathname;

/**
 * Every subscriber is one file descriptor in the load generator and one in the server, and Node cannot
 * raise its own limit. Past it, connections fail with EMFILE mid-run; say so before anything starts.
 */
function checkDescriptorLimit() {
  let most = 0;
  for (const [name, spec] of Object.entries(plan)) {
    if (only ? !only.has(name) : spec.optional) continue;
    if (spec.type === 'fanout') most = Math.max(most, ...(clientsOverride ?? spec.clients));
    else if (spec.type === 'max-rate') most = Math.max(most, ...(clientsOverride ?? spec.clients));
    else if (spec.type === 'storm') most = Math.max(most, spec.clients);
  }
  const needed = most + 256;
  const limit = Number(spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim());
  if (Number.isFinite(limit) && limit < needed) {
    console.error(
      `npm run bench: this run opens up to ${most} connections per process, but the open-file limit is ${limit}.\n` +
        `Run \`ulimit -n ${needed}\` (or more) in this shell first, or pick fewer subscribers with --clients=<n>.`,
    );
    process.exit(2);
  }
}

const log = (line) => console.log(line);

function build() {
  for (const name of ['protocol', 'client', 'server']) {
    const result = spawnSync('npx', ['tsc', '-p', `packages/${name}/tsconfig.build.json`], {
      cwd: root,
      stdio: 'inherit',
    });
    if (result.status === 0) continue;
    // tsc still emits on type errors; a benchmark can run on that, but says so.
    if (!existsSync(`${root}packages/${name}/dist/index.js`))
      throw new Error(`building packages/${name} failed`);
    console.warn(`warning: packages/${name} has type errors; benchmarking its emitted dist anyway`);
  }
}

function machine() {
  const list = cpus();
  return {
    cpu: list[0]?.model ?? 'unknown',
    cores: list.length,
    memoryGB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    // Other work on the machine skews every absolute figure: the 1, 5 and 15 minute load averages.
    loadAverage: loadavg().map((load) => Math.round(load * 100) / 100),
  };
}

async function runFanout(name, spec, loadgen) {
  const runs = [];
  for (const clients of clientsOverride ?? spec.clients) {
    for (const kind of spec.kinds) {
      if (kindsFilter && !kindsFilter.has(kind)) continue;
      try {
        runs.push(
          await runServerKind({
            kind,
            clients,
            channelCount: spec.channels,
            phases: spec.phases,
            loadgen,
            log,
            profileDir: values.profile,
          }),
        );
      } catch (error) {
        log(`  ${kind} N=${clients} failed: ${error.message}`);
        runs.push({ kind, clients, channels: spec.channels, error: error.message });
      }
    }
  }
  return { name, description: spec.description, runs };
}

/** `run(item)` for each item, one after another. */
async function runEach(items, run) {
  const results = [];
  for (const item of items) results.push(await run(item));
  return results;
}

async function main() {
  checkDescriptorLimit();
  const startedAt = new Date();
  if (!values['no-build']) build();
  const results = {
    startedAt: startedAt.toISOString(),
    mode: values.quick ? 'quick' : 'full',
    machine: machine(),
    benchmarks: [],
  };
  const loadgen = spawnWorker(new URL('./loadgen.mjs', import.meta.url).pathname, { name: 'loadgen' });
  try {
    for (const [name, spec] of Object.entries(plan)) {
      if (only ? !only.has(name) : spec.optional) continue;
      log(`${name}: ${spec.description}`);
      if (spec.type === 'external') {
        const run = spawnSync(process.execPath, [spec.script, ...spec.args], { cwd: root, stdio: 'inherit' });
        results.benchmarks.push({
          name,
          description: spec.description,
          external: { script: spec.script, status: run.status },
        });
      } else if (spec.type === 'fanout') results.benchmarks.push(await runFanout(name, spec, loadgen));
      else if (spec.type === 'max-rate') {
        const { runMaxRate } = await import('./scenarios/max-rate.mjs');
        results.benchmarks.push({
          name,
          description: spec.description,
          maxRate: await runEach(clientsOverride ?? spec.clients, (clients) =>
            runMaxRate({ ...spec, clients }, loadgen, log, values.profile),
          ),
        });
      } else if (spec.type === 'storm') {
        const { runStorm } = await import('./scenarios/storm.mjs');
        results.benchmarks.push({ name, description: spec.description, storm: await runStorm(spec, log) });
      }
    }
  } finally {
    await loadgen.stop();
  }
  results.seconds = Math.round((Date.now() - startedAt.getTime()) / 1000);
  const dir = new URL('./results/', import.meta.url).pathname;
  mkdirSync(dir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  writeFileSync(`${dir}${stamp}.json`, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(`${dir}${stamp}.md`, renderMarkdown(results));
  log(`\nwrote bench/results/${stamp}.json and .md in ${results.seconds} s`);
  log(renderMarkdown(results));
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
