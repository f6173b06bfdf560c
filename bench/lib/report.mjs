// Renders a results object as Markdown tables, each figure also as a ratio to livedash.
const reference = new Set(['livedash', 'livedash-sse']);

function ratio(value, base) {
  if (value == null || base == null || base === 0) return '';
  return ` (${(value / base).toFixed(2)}×)`;
}

function fanoutTable(benchmark) {
  const lines = [];
  const byClients = new Map();
  for (const run of benchmark.runs) {
    if (!byClients.has(run.clients)) byClients.set(run.clients, []);
    byClients.get(run.clients).push(run);
  }
  for (const [clients, runs] of byClients) {
    const base = runs.find((run) => reference.has(run.kind) && !run.error);
    lines.push(
      `\n**${clients.toLocaleString('en-US')} subscribers, ${runs[0].channels} channel(s)** — ratios are to livedash\n`,
    );
    lines.push(
      '| server | phase | offered/s | achieved/s | p50 ms | p99 ms | max ms | lost | CPU µs/delivery | CPU s/100k | RSS/idle conn |',
    );
    lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const run of runs) {
      if (run.error) {
        lines.push(`| ${run.kind} | failed: ${run.error.split('\n')[0]} |||||||||| `);
        continue;
      }
      const rssKB = Math.round(run.rssPerIdleConnectionBytes / 102.4) / 10;
      const baseRssKB = base ? Math.round(base.rssPerIdleConnectionBytes / 102.4) / 10 : null;
      for (const [name, p] of Object.entries(run.phases)) {
        const b = base?.phases[name];
        lines.push(
          `| ${run.kind} | ${name} | ${p.offeredPerSecond.toLocaleString('en-US')} | ${p.achievedPerSecond.toLocaleString('en-US')} | ` +
            `${p.latencyMs.p50 ?? '–'} | ${p.latencyMs.p99 ?? '–'}${ratio(p.latencyMs.p99, b?.latencyMs.p99)} | ${p.latencyMs.max ?? '–'} | ` +
            `${p.lost} | ${p.cpuMicrosPerDelivery}${ratio(p.cpuMicrosPerDelivery, b?.cpuMicrosPerDelivery)} | ${p.cpuSecondsPer100k} | ` +
            `${rssKB} KB${ratio(rssKB, baseRssKB)} |`,
        );
      }
    }
  }
  return lines.join('\n');
}

/** Issue 7's targets: what livedash is compared with, how the ratio is read from two runs, and the limit. */
const TARGETS = [
  {
    name: 'fixed-load CPU/delivery vs Socket.IO (≤ 0.50×)',
    against: 'socketio',
    of: (run) => run.phases.fixed?.cpuMicrosPerDelivery,
    limit: 0.5,
  },
  {
    name: 'fixed-load CPU/delivery vs raw ceiling (≤ 1.15×)',
    against: 'raw',
    of: (run) => run.phases.fixed?.cpuMicrosPerDelivery,
    limit: 1.15,
  },
  {
    name: 'saturation CPU/delivery vs Socket.IO (≤ 0.33×)',
    against: 'socketio',
    of: (run) => run.phases.saturation?.cpuMicrosPerDelivery,
    limit: 1 / 3,
  },
  {
    name: 'fixed-load p99 latency vs Socket.IO (≤ 1×)',
    against: 'socketio',
    of: (run) => run.phases.fixed?.latencyMs.p99,
    limit: 1,
  },
  {
    name: 'RSS per idle connection vs Socket.IO (≤ 0.50×)',
    against: 'socketio',
    of: (run) => run.rssPerIdleConnectionBytes,
    limit: 0.5,
  },
];

/**
 * Issue 7's targets, from the fan-out benchmark (one channel): per N, livedash against Socket.IO and the
 * raw ceiling measured in the same run. Met or missed is printed, never judged elsewhere.
 */
function targetsTable(benchmark) {
  const lines = ['\n### Targets\n', '| N | target | livedash | met |', '|---:|---|---:|---|'];
  const byClients = new Map();
  for (const run of benchmark.runs) {
    if (run.error) continue;
    if (!byClients.has(run.clients)) byClients.set(run.clients, {});
    byClients.get(run.clients)[run.kind] = run;
  }
  for (const [clients, kinds] of byClients) {
    const { livedash } = kinds;
    if (!livedash) continue;
    const n = clients.toLocaleString('en-US');
    for (const target of TARGETS) {
      const other = kinds[target.against];
      const ours = target.of(livedash);
      const theirs = other && target.of(other);
      if (ours == null || !theirs) continue;
      const value = ours / theirs;
      lines.push(
        `| ${n} | ${target.name} | ${value.toFixed(2)}× | ${value <= target.limit ? 'yes' : 'no'} |`,
      );
    }
    const lost = Object.values(livedash.phases).reduce((sum, phase) => sum + phase.lost, 0);
    lines.push(`| ${n} | messages lost (0) | ${lost} | ${lost === 0 ? 'yes' : 'no'} |`);
  }
  return lines.join('\n');
}

