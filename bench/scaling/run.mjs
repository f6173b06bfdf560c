#!/usr/bin/env node
// `node bench/scaling/run.mjs [--quick] [--no-build] [--nodes=memory,1,2,3] [--cluster=1,2,3] [--shards=3]`
// Deliveries per second with one, two and three livedash nodes sharing channels through one private Redis,
// and the same on a private Redis Cluster (`--broker-cluster`), side by side in one run. Every Redis is a
// `redis-server` started here on a free port and stopped by PID at the end. Every process is separate: each
// node, one load generator per node (bench/loadgen.mjs), and each Redis. Publishes enter on the first node,
// so with several nodes every message crosses Redis Pub/Sub to the others. Writes
// bench/results/scaling-<date>.json and .md.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { spawnWorker } from '../lib/ipc.mjs';
import { round } from '../lib/measure.mjs';
import { channelsByShard, flush, startCluster, startRedis } from './private-redis.mjs';
import { redisCpuSecondsEach } from './redis-stats.mjs';
import { describeFanout, describePublishing, renderMarkdown } from './report.mjs';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    // Node counts on one Redis; `memory`: one node with the in-memory broker, the single-node baseline.
    nodes: { type: 'string', default: 'memory,1,2,3' },
    // Node counts on the Redis Cluster; empty: no Cluster.
    cluster: { type: 'string', default: '1,2,3' },
    shards: { type: 'string', default: '3' },
  },
});

const list = (text) => text.split(',').filter((item) => item !== '');
const shardCount = Number(values.shards);
if (!Number.isInteger(shardCount) || shardCount < 3)
  throw new Error(
    `--shards takes a whole number of at least 3, the fewest masters of a Redis Cluster (got ${values.shards})`,
  );
for (const count of [...list(values.nodes).filter((n) => n !== 'memory'), ...list(values.cluster)])
  if (!/^[1-9]$/.test(count)) throw new Error(`node counts are 1 to 9 (got ${count})`);

const plan = values.quick
  ? {
      clients: 400,
      channels: 10,
      phases: [
        { name: 'rate', rate: 100, count: 500 },
        { name: 'saturation', rate: 0, count: 1000, burst: 20 },
      ],
      publishing: { channels: 100, seconds: 3, window: 32 },
    }
  : {
      clients: 2000,
      channels: 10,
      phases: [
        { name: 'rate', rate: 100, count: 1000 },
        { name: 'saturation', rate: 0, count: 3000, burst: 20 },
      ],
      // Redis's own limit: every node publishes to channels nobody watches, `window` awaiting an answer.
      publishing: { channels: 100, seconds: 5, window: 64 },
    };
/** The channels the subscribers watch, and the ones the publishing phase writes to (no client watches them). */
const watchedChannels = Array.from({ length: plan.channels }, (_, i) => `scale.${i}`);
const quietChannels = Array.from({ length: plan.publishing.channels }, (_, i) => `quiet.${i}`);
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

/**
 * Starts counting the CPU each Redis process spends from now on. The returned function gives each one's
 * CPU seconds since then, less `idle` (each one's CPU seconds per second with nothing published: its
 * cron, the Cluster bus, the nodes' liveness PINGs), so what remains is the cost of the publishes.
 */
async function redisCpuMeter(redis, idle = null) {
  const before = await redisCpuSecondsEach(redis.ports);
  const startedAt = performance.now();
  return async () => {
    const after = await redisCpuSecondsEach(redis.ports);
    const seconds = (performance.now() - startedAt) / 1000;
    return after.map((value, i) => Math.max(0, value - before[i] - (idle?.[i] ?? 0) * seconds));
  };
}

/** Each Redis process's CPU seconds per second while the nodes are connected and nothing is published. */
async function idleRedisCpu(redis, seconds = 3) {
  const used = await redisCpuMeter(redis);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  return (await used()).map((cpu) => round(cpu / seconds, 4));
}

