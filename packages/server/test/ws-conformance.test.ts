/**
 * RFC 6455 conformance of the WebSocket endpoint at /ws, over raw TCP: the opening handshake, framing,
 * fragmentation, protocol errors and their close codes, size limits, ping/pong, the closing handshake,
 * shutdown, heartbeats and garbage. Written against behaviour a peer can see on the wire, so it holds
 * whichever library (or none) implements the server side. Every server frame of every test is also
 * checked against the rules a server must keep (unmasked, RSV clear, minimal lengths, nothing after
 * Close…; see `ServerFrameChecker`).
 */
import { CloseCodes, ErrorCodes } from '@livedash/protocol';
import { createServer, type LivedashServer } from '@livedash/server';
import { afterEach, describe, expect, it } from 'vitest';
import {
  RawWsClient,
  type RawWsOptions,
  refusedUpgrade,
  type UpgradeRequest,
} from './helpers/raw-ws-client.js';
import { acceptFor, clientFrame, closeBody, Opcode } from './helpers/raw-ws-frame.js';
import { until } from './helpers/wait.js';

/** Small enough that size-limit tests need only a few KiB. */
const MAX_FRAME_BYTES = 1024;
/** The RFC's own example (§1.3): this key must be answered with this accept value. */
const RFC_SAMPLE_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const RFC_SAMPLE_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

let server: LivedashServer | undefined;
const clients: RawWsClient[] = [];

afterEach(async () => {
  const opened = clients.splice(0);
  for (const client of opened) client.destroy();
  await server?.close();
  server = undefined;
  // After cleanup, so a failing check does not leave sockets behind.
  for (const client of opened) expect(client.violations).toEqual([]);
});

async function start(options: Parameters<typeof createServer>[0] = {}): Promise<LivedashServer> {
  server = await createServer({
    port: 0,
    host: '127.0.0.1',
    publishToken: 'secret',
    maxFrameBytes: MAX_FRAME_BYTES,
    // Far beyond any test, so server pings never land in the middle of one (the heartbeat tests set their own).
    heartbeatMs: 120_000,
    ...options,
  });
  return server;
}

async function open(request: UpgradeRequest = {}, options: RawWsOptions = {}): Promise<RawWsClient> {
  const client = await RawWsClient.open((server as LivedashServer).port, request, options);
  clients.push(client);
  return client;
}

/** A client past its `$welcome`, so later frames are answers to what the test sends. */
async function welcomed(options: RawWsOptions = {}): Promise<RawWsClient> {
  const client = await open({}, options);
  await client.waitForJson((m) => m.type === '$welcome', '$welcome');
  return client;
}

function subscribe(channel: string, id: number): string {
  return JSON.stringify({ action: 'subscribe', channels: [channel], id });
}

/** The command was understood: `$subscribed` came, and a message published on the channel arrives. */
async function expectSubscribed(client: RawWsClient, channel: string, id: number): Promise<void> {
  const subscribed = await client.waitForJson(
    (m) => m.type === '$subscribed' && m.id === id,
    `$subscribed #${id}`,
  );
  expect(subscribed.channel).toBe(channel);
  const { seq } = await (server as LivedashServer).hub.publish(channel, { probe: id });
  await client.waitForJson((m) => m.type === channel && m.seq === seq, `${channel} #${seq}`);
}

/** The connection still works: a ping command is answered. */
async function expectAnswers(client: RawWsClient, id: number): Promise<void> {
  await client.command({ action: 'ping', id });
  await client.waitForJson((m) => m.type === '$pong' && m.id === id, `$pong #${id}`);
  expect(client.closeFrame).toBeUndefined();
}

/** The server sent a close frame with one of `codes`, then actually closed the TCP connection. */
async function expectClosedWith(
  client: RawWsClient,
  codes: Array<number | undefined>,
): Promise<number | undefined> {
  const { code } = await client.waitForClose();
  expect(codes).toContain(code);
  await client.waitForTcpClose();
  return code;
}

