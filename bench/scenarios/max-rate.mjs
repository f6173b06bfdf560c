// Per-subscription max rate: N WebSocket subscribers on one state channel published at a fixed rate,
// once without `maxRate` and once with it, each side on a fresh livedash server process and measured
// the same way in one run: the server's CPU per wall-clock second (process.cpuUsage of the server
// process) and the deliveries per second the load generator counted.
import { loadavg } from 'node:os';
import { spawnWorker } from '../lib/ipc.mjs';
import { round } from '../lib/measure.mjs';

const serverModule = new URL('../servers/livedash.mjs', import.meta.url).pathname;
const CHANNEL = 'bench.gauge';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One side: a fresh server with `CHANNEL` as a state channel (the gauge case: each value replaces the
 * last), `clients` subscribers (with `maxRate` when given), a short warm-up, then `seconds` of publishing
 * at `rate` messages/s. The window runs from just before the first publish until deliveries stop (at
 * most `idleMs` after the last one), so CPU and deliveries are read over the same wall-clock time.
 */
async function runSide({ clients, rate, seconds, maxRate, loadgen, log, profileDir }) {
  const execArgv = profileDir
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${profileDir}`,
        `--cpu-prof-name=max-rate-${maxRate ?? 'none'}-${clients}.cpuprofile`,
      ]
    : [];
  const server = spawnWorker(serverModule, {
    name: `server:livedash maxRate=${maxRate ?? 'none'}`,
    execArgv,
    env: {
      LIVEDASH_BENCH_SERVER_OPTIONS: JSON.stringify({ stateChannels: [CHANNEL] }),
      LIVEDASH_BENCH_COUNT_WRITES: '1',
    },
  });
  try {
    const { port } = await server.call('start', {});
    const channels = [CHANNEL];
    await server.call('channels', { channels });
    const base = `127.0.0.1:${port}`;
    const connected = await loadgen.call(
      'connect',
      { kind: 'livedash', base, clients, channels, maxRate },
      300_000,
    );
    if (connected.failed > 0)
      log(`  maxRate=${maxRate ?? 'none'}: ${connected.failed} of ${clients} failed to connect`);
    // Warm-up: the JIT compiles the hot path (and the rate's clock starts) before anything is measured.
    await server.call('publish', { rate: 20, count: 20 });
    await sleep(1500);

    const counters = await server.call('counters');
    await loadgen.call('reset', { counters });
    const before = await server.call('stats');
    const writesBefore = await server.call('socketWrites');
    const startedAt = Date.now();
    const published = await server.call('publish', { rate, count: rate * seconds });
    const delivery = await loadgen.call('wait', { counters: published.counters, idleMs: 500 }, 180_000);
    const after = await server.call('stats');
    const writes = (await server.call('socketWrites')) - writesBefore;
    const wallSeconds = (Date.now() - startedAt) / 1000;
    const cpuSeconds = (after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1e6;
    await loadgen.call('closeAll');
    const side = {
      maxRate: maxRate ?? null,
      clients,
      connected: connected.connected,
      published: published.published,
      wallSeconds: round(wallSeconds, 2),
      serverCpuSeconds: round(cpuSeconds, 2),
      serverCpuPerSecond: round(cpuSeconds / wallSeconds, 3),
      deliveries: delivery.received,
      deliveriesPerSecond: Math.round(delivery.received / wallSeconds),
      offeredPerSecond: rate * connected.connected,
      // Socket writes (about one syscall each): a write can carry several frames when a socket lags.
      socketWritesPerSecond: Math.round(writes / wallSeconds),
      framesPerWrite: writes > 0 ? round(delivery.received / writes, 2) : null,
      // Values a conflated subscriber skipped on purpose (newer ones replaced them): not losses.
      skipped: delivery.gaps,
      duplicates: delivery.duplicates,
      latencyMs: delivery.latency,
      cpuMicrosPerDelivery: delivery.received > 0 ? round((cpuSeconds * 1e6) / delivery.received, 3) : null,
      serverRssMB: round(after.rss / 2 ** 20, 1),
      // The machine's 1, 5 and 15 minute load averages at the end of the window (others' work included).
      loadAverage: loadavg().map((load) => round(load, 2)),
    };
    log(
      `  maxRate ${String(maxRate ?? 'none').padEnd(4)} N=${clients}: server CPU ${side.serverCpuPerSecond} s/s, ` +
        `${side.deliveriesPerSecond.toLocaleString('en-US')} deliveries/s (offered ${side.offeredPerSecond.toLocaleString('en-US')}), ` +
        `${side.socketWritesPerSecond.toLocaleString('en-US')} socket writes/s, ` +
        `p50 ${side.latencyMs.p50} p99 ${side.latencyMs.p99} ms, ${side.skipped} skipped by conflation`,
    );
    return side;
  } finally {
    await server.stop();
  }
}

/**
 * Both sides of `spec` (`clients`, `rate`, `seconds`, `maxRate`), unrated first, in one run; with
 * `profileDir`, each side's server writes a V8 CPU profile there.
 */
export async function runMaxRate(spec, loadgen, log, profileDir) {
  const sides = [];
  for (const maxRate of [undefined, spec.maxRate]) {
    try {
      sides.push(await runSide({ ...spec, maxRate, loadgen, log, profileDir }));
    } catch (error) {
      log(`  maxRate=${maxRate ?? 'none'} failed: ${error.message}`);
      sides.push({ maxRate: maxRate ?? null, clients: spec.clients, error: error.message });
    }
  }
  return { channel: CHANNEL, rate: spec.rate, seconds: spec.seconds, sides };
}
