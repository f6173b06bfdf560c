/**
 * Inputs shaped like past advisories against Node WebSocket/HTTP servers, one named test each. Every
 * test ends by checking that the server still serves a well-behaved client (every message, in order).
 */
import { connect } from 'node:net';
import { CloseCodes } from '@livedash/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createServer, type LivedashServer } from '../src/index.js';
import {
  buildFrame,
  closeCodeOf,
  closed,
  expectServerServes,
  rawExchange,
  rawWebSocket,
  upgradeHeaders,
  waitFor,
} from './security-wire.js';

const OP_TEXT = 0x1;
const OP_CONTINUATION = 0x0;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;

let server: LivedashServer;

beforeAll(async () => {
  server = await createServer({ port: 0, publishToken: 'advisory-secret' });
});

afterAll(async () => {
  await server.close();
});

/** Sends frames on a fresh raw WebSocket and returns the close code the server answered with. */
async function closeCodeAfter(frames: Buffer[]): Promise<number | undefined> {
  const { socket, received } = await rawWebSocket(server.port);
  for (const frame of frames) socket.write(frame);
  await closed(socket, 10_000);
  return closeCodeOf(received());
}

describe('headers', () => {
  it('oversized headers (CVE-2018-12121 shape): 100 KB of header gets 431 and the server keeps serving', async () => {
    const request = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(100 * 1024)}\r\n\r\n`;
    const response = await rawExchange(server.port, [request]);
    expect(response.status).toBe(431);
    await expectServerServes(server);
  });

  it('numerous headers: 2,000 header lines get 431, on plain requests and on upgrades', async () => {
    const many = Array.from({ length: 2000 }, (_, i) => `X-H${i}: v`).join('\r\n');
    const plain = await rawExchange(
      server.port,
      [`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n${many}\r\n\r\n`],
      5000,
      true,
    );
    expect(plain.status).toBe(431);
    const upgrade = await rawExchange(
      server.port,
      [upgradeHeaders('/ws', Object.fromEntries(many.split('\r\n').map((l) => l.split(': '))))],
      5000,
      true,
    );
    expect(upgrade.status).toBe(431);
    await expectServerServes(server);
  });

  it('headers trickled in byte by byte across many packets are still bounded', async () => {
    const bytes = Buffer.from(
      `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'b'.repeat(20 * 1024)}\r\n\r\n`,
    );
    const chunks: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += 512) chunks.push(bytes.subarray(at, at + 512));
    const response = await rawExchange(server.port, chunks);
    expect(response.status).toBe(431);
    await expectServerServes(server);
  });
});

describe('Sec-WebSocket-* headers', () => {
  it('regex-heavy Sec-WebSocket-Protocol (CVE-2021-32640 shape) is answered promptly', async () => {
    const started = performance.now();
    const response = await rawExchange(server.port, [
      upgradeHeaders('/ws', { 'Sec-WebSocket-Protocol': `b${' '.repeat(8000)}x,${','.repeat(4000)}` }),
    ]);
    expect(response.status).toBe(400);
    expect(performance.now() - started).toBeLessThan(3000);
    await expectServerServes(server);
  });

  it('regex-heavy Sec-WebSocket-Extensions and a malformed Sec-WebSocket-Key are refused, not choked on', async () => {
    const extensions = `permessage-deflate;${' ;'.repeat(4000)}client_max_window_bits="${'='.repeat(4000)}`;
    const started = performance.now();
    // Compression is off, so the extensions header is never parsed: the handshake simply succeeds.
    const a = await rawExchange(
      server.port,
      [upgradeHeaders('/ws', { 'Sec-WebSocket-Extensions': extensions })],
      5000,
      true,
    );
    expect(a.status).toBe(101);
    expect(a.text).not.toMatch(/sec-websocket-extensions/i);
    const badKey = upgradeHeaders('/ws').replace(
      /Sec-WebSocket-Key: .*\r\n/,
      `Sec-WebSocket-Key: ${'A'.repeat(4000)}\r\n`,
    );
    const b = await rawExchange(server.port, [badKey]);
    expect(b.status).toBe(400);
    const badVersion = upgradeHeaders('/ws').replace(
      'Sec-WebSocket-Version: 13',
      'Sec-WebSocket-Version: 13, 8, 7',
    );
    const c = await rawExchange(server.port, [badVersion]);
    expect(c.status).toBe(400);
    expect(performance.now() - started).toBeLessThan(5000);
    await expectServerServes(server);
  });
});

