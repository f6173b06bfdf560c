import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import {
  type EventSourceConstructor,
  LiveClient,
  type MessageMeta,
  type WebSocketConstructor,
} from '@livedash/client';
import { EventSource } from 'eventsource';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { freePort, ServerProcess, TOKEN } from './helpers/dashboard-server.js';
import { documentedNginxConfig, Nginx } from './helpers/nginx.js';

/**
 * docs/scaling.md's deployment, for real: nginx with the documented configuration in front of three
 * livedash nodes sharing a private Redis, each started with `--trust-proxy 127.0.0.1` (nginx's address).
 * 300 clients — half over WebSocket, half over SSE — connect through nginx from 30 loopback addresses
 * (127.0.1.x, so nginx forwards a different client address for each group), a publisher posts through
 * nginx throughout, and one node is SIGKILLed: its clients come back through nginx on the others and
 * resume with every seq once, in order.
 */
const CHANNEL = 'orders';
const CLIENTS = 300;
const ADDRESSES = 30;
const PUBLISH_INTERVAL_MS = 50;

let redis: ChildProcess;
let nodes: ServerProcess[] = [];
let nginx: Nginx;
const agents: Agent[] = [];

beforeAll(async () => {
  const redisPort = await freePort();
  redis = spawn(
    'redis-server',
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const ports = [await freePort(), await freePort(), await freePort()];
  nodes = ports.map((port) => new ServerProcess(port));
  await Promise.all(
    nodes.map((node, i) =>
      node.start({
        node: `web-${i + 1}`,
        brokerUrl: `redis://127.0.0.1:${redisPort}`,
        trustProxy: ['127.0.0.1'],
        staticDir: undefined,
      }),
    ),
  );
  const nginxPort = await freePort();
  nginx = await Nginx.start(nginxPort, documentedNginxConfig(nginxPort, ports));
}, 60_000);

afterAll(async () => {
  await nginx?.stop();
  for (const node of nodes) await node.kill();
  await Promise.all(agents.map((agent) => agent.close()));
  if (redis && redis.exitCode === null) {
    const exited = once(redis, 'exit');
    redis.kill('SIGKILL');
    await exited;
  }
});

/** A WebSocket constructor whose connections leave from `localAddress`. */
function webSocketFrom(localAddress: string): WebSocketConstructor {
  class BoundWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { localAddress });
    }
  }
  return BoundWebSocket as unknown as WebSocketConstructor;
}

/** An HTTP dispatcher whose connections leave from `localAddress` (undici's `connect.localAddress` is not used). */
function dispatcherFrom(localAddress: string): Agent {
  const dispatcher = new Agent({
    connect: (options, callback) => {
      const socket = connect({ host: options.hostname, port: Number(options.port), localAddress });
      socket.once('connect', () => callback(null, socket));
      socket.once('error', (error) => callback(error, null));
    },
  });
  agents.push(dispatcher);
  return dispatcher;
}

/** An EventSource constructor whose streams leave from `localAddress`. */
function eventSourceFrom(localAddress: string): EventSourceConstructor {
  const dispatcher = dispatcherFrom(localAddress);
  class BoundEventSource extends EventSource {
    constructor(url: string) {
      super(url, { fetch: (input, init) => undiciFetch(input, { ...init, dispatcher }) as never });
    }
  }
  return BoundEventSource as unknown as EventSourceConstructor;
}

/**
 * Opens SSE streams through nginx from one address until one is refused; returns the statuses and a
 * function that closes the open ones.
 */
async function sseStreamsFrom(localAddress: string, attempts: number) {
  const dispatcher = dispatcherFrom(localAddress);
  const statuses: number[] = [];
  const controller = new AbortController();
  for (let i = 0; i < attempts; i++) {
    const response = await undiciFetch(`${nginx.url}/sse?channels=limits`, {
      dispatcher,
      signal: controller.signal,
    });
    statuses.push(response.status);
    if (response.status !== 200) {
      await response.body?.cancel();
      break;
    }
  }
  return { statuses, close: () => controller.abort() };
}

function sampleStates(watched: readonly Watched[]): string {
  const waiting = watched.filter((entry) => entry.client.state.status !== 'open').slice(0, 3);
  return JSON.stringify(waiting.map((entry) => ({ client: entry.transport, ...entry.client.state })));
}

interface Watched {
  transport: 'ws' | 'sse';
  seqs: number[];
  epochs: Set<string>;
  resets: number;
  opened: number;
  client: LiveClient;
}

