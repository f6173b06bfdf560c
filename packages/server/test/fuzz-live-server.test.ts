/**
 * Fuzzing a live server: for a bounded time, attackers throw random and mutated WebSocket frames,
 * raw frame bytes, garbage upgrades and garbage HTTP at one server while a well-behaved subscriber
 * checks it still receives every published message, in order, without a gap.
 *
 * Reproduce a failure with the seed it prints: LIVEDASH_FUZZ_SEED=<seed> LIVEDASH_FUZZ_MS=20000 npx vitest run <this file>
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createServer, type LivedashServer } from '../src/index.js';
import {
  buildFrame,
  expectServerServes,
  isContiguous,
  ProbeClient,
  rawWebSocket,
  upgradeHeaders,
  waitFor,
} from './security-wire.js';

const DURATION_MS = Number(process.env.LIVEDASH_FUZZ_MS ?? 4000);
const SEED = Number(process.env.LIVEDASH_FUZZ_SEED ?? Date.now() % 2 ** 31);
const PUBLISH_TOKEN = 'fuzz-publish-token';

/** A small seeded PRNG (mulberry32) so a run can be replayed from its seed. */
function prng(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (max: number) => Math.floor(next() * max),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
    bytes: (length: number) => Buffer.from(Array.from({ length }, () => Math.floor(next() * 256))),
  };
}
type Rng = ReturnType<typeof prng>;

const VALID_COMMANDS = [
  '{"action":"subscribe","channels":["fuzz.a","fuzz.b"],"id":1}',
  '{"action":"subscribe","channels":["fuzz.a"],"since":{"fuzz.a":{"epoch":"abc","seq":3}}}',
  '{"action":"unsubscribe","channels":["fuzz.a"],"id":"x"}',
  '{"action":"publish","channel":"fuzz.a","data":{"v":[1,2,{"k":"s"}]},"id":2}',
  `{"action":"auth","token":"${PUBLISH_TOKEN}"}`,
  '{"action":"ping","id":3}',
];

/** Random text built from pieces that matter to the parser: braces, quotes, escapes, names, numbers. */
function mutate(rng: Rng, text: string): string {
  const pieces = [
    '{',
    '}',
    '[',
    ']',
    '"',
    '\\',
    ':',
    ',',
    '__proto__',
    'constructor',
    '$',
    '~',
    '-1',
    '1e999',
    '\u0000',
    '\ud800',
    'null',
  ];
  let out = text;
  for (let edits = 1 + rng.int(4); edits > 0; edits--) {
    const at = rng.int(out.length + 1);
    const kind = rng.int(3);
    if (kind === 0) out = out.slice(0, at) + rng.pick(pieces) + out.slice(at);
    else if (kind === 1) out = out.slice(0, at) + out.slice(at + 1 + rng.int(8));
    else out = out.slice(0, at) + out.slice(at).repeat(1 + rng.int(3));
  }
  return out;
}

/** JSON values, strings and command-shaped objects from fast-check, reproducible from the seed. */
function samples(seed: number) {
  const json = fc.sample(fc.jsonValue({ maxDepth: 6 }), { seed, numRuns: 300 }).map((v) => JSON.stringify(v));
  const text = fc.sample(fc.string({ unit: 'binary', maxLength: 200 }), { seed: seed + 1, numRuns: 300 });
  const commands = fc
    .sample(
      fc.record(
        {
          action: fc.constantFrom('subscribe', 'unsubscribe', 'publish', 'ping', 'auth', 'explode'),
          channels: fc.array(
            fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('fuzz.a', '__proto__', 'toString')),
            { maxLength: 5 },
          ),
          channel: fc.string({ maxLength: 20 }),
          data: fc.jsonValue({ maxDepth: 3 }),
          since: fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 })),
          id: fc.oneof(fc.integer(), fc.string({ maxLength: 70 }), fc.constant(null)),
        },
        { requiredKeys: [] },
      ),
      { seed: seed + 2, numRuns: 300 },
    )
    .map((v) => JSON.stringify(v));
  return [...json, ...text, ...commands];
}

let server: LivedashServer;

beforeAll(async () => {
  server = await createServer({
    port: 0,
    publishToken: PUBLISH_TOKEN,
    requestTimeoutMs: 2000,
  });
});

afterAll(async () => {
  await server.close();
});

