// Reconnect storm: N LiveClients on one server; the server is stopped (clients get 1012), stays down for
// `downMs` (0: a new one is started at once, which takes ~1–2 s), and a new one starts on the same port.
// Reports how long until every client is subscribed again and has a message from the new server (from
// the stop, and from the moment the new server listened), the peak connection attempts per second, and
// whether any client gave up — with the client's jitter on, then off.
//
// Run by `npm run bench` (plan entry `storm`: clients, optional downMs), or on its own, where it can also
// compare client builds in one run:
//
//   node bench/scenarios/storm.mjs [--clients 5000] [--down-seconds 10] [--baseline <git ref>]
//
// --baseline bundles the LiveClient of that ref and of the working tree (from source, `git archive` for
// the ref; the working tree is untouched) and runs each with jitter on and off, in turns.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundleClient, checkoutClientSources } from '../lib/baseline-client.mjs';
import { spawnWorker } from '../lib/ipc.mjs';

const serverModule = new URL('../servers/livedash.mjs', import.meta.url).pathname;
const clientsModule = new URL('../storm-clients.mjs', import.meta.url).pathname;
const root = fileURLToPath(new URL('../..', import.meta.url));
const CHANNEL = 'storm';

async function until(check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value.done || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function peak(perSecond) {
  return perSecond.reduce((max, [, count]) => Math.max(max, count), 0);
}

const tenths = (ms) => Math.round(ms / 100) / 10;

async function stormOnce({ clients, jitter, timeoutMs, downMs = 0, build }, log) {
  let server = spawnWorker(serverModule, { name: 'storm-server' });
  const fleet = spawnWorker(clientsModule, { name: 'storm-clients' });
  try {
    const { port } = await server.call('start', {});
    const url = `http://127.0.0.1:${port}`;
    const first = await server.call('publishOne', { channel: CHANNEL, data: { phase: 'before' } });
    await fleet.call('arm', { epoch: '' });
    await fleet.call(
      'start',
      { url, count: clients, channel: CHANNEL, jitter, ...(build ? { clientModule: build.module } : {}) },
      300_000,
    );
    const ready = await until(async () => {
      const p = await fleet.call('progress');
      return { ...p, done: p.fresh === clients };
    }, timeoutMs);
    if (ready.fresh < clients)
      throw new Error(`only ${ready.fresh} of ${clients} clients connected before the restart`);
    await fleet.call('arm', { epoch: first.epoch });
    const stoppedAt = Date.now();
    await server.stop(10_000);
    // Refused attempts pile up meanwhile, as when a loaded machine is slow to bring the server back.
    const downUntil = stoppedAt + downMs;
    if (Date.now() < downUntil) await new Promise((resolve) => setTimeout(resolve, downUntil - Date.now()));
    server = spawnWorker(serverModule, { name: 'storm-server' });
    const restarted = await server.call('start', { port });
    // The new server publishes every 100 ms; a client has recovered once it has one of these.
    let publishing = true;
    const publisher = (async () => {
      for (let n = 0; publishing; n++) {
        await server.call('publishOne', { channel: CHANNEL, data: { phase: 'after', n } }).catch(() => {});
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const done = await until(async () => {
      const p = await fleet.call('progress');
      return { ...p, done: p.fresh === clients && p.subscribed === clients };
    }, timeoutMs);
    publishing = false;
    await publisher;
    const accepted = await server.call('accepted');
    const result = {
      ...(build ? { client: build.label } : {}),
      jitter,
      clients,
      downSeconds: tenths(downMs),
      recovered: done.fresh,
      gaveUp: done.gaveUp,
      restartSeconds: tenths(restarted.startedAt - stoppedAt),
      recoverySeconds: done.lastRecoveredAt ? tenths(done.lastRecoveredAt - stoppedAt) : null,
      recoveryAfterRestartSeconds: done.lastRecoveredAt
        ? tenths(done.lastRecoveredAt - restarted.startedAt)
        : null,
      peakAttemptsPerSecond: peak(accepted),
      peakClientAttemptsPerSecond: peak(done.attemptsPerSecond),
      attempts: done.attemptsPerSecond.reduce((sum, [, count]) => sum + count, 0),
      acceptedPerSecond: accepted.map(([second, count]) => [second - Math.floor(stoppedAt / 1000), count]),
      attemptsPerSecond: done.attemptsPerSecond.map(([second, count]) => [
        second - Math.floor(stoppedAt / 1000),
        count,
      ]),
    };
    log(
      `  ${build ? `${build.label}, ` : ''}jitter ${jitter ? 'on ' : 'off'}: ${result.recovered}/${clients} recovered in ${result.recoverySeconds} s ` +
        `(server back after ${result.restartSeconds} s; last client ${result.recoveryAfterRestartSeconds} s later), ` +
        `peak ${result.peakAttemptsPerSecond} accepted/s (${result.peakClientAttemptsPerSecond} attempts/s), ` +
        `${result.attempts} attempts, gave up ${result.gaveUp}`,
    );
    return result;
  } finally {
    await fleet.call('stop').catch(() => {});
    await fleet.stop();
    await server.stop();
  }
}

/** `spec`: `{ clients, downMs?, timeoutMs?, builds?: [{ label, module }] }` (builds: the dist when absent). */
export async function runStorm(spec, log) {
  const runs = [];
  for (const build of spec.builds ?? [undefined]) {
    for (const jitter of [true, false]) {
      try {
        runs.push(
          await stormOnce(
            {
              clients: spec.clients,
              jitter,
              timeoutMs: spec.timeoutMs ?? 90_000,
              downMs: spec.downMs,
              build,
            },
            log,
          ),
        );
      } catch (error) {
        log(`  storm (${build ? `${build.label}, ` : ''}jitter ${jitter}) failed: ${error.message}`);
        runs.push({
          client: build?.label,
          jitter,
          clients: spec.clients,
          error: error.message,
          recovered: 0,
        });
      }
    }
  }
  return { runs };
}

async function main() {
  const { values } = parseArgs({
    options: {
      clients: { type: 'string', default: '5000' },
      'down-seconds': { type: 'string', default: '0' },
      'timeout-seconds': { type: 'string', default: '180' },
      baseline: { type: 'string' },
      json: { type: 'string' },
    },
  });
  const clients = Number(values.clients);
  const downMs = Number(values['down-seconds']) * 1000;
  if (!(clients >= 1) || !(downMs >= 0)) throw new Error('--clients >= 1 and --down-seconds >= 0');
  let builds;
  let baselineDir;
  if (values.baseline) {
    const outDir = join(root, 'bench/results/storm-clients');
    mkdirSync(outDir, { recursive: true });
    baselineDir = checkoutClientSources(root, values.baseline, 'livedash-storm-baseline-');
    builds = [
      { label: values.baseline, module: await bundleClient(baselineDir, join(outDir, 'baseline.mjs')) },
      { label: 'working tree', module: await bundleClient(root, join(outDir, 'current.mjs')) },
    ];
  }
  const log = (line) => console.log(line);
  log(`storm: ${clients} clients, server down ${values['down-seconds']} s before the new one starts`);
  try {
    const { runs } = await runStorm(
      { clients, downMs, timeoutMs: Number(values['timeout-seconds']) * 1000, builds },
      log,
    );
    console.log(
      '\n| client | jitter | recovered | gave up | server back after s | recovery s (from stop) | last client after server back, s | peak attempts/s | peak accepted/s | attempts total |',
    );
    console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of runs) {
      console.log(
        `| ${r.client ?? 'dist'} | ${r.jitter ? 'on' : 'off'} | ${r.recovered} | ${r.gaveUp ?? ''} | ${r.restartSeconds ?? ''} | ${r.recoverySeconds ?? r.error} | ${r.recoveryAfterRestartSeconds ?? ''} | ${r.peakClientAttemptsPerSecond ?? ''} | ${r.peakAttemptsPerSecond ?? ''} | ${r.attempts ?? ''} |`,
      );
    }
    if (values.json) {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(values.json, JSON.stringify(runs, null, 2));
    }
  } finally {
    if (baselineDir) rmSync(baselineDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