/** One phase across every node and load generator: publish on node 0, wait for delivery everywhere. */
async function measure({ nodes, loadgens, redis, idle, phase }) {
  const counters = await nodes[0].call('counters');
  const loadgenBefore = await Promise.all(loadgens.map((loadgen) => loadgen.call('reset', { counters })));
  const nodesBefore = await Promise.all(nodes.map((node) => node.call('stats')));
  const redisUsed = redis ? await redisCpuMeter(redis, idle) : async () => [];
  const published = await nodes[0].call('publish', phase);
  const deliveries = await Promise.all(
    loadgens.map((loadgen) => loadgen.call('wait', { counters: published.counters, idleMs: 3000 }, 180_000)),
  );
  const nodesAfter = await Promise.all(nodes.map((node) => node.call('stats')));
  const redisCpuSeconds = await redisUsed();
  const delivered = deliveries.reduce((sum, d) => sum + d.received, 0);
  const expected = deliveries.reduce((sum, d) => sum + d.expected, 0);
  const lastAt = Math.max(...deliveries.map((d) => d.lastAt));
  const seconds = Math.max(0.001, (lastAt - published.startedAt) / 1000);
  const cpu = (before, after) =>
    (after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1e6;
  const nodeCpuSeconds = nodesAfter.map((after, i) => cpu(nodesBefore[i], after));
  const loadgenCpuSeconds = deliveries.map((d, i) => cpu(loadgenBefore[i], d));
  // Redis CPU above idle: the sum over every Redis process (each shard of a Cluster), and each one's share.
  const redisTotal = redisCpuSeconds.reduce((a, b) => a + b, 0);
  const perPublish = (cpuSeconds) => round((cpuSeconds * 1e6) / Math.max(1, published.published), 1);
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
    redisCpuMicrosPerPublish: redis ? perPublish(redisTotal) : null,
    redisCpuMicrosPerPublishEach: redisCpuSeconds.map(perPublish),
    // The busiest Redis process's CPU over the phase's wall time: 1 is one core fully used, the limit.
    redisBusiestCoreShare: redis ? round(Math.max(...redisCpuSeconds) / seconds, 2) : null,
    loadgenCpuSeconds: loadgenCpuSeconds.map((s) => round(s, 2)),
    seconds: round(seconds, 2),
  };
}

/**
 * Every node publishes acknowledged messages at once, to channels no client watches: no fan-out, so the
 * rate is what Redis (and the nodes' Redis clients) can take, and the busiest Redis core shows how close
 * one Redis process is to its limit.
 */
async function measurePublishing({ nodes, redis, idle, watched }) {
  const { seconds, window } = plan.publishing;
  const channels = quietChannels;
  const receivedBefore = await Promise.all(nodes.map((node) => node.call('watched')));
  const nodesBefore = await Promise.all(nodes.map((node) => node.call('stats')));
  const redisUsed = await redisCpuMeter(redis, idle);
  const started = performance.now();
  const answers = await Promise.all(
    nodes.map((node) => node.call('publishAcknowledged', { channels, seconds, window }, 120_000)),
  );
  const wall = (performance.now() - started) / 1000;
  const nodesAfter = await Promise.all(nodes.map((node) => node.call('stats')));
  const redisCpuSeconds = await redisUsed();
  const acknowledgedSoFar = answers.reduce((sum, a) => sum + a.acknowledged, 0);
  // Each watching node gets every publish once through Pub/Sub; wait (briefly) for the last ones.
  const received = async () =>
    (await Promise.all(nodes.map((node) => node.call('watched')))).reduce(
      (sum, now, i) => sum + now.messages - receivedBefore[i].messages,
      0,
    );
  const deadline = Date.now() + 5000;
  let pubsubReceived = await received();
  while (watched && pubsubReceived < acknowledgedSoFar * nodes.length && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    pubsubReceived = await received();
  }
  const acknowledged = answers.reduce((sum, a) => sum + a.acknowledged, 0);
  const perPublish = (cpuSeconds) => round((cpuSeconds * 1e6) / Math.max(1, acknowledged), 1);
  const nodeCpuSeconds = nodesAfter.map(
    (after, i) =>
      (after.cpu.user + after.cpu.system - nodesBefore[i].cpu.user - nodesBefore[i].cpu.system) / 1e6,
  );
  return {
    watchedBy: watched ? nodes.length : 0,
    acknowledged,
    pubsubReceived,
    refused: answers.reduce((sum, a) => sum + a.refused, 0),
    publishesPerSecond: Math.round(acknowledged / wall),
    latencyMs: {
      p50: Math.max(...answers.map((a) => a.latency.p50 ?? 0)),
      p99: Math.max(...answers.map((a) => a.latency.p99 ?? 0)),
    },
    nodeCpuMicrosPerPublish: perPublish(nodeCpuSeconds.reduce((a, b) => a + b, 0)),
    redisCpuMicrosPerPublish: perPublish(redisCpuSeconds.reduce((a, b) => a + b, 0)),
    redisCpuMicrosPerPublishEach: redisCpuSeconds.map(perPublish),
    redisBusiestCoreShare: round(Math.max(...redisCpuSeconds) / wall, 2),
    redisCoresUsed: round(redisCpuSeconds.reduce((a, b) => a + b, 0) / wall, 2),
    seconds: round(wall, 2),
  };
}

