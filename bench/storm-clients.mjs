// The reconnect storm's clients, in their own process: `clients` LiveClients from @livedash/client
// (the built dist, or the module `start` names: another build of the client), with the `ws` package as
// WebSocket, each subscribed to one channel. Reports when each one is subscribed again after a server
// restart and has received a message published after it.
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { serveWorker } from './lib/ipc.mjs';

const distModule = new URL('../packages/client/dist/index.js', import.meta.url).pathname;

let clients = [];
let subscribedAt = new Float64Array(0);
let freshAt = new Float64Array(0);
let epochBefore = '';
const attemptsPerSecond = new Map();

/** The `ws` constructor, counting every connection attempt the clients make. */
class CountingWebSocket extends WebSocket {
  constructor(url, protocols) {
    super(url, protocols, { perMessageDeflate: false });
    const second = Math.floor(Date.now() / 1000);
    attemptsPerSecond.set(second, (attemptsPerSecond.get(second) ?? 0) + 1);
  }
}

async function start({ url, count, channel, jitter, clientModule = distModule }) {
  const { LiveClient } = await import(pathToFileURL(clientModule).href);
  subscribedAt = new Float64Array(count);
  freshAt = new Float64Array(count);
  clients = [];
  for (let i = 0; i < count; i++) {
    const client = new LiveClient({
      url,
      transports: ['ws'],
      WebSocket: CountingWebSocket,
      // Jitter off: every client computes the same delay and they reconnect in lockstep.
      ...(jitter ? {} : { random: () => 0 }),
    });
    client.subscribe(
      channel,
      (_data, meta) => {
        if (meta.epoch !== epochBefore && freshAt[i] === 0) freshAt[i] = Date.now();
      },
      {
        onSubscribed: (info) => {
          if (info.epoch !== epochBefore) subscribedAt[i] = Date.now();
        },
      },
    );
    clients.push(client);
    // Connecting 5,000 at once would itself be a storm; open them a few hundred at a time.
    if (i % 200 === 199) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { started: count };
}

/** From now on, only a subscription and a message in an epoch other than `epoch` count as recovered. */
function arm({ epoch }) {
  epochBefore = epoch;
  subscribedAt.fill(0);
  freshAt.fill(0);
  attemptsPerSecond.clear();
  return { ok: true };
}

function progress() {
  let subscribed = 0;
  let fresh = 0;
  let last = 0;
  let gaveUp = 0;
  for (let i = 0; i < clients.length; i++) {
    if (subscribedAt[i] > 0) subscribed++;
    if (freshAt[i] > 0) {
      fresh++;
      last = Math.max(last, freshAt[i], subscribedAt[i]);
    }
    if (clients[i].state.status === 'failed') gaveUp++;
  }
  return {
    clients: clients.length,
    subscribed,
    fresh,
    gaveUp,
    lastRecoveredAt: last,
    attemptsPerSecond: [...attemptsPerSecond.entries()].sort((a, b) => a[0] - b[0]),
  };
}

async function stop() {
  for (const client of clients) client.close();
  clients = [];
  return { ok: true };
}

serveWorker({ start, arm, progress, stop }, stop);
