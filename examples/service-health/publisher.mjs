#!/usr/bin/env node
// Publishes a simulated checkout service's health to livedash over HTTP, twice a second:
// request rate, error rate, latency percentiles and per-endpoint numbers on `checkout`,
// and deploy/incident events on `checkout.events`. No dependencies: Node 20's fetch.
//
//   LIVEDASH_PUBLISH_TOKEN=secret node examples/service-health/publisher.mjs [--url http://127.0.0.1:8080]
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.LIVEDASH_URL ?? 'http://127.0.0.1:8080' },
    interval: { type: 'string', default: '500' },
    count: { type: 'string' },
  },
});
const token = process.env.LIVEDASH_PUBLISH_TOKEN;
if (!token) {
  console.error('Set LIVEDASH_PUBLISH_TOKEN to the token `livedash serve` printed (or the one you gave it).');
  process.exit(1);
}
const intervalMs = Number(values.interval);
const limit = values.count === undefined ? Number.POSITIVE_INFINITY : Number(values.count);

async function publish(channel, data) {
  const response = await fetch(`${values.url}/api/channels/${encodeURIComponent(channel)}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(data),
  });
  if (response.status === 401)
    throw new Error('the server refused the token (401): check LIVEDASH_PUBLISH_TOKEN');
  if (!response.ok) throw new Error(`POST ${channel} answered ${response.status}: ${await response.text()}`);
  return response.json();
}

// A small random walk around a daily-looking curve, so the charts have something to say.
let tick = 0;
let incident = 0;
let release = 'v1.42.0';
const jitter = (spread) => (Math.random() - 0.5) * spread;

function sample() {
  const base = 180 + 70 * Math.sin(tick / 40) + jitter(30);
  const errorRate = Math.max(0, (incident > 0 ? 6 : 0.4) + jitter(incident > 0 ? 3 : 0.5));
  const p50 = 38 + jitter(8) + (incident > 0 ? 40 : 0);
  const routes = [
    ['/cart', 0.42],
    ['/checkout', 0.31],
    ['/payment', 0.17],
    ['/receipt', 0.1],
  ];
  return {
    requestsPerSec: Math.round(base),
    errorsPerSec: Math.round((base * errorRate) / 100),
    errorRate: Number(errorRate.toFixed(2)),
    latencyMs: {
      p50: Math.round(p50),
      p95: Math.round(p50 * 2.6 + jitter(20)),
      p99: Math.round(p50 * 5 + jitter(60)),
    },
    release,
    endpoints: routes.map(([route, share]) => ({
      route,
      requestsPerSec: Math.round(base * share),
      p99: Math.round(p50 * (route === '/payment' ? 7 : 4) + jitter(40)),
      share: share * 100,
    })),
  };
}

async function step() {
  tick++;
  if (incident > 0) incident--;
  if (tick % 120 === 0) {
    release = `v1.${42 + tick / 120}.0`;
    await publish('checkout.events', { message: `deployed ${release}`, kind: 'deploy' });
  }
  if (tick % 300 === 150) {
    incident = 40;
    await publish('checkout.events', {
      message: 'payment provider timeouts: error rate rising',
      kind: 'incident',
    });
  }
  await publish('checkout', sample());
}

/** Why a publish failed, in words a person can act on. */
function explain(error) {
  if (error.cause?.code === 'ECONNREFUSED')
    return `nothing listens at ${values.url}: is \`livedash serve\` running?`;
  return error.message;
}

console.log(`publishing to ${values.url} every ${intervalMs} ms (Ctrl-C to stop)`);
let started = false;
let lastError = '';
while (tick < limit) {
  try {
    if (!started)
      await publish('checkout.events', { message: `publisher started (${release})`, kind: 'info' });
    started = true;
    await step();
    lastError = '';
  } catch (error) {
    const message = explain(error);
    // Say it once, not twice a second, while the server is away; keep trying.
    if (message !== lastError) console.error(`publish failed: ${message}`);
    lastError = message;
    if (message.includes('401')) process.exit(1);
  }
  await new Promise((resolve) => setTimeout(resolve, intervalMs));
}