/** A fresh, well-behaved client can still subscribe and receive: the server survived. */
async function expectServerServes(): Promise<void> {
  const probe = await welcomed();
  await probe.command(subscribe('probe.after', 1));
  await expectSubscribed(probe, 'probe.after', 1);
}

/** Waits until the server counts `count` open WebSocket connections (/healthz). */
async function expectWsConnections(count: number): Promise<void> {
  const url = (server as LivedashServer).url;
  let last: unknown;
  await until(
    async () => {
      const health = (await (await fetch(`${url}/healthz`)).json()) as { connections: { ws: number } };
      last = health.connections.ws;
      return last === count;
    },
    `${count} WebSocket connections`,
    10_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message} (last seen: ${String(last)})`);
  });
}

describe('opening handshake (RFC 6455 §4.2)', () => {
  it("answers the RFC's sample key with its Sec-WebSocket-Accept, 101 with Upgrade and Connection, then $welcome", async () => {
    await start();
    const client = await open({ headers: { 'Sec-WebSocket-Key': RFC_SAMPLE_KEY } });
    expect(client.handshake.status).toBe(101);
    expect(client.handshake.headers.get('sec-websocket-accept')).toBe(RFC_SAMPLE_ACCEPT);
    expect(client.handshake.headers.get('upgrade')?.toLowerCase()).toBe('websocket');
    expect(client.handshake.headers.get('connection')?.toLowerCase()).toContain('upgrade');
    await client.waitForJson((m) => m.type === '$welcome', '$welcome');
    expect(client.json[0]?.type).toBe('$welcome');

    const other = await open();
    expect(other.handshake.headers.get('sec-websocket-accept')).toBe(acceptFor(other.key as string));
  });

  it('takes header names and values in any case, and Connection: keep-alive, Upgrade (as Firefox sends it)', async () => {
    await start();
    const client = await open({
      headers: { UPGRADE: 'WebSocket', connection: 'keep-alive, Upgrade', 'sec-websocket-version': '13' },
    });
    expect(client.handshake.status).toBe(101);
    expect(client.handshake.headers.get('sec-websocket-accept')).toBe(acceptFor(client.key as string));
    await expectAnswers(client, 1);
  });

  it('does not negotiate permessage-deflate: no Sec-WebSocket-Extensions in the 101 when a client offers it', async () => {
    await start();
    const client = await open({
      headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits' },
    });
    expect(client.handshake.status).toBe(101);
    expect(client.handshake.headers.has('sec-websocket-extensions')).toBe(false);
    await expectAnswers(client, 1);
  });

  it.each([
    ['missing', undefined],
    ['not base64', 'not-a-websocket-key!!!!='],
    ['15 bytes', Buffer.alloc(15, 7).toString('base64')],
    ['17 bytes', Buffer.alloc(17, 7).toString('base64')],
    ['16 bytes without padding', Buffer.alloc(16, 7).toString('base64').replace(/=+$/, '')],
    ['empty', ''],
  ])('a Sec-WebSocket-Key that is %s gets 400 and the connection closed', async (_what, key) => {
    const { port } = await start();
    const answer = await refusedUpgrade(port, { headers: { 'Sec-WebSocket-Key': key } });
    expect(answer.status).toBe(400);
    expect(answer.closed).toBe(true);
    await expectServerServes();
  });

  it.each([
    ['missing', undefined],
    ['12', '12'],
    ['7', '7'],
    ['14', '14'],
    ['not a number', 'thirteen'],
  ])('Sec-WebSocket-Version %s gets 400 or 426 naming version 13 (§4.4)', async (_what, version) => {
    const { port } = await start();
    const answer = await refusedUpgrade(port, { headers: { 'Sec-WebSocket-Version': version } });
    expect([400, 426]).toContain(answer.status);
    const offered = (answer.headers.get('sec-websocket-version') ?? '').split(',').map((v) => v.trim());
    expect(offered).toContain('13');
    expect(answer.closed).toBe(true);
  });

  it.each(['POST', 'PUT', 'DELETE'])('an upgrade by %s is refused with a 4xx', async (method) => {
    const { port } = await start();
    const answer = await refusedUpgrade(port, {
      method,
      headers: { 'Content-Length': '0' },
    });
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    await expectServerServes();
  });

  it('a request without Upgrade: websocket is refused with a 4xx (no header, or another protocol)', async () => {
    const { port } = await start();
    const missing = await refusedUpgrade(port, { headers: { Upgrade: undefined, Connection: 'close' } }, 0);
    expect(missing.status).toBeGreaterThanOrEqual(400);
    expect(missing.status).toBeLessThan(500);
    const other = await refusedUpgrade(port, { headers: { Upgrade: 'chat' } });
    expect(other.status).toBeGreaterThanOrEqual(400);
    expect(other.status).toBeLessThan(500);
    await expectServerServes();
  });

  it.each(['/', '/nope', '/ws/extra', '/wss'])(
    'an upgrade on %s gets 404 and the connection closed',
    async (path) => {
      const { port } = await start();
      const answer = await refusedUpgrade(port, { path });
      expect(answer.status).toBe(404);
      expect(answer.closed).toBe(true);
    },
  );

  it('Sec-WebSocket-Protocol: answers with none or one the client offered, never another; none offered, none answered', async () => {
    await start();
    const offered = ['livedash.v1', 'chat'];
    const client = await open({ headers: { 'Sec-WebSocket-Protocol': offered.join(', ') } });
    expect(client.handshake.status).toBe(101);
    const chosen = client.handshake.headers.get('sec-websocket-protocol');
    // Today (ws without handleProtocols) the first offered one is echoed; omitting it is equally allowed (§4.2.2).
    if (chosen !== undefined) expect(offered).toContain(chosen);
    await expectAnswers(client, 1);

    const plain = await open();
    expect(plain.handshake.headers.has('sec-websocket-protocol')).toBe(false);
  });
});

describe('data frames and fragmentation (§5.2, §5.4)', () => {
  it('a command in one frame works', async () => {
    await start();
    const client = await welcomed();
    await client.command(subscribe('one', 1));
    await expectSubscribed(client, 'one', 1);
  });

  it('a command in three fragments (text + two continuations) works', async () => {
    await start();
    const client = await welcomed();
    const text = subscribe('frag', 1);
    await client.send({ opcode: Opcode.TEXT, payload: text.slice(0, 10), fin: false });
    await client.send({ opcode: Opcode.CONTINUATION, payload: text.slice(10, 25), fin: false });
    await client.send({ opcode: Opcode.CONTINUATION, payload: text.slice(25) });
    await expectSubscribed(client, 'frag', 1);
  });

  it('a ping between fragments is answered with a pong of the same payload, and the message still works', async () => {
    await start();
    const client = await welcomed();
    const text = subscribe('mid', 1);
    await client.send({ opcode: Opcode.TEXT, payload: text.slice(0, 12), fin: false });
    await client.send({ opcode: Opcode.PING, payload: 'between fragments' });
    await client.send({ opcode: Opcode.CONTINUATION, payload: text.slice(12, 30), fin: false });
    await client.send({ opcode: Opcode.PING, payload: Buffer.from([0, 1, 2, 255]) });
    await client.send({ opcode: Opcode.CONTINUATION, payload: text.slice(30) });
    await expectSubscribed(client, 'mid', 1);
    const pongs = await client.until(() => {
      const found = client.frames.filter((f) => f.opcode === Opcode.PONG);
      return found.length >= 2 ? found : undefined;
    }, 'two pongs');
    expect(pongs.map((f) => f.payload)).toEqual([
      Buffer.from('between fragments'),
      Buffer.from([0, 1, 2, 255]),
    ]);
  });

  it('a frame delivered one byte per TCP write works', async () => {
    await start();
    const client = await welcomed();
    await client.writeInPieces(Buffer.from(clientFrameOf(subscribe('trickle', 1))), 'every-byte');
    await expectSubscribed(client, 'trickle', 1);
  });

  it('a 16-bit-length frame cut inside its header, its length field and its mask key works', async () => {
    await start();
    const client = await welcomed();
    const frame = clientFrameOf(subscribe('cut', 1).padEnd(200, ' '));
    // 0..1 first byte | 1..2 length byte | 2..4 extended length | 4..8 mask key | payload.
    await client.writeInPieces(frame, [1, 3, 5, 7, 9, 100]);
    await expectSubscribed(client, 'cut', 1);
  });

  it('several frames in one TCP write are all handled, in order', async () => {
    await start();
    const client = await welcomed();
    const frames = [
      clientFrameOf(JSON.stringify({ action: 'ping', id: 1 })),
      clientFrameOf(subscribe('batch', 2)),
      clientFrameOf(JSON.stringify({ action: 'ping', id: 3 })),
    ];
    await client.write(Buffer.concat(frames));
    await expectSubscribed(client, 'batch', 2);
    await client.waitForJson((m) => m.type === '$pong' && m.id === 3, '$pong #3');
    const answers = client.json.filter((m) => m.id !== undefined).map((m) => `${m.type}#${String(m.id)}`);
    expect(answers).toEqual(['$pong#1', '$subscribed#2', '$pong#3']);
  });

  it('a 300-byte command (16-bit length) works', async () => {
    await start();
    const client = await welcomed();
    const text = subscribe('padded', 1).padEnd(300, ' ');
    await client.send({ opcode: Opcode.TEXT, payload: text });
    await expectSubscribed(client, 'padded', 1);
  });

  it('a frame of exactly maxFrameBytes is accepted', async () => {
    await start();
    const client = await welcomed();
    await client.send({ opcode: Opcode.TEXT, payload: subscribe('edge', 1).padEnd(MAX_FRAME_BYTES, ' ') });
    await expectSubscribed(client, 'edge', 1);
  });

  it('a character whose UTF-8 bytes are split across fragments is put back together', async () => {
    await start();
    const client = await welcomed();
    const id = 'caf\u00e9-\u20ac-\u{1d11e}';
    const bytes = Buffer.from(JSON.stringify({ action: 'ping', id }));
    const clef = bytes.indexOf(Buffer.from('\u{1d11e}'));
    await client.send({ opcode: Opcode.TEXT, payload: bytes.subarray(0, clef + 1), fin: false });
    await client.send({
      opcode: Opcode.CONTINUATION,
      payload: bytes.subarray(clef + 1, clef + 3),
      fin: false,
    });
    await client.send({ opcode: Opcode.CONTINUATION, payload: bytes.subarray(clef + 3) });
    const pong = await client.waitForJson((m) => m.type === '$pong', '$pong');
    expect(pong.id).toBe(id);
  });

  it.each([16, 64] as const)(
    'a small payload with a %i-bit length (not minimal, §5.2) is accepted or closed with 1002, consistently',
    async (lengthBits) => {
      await start();
      const outcomes: string[] = [];
      for (let round = 1; round <= 2; round++) {
        const client = await welcomed();
        await client.send({ opcode: Opcode.TEXT, payload: subscribe('wide', round), lengthBits });
        const outcome = await client.until(
          () =>
            client.json.some((m) => m.type === '$subscribed' && m.id === round)
              ? 'accepted'
              : client.closeFrame
                ? 'closed'
                : undefined,
          'an answer or a close',
        );
        if (outcome === 'closed') await expectClosedWith(client, [CloseCodes.PROTOCOL_ERROR]);
        outcomes.push(outcome);
      }
      // Today ws accepts both: receivers are not required to check the sender's MUST.
      expect(outcomes[0]).toBe(outcomes[1]);
    },
  );
});

