// Reconnect storm: N LiveClients on one server; the server is stopped (clients get 1012) and a new one
// starts on the same port. Reports how long until every client is subscribed again and has a message
// from the new server, the peak connection attempts per second, and whether any client gave up —
// with the client's jitter on, then off.
import { spawnWorker } from '../lib/ipc.mjs';

const serverModule = new URL('../servers/livedash.mjs', import.meta.url).pathname;
const clientsModule = new URL('../storm-clients.mjs', import.meta.url).pathname;
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

async function stormOnce({ clients, jitter, timeoutMs }, log) {
  let server = spawnWorker(serverModule, { name: 'storm-server' });
  const fleet = spawnWorker(clientsModule, { name: 'storm-clients' });
  try {
    const { port } = await server.call('start', {});
    const url = `http://127.0.0.1:${port}`;
    const first = await server.call('publishOne', { channel: CHANNEL, data: { phase: 'before' } });
    await fleet.call('arm', { epoch: '' });
    await fleet.call('start', { url, count: clients, channel: CHANNEL, jitter }, 300_000);
    const ready = await until(async () => {
      const p = await fleet.call('progress');
      return { ...p, done: p.fresh === clients };
    }, timeoutMs);
    if (ready.fresh < clients)
      throw new Error(`only ${ready.fresh} of ${clients} clients connected before the restart`);
    await fleet.call('arm', { epoch: first.epoch });
    const stoppedAt = Date.now();
    await server.stop(10_000);
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
      jitter,
      clients,
      recovered: done.fresh,
      gaveUp: done.gaveUp,
      restartSeconds: Math.round((restarted.startedAt - stoppedAt) / 100) / 10,
      recoverySeconds: done.lastRecoveredAt
        ? Math.round((done.lastRecoveredAt - stoppedAt) / 100) / 10
        : null,
      peakAttemptsPerSecond: peak(accepted),
      peakClientAttemptsPerSecond: peak(done.attemptsPerSecond),
      attempts: done.attemptsPerSecond.reduce((sum, [, count]) => sum + count, 0),
      acceptedPerSecond: accepted.map(([second, count]) => [second - Math.floor(stoppedAt / 1000), count]),
    };
    log(
      `  jitter ${jitter ? 'on ' : 'off'}: ${result.recovered}/${clients} recovered in ${result.recoverySeconds} s, ` +
        `peak ${result.peakAttemptsPerSecond} accepted/s (${result.peakClientAttemptsPerSecond} attempts/s), gave up ${result.gaveUp}`,
    );
    return result;
  } finally {
    await fleet.call('stop').catch(() => {});
    await fleet.stop();
    await server.stop();
  }
}

export async function runStorm(spec, log) {
  const runs = [];
  for (const jitter of [true, false]) {
    try {
      runs.push(await stormOnce({ clients: spec.clients, jitter, timeoutMs: spec.timeoutMs ?? 90_000 }, log));
    } catch (error) {
      log(`  storm (jitter ${jitter}) failed: ${error.message}`);
      runs.push({ jitter, clients: spec.clients, error: error.message, recovered: 0, gaveUp: null });
    }
  }
  return { runs };
}
