#!/usr/bin/env node
// `node bench/scaling/run.mjs [--quick] [--no-build] [--nodes=memory,1,2,3]`
// Deliveries per second with one livedash node versus two, sharing channels through a private Redis
// (`redis-server` started here on a free port, stopped at the end). Every process is separate: each node,
// one load generator per node (bench/loadgen.mjs), and Redis. Publishes enter on the first node, so with
// two nodes every message crosses Redis Pub/Sub to the second. Writes bench/results/scaling-<date>.json.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { spawnWorker } from '../lib/ipc.mjs';
import { round } from '../lib/measure.mjs';
import { redisCommand, redisCpuSeconds } from './redis-stats.mjs';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    // `memory`: one node with the in-memory broker, the single-node baseline Redis is compared with.
    nodes: { type: 'string', default: 'memory,1,2,3' },
  },
});

const plan = values.quick
  ? {
      clients: 400,
      channels: 10,
      phases: [
        { name: 'rate', rate: 100, count: 500 },
        { name: 'saturation', rate: 0, count: 1000, burst: 20 },
      ],
    }
  : {
      clients: 2000,
      channels: 10,
      phases: [
        { name: 'rate', rate: 100, count: 1000 },
        { name: 'saturation', rate: 0, count: 3000, burst: 20 },
      ],
    };
const root = new URL('../../', import.meta.url).pathname;
const here = (path) => new URL(path, import.meta.url).pathname;
const log = (line) => console.log(line);