describe('protocol errors close with 1002 (§5.1–§5.5, §7.1.7)', () => {
  it('an unmasked client frame', async () => {
    await start();
    const client = await welcomed();
    await client.send({ opcode: Opcode.TEXT, payload: subscribe('x', 1), masked: false });
    await expectClosedWith(client, [CloseCodes.PROTOCOL_ERROR]);
    expect(client.json.some((m) => m.type === '$subscribed')).toBe(false);
  });

  it.each([
    ['RSV1', 4],
    ['RSV2', 2],
    ['RSV3', 1],
    ['all RSV bits', 7],
  ])('%s set with no extension negotiated', async (_what, rsv) => {
    await start();
    const client = await welcomed();
    await client.send({ opcode: Opcode.TEXT, payload: subscribe('x', 1), rsv });
    await expectClosedWith(client, [CloseCodes.PROTOCOL_ERROR]);
  });

  it.each(
    [0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf].map(
      (opcode) => [`0x${opcode.toString(16)}`, opcode] as const,
    ),
  )('reserved opcode %s', async (_what, opcode) => {
    await start();
    const client = await welcomed();
    await client.send({ opcode, payload: 'x' });
    await expectClosedWith(client, [CloseCodes.PROTOCOL_ERROR]);
  });

  it.each([
    ['ping', Opcode.PING, Buffer.alloc(126, 0x61)],
    ['pong', Opcode.PONG, Buffer.alloc(126, 0x61)],
    ['close', Opcode.CLOSE, closeBody(1000, 'r'.repeat(124))],
  ])('a %s frame with a payload over 125 bytes', async (_what, opcode, payload) => {
    await start();
    const client = await welcomed();
    await client.send({ opcode, payload });
    await expectClosedWith(client, [CloseCodes.PROTOCOL_ERROR]);
  });

  it.each([
    ['ping', Opcode.PING, Buffer.from('x')],
    ['pong', Opcode.PONG, Buffer.from('x')],
    ['close', Opcode.CLOSE, closeBody(1000)],
  ])('a fragmented control frame (%s with FIN=0)', async (_what, opcode, payload) => {
    await start();
    const client = await welcomed();
    await client.send({ opcode, payload, fin: false });
    await expectClosedWith(client, [CloseCodes.PROTOCOL_ERROR]);
  });

  it.each([true, false])('a continuation frame (FIN=%s) with no message started', async (fin) => {
    await start();
    const client = await welcomed();
    await client.send({ opcode: Opcode.CONTINUATION, payload: subscribe('x', 1), fin });
    await expectClosedWith(client, [CloseCodes.PROTOCOL_ERROR]);
  });

  it.each([
    ['text', Opcode.TEXT],
    ['binary', Opcode.BINARY],
  ])('a new %s frame while a fragmented message is unfinished', async (_what, opcode) => {
    await start();
    const client = await welcomed();
    await client.send({ opcode: Opcode.TEXT, payload: '{"action":', fin: false });
    await client.send({ opcode, payload: '"ping"}' });
    await expectClosedWith(client, [CloseCodes.PROTOCOL_ERROR]);
    expect(client.json.some((m) => m.type === '$pong' || m.type === '$error')).toBe(false);
  });
});