describe('three nodes behind nginx with the documented configuration', { timeout: 90_000 }, () => {
  it('per-address limits count the address nginx forwards, not nginx', async () => {
    // maxSseStreamsPerIp is 16 per node: one address gets at most 3 × 16 streams through three nodes,
    // while the 300 clients below (150 over SSE) fit only because each group is counted on its own.
    const crowded = await sseStreamsFrom('127.0.2.1', 49);
    try {
      const accepted = crowded.statuses.filter((status) => status === 200).length;
      expect(crowded.statuses.at(-1)).toBe(429);
      expect(accepted).toBeGreaterThanOrEqual(16);
      expect(accepted).toBeLessThanOrEqual(48);
      // Another address, through the same nginx at the same moment, is not affected.
      const other = await sseStreamsFrom('127.0.2.2', 1);
      other.close();
      expect(other.statuses).toEqual([200]);
    } finally {
      crowded.close();
    }
  });

  it('300 clients over WebSocket and SSE: a SIGKILLed node’s clients resume on the others with no gap', async () => {
    const watched: Watched[] = [];
    for (let i = 0; i < CLIENTS; i++) {
      const address = `127.0.1.${1 + (i % ADDRESSES)}`;
      const transport = i % 2 === 0 ? 'ws' : 'sse';
      const client = new LiveClient({
        url: nginx.url,
        transports: [transport],
        WebSocket: webSocketFrom(address),
        EventSource: eventSourceFrom(address),
        backoff: { initialDelayMs: 250, maxDelayMs: 2000 },
      });
      const entry: Watched = { transport, seqs: [], epochs: new Set(), resets: 0, opened: 0, client };
      let status = client.state.status;
      client.onState((state) => {
        if (state.status === 'open' && status !== 'open') entry.opened++;
        status = state.status;
      });
      client.subscribe(
        CHANNEL,
        (_data: unknown, meta: MessageMeta) => {
          entry.seqs.push(meta.seq);
          entry.epochs.add(meta.epoch);
        },
        { onReset: () => entry.resets++ },
      );
      watched.push(entry);
    }
    try {
      await vi.waitFor(
        () => {
          const open = watched.filter((entry) => entry.client.state.status === 'open').length;
          if (open < CLIENTS) {
            throw new Error(`${open} of ${CLIENTS} clients open; ${sampleStates(watched)}`);
          }
        },
        { timeout: 45_000, interval: 200 },
      );

      let publishing = true;
      let acknowledged = 0;
      let refused = 0;
      let lastSeq = 0;
      const publisher = (async () => {
        while (publishing) {
          const started = Date.now();
          const answer = await fetch(`${nginx.url}/api/channels/${CHANNEL}`, {
            method: 'POST',
            headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
            body: JSON.stringify({ at: started }),
          }).catch(() => undefined);
          if (answer?.status === 200) {
            acknowledged++;
            lastSeq = Math.max(lastSeq, ((await answer.json()) as { seq: number }).seq);
          } else {
            refused++;
            await answer?.body?.cancel();
          }
          await new Promise((resolve) =>
            setTimeout(resolve, Math.max(0, PUBLISH_INTERVAL_MS - (Date.now() - started))),
          );
        }
      })();

      await vi.waitFor(() => expect(acknowledged).toBeGreaterThanOrEqual(40), { timeout: 20_000 });
      await nodes[0]!.kill();
      await vi.waitFor(
        () => {
          const moving = watched.filter((entry) => entry.client.state.status !== 'open');
          if (moving.length === 0) return;
          throw new Error(`${moving.length} clients not open again; ${sampleStates(watched)}`);
        },
        { timeout: 30_000, interval: 200 },
      );
      const resumedAt = acknowledged;
      await vi.waitFor(() => expect(acknowledged).toBeGreaterThanOrEqual(resumedAt + 40), {
        timeout: 20_000,
      });
      publishing = false;
      await publisher;

      await vi.waitFor(
        () => {
          const behind = watched.filter((entry) => entry.seqs.at(-1) !== lastSeq).length;
          if (behind > 0) throw new Error(`${behind} clients have not reached seq ${lastSeq}`);
        },
        { timeout: 20_000, interval: 200 },
      );
      const moved = watched.filter((entry) => entry.opened > 1);
      console.log(
        `${CLIENTS} clients through nginx (${CLIENTS / 2} WebSocket, ${CLIENTS / 2} SSE): ${acknowledged} publishes ` +
          `acknowledged, ${refused} refused; ${moved.length} clients of the killed node reconnected ` +
          `(${moved.filter((entry) => entry.transport === 'ws').length} WebSocket, ` +
          `${moved.filter((entry) => entry.transport === 'sse').length} SSE); every client got seq 1..${lastSeq}`,
      );
      expect(moved.length).toBeGreaterThan(0);
      const expected = Array.from({ length: lastSeq }, (_, i) => i + 1);
      for (const [i, entry] of watched.entries()) {
        expect(entry.seqs, `client ${i} (${entry.transport})`).toEqual(expected);
        expect(entry.epochs.size).toBe(1);
        expect(entry.resets).toBe(0);
      }
      expect(nginx.errors()).not.toMatch(/\[(emerg|alert|crit)\]/);
    } finally {
      for (const entry of watched) entry.client.close();
    }
  });
});
