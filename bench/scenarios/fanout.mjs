// Fan-out: N WebSocket subscribers (or SSE streams) on `channels` channels; a fixed-rate phase and a
// saturation phase per server kind, each server in a fresh process, one shared load generator process.
import { spawnWorker } from '../lib/ipc.mjs';
import { measurePhase, rssPerConnection } from '../lib/measure.mjs';

const serverModules = {
  livedash: new URL('../servers/livedash.mjs', import.meta.url).pathname,
  'livedash-sse': new URL('../servers/livedash.mjs', import.meta.url).pathname,
  socketio: new URL('../servers/socketio.mjs', import.meta.url).pathname,
  ws: new URL('../servers/ws-plain.mjs', import.meta.url).pathname,
  raw: new URL('../servers/raw-ceiling.mjs', import.meta.url).pathname,
  'sse-raw': new URL('../servers/sse-raw.mjs', import.meta.url).pathname,
};

/**
 * Runs one server kind: fresh server process, `clients` subscribers, idle RSS, then each phase.
 * `phases`: [{ name, rate, count, burst }]. With `profileDir`, the server process writes a V8 CPU
 * profile there when it exits (`<kind>-<clients>x<channelCount>.cpuprofile`). `env` is added to the
 * server process's environment (bench/compare.mjs points it at another build this way).
 */
export async function runServerKind({
  kind,
  clients,
  channelCount,
  phases,
  loadgen,
  log,
  profileDir,
  env = {},
}) {
  const execArgv = profileDir
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${profileDir}`,
        `--cpu-prof-name=${kind}-${clients}x${channelCount}.cpuprofile`,
      ]
    : [];
  const server = spawnWorker(serverModules[kind], { name: `server:${kind}`, execArgv, env });
  try {
    const { port } = await server.call('start', { transport: kind });
    const channels = Array.from({ length: channelCount }, (_, i) => `bench.${kind}.${i}`);
    await server.call('channels', { channels });
    // RSS per idle connection is the growth from N/2 to N idle subscribers, per subscriber: what one
    // more connection costs. What a server's first connections cost once (code compiled, tables
    // created, the heap's and the allocator's growth) stays out of it, for every kind alike; the
    // growth from none to N is kept too (`rssPerConnectionFromZeroBytes`).
    const base = `127.0.0.1:${port}`;
    const half = Math.floor(clients / 2);
    const baseline = await server.call('gc');
    const first = await loadgen.call('connect', { kind, base, clients, channels, to: half }, 300_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const middle = await server.call('gc');
    const second = await loadgen.call('connect', { kind, base, clients, channels, from: half }, 300_000);
    const connected = {
      connected: first.connected + second.connected,
      failed: first.failed + second.failed,
      seconds: first.seconds + second.seconds,
    };
    if (connected.failed > 0)
      log(`  ${kind}: ${connected.failed} of ${clients} subscribers failed to connect`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const loaded = await server.call('gc');
    const result = {
      kind,
      clients,
      channels: channelCount,
      connected: connected.connected,
      connectSeconds: Math.round(connected.seconds * 10) / 10,
      rssPerIdleConnectionBytes: rssPerConnection(middle, loaded, second.connected),
      rssPerConnectionFromZeroBytes: rssPerConnection(baseline, loaded, connected.connected),
      phases: {},
    };
    // A short warm-up so the JIT has compiled the hot path before anything is measured.
    await measurePhase({ server, loadgen, rate: 20, count: 10, idleMs: 2000 });
    for (const { deliveries, ...phase } of phases) {
      // A saturation phase is sized in deliveries, so it takes about as long at any N.
      if (deliveries) phase.count = Math.max(channelCount, Math.round(deliveries / clients) * channelCount);
      result.phases[phase.name] = await measurePhase({ server, loadgen, ...phase });
      const p = result.phases[phase.name];
      log(
        `  ${kind.padEnd(12)} N=${clients} ${phase.name.padEnd(10)} ${p.cpuMicrosPerDelivery} µs/delivery ` +
          `(user ${p.cpuUserMicrosPerDelivery}, system ${p.cpuSystemMicrosPerDelivery}), ` +
          `${p.achievedPerSecond}/s, p50 ${p.latencyMs.p50} p99 ${p.latencyMs.p99} ms, lost ${p.lost}`,
      );
    }
    await loadgen.call('closeAll');
    return result;
  } finally {
    await server.stop();
  }
}