describe('invalid UTF-8 in text closes with 1007 (§8.1)', () => {
  const inPing = (bad: number[]) =>
    Buffer.concat([Buffer.from('{"action":"ping","id":"'), Buffer.from(bad), Buffer.from('"}')]);
  it.each([
    ['a lone continuation byte', inPing([0x80])],
    ['a lead byte followed by ASCII', inPing([0xc3, 0x28])],
    ['0xFF', inPing([0xff])],
    ['an overlong "/"', inPing([0xc0, 0xaf])],
    ['a UTF-16 surrogate', inPing([0xed, 0xa0, 0x80])],
    ['a code point past U+10FFFF', inPing([0xf4, 0x90, 0x80, 0x80])],
    ['a sequence cut off by the end of the message', Buffer.from([0x22, 0x61, 0xe2, 0x82])],
  ])('%s in a complete message', async (_what, payload) => {
    await start();
    const client = await welcomed();
    await client.send({ opcode: Opcode.TEXT, payload });
    await expectClosedWith(client, [1007]);
    expect(client.json.some((m) => m.type === '$pong' || m.type === '$error')).toBe(false);
  });

  it('invalid UTF-8 split across fragments', async () => {
    await start();
    const client = await welcomed();
    // 0xE2 0x82 opens a three-byte sequence; the next fragment continues it with an ASCII byte.
    await client.send({ opcode: Opcode.TEXT, payload: Buffer.from([0x7b, 0x22, 0xe2, 0x82]), fin: false });
    await client.send({ opcode: Opcode.CONTINUATION, payload: Buffer.from('x":1}') });
    await expectClosedWith(client, [1007]);
  });
});

