// What the scaling benchmark prints: one line per measured phase while it runs, and the markdown tables
// docs/scaling.md shows, from the report it writes.
import { round } from '../lib/measure.mjs';

const brokerName = (result) =>
  result.broker === 'cluster'
    ? `Cluster, ${result.shards} shards`
    : result.broker === 'redis'
      ? 'one Redis'
      : 'in-memory';

/** Redis CPU per publish, followed by each shard's share when there are several Redis processes. */
function redisPerPublish(phase) {
  if (phase.redisCpuMicrosPerPublish === null) return '—';
  const each = phase.redisCpuMicrosPerPublishEach;
  return `${phase.redisCpuMicrosPerPublish}${each.length > 1 ? ` (${each.join(' + ')})` : ''}`;
}

const percent = (share) => (share === null ? '—' : `${Math.round(share * 100)} %`);

export function describeFanout(label, name, result) {
  return (
    `  ${label} ${name.padEnd(10)} ${result.deliveriesPerSecond} deliveries/s ` +
    `(${result.publishesPerSecond} publishes/s), p50 ${result.latencyMs.p50} p99 ${result.latencyMs.p99} ms, ` +
    `node µs/delivery ${result.nodeCpuMicrosPerDelivery.join(' / ')}, ` +
    `Redis µs/publish ${redisPerPublish(result)}, lost ${result.lost}`
  );
}

export function describePublishing(label, phase) {
  return (
    `  ${label} publishing, watched by ${phase.watchedBy} node(s): ${phase.publishesPerSecond} acknowledged publishes/s, ` +
    `p50 ${phase.latencyMs.p50} p99 ${phase.latencyMs.p99} ms, node µs/publish ${phase.nodeCpuMicrosPerPublish}, ` +
    `Redis µs/publish ${redisPerPublish(phase)}, busiest Redis core ${percent(phase.redisBusiestCoreShare)}, ` +
    `refused ${phase.refused}, Pub/Sub messages to nodes ${phase.pubsubReceived}`
  );
}

function fanoutTable(report) {
  const lines = [
    '| nodes (broker) | subscribers | phase | publishes/s | deliveries/s | p50 / p99 latency, ms | node CPU µs per delivery | deliveries per node-CPU-second | Redis CPU µs per publish above idle (per shard) | busiest Redis core | lost |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const result of report.results) {
    for (const [name, phase] of Object.entries(result.phases)) {
      lines.push(
        `| ${result.nodes} (${brokerName(result)}) | ${result.clients} | ${name === 'rate' ? `fixed ${phase.rate}/s` : 'saturation'} | ` +
          `${phase.publishesPerSecond} | ${phase.deliveriesPerSecond} | ${phase.latencyMs.p50} / ${phase.latencyMs.p99} | ` +
          `${phase.nodeCpuMicrosPerDelivery.join(' / ')} | ${phase.deliveriesPerNodeCpuSecond} | ${redisPerPublish(phase)} | ` +
          `${percent(phase.redisBusiestCoreShare)} | ${phase.lost} |`,
      );
    }
  }
  return lines;
}

function publishingTable(report) {
  const results = report.results.filter((result) => result.publishing.length > 0);
  if (results.length === 0) return [];
  const { channels, seconds, window } = report.publishing;
  const lines = [
    '',
    `Acknowledged publishes, no fan-out: every node publishes for ${seconds} s to ${channels} channels no client watches, ${window} publishes awaiting an answer per node; ` +
      'then again with every node subscribed to those channels, so each publish is also one Pub/Sub message to each node.',
    '',
    '| nodes (broker) | nodes subscribed | publishes/s | p50 / p99 until acknowledged, ms | node CPU µs per publish | Redis CPU µs per publish above idle (per shard) | busiest Redis core | Redis cores used | refused |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const result of results) {
    for (const phase of result.publishing) {
      lines.push(
        `| ${result.nodes} (${brokerName(result)}) | ${phase.watchedBy} | ${phase.publishesPerSecond} | ${phase.latencyMs.p50} / ${phase.latencyMs.p99} | ` +
          `${phase.nodeCpuMicrosPerPublish} | ${redisPerPublish(phase)} | ` +
          `${percent(phase.redisBusiestCoreShare)} | ${phase.redisCoresUsed} | ${phase.refused} |`,
      );
    }
  }
  return lines;
}

function notes(report) {
  const lines = [];
  const idle = report.results.filter((result) => result.redisIdleCpuPerSecond);
  if (idle.length > 0) {
    const each = idle.map(
      (result) =>
        `${result.nodes} (${brokerName(result)}) ${result.redisIdleCpuPerSecond.map((cpu) => round(cpu * 1000, 1)).join(' + ')}`,
    );
    lines.push(
      '',
      `Redis CPU with nothing published, subtracted above (ms per second, per process): ${each.join('; ')}.`,
    );
  }
  if (report.channelsPerShard) {
    const { watched, quiet } = report.channelsPerShard;
    const sum = (counts) => counts.reduce((a, b) => a + b, 0);
    lines.push(
      '',
      `Channels per Cluster shard: ${watched.join(' / ')} of the ${sum(watched)} watched, ` +
        `${quiet.join(' / ')} of the ${sum(quiet)} published to in the publishing phase.`,
    );
  }
  return lines;
}

/** The tables docs/scaling.md shows. */
export function renderMarkdown(report) {
  const { machine, loadavg } = report;
  return `${[
    `Run ${report.date} (${report.plan} plan) on ${machine.cores} × ${machine.cpu}, Node ${machine.node}; ` +
      `load average ${loadavg.start.join(' ')} at the start, ${loadavg.end.join(' ')} at the end.`,
    '',
    ...fanoutTable(report),
    ...publishingTable(report),
    ...notes(report),
  ].join('\n')}\n`;
}
