#!/usr/bin/env node
// The client's own per-message cost, without a browser around it: LiveClient over a stand-in WebSocket
// that hands it 100,000 prepared data frames in a tight loop, next to the bare minimum (JSON.parse and a
// type check) on the same frames, in alternating rounds; reports ns per frame (lowest and median round).
// Chromium's per-message work (event dispatch, the string copy into V8) is ~10× larger and noisy, which
// hides differences under a microsecond that this shows. Same V8 family, not the same V8 version.
//
//   node bench/client-cost/node-loop.mjs [--baseline <git ref>] [--rounds 30] [--path subscribe|channel]
//
// For a line-level profile of the same loop: node --cpu-prof --cpu-prof-interval 50 bench/client-cost/node-loop.mjs
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { bundleClient, checkoutClientSources } from '../lib/baseline-client.mjs';

const { values } = parseArgs({
  options: {
    baseline: { type: 'string' },
    rounds: { type: 'string', default: '30' },
    path: { type: 'string', default: 'subscribe' },
  },
});
const root = fileURLToPath(new URL('../..', import.meta.url));
const outDir = join(root, 'bench/results/node-loop');
const FRAMES = 100_000;

mkdirSync(outDir, { recursive: true });
const builds = [];
let baselineDir;
if (values.baseline) {
  baselineDir = checkoutClientSources(root, values.baseline, 'livedash-loop-baseline-');
  builds.push({
    label: values.baseline,
    file: await bundleClient(baselineDir, join(outDir, 'baseline.mjs')),
  });
}
builds.push({ label: 'working tree', file: await bundleClient(root, join(outDir, 'current.mjs')) });
for (const build of builds) build.LiveClient = (await import(pathToFileURL(build.file).href)).LiveClient;

// The same small metrics-like messages bench/client-cost.mjs publishes, as the server frames them.
const frames = Array.from(
  { length: FRAMES },
  (_, i) =>
    `{"type":"cost","data":{"cpu":${i % 100},"memory":42.5,"load":[0.5,0.4,0.3],"ts":${1764350000000 + i}},"seq":${i + 1},"epoch":"e1","ts":${1764350000000 + i}}`,
);
const environment = { isOnline: () => true, isVisible: () => true, listen: () => () => {} };
let sink;

/** One round: a fresh client, subscribed and confirmed, then every frame; ns per frame. */
function clientRound(LiveClient) {
  let socket;
  class StandInSocket {
    readyState = 1;
    onopen = null;
    onmessage = null;
    onclose = null;
    onerror = null;
    constructor() {
      socket = this;
    }
    send() {}
    close() {}
  }
  const client = new LiveClient({
    url: 'http://127.0.0.1:1',
    transports: ['ws'],
    WebSocket: StandInSocket,
    environment,
    notifyInterval: 60_000, // the channel store's snapshot is built once, after the loop
  });
  let received = 0;
  let off;
  if (values.path === 'channel') {
    const store = client.channel('cost');
    off = store.subscribe(() => {
      sink = store.getSnapshot();
    });
  } else {
    off = client.subscribe('cost', (data) => {
      received++;
      sink = data;
    });
  }
  socket.onmessage({ data: '{"type":"$welcome","heartbeat":15000}' });
  socket.onmessage({
    data: '{"type":"$subscribed","channel":"cost","epoch":"e1","seq":0,"recovered":false}',
  });
  const started = performance.now();
  for (let i = 0; i < FRAMES; i++) socket.onmessage({ data: frames[i] });
  const ns = ((performance.now() - started) * 1e6) / FRAMES;
  off();
  client.close();
  if (values.path !== 'channel' && received !== FRAMES) throw new Error(`received ${received} of ${FRAMES}`);
  return ns;
}

function bareRound() {
  const onmessage = (event) => {
    const frame = JSON.parse(event.data);
    if (frame.type !== 'cost') return;
    sink = frame.data;
  };
  const started = performance.now();
  for (let i = 0; i < FRAMES; i++) onmessage({ data: frames[i] });
  return ((performance.now() - started) * 1e6) / FRAMES;
}

const rounds = Number(values.rounds);
const bare = [];
const results = builds.map(() => []);
for (let round = 0; round < rounds; round++) {
  bare.push(bareRound());
  for (const [i, build] of builds.entries()) results[i].push(clientRound(build.LiveClient));
}
const sorted = (list) => [...list].sort((a, b) => a - b);
const low = (list) => sorted(list)[0];
const median = (list) => sorted(list)[Math.floor(list.length / 2)];
console.log(`${FRAMES} frames × ${rounds} rounds, path ${values.path}, Node ${process.version}`);
console.log(
  '| receiver | ns/frame (lowest round) | ns/frame (median) | over bare (lowest) |\n|---|---:|---:|---:|',
);
console.log(`| bare JSON.parse | ${low(bare).toFixed(0)} | ${median(bare).toFixed(0)} | |`);
builds.forEach((build, i) => {
  console.log(
    `| LiveClient ${values.path} (${build.label}) | ${low(results[i]).toFixed(0)} | ${median(results[i]).toFixed(0)} | +${(low(results[i]) - low(bare)).toFixed(0)} |`,
  );
});
if (sink === undefined) throw new Error('nothing was delivered'); // (also keeps `sink` observable)
if (baselineDir) rmSync(baselineDir, { recursive: true, force: true });