/** One WebSocket client (the `ws` package) sending valid, mutated and random frames, then starting over. */
async function wsAttacker(rng: Rng, corpus: string[], until: number): Promise<number> {
  let sent = 0;
  while (Date.now() < until) {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws`);
    ws.on('error', () => {});
    const opened = await new Promise<boolean>((resolve) => {
      ws.once('open', () => resolve(true));
      ws.once('close', () => resolve(false));
    });
    for (
      let burst = rng.int(200);
      opened && burst > 0 && ws.readyState === WebSocket.OPEN && Date.now() < until;
      burst--
    ) {
      const kind = rng.int(10);
      if (kind < 3) ws.send(mutate(rng, rng.pick(VALID_COMMANDS)));
      else if (kind < 5) ws.send(rng.pick(corpus));
      else if (kind < 6) ws.send(rng.bytes(rng.int(64)), { binary: true });
      else if (kind < 7)
        ws.send(`{"action":"publish","channel":"fuzz.a","data":"${'x'.repeat(rng.int(80_000))}"}`);
      else ws.send(rng.pick(VALID_COMMANDS));
      sent++;
      if (rng.int(8) === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    if (rng.int(2) === 0) ws.terminate();
    else ws.close();
  }
  return sent;
}

/** A hand-made WebSocket sending frames with random header bits, lengths and bytes. */
async function rawFrameAttacker(rng: Rng, until: number): Promise<number> {
  let sent = 0;
  while (Date.now() < until) {
    const { socket } = await rawWebSocket(server.port);
    for (let n = 1 + rng.int(20); n > 0 && !socket.destroyed; n--) {
      const kind = rng.int(4);
      const frame =
        kind === 0
          ? rng.bytes(1 + rng.int(40))
          : buildFrame({
              opcode: rng.pick([0x0, 0x1, 0x2, 0x3, 0x8, 0x9, 0xa, 0xf]),
              payload: kind === 1 ? rng.bytes(rng.int(300)) : mutate(rng, rng.pick(VALID_COMMANDS)),
              fin: rng.int(4) !== 0,
              rsv: rng.int(5) === 0 ? 1 + rng.int(7) : 0,
              mask: rng.int(10) !== 0,
              ...(rng.int(6) === 0
                ? { announcedLength: BigInt(rng.int(2 ** 31)) * BigInt(1 + rng.int(2 ** 20)) }
                : {}),
            });
      socket.write(frame);
      sent++;
    }
    await new Promise((resolve) => setTimeout(resolve, rng.int(20)));
    if (rng.int(2) === 0) socket.resetAndDestroy();
    else socket.destroy();
  }
  return sent;
}

/** Raw TCP: garbage bytes, half requests, odd methods and paths, garbage upgrades, bodies that lie. */
async function httpAttacker(rng: Rng, corpus: string[], until: number): Promise<number> {
  const paths = [
    '/',
    '/ws',
    '/sse?channels=fuzz.a',
    '/sse?channels=__proto__&since=a~b~c',
    '/api/channels',
    '/api/channels/fuzz.a',
    '/api/channels/fuzz.a/messages?since=-1&limit=99999',
    '/api/channels/%00',
    '/healthz',
    '/metrics',
    '/%',
    '/api/channels/fuzz.a?token=x',
  ];
  let sent = 0;
  while (Date.now() < until) {
    const socket = connect(server.port, '127.0.0.1');
    socket.on('error', () => {});
    socket.on('data', () => {});
    await new Promise<void>((resolve) => {
      socket.once('connect', () => resolve());
      socket.once('close', () => resolve());
    });
    const kind = rng.int(5);
    const path = rng.pick(paths);
    const body = rng.pick(corpus);
    const chunks: Array<string | Buffer> =
      kind === 0
        ? [rng.bytes(1 + rng.int(500))]
        : kind === 1
          ? [mutate(rng, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`)]
          : kind === 2
            ? [
                upgradeHeaders(path, {
                  'Sec-WebSocket-Protocol': mutate(rng, 'a, b'),
                  'Sec-WebSocket-Extensions': mutate(rng, 'permessage-deflate; x=1'),
                  'Sec-WebSocket-Version': rng.pick(['13', '8', '', '13,13']),
                }),
                rng.bytes(rng.int(100)),
              ]
            : kind === 3
              ? [
                  `POST /api/channels/fuzz.h HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${rng.int(2) ? PUBLISH_TOKEN : 'bad'}\r\nContent-Type: application/json\r\nContent-Length: ${rng.int(3) === 0 ? 10 ** 9 : Buffer.byteLength(body)}\r\n\r\n`,
                  body,
                ]
              : [
                  `${rng.pick(['GET', 'POST', 'DELETE', 'OPTIONS', 'BREW', 'G ET'])} ${path} HTTP/1.${rng.int(3)}\r\n${'X-A: b\r\n'.repeat(rng.int(100))}\r\n`,
                ];
    for (const chunk of chunks) if (!socket.destroyed) socket.write(chunk);
    sent++;
    await new Promise((resolve) => setTimeout(resolve, rng.int(30)));
    if (rng.int(2) === 0) socket.resetAndDestroy();
    else socket.destroy();
  }
  return sent;
}

it(`keeps delivering every message in order while being fuzzed for ${DURATION_MS} ms (seed ${SEED})`, {
  timeout: DURATION_MS + 60_000,
}, async () => {
  const rng = prng(SEED);
  const corpus = samples(SEED);
  const probe = await ProbeClient.connect(server.url, 'fuzz.probe');
  const until = Date.now() + DURATION_MS;
  let published = 0;
  const publisher = (async () => {
    while (Date.now() < until) {
      await server.hub.publish('fuzz.probe', { n: ++published, pad: randomBytes(8).toString('hex') });
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  const [wsFrames, rawFrames, httpRequests] = await Promise.all([
    wsAttacker(prng(rng.int(2 ** 31)), corpus, until),
    rawFrameAttacker(prng(rng.int(2 ** 31)), until),
    httpAttacker(prng(rng.int(2 ** 31)), corpus, until),
    publisher,
  ]);
  await waitFor(
    () => probe.seqs.length >= published,
    20_000,
    `the probe to receive ${published} messages (seed ${SEED})`,
  );
  expect(
    isContiguous(probe.seqs, 1, published),
    `gap or disorder with seed ${SEED}: ${probe.seqs.slice(0, 20).join(',')}…`,
  ).toBe(true);
  expect(probe.ws.readyState).toBe(WebSocket.OPEN);
  expect(probe.errors).toEqual([]);
  console.info(
    `fuzz seed ${SEED}: ${wsFrames} ws frames, ${rawFrames} raw frames, ${httpRequests} raw HTTP exchanges, ${published} messages delivered in order`,
  );
  // The attackers really attacked (a run where they did nothing would prove nothing).
  expect(wsFrames).toBeGreaterThan(50);
  expect(rawFrames).toBeGreaterThan(20);
  expect(httpRequests).toBeGreaterThan(20);
  await probe.close();
  await expectServerServes(server, 'fuzz.after');
});