/** Every node watches `channels`; resolves once each node has received a message on every one of them. */
async function watchEverywhere(nodes, channels) {
  await Promise.all(nodes.map((node) => node.call('watch', { channels })));
  const deadline = Date.now() + 30_000;
  for (;;) {
    // Probes, so each node proves its Pub/Sub subscription to every channel works before measuring.
    await Promise.all(
      channels.map((channel) =>
        nodes[0].call('publishAcknowledged', { channels: [channel], seconds: 0, window: 1 }),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const seen = await Promise.all(nodes.map((node) => node.call('watched')));
    if (seen.every((node) => node.channels === channels.length)) return;
    if (Date.now() > deadline)
      throw new Error('nodes did not receive Pub/Sub messages on every watched channel');
  }
}

/** Connects `clients` WebSocket subscribers to `node` from `loadgen`, spread over the watched channels. */
async function connectSubscribers(loadgen, node, clients) {
  const connected = await loadgen.call(
    'connect',
    { kind: 'livedash', base: `127.0.0.1:${node.port}`, clients, channels: watchedChannels },
    300_000,
  );
  if (connected.failed > 0) log(`  ${connected.failed} of ${clients} subscribers failed to connect`);
}

async function runConfiguration({ nodeCount, redis }) {
  const prefix = `bench-scaling-${nodeCount}-${Date.now()}:`;
  const label = `${nodeCount} node(s), ${redis ? redis.label : 'in-memory broker'}:`;
  const nodes = [];
  const loadgens = [];
  try {
    for (let i = 0; i < nodeCount; i++) {
      const node = spawnWorker(here('./node.mjs'), { name: `node${i}` });
      nodes.push(node);
      const brokerOptions = redis ? redis.brokerOptions : {};
      node.port = (await node.call('start', { ...brokerOptions, brokerPrefix: prefix, node: `n${i}` })).port;
    }
    await nodes[0].call('channels', { channels: watchedChannels });
    const perNode = Math.floor(plan.clients / nodeCount);
    for (const node of nodes) {
      // One load generator per node, each in its own process, pushed first so `finally` stops it.
      const loadgen = spawnWorker(new URL('../loadgen.mjs', import.meta.url).pathname, { name: 'loadgen' });
      loadgens.push(loadgen);
      await connectSubscribers(loadgen, node, perNode);
    }
    // Warm-up, so the JIT has compiled the hot paths before anything is measured.
    await measure({ nodes, loadgens, redis, phase: { rate: 50, count: 50 } });
    const idle = redis ? await idleRedisCpu(redis) : null;
    if (idle) log(`  ${label} idle Redis CPU ${idle.map((cpu) => round(cpu * 1000, 1)).join(' + ')} ms/s`);
    const phases = {};
    for (const phase of plan.phases) {
      phases[phase.name] = await measure({ nodes, loadgens, redis, idle, phase });
      log(describeFanout(label, phase.name, phases[phase.name]));
    }
    await Promise.all(loadgens.map((loadgen) => loadgen.call('closeAll')));
    const publishing = [];
    if (redis) {
      publishing.push(await measurePublishing({ nodes, redis, idle, watched: false }));
      await watchEverywhere(nodes, quietChannels);
      publishing.push(await measurePublishing({ nodes, redis, idle, watched: true }));
      for (const phase of publishing) log(describePublishing(label, phase));
    }
    return {
      nodes: nodeCount,
      broker: redis ? redis.kind : 'memory',
      clients: perNode * nodeCount,
      channels: plan.channels,
      redisIdleCpuPerSecond: idle,
      phases,
      publishing,
    };
  } finally {
    await Promise.all([...loadgens, ...nodes].map((worker) => worker.stop()));
    if (redis) await flush(redis);
  }
}

async function main() {
  if (!values['no-build']) build();
  const loadStart = loadavg().map((n) => round(n, 2));
  const brokers = [];
  // Never leave a private Redis behind, however this process ends.
  process.on('exit', () => {
    for (const redis of brokers) redis.kill();
  });
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(1));
  const configurations = [];
  const results = [];
  let perShard = null;
  try {
    const onRedis = list(values.nodes);
    if (onRedis.some((count) => count !== 'memory')) brokers.push(await startRedis());
    const redis = brokers[0];
    for (const count of onRedis)
      configurations.push(count === 'memory' ? { nodeCount: 1 } : { nodeCount: Number(count), redis });
    if (list(values.cluster).length > 0) {
      const cluster = await startCluster(shardCount);
      brokers.push(cluster);
      for (const count of list(values.cluster))
        configurations.push({ nodeCount: Number(count), redis: cluster });
      const count = async (channels) =>
        Object.values(await channelsByShard(cluster, channels)).map((onShard) => onShard.length);
      perShard = { watched: await count(watchedChannels), quiet: await count(quietChannels) };
    }
    log(
      `scaling benchmark: ${plan.clients} WebSocket subscribers over ${plan.channels} channels; ` +
        brokers
          .map((broker) => `${broker.label} on ${broker.ports.join(',')} (pid ${broker.pids.join(',')})`)
          .join('; '),
    );
    if (perShard)
      log(
        `  channels per Cluster shard: ${perShard.watched.join(' / ')} watched, ${perShard.quiet.join(' / ')} published to`,
      );
    for (const configuration of configurations) {
      const result = await runConfiguration(configuration);
      if (configuration.redis?.kind === 'cluster') result.shards = shardCount;
      results.push(result);
    }
  } finally {
    for (const redis of brokers) redis.kill();
  }
  const report = {
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version },
    loadavg: { start: loadStart, end: loadavg().map((n) => round(n, 2)) },
    plan: values.quick ? 'quick' : 'full',
    publishing: plan.publishing,
    channelsPerShard: perShard,
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