function build() {
  for (const name of ['protocol', 'server']) {
    spawnSync('npx', ['tsc', '-p', `packages/${name}/tsconfig.build.json`], { cwd: root, stdio: 'inherit' });
    // tsc emits even with type errors elsewhere; only a missing build stops the benchmark.
    if (!existsSync(`${root}packages/${name}/dist/index.js`))
      throw new Error(`building packages/${name} failed`);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startRedis() {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const url = `redis://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 100; attempt++) {
    if ((await redisCommand(port, ['PING']).catch(() => '')) === 'PONG') return { child, port, url };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error('redis-server did not start');
}

/** One phase across every node and load generator: publish on node 0, wait for delivery everywhere. */
async function measure({ nodes, loadgens, redisPort, phase }) {
  const counters = await nodes[0].call('counters');
  const loadgenBefore = await Promise.all(loadgens.map((loadgen) => loadgen.call('reset', { counters })));
  const nodesBefore = await Promise.all(nodes.map((node) => node.call('stats')));
  const redisBefore = await redisCpuSeconds(redisPort);
  const published = await nodes[0].call('publish', phase);
  const deliveries = await Promise.all(
    loadgens.map((loadgen) => loadgen.call('wait', { counters: published.counters, idleMs: 3000 }, 180_000)),
  );
  const nodesAfter = await Promise.all(nodes.map((node) => node.call('stats')));
  const redisAfter = await redisCpuSeconds(redisPort);
  const delivered = deliveries.reduce((sum, d) => sum + d.received, 0);
  const expected = deliveries.reduce((sum, d) => sum + d.expected, 0);
  const lastAt = Math.max(...deliveries.map((d) => d.lastAt));
  const seconds = Math.max(0.001, (lastAt - published.startedAt) / 1000);
  const cpu = (before, after) =>
    (after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1e6;
  const nodeCpuSeconds = nodesAfter.map((after, i) => cpu(nodesBefore[i], after));
  const loadgenCpuSeconds = deliveries.map((d, i) => cpu(loadgenBefore[i], d));
  return {
    rate: phase.rate > 0 ? phase.rate : 'saturation',
    published: published.published,
    expected,
    delivered,
    lost: expected - delivered,
    duplicates: deliveries.reduce((sum, d) => sum + d.duplicates, 0),
    deliveriesPerSecond: Math.round(delivered / seconds),
    publishesPerSecond: Math.round(published.published / seconds),
    latencyMs: {
      p50: Math.max(...deliveries.map((d) => d.latency.p50)),
      p99: Math.max(...deliveries.map((d) => d.latency.p99)),
    },
    nodeCpuSeconds: nodeCpuSeconds.map((s) => round(s, 2)),
    // Fan-out work per unit of node CPU, all nodes together: flat from one node to two means adding nodes
    // adds capacity (each node only pays for its own subscribers, plus one Pub/Sub message per publish).
    deliveriesPerNodeCpuSecond: Math.round(
      delivered /
        Math.max(
          1e-6,
          nodeCpuSeconds.reduce((a, b) => a + b, 0),
        ),
    ),
    nodeCpuMicrosPerDelivery: nodeCpuSeconds.map((s, i) =>
      round((s * 1e6) / Math.max(1, deliveries[i].received), 2),
    ),
    redisCpuMicrosPerPublish: round(((redisAfter - redisBefore) * 1e6) / Math.max(1, published.published), 1),
    loadgenCpuSeconds: loadgenCpuSeconds.map((s) => round(s, 2)),
    seconds: round(seconds, 2),
  };
}

async function runConfiguration(configuration, redis) {
  const inMemory = configuration === 'memory';
  const nodeCount = inMemory ? 1 : Number(configuration);
  const prefix = `bench-scaling-${nodeCount}-${Date.now()}:`;
  const label = inMemory ? '1 node, in-memory broker:' : `${nodeCount} node(s), Redis:`;
  const nodes = [];
  const loadgens = [];
  try {
    for (let i = 0; i < nodeCount; i++) {
      const node = spawnWorker(here('./node.mjs'), { name: `node${i}` });
      nodes.push(node);
      const brokerUrl = inMemory ? undefined : redis.url;
      node.port = (await node.call('start', { brokerUrl, brokerPrefix: prefix, node: `n${i}` })).port;
    }
    const channels = Array.from({ length: plan.channels }, (_, i) => `scale.${i}`);
    await nodes[0].call('channels', { channels });
    const perNode = Math.floor(plan.clients / nodeCount);
    for (const node of nodes) {
      const loadgen = spawnWorker(new URL('../loadgen.mjs', import.meta.url).pathname, { name: 'loadgen' });
      loadgens.push(loadgen);
      const connected = await loadgen.call(
        'connect',
        { kind: 'livedash', base: `127.0.0.1:${node.port}`, clients: perNode, channels },
        300_000,
      );
      if (connected.failed > 0) log(`  ${connected.failed} of ${perNode} subscribers failed to connect`);
    }
    // Warm-up, so the JIT has compiled the hot paths before anything is measured.
    await measure({ nodes, loadgens, redisPort: redis.port, phase: { rate: 50, count: 50 } });
    const phases = {};
    for (const phase of plan.phases) {
      const result = await measure({ nodes, loadgens, redisPort: redis.port, phase });
      phases[phase.name] = result;
      log(
        `  ${label} ${phase.name.padEnd(10)} ${result.deliveriesPerSecond} deliveries/s ` +
          `(${result.publishesPerSecond} publishes/s), p50 ${result.latencyMs.p50} p99 ${result.latencyMs.p99} ms, ` +
          `node µs/delivery ${result.nodeCpuMicrosPerDelivery.join(' / ')}, Redis µs/publish ${result.redisCpuMicrosPerPublish}, lost ${result.lost}`,
      );
    }
    await Promise.all(loadgens.map((loadgen) => loadgen.call('closeAll')));
    await redisCommand(redis.port, [
      'EVAL',
      "for _,k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end",
      '0',
      `${prefix}*`,
    ]);
    const broker = inMemory ? 'memory' : 'redis';
    return { nodes: nodeCount, broker, clients: perNode * nodeCount, channels: plan.channels, phases };
  } finally {
    await Promise.all([...loadgens, ...nodes].map((worker) => worker.stop()));
  }
}

/** The table docs/scaling.md shows. */
function renderMarkdown(report) {
  const lines = [
    `Run ${report.date} (${report.plan} plan) on ${report.machine.cores} × ${report.machine.cpu}, Node ${report.machine.node}.`,
    '',
    '| nodes (broker) | subscribers | phase | publishes/s | deliveries/s | p50 / p99 latency, ms | node CPU µs per delivery | deliveries per node-CPU-second | Redis CPU µs per publish | lost |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const result of report.results) {
    for (const [name, phase] of Object.entries(result.phases)) {
      lines.push(
        `| ${result.nodes} (${result.broker}) | ${result.clients} | ${name === 'rate' ? `fixed ${phase.rate}/s` : 'saturation'} | ` +
          `${phase.publishesPerSecond} | ${phase.deliveriesPerSecond} | ${phase.latencyMs.p50} / ${phase.latencyMs.p99} | ` +
          `${phase.nodeCpuMicrosPerDelivery.join(' / ')} | ${phase.deliveriesPerNodeCpuSecond} | ${result.broker === 'redis' ? phase.redisCpuMicrosPerPublish : '—'} | ${phase.lost} |`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

async function main() {
  if (!values['no-build']) build();
  const redis = await startRedis();
  // Never leave the private Redis behind, however this process ends.
  process.on('exit', () => redis.child.kill('SIGKILL'));
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(1));
  const results = [];
  try {
    log(
      `scaling benchmark: ${plan.clients} WebSocket subscribers over ${plan.channels} channels, private Redis on ${redis.port}`,
    );
    for (const configuration of values.nodes.split(','))
      results.push(await runConfiguration(configuration, redis));
  } finally {
    redis.child.kill('SIGTERM');
  }
  const report = {
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version },
    plan: values.quick ? 'quick' : 'full',
    results,
  };
  mkdirSync(`${root}bench/results`, { recursive: true });
  const file = `${root}bench/results/scaling-${report.date.replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(file.replace(/\.json$/, '.md'), renderMarkdown(report));
  log(renderMarkdown(report));
  log(`wrote ${file} and .md`);
}

await main();