describe('size limits: over maxFrameBytes closes with 1009', () => {
  it('one frame over the limit', async () => {
    await start();
    const client = await welcomed();
    await client.send({ opcode: Opcode.TEXT, payload: subscribe('big', 1).padEnd(MAX_FRAME_BYTES + 1, ' ') });
    await expectClosedWith(client, [CloseCodes.MESSAGE_TOO_BIG]);
    expect(client.json.some((m) => m.type === '$subscribed')).toBe(false);
  });

  it('fragments each under the limit that together are over it', async () => {
    await start();
    const client = await welcomed();
    const text = subscribe('big', 1).padEnd(MAX_FRAME_BYTES + 200, ' ');
    const half = Math.ceil(text.length / 2);
    await client.send({ opcode: Opcode.TEXT, payload: text.slice(0, half), fin: false });
    await client.send({ opcode: Opcode.CONTINUATION, payload: text.slice(half) });
    await expectClosedWith(client, [CloseCodes.MESSAGE_TOO_BIG]);
    expect(client.json.some((m) => m.type === '$subscribed')).toBe(false);
  });

  it.each([
    ['2^40', 2n ** 40n],
    ['2^63 - 1', 2n ** 63n - 1n],
  ])(
    'a 64-bit length of %s is refused from its header alone, and the server keeps serving',
    async (_what, announced) => {
      await start();
      const before = process.memoryUsage().rss;
      const client = await welcomed();
      // Only the header and a few bytes: the close must not wait for (or make room for) the announced payload.
      await client.send({ opcode: Opcode.TEXT, payload: '{"a":1}', announcedLength: announced });
      await expectClosedWith(client, [CloseCodes.MESSAGE_TOO_BIG, CloseCodes.PROTOCOL_ERROR]);
      expect(process.memoryUsage().rss - before).toBeLessThan(256 * 1024 * 1024);
      await expectServerServes();
    },
  );
});