describe('prototype-named keys', () => {
  const names = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '__defineGetter__'];

  it('channels named like Object.prototype members are ordinary channels on every transport', async () => {
    for (const name of names) await server.hub.publish(name, { name });
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws`);
    const got = new Map<string, unknown>();
    ws.on('message', (raw) => {
      const frame = JSON.parse(String(raw)) as { type: string; data?: { name?: string } };
      if (names.includes(frame.type)) got.set(frame.type, frame.data?.name);
    });
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(
      JSON.stringify({
        action: 'subscribe',
        channels: names,
        since: JSON.parse('{"__proto__":{"epoch":"e","seq":0},"constructor":{"epoch":"e","seq":0}}'),
      }),
    );
    await waitFor(() => got.size === names.length, 5000, 'latest values of prototype-named channels');
    for (const name of names) expect(got.get(name)).toBe(name);
    ws.close();
    for (const name of names) {
      const latest = await fetch(`${server.url}/api/channels/${name}`);
      expect(latest.status).toBe(200);
      expect(((await latest.json()) as { data: { name: string } }).data.name).toBe(name);
    }
    const sse = await fetch(`${server.url}/sse?channels=__proto__,constructor&__proto__[polluted]=1`);
    expect(sse.status).toBe(200);
    await sse.body?.cancel();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.hasOwn(Object.prototype, 'name')).toBe(false);
    await expectServerServes(server);
  });

  it('prototype-named keys inside commands and bodies are refused or kept as data, never merged', async () => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws`);
    const errors: string[] = [];
    ws.on('message', (raw) => {
      const frame = JSON.parse(String(raw)) as { type: string; code?: string };
      if (frame.type === '$error') errors.push(frame.code ?? '');
    });
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send('{"action":"ping","__proto__":{"action":"publish"}}');
    ws.send('{"action":"subscribe","channels":["a"],"constructor":{"prototype":{"polluted":1}}}');
    await waitFor(() => errors.length === 2, 5000, 'two $error answers');
    expect(errors).toEqual(['unknown_key', 'unknown_key']);
    ws.close();
    const posted = await fetch(`${server.url}/api/channels/proto.body`, {
      method: 'POST',
      headers: { authorization: 'Bearer advisory-secret', 'content-type': 'application/json' },
      body: '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}',
    });
    expect(posted.status).toBe(200);
    const latest = (await (await fetch(`${server.url}/api/channels/proto.body`)).json()) as {
      data: Record<string, unknown>;
    };
    expect(Object.hasOwn(latest.data, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await expectServerServes(server);
  });
});

