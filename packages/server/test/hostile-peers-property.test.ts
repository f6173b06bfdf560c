/**
 * Property: whatever request lines, header sets and WebSocket frames peers throw at a live server over
 * real sockets, the server answers or closes them, counts no fault, and still serves a well-behaved
 * client (subscribe, then receive a publish) after every batch. Bounded: 20 batches of up to 8 peers,
 * each peer given at most 400 ms.
 *
 * Replay a failure: LIVEDASH_PROPERTY_SEED=<seed printed by fast-check> npx vitest run <this file>
 */
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createServer, type LivedashServer } from '../src/index.js';
import { until } from './helpers/wait.js';
import { buildFrame, ProbeClient, rawWebSocket } from './security-wire.js';

const PEER_MS = 400;
const seed = process.env.LIVEDASH_PROPERTY_SEED ? Number(process.env.LIVEDASH_PROPERTY_SEED) : undefined;

let server: LivedashServer;

beforeAll(async () => {
  server = await createServer({ port: 0, requestTimeoutMs: 2000 });
});

afterAll(async () => {
  await server.close();
});

const visible = fc.string({
  unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 40,
});
const anyText = fc.string({ unit: 'binary-ascii', maxLength: 60 });
const port = fc.oneof(
  fc.integer({ min: 0, max: 70_000 }).map(String),
  fc.bigInt({ min: 0n, max: 10n ** 40n }).map(String),
  fc.constantFrom('', '-1', '8o', '0x50', '１２'),
);
const host = fc.oneof(fc.constantFrom('a', '127.0.0.1', '[::1]', '[::1', 'xn--d', '%41', 'a@b', ''), visible);
const path = fc.oneof(
  fc.constantFrom(
    '/ws',
    '/sse?channels=p.a',
    '/api/channels',
    '/api/channels/p.a/messages?since=0',
    '/healthz',
    '/metrics',
  ),
  visible.map((text) => `/${text}`),
  fc.constantFrom('/%', '/%zz', '/ws?token=%G1', '/ws#x', '//ws', '/..%2f', `/${'a'.repeat(20_000)}`),
);
/** Every RFC 9112 form, and things that are none of them. */
const target = fc.oneof(
  path,
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.constantFrom('http://', 'https://', 'HTTP://', 'ftp://', 'http:/'), host, port, path)
      .map(([scheme, h, p, rest]) => `${scheme}${h}${p === '' ? '' : `:${p}`}${rest}`),
  },
  fc.tuple(host, port).map(([h, p]) => `${h}:${p}`),
  fc.constant('*'),
  anyText,
);
// Weighted towards what Node's parser lets through to livedash's listeners, where the danger is.
const method = fc.oneof(
  { weight: 4, arbitrary: fc.constant('GET') },
  fc.constantFrom('POST', 'OPTIONS', 'CONNECT', 'HEAD', 'DELETE', 'PRI'),
  visible,
);
const version = fc.oneof(
  { weight: 4, arbitrary: fc.constant('HTTP/1.1') },
  fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1 x', ''),
);
const headerName = fc.oneof(
  fc.constantFrom(
    'Host',
    'Upgrade',
    'Connection',
    'Sec-WebSocket-Key',
    'Sec-WebSocket-Version',
    'Sec-WebSocket-Protocol',
    'Origin',
    'Content-Length',
    'Transfer-Encoding',
    'Authorization',
    'Last-Event-ID',
  ),
  visible,
);
const headerValue = fc.oneof(
  fc.constantFrom(
    'websocket',
    'Upgrade',
    'dGhlIHNhbXBsZSBub25jZQ==',
    '13',
    'chunked',
    '0',
    '99999999999',
    'Bearer x',
  ),
  anyText,
);
const headers = fc.array(fc.tuple(headerName, headerValue), { maxLength: 12 });
const upgradeHeaders = fc.constant([
  ['Upgrade', 'websocket'],
  ['Connection', 'Upgrade'],
  ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
  ['Sec-WebSocket-Version', '13'],
] as Array<[string, string]>);