describe('binary frames, ping and pong', () => {
  it('a binary frame gets $error binary_frame and the connection stays open', async () => {
    await start();
    const client = await welcomed();
    await client.send({ opcode: Opcode.BINARY, payload: Buffer.from(subscribe('bin', 1)) });
    const error = await client.waitForJson((m) => m.type === '$error', '$error');
    expect(error.code).toBe(ErrorCodes.BINARY_FRAME);
    await client.command(subscribe('bin', 2));
    await expectSubscribed(client, 'bin', 2);
    expect(client.json.some((m) => m.type === '$subscribed' && m.id === 1)).toBe(false);
  });

  it('a ping is answered with a pong carrying the identical payload (empty, text, 125 arbitrary bytes)', async () => {
    await start();
    const client = await welcomed();
    const payloads = [
      Buffer.alloc(0),
      Buffer.from('hello'),
      Buffer.from(Array.from({ length: 125 }, (_, i) => (i * 37) & 0xff)),
    ];
    // One ping at a time: pings that arrive while a pong is still in the server's buffer may be
    // answered by one pong of the latest payload (§5.5.3), so sending all three at once would make the
    // count depend on how fast the server's writes complete.
    for (const [i, payload] of payloads.entries()) {
      await client.send({ opcode: Opcode.PING, payload });
      await client.until(
        () => {
          const found = client.frames.filter((f) => f.opcode === Opcode.PONG);
          return found.length > i ? found : undefined;
        },
        `pong ${i + 1}`,
      );
    }
    const pongs = client.frames.filter((f) => f.opcode === Opcode.PONG);
    expect(pongs.map((f) => f.payload)).toEqual(payloads);
    await expectAnswers(client, 1);
  });

  it('an unsolicited pong is ignored: no answer, no close, and the connection still works', async () => {
    await start();
    const client = await welcomed();
    await client.send({ opcode: Opcode.PONG, payload: 'unasked' });
    await client.send({ opcode: Opcode.PONG });
    await expectAnswers(client, 1);
    expect(client.frames.filter((f) => f.opcode === Opcode.PONG || f.opcode === Opcode.PING)).toEqual([]);
  });
});

