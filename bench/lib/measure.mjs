// One measured phase against a server that already has its subscribers: reset the load generator's
// counters, publish, wait for delivery, and turn the CPU and counts into the reported figures.
export async function measurePhase({ server, loadgen, rate, count, burst, idleMs }) {
  const counters = await server.call('counters');
  const loadgenBefore = await loadgen.call('reset', { counters });
  const before = await server.call('stats');
  const published = await server.call('publish', { rate, count, burst });
  const delivery = await loadgen.call('wait', { counters: published.counters, idleMs }, 180_000);
  const after = await server.call('stats');
  const cpuMicros = after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system;
  const userMicros = after.cpu.user - before.cpu.user;
  const loadgenCpuMicros =
    delivery.cpu.user + delivery.cpu.system - loadgenBefore.cpu.user - loadgenBefore.cpu.system;
  const seconds = Math.max(0.001, (delivery.lastAt - published.startedAt) / 1000);
  const offeredSeconds = Math.max(0.001, (published.endedAt - published.startedAt) / 1000);
  return {
    rate: rate > 0 ? rate : 'saturation',
    published: published.published,
    expected: delivery.expected,
    delivered: delivery.received,
    lost: delivery.lost,
    duplicates: delivery.duplicates,
    gaps: delivery.gaps,
    offeredPerSecond: Math.round(delivery.expected / offeredSeconds),
    achievedPerSecond: Math.round(delivery.received / seconds),
    latencyMs: delivery.latency,
    serverCpuSeconds: cpuMicros / 1e6,
    cpuMicrosPerDelivery: delivery.received > 0 ? round(cpuMicros / delivery.received, 3) : null,
    // The kernel's share (the write syscalls, and on loopback the receiving side's TCP work too).
    cpuUserMicrosPerDelivery: delivery.received > 0 ? round(userMicros / delivery.received, 3) : null,
    cpuSystemMicrosPerDelivery:
      delivery.received > 0 ? round((cpuMicros - userMicros) / delivery.received, 3) : null,
    cpuSecondsPer100k: delivery.received > 0 ? round((cpuMicros / delivery.received) * 0.1, 3) : null,
    loadgenCpuUtilization: round(loadgenCpuMicros / 1e6 / seconds, 2),
    serverRssMB: round(after.rss / 2 ** 20, 1),
  };
}

export function round(value, digits = 2) {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** RSS growth per connection between an idle baseline and the same server holding `clients` idle ones. */
export function rssPerConnection(baseline, loaded, clients) {
  return Math.round((loaded.rss - baseline.rss) / clients);
}