const requestPeer = fc.record({
  kind: fc.constant('request' as const),
  line: fc.tuple(method, target, version).map(([m, t, v]) => `${m} ${t} ${v}`),
  headers: fc
    .tuple(fc.integer({ min: 0, max: 3 }), headers, upgradeHeaders)
    .map(([kind, extra, ws]) => (kind > 0 ? [...ws, ...extra] : extra)),
  body: fc.oneof(fc.constant(''), anyText),
});
const frame = fc.oneof(
  fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
  fc
    .record({
      opcode: fc.integer({ min: 0, max: 15 }),
      payload: fc.oneof(
        anyText,
        fc.constantFrom('{"action":"ping"}', '{"action":"subscribe","channels":["p.x"]}'),
      ),
      fin: fc.boolean(),
      rsv: fc.integer({ min: 0, max: 7 }),
      mask: fc.boolean(),
      lie: fc.option(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
    })
    .map(({ lie, ...spec }) => buildFrame(lie === null ? spec : { ...spec, announcedLength: lie })),
);
const framePeer = fc.record({
  kind: fc.constant('frames' as const),
  frames: fc.array(frame, { minLength: 1, maxLength: 8 }),
});
const batch = fc.array(fc.oneof(requestPeer, requestPeer, framePeer), { minLength: 1, maxLength: 8 });

type Peer =
  | { kind: 'request'; line: string; headers: Array<[string, string]>; body: string }
  | { kind: 'frames'; frames: Buffer[] };

async function requestPeerRun(peer: Extract<Peer, { kind: 'request' }>): Promise<void> {
  const socket = connect(server.port, '127.0.0.1');
  socket.on('error', () => {});
  socket.on('data', () => {});
  await new Promise<void>((resolve) => {
    socket.once('connect', () => resolve());
    socket.once('close', () => resolve());
  });
  const head = [peer.line, ...peer.headers.map(([name, value]) => `${name}: ${value}`)].join('\r\n');
  if (!socket.destroyed) socket.write(`${head}\r\n\r\n${peer.body}`, 'latin1');
  await new Promise((resolve) => setTimeout(resolve, PEER_MS));
  socket.destroy();
}

async function framePeerRun(peer: Extract<Peer, { kind: 'frames' }>): Promise<void> {
  const { socket } = await rawWebSocket(server.port);
  for (const bytes of peer.frames) if (!socket.destroyed) socket.write(bytes);
  await new Promise((resolve) => setTimeout(resolve, PEER_MS));
  socket.destroy();
}

async function faultCount(): Promise<number> {
  const text = await server.metrics.registry.metrics();
  let total = 0;
  for (const match of text.matchAll(/^livedash_peer_faults_total\{[^}]*\} (\d+)$/gm))
    total += Number(match[1]);
  return total;
}

let checks = 0;

/** A well-behaved client still subscribes and receives a publish. */
async function serverStillServes(): Promise<void> {
  const channel = `property.${++checks}`;
  const probe = await ProbeClient.connect(server.url, channel);
  try {
    const { seq } = await server.hub.publish(channel, { n: checks });
    await until(() => probe.seqs.includes(seq), `the publish on ${channel}`, 5000);
  } finally {
    await probe.close();
  }
}

test('random request lines, header sets and frames never stop the server from serving a well-behaved client', {
  timeout: 120_000,
}, async () => {
  await fc.assert(
    fc.asyncProperty(batch, async (peers) => {
      await Promise.all(
        (peers as Peer[]).map((peer) =>
          peer.kind === 'request' ? requestPeerRun(peer) : framePeerRun(peer),
        ),
      );
      await serverStillServes();
      // Every input was handled by design: none reached the last-resort guard.
      expect(await faultCount()).toBe(0);
    }),
    { numRuns: 20, ...(seed === undefined ? {} : { seed }) },
  );
});