describe('closing handshake (§5.5.1, §7.4)', () => {
  it('close 1000 with a reason is answered with close 1000, and the server closes TCP', async () => {
    await start();
    const client = await welcomed();
    await client.sendClose(1000, 'bye');
    await expectClosedWith(client, [1000]);
    expect(client.peerEnded).toBe(true);
  });

  it('a close with no body is answered with a close with no body (or 1000)', async () => {
    await start();
    const client = await welcomed();
    await client.sendClose();
    await expectClosedWith(client, [undefined, 1000]);
  });

  it('a close body of one byte closes with 1002', async () => {
    await start();
    const client = await welcomed();
    await client.send({ opcode: Opcode.CLOSE, payload: Buffer.from([0x03]) });
    await expectClosedWith(client, [CloseCodes.PROTOCOL_ERROR]);
  });

  it.each([0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535])(
    'close code %i, which may not appear on the wire, closes with 1002',
    async (code) => {
      await start();
      const client = await welcomed();
      await client.sendClose(code);
      await expectClosedWith(client, [CloseCodes.PROTOCOL_ERROR]);
    },
  );

  it.each([1001, 1003, 1011, 3000, 4000, 4999])(
    'close code %i is accepted and answered with a close',
    async (code) => {
      await start();
      const client = await welcomed();
      await client.sendClose(code, 'done');
      // Echoing the code is what §5.5.1 calls typical; 1000 is an equally valid answer.
      await expectClosedWith(client, [code, 1000]);
    },
  );

  it('a close reason that is not UTF-8 closes with 1007 (or 1002)', async () => {
    await start();
    const client = await welcomed();
    await client.sendClose(1000, Buffer.from([0x62, 0x79, 0xff, 0x65]));
    await expectClosedWith(client, [1007, CloseCodes.PROTOCOL_ERROR]);
  });

  it('data frames sent after the client’s close are ignored, and the server survives', async () => {
    await start();
    const client = await welcomed();
    await expectAnswers(client, 1);
    // The close and more commands in one TCP write: the server must not act on anything after the close.
    await client.write(
      Buffer.concat([
        clientFrameFor(Opcode.CLOSE, closeBody(1000, 'leaving')),
        clientFrameOf(JSON.stringify({ action: 'ping', id: 2 })),
        clientFrameOf(subscribe('late', 3)),
        clientFrameFor(Opcode.PING, Buffer.from('late ping')),
      ]),
    );
    await expectClosedWith(client, [1000]);
    expect(client.json.filter((m) => m.id !== undefined).map((m) => m.id)).toEqual([1]);
    expect(client.frames.some((f) => f.opcode === Opcode.PONG)).toBe(false);
    expect((server as LivedashServer).hub.subscriptionCount).toBe(0);
    await expectServerServes();
  });
});