describe('WebSocket frame headers', () => {
  it('RSV1 set without negotiated compression closes with 1002', async () => {
    expect(
      await closeCodeAfter([buildFrame({ opcode: OP_TEXT, payload: '{"action":"ping"}', rsv: 4 })]),
    ).toBe(CloseCodes.PROTOCOL_ERROR);
    await expectServerServes(server);
  });

  it('RSV2 and RSV3 set close with 1002', async () => {
    expect(await closeCodeAfter([buildFrame({ opcode: OP_TEXT, payload: 'x', rsv: 2 })])).toBe(
      CloseCodes.PROTOCOL_ERROR,
    );
    expect(await closeCodeAfter([buildFrame({ opcode: OP_TEXT, payload: 'x', rsv: 1 })])).toBe(
      CloseCodes.PROTOCOL_ERROR,
    );
    await expectServerServes(server);
  });

  it('a 64-bit length of 2^63 - 1 closes with 1009 before anything is buffered', async () => {
    const before = process.memoryUsage().rss;
    const code = await closeCodeAfter([
      buildFrame({ opcode: OP_TEXT, payload: 'x', announcedLength: 2n ** 63n - 1n }),
    ]);
    expect(code).toBe(CloseCodes.MESSAGE_TOO_BIG);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
    await expectServerServes(server);
  });

  it('64-bit lengths with the top bit set, and lengths just over the frame limit, are refused', async () => {
    const top = await closeCodeAfter([
      buildFrame({ opcode: OP_TEXT, payload: 'x', announcedLength: 2n ** 64n - 1n }),
    ]);
    expect([CloseCodes.PROTOCOL_ERROR, CloseCodes.MESSAGE_TOO_BIG]).toContain(top);
    const over = BigInt(server.options.maxFrameBytes + 1);
    expect(await closeCodeAfter([buildFrame({ opcode: OP_TEXT, payload: 'x', announcedLength: over })])).toBe(
      CloseCodes.MESSAGE_TOO_BIG,
    );
    await expectServerServes(server);
  });

  it('a flood of tiny fragments is cut by the fragment-count limit (1008) before the size limit (1009)', async () => {
    const { socket, received } = await rawWebSocket(server.port);
    socket.write(buildFrame({ opcode: OP_TEXT, payload: '[', fin: false }));
    const fragment = buildFrame({ opcode: OP_CONTINUATION, payload: '1', fin: false });
    const batch = Buffer.concat(Array.from({ length: 1024 }, () => fragment));
    for (let sent = 0; sent < server.options.maxFrameBytes * 2 && !socket.destroyed; sent += 1024) {
      await new Promise<void>((resolve) => socket.write(batch, () => resolve()));
    }
    await closed(socket, 10_000);
    // livedash allows 1,024 fragments per message (MAX_FRAGMENTS, then 1008); 64 KiB of 1-byte ones is far more.
    expect(closeCodeOf(received())).toBe(CloseCodes.POLICY_VIOLATION);
    await expectServerServes(server);
  });

  it('control frames over 125 bytes, fragmented control frames and unknown opcodes close with 1002', async () => {
    expect(await closeCodeAfter([buildFrame({ opcode: OP_PING, payload: Buffer.alloc(126) })])).toBe(
      CloseCodes.PROTOCOL_ERROR,
    );
    expect(await closeCodeAfter([buildFrame({ opcode: OP_PING, payload: 'x', fin: false })])).toBe(
      CloseCodes.PROTOCOL_ERROR,
    );
    expect(await closeCodeAfter([buildFrame({ opcode: 0x3, payload: 'x' })])).toBe(CloseCodes.PROTOCOL_ERROR);
    expect(await closeCodeAfter([buildFrame({ opcode: OP_CONTINUATION, payload: 'x' })])).toBe(
      CloseCodes.PROTOCOL_ERROR,
    );
    await expectServerServes(server);
  });
});

describe('crafted frames that make ws emit error events', () => {
  it('invalid UTF-8 in a text frame closes with 1007 and does not crash the server', async () => {
    expect(
      await closeCodeAfter([buildFrame({ opcode: OP_TEXT, payload: Buffer.from([0xc3, 0x28, 0xff]) })]),
    ).toBe(1007);
    await expectServerServes(server);
  });

  it('an unmasked client frame closes with 1002', async () => {
    expect(
      await closeCodeAfter([buildFrame({ opcode: OP_TEXT, payload: '{"action":"ping"}', mask: false })]),
    ).toBe(CloseCodes.PROTOCOL_ERROR);
    await expectServerServes(server);
  });

  it('close frames with invalid codes or a one-byte body close with 1002', async () => {
    const badCode = Buffer.alloc(2);
    badCode.writeUInt16BE(999);
    expect(await closeCodeAfter([buildFrame({ opcode: OP_CLOSE, payload: badCode })])).toBe(
      CloseCodes.PROTOCOL_ERROR,
    );
    expect(await closeCodeAfter([buildFrame({ opcode: OP_CLOSE, payload: Buffer.from([3]) })])).toBe(
      CloseCodes.PROTOCOL_ERROR,
    );
    await expectServerServes(server);
  });

  it('a binary frame gets $error binary_frame and the connection stays open', async () => {
    const { socket, received } = await rawWebSocket(server.port);
    socket.write(buildFrame({ opcode: OP_BINARY, payload: Buffer.from([1, 2, 3]) }));
    socket.write(buildFrame({ opcode: OP_TEXT, payload: '{"action":"ping","id":7}' }));
    await waitFor(() => received().includes('"$pong"'), 5000, '$pong after the binary frame');
    expect(received().toString('latin1')).toContain('binary_frame');
    socket.destroy();
    await expectServerServes(server);
  });
});

