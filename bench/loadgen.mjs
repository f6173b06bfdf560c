// The load generator, in its own process: N subscribers of one kind, each counting the messages it
// gets by their per-channel counter `n` (loss, duplicates, reordering) and measuring publish-to-receive
// latency from the publish time `t` inside each message. Driven by bench/run.mjs over IPC.
import { nowMs } from './lib/clock.mjs';
import { LatencyHistogram } from './lib/histogram.mjs';
import { serveWorker } from './lib/ipc.mjs';
import { subscriberKinds } from './lib/subscriber-kinds.mjs';

const N_KEY = '"n":';
let subscribers = [];
let channelOf = new Int32Array(0);
let last = new Float64Array(0);
let start = [];
let received = 0;
let duplicates = 0;
let gaps = 0;
let firstAt = 0;
let lastAt = 0;
const latency = new LatencyHistogram();

function numberEnd(text, from) {
  let i = from;
  for (; i < text.length; i++) {
    const c = typeof text === 'string' ? text.charCodeAt(i) : text[i];
    if (!((c >= 48 && c <= 57) || c === 46 || c === 45 || c === 43 || c === 101 || c === 69)) break;
  }
  return i;
}

/** Reads `n` and `t` from `{"n":…,"t":…` inside a message, a Buffer or a string. */
function onMessage(client, message) {
  const at = message.indexOf(N_KEY);
  if (at === -1) return;
  const nEnd = numberEnd(message, at + 4);
  const slice = (from, to) =>
    typeof message === 'string' ? message.slice(from, to) : message.latin1Slice(from, to);
  const n = Number(slice(at + 4, nEnd));
  const tStart = nEnd + 5; // ,"t":
  const t = Number(slice(tStart, numberEnd(message, tStart)));
  const now = nowMs();
  if (n < start[channelOf[client]]) return;
  const previous = last[client];
  if (n <= previous) {
    duplicates++;
    return;
  }
  if (n !== previous + 1) gaps += n - previous - 1;
  last[client] = n;
  received++;
  if (firstAt === 0) firstAt = now;
  lastAt = now;
  latency.record(now - t);
}

async function connect({
  kind,
  base,
  clients,
  channels,
  concurrency = 256,
  from = 0,
  to = clients,
  maxRate,
}) {
  const open = subscriberKinds[kind];
  if (!open) throw new Error(`unknown subscriber kind ${kind}`);
  // Connects subscribers `from`..`to - 1` of `clients` in all; `from` > 0 adds to those already connected.
  // `maxRate` (livedash only) subscribes each at that rate.
  if (from === 0) {
    channelOf = new Int32Array(clients);
    last = new Float64Array(clients);
    start = new Array(channels.length).fill(1);
    subscribers = new Array(clients);
  }
  const startedAt = nowMs();
  let next = from;
  let failed = 0;
  const worker = async () => {
    while (next < to) {
      const client = next++;
      channelOf[client] = client % channels.length;
      try {
        subscribers[client] = await open(
          base,
          channels[channelOf[client]],
          (message) => onMessage(client, message),
          { maxRate },
        );
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, to - from) }, worker));
  return { connected: to - from - failed, failed, seconds: (nowMs() - startedAt) / 1000 };
}

/** Starts a measurement window: messages before `counters[ch] + 1` on each channel are ignored. */
function reset({ counters }) {
  start = counters.map((count) => count + 1);
  for (let client = 0; client < last.length; client++) last[client] = start[channelOf[client]] - 1;
  received = 0;
  duplicates = 0;
  gaps = 0;
  firstAt = 0;
  lastAt = 0;
  latency.reset();
  return { cpu: process.cpuUsage() };
}

function expectedTotal(counters) {
  let total = 0;
  for (let client = 0; client < last.length; client++) {
    const channel = channelOf[client];
    total += Math.max(0, counters[channel] - start[channel] + 1);
  }
  return total;
}

/** Waits until every expected message arrived, or nothing arrived for `idleMs`; then reports. */
function wait({ counters, idleMs = 3000, timeoutMs = 120_000 }) {
  const expected = expectedTotal(counters);
  const begin = Date.now();
  return new Promise((resolve) => {
    let seen = received;
    let lastProgress = Date.now();
    const check = () => {
      const now = Date.now();
      if (received !== seen) {
        seen = received;
        lastProgress = now;
      }
      if (received >= expected || now - lastProgress > idleMs || now - begin > timeoutMs) {
        resolve({
          expected,
          received,
          lost: expected - received,
          duplicates,
          gaps,
          firstAt,
          lastAt,
          latency: latency.summary(),
          cpu: process.cpuUsage(),
        });
      } else setTimeout(check, 20);
    };
    check();
  });
}

async function closeAll() {
  for (const subscriber of subscribers) subscriber?.close();
  subscribers = [];
  await new Promise((resolve) => setTimeout(resolve, 200));
  return { ok: true };
}

serveWorker({ connect, reset, wait, closeAll }, closeAll);