describe('server-initiated close', () => {
  it('server.close() sends 1012; a client that answers is closed at once, one that never answers is cut within the shutdown timeout', async () => {
    const s = await start({ shutdownTimeoutMs: 2000 });
    const polite = await welcomed();
    const silent = await welcomed();
    const closing = s.close();
    const { code } = await polite.waitForClose();
    expect(code).toBe(CloseCodes.SERVICE_RESTART);
    await polite.sendClose(code);
    await polite.waitForTcpClose();

    expect((await silent.waitForClose()).code).toBe(CloseCodes.SERVICE_RESTART);
    // Left to itself ws would wait 30 s for the answer; the server must cut it inside its 2 s budget
    // (the bound here adds slack for a loaded machine, and stays far below 30 s).
    await silent.waitForTcpClose(2000 + 5000);
    await closing;
  });

  it('a client that half-closes TCP without a close frame is cleaned up (connection count back to 0)', async () => {
    await start();
    const client = await welcomed();
    await client.command(subscribe('half', 1));
    await client.waitForJson((m) => m.type === '$subscribed', '$subscribed');
    await expectWsConnections(1);
    client.socket.end();
    await client.waitForTcpClose();
    await expectWsConnections(0);
    expect((server as LivedashServer).hub.subscriptionCount).toBe(0);
  });
});

describe('heartbeat', () => {
  const HEARTBEAT_MS = 200;

  it('the server pings; a client that answers stays connected across several intervals', async () => {
    await start({ heartbeatMs: HEARTBEAT_MS });
    const client = await welcomed({ autoPong: true });
    await client.until(
      () => (client.frames.filter((f) => f.opcode === Opcode.PING).length >= 6 ? true : undefined),
      'six server pings',
    );
    expect(client.closeFrame).toBeUndefined();
    await client.command(subscribe('alive', 1));
    await expectSubscribed(client, 'alive', 1);
  });

  it('a client that never answers pings is terminated within a few intervals', async () => {
    await start({ heartbeatMs: HEARTBEAT_MS });
    const client = await welcomed();
    await client.until(() => client.frames.find((f) => f.opcode === Opcode.PING), 'a server ping');
    // Due after about two intervals; the bound only keeps a broken heartbeat from hanging the test.
    await client.waitForTcpClose(25 * HEARTBEAT_MS);
    await expectWsConnections(0);
  });
});

describe('garbage after the handshake', () => {
  it.each([
    ['an HTTP request line', Buffer.from('GET / HTTP/1.1\r\nHost')],
    ['0xFF bytes', Buffer.alloc(20, 0xff)],
    ['ASCII text', Buffer.from('garbage garbage garb')],
  ])(
    '20 bytes of %s close that connection with 1002; other clients keep receiving',
    async (_what, garbage) => {
      expect(garbage.length).toBe(20);
      const s = await start();
      const before = await welcomed();
      await before.command(subscribe('news', 1));
      await before.waitForJson((m) => m.type === '$subscribed', '$subscribed before');

      const bad = await welcomed();
      await bad.write(garbage);
      await bad.waitForTcpClose();
      const close = bad.closeFrame;
      if (close) expect(close.payload.readUInt16BE(0)).toBe(CloseCodes.PROTOCOL_ERROR);

      const after = await welcomed();
      await after.command(subscribe('news', 2));
      await after.waitForJson((m) => m.type === '$subscribed', '$subscribed after');
      const { seq } = await s.hub.publish('news', { headline: 'still here' });
      for (const client of [before, after])
        await client.waitForJson((m) => m.type === 'news' && m.seq === seq, 'news');
    },
  );
});

function clientFrameOf(text: string): Buffer {
  return clientFrameFor(Opcode.TEXT, Buffer.from(text));
}

function clientFrameFor(opcode: number, payload: Buffer): Buffer {
  return clientFrame({ opcode, payload });
}