describe('bodies', () => {
  it('a huge polling/publish body is refused with 413 without being read in full', async () => {
    const big = 50 * 1024 * 1024;
    const head =
      'POST /api/channels/big HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer advisory-secret\r\n' +
      `Content-Type: application/json\r\nContent-Length: ${big}\r\n\r\n`;
    const response = await rawExchange(server.port, [head, Buffer.alloc(256 * 1024, 0x20)], 10_000);
    expect(response.status).toBe(413);
    await expectServerServes(server);
  });

  it('a chunked body that grows past the limit is cut with 413', async () => {
    const chunk = Buffer.alloc(16 * 1024, 0x20);
    const framed = Buffer.concat([
      Buffer.from(`${chunk.length.toString(16)}\r\n`),
      chunk,
      Buffer.from('\r\n'),
    ]);
    const head =
      'POST /api/channels/big HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer advisory-secret\r\n' +
      'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';
    const chunks = [head, ...Array.from({ length: 64 }, () => framed)];
    const response = await rawExchange(server.port, chunks, 10_000);
    expect(response.status).toBe(413);
    await expectServerServes(server);
  });

  it('a body on an unauthenticated publish is refused with 401 before it is read', async () => {
    const head =
      'POST /api/channels/big HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
      `Content-Length: ${10 * 1024 * 1024}\r\n\r\n`;
    const response = await rawExchange(server.port, [head], 10_000, true);
    expect(response.status).toBe(401);
    await expectServerServes(server);
  });
});

describe('request framing', () => {
  it('request smuggling shapes (Content-Length with Transfer-Encoding, two Content-Lengths) get 400', async () => {
    const both =
      'POST /api/channels/smuggle HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer advisory-secret\r\n' +
      'Content-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\n\r\n';
    expect((await rawExchange(server.port, [both], 5000, true)).status).toBe(400);
    const twice =
      'POST /api/channels/smuggle HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer advisory-secret\r\n' +
      'Content-Type: application/json\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n12';
    expect((await rawExchange(server.port, [twice], 5000, true)).status).toBe(400);
    const latest = await fetch(`${server.url}/api/channels/smuggle`);
    expect(latest.status).toBe(404);
    await expectServerServes(server);
  });
});

describe('abrupt resets', () => {
  function resetAfter(chunks: Array<string | Buffer>, delayMs = 20): Promise<void> {
    return new Promise((resolve) => {
      const socket = connect(server.port, '127.0.0.1');
      socket.on('error', () => {});
      socket.on('connect', () => {
        for (const chunk of chunks) socket.write(chunk);
        setTimeout(() => {
          socket.resetAndDestroy();
          resolve();
        }, delayMs);
      });
    });
  }

  it('TCP resets mid-headers, mid-handshake, mid-frame, mid-body and mid-SSE leave the server serving', async () => {
    await resetAfter(['GET /api/channels HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Partial: ']);
    await resetAfter([upgradeHeaders('/ws').slice(0, 60)]);
    await resetAfter([upgradeHeaders('/ws')]);
    await resetAfter(
      [upgradeHeaders('/ws'), buildFrame({ opcode: OP_TEXT, payload: 'x'.repeat(1000) }).subarray(0, 300)],
      50,
    );
    await resetAfter([
      'POST /api/channels/reset HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer advisory-secret\r\n' +
        'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"a":',
    ]);
    await resetAfter(
      ['GET /sse?channels=probe.health HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n'],
      100,
    );
    await expectServerServes(server);
  });

  it('a subscriber reset while messages are being sent to it does not disturb the others', async () => {
    const { socket } = await rawWebSocket(server.port);
    socket.write(
      buildFrame({ opcode: OP_TEXT, payload: '{"action":"subscribe","channels":["reset.flow"]}' }),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    const publishing = (async () => {
      for (let i = 0; i < 200; i++) await server.hub.publish('reset.flow', { i, pad: 'x'.repeat(1000) });
    })();
    socket.resetAndDestroy();
    await publishing;
    await expectServerServes(server);
  });
});