function stormTable(benchmark) {
  const lines = [
    '\n| jitter | clients | server down s | recovered | gave up | recovery s (from stop) | last client s (after server back) | peak accepted/s | peak attempts/s | attempts total |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const run of benchmark.storm.runs) {
    lines.push(
      `| ${run.client ? `${run.client}, ` : ''}${run.jitter ? 'on' : 'off'} | ${run.clients} | ${run.restartSeconds} | ${run.recovered} | ${run.gaveUp} | ${run.recoverySeconds} | ${run.recoveryAfterRestartSeconds} | ${run.peakAttemptsPerSecond} | ${run.peakClientAttemptsPerSecond} | ${run.attempts} |`,
    );
  }
  return lines.join('\n');
}

/** The max-rate benchmark's two sides next to each other, the rated one as a ratio to the unrated one. */
function maxRateTable(benchmark) {
  return benchmark.maxRate.map(maxRateRun).join('\n');
}

function maxRateRun({ sides, rate, seconds }) {
  const base = sides.find((side) => side.maxRate === null && !side.error);
  const lines = [
    `\n**${sides[0]?.clients.toLocaleString('en-US')} subscribers**, ${rate} messages/s for ${seconds} s per side, each on a fresh server; ratios are to the side without maxRate.\n`,
    '| maxRate | subscribers | server CPU s/s | deliveries/s | offered/s | socket writes/s | frames/write | CPU µs/delivery | p50 ms | p99 ms | skipped (conflated) | window s | load avg (1 min) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const side of sides) {
    const label = side.maxRate === null ? 'none' : String(side.maxRate);
    if (side.error) {
      lines.push(`| ${label} | failed: ${side.error.split('\n')[0]} ||||||||||||`);
      continue;
    }
    lines.push(
      `| ${label} | ${side.connected.toLocaleString('en-US')} | ${side.serverCpuPerSecond}${ratio(side.serverCpuPerSecond, base?.serverCpuPerSecond)} | ` +
        `${side.deliveriesPerSecond.toLocaleString('en-US')}${ratio(side.deliveriesPerSecond, base?.deliveriesPerSecond)} | ` +
        `${side.offeredPerSecond.toLocaleString('en-US')} | ${side.socketWritesPerSecond?.toLocaleString('en-US') ?? '–'}${ratio(side.socketWritesPerSecond, base?.socketWritesPerSecond)} | ` +
        `${side.framesPerWrite ?? '–'} | ${side.cpuMicrosPerDelivery ?? '–'} | ${side.latencyMs.p50 ?? '–'} | ${side.latencyMs.p99 ?? '–'} | ` +
        `${side.skipped.toLocaleString('en-US')} | ${side.wallSeconds} | ${side.loadAverage?.[0] ?? '–'} |`,
    );
  }
  return lines.join('\n');
}

export function renderMarkdown(results) {
  const m = results.machine;
  const lines = [
    `# livedash benchmark (${results.mode}), ${results.startedAt}`,
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGB} GB RAM, Node ${m.node}, ${m.platform}. Took ${results.seconds} s.` +
      (m.loadAverage ? ` Load average at the start: ${m.loadAverage.join(', ')}.` : ''),
    'CPU µs/delivery = server process CPU time (user+system) / messages delivered. Latency is publish-to-receive.',
  ];
  for (const benchmark of results.benchmarks) {
    lines.push('', `## ${benchmark.name}: ${benchmark.description}`);
    if (benchmark.runs) lines.push(fanoutTable(benchmark));
    if (benchmark.name === 'fanout' && benchmark.runs) lines.push(targetsTable(benchmark));
    if (benchmark.storm) lines.push(stormTable(benchmark));
    if (benchmark.maxRate) lines.push(maxRateTable(benchmark));
    if (benchmark.external)
      lines.push(
        `\nRan \`node ${benchmark.external.script}\` (exit ${benchmark.external.status}); see its own output.`,
      );
  }
  return `${lines.join('\n')}\n`;
}
