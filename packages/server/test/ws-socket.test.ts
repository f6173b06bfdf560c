import { connect, createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer, type LivedashServer } from '@livedash/server';
import { afterEach, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { encodeTextFrame } from '../src/transports/ws-frame.js';
import { type WsHandler, WsSocket } from '../src/transports/ws-socket.js';
import { clientFrame, closeBody, FrameReader, Opcode, type ServerFrame } from './helpers/raw-ws-frame.js';
import { selfSignedCertificate } from './helpers/tls-certificate.js';

// WsSocket writes frames straight to the socket's file descriptor while Node has nothing queued for
// it, and through the socket otherwise. These tests pin the two ways that could go wrong: bytes out of
// order when the kernel buffer fills mid-stream, and raw bytes under TLS (which must be encrypted).

const idle: WsHandler = {
  onText: () => {},
  onBinary: () => {},
  onActivity: () => {},
  onControl: () => true,
  onFault: () => {},
  onFailed: () => {},
  onClose: () => {},
};

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

/** A connected pair over loopback; `allowHalfOpen` keeps the client's side open after the server's FIN. */
async function socketPair(allowHalfOpen = false): Promise<{ server: Socket; client: Socket }> {
  const listener: Server = createTcpServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise<void>((resolve) => listener.close(() => resolve())));
  const accepted = new Promise<Socket>((resolve) => listener.once('connection', resolve));
  const client = connect({
    port: (listener.address() as { port: number }).port,
    host: '127.0.0.1',
    allowHalfOpen,
  });
  const server = await accepted;
  cleanup.push(() => {
    client.destroy();
    server.destroy();
  });
  return { server, client };
}

describe('WsSocket.write', () => {
  test('frames arrive whole and in order when the kernel buffer fills and Node queues the rest', async () => {
    const { server, client } = await socketPair();
    client.pause();
    const ws = new WsSocket(server, idle, {
      maxPayload: 1024,
      closeTimeoutMs: 1000,
      maxDiscardBytes: 1024 * 1024,
    });
    const frames: Buffer[] = [];
    let queuedInNode = false;
    // 2,000 frames of ~4 KB (8 MB) is more than a paused loopback reader's kernel buffers take.
    for (let i = 0; i < 2000; i++) {
      const frame = encodeTextFrame(`${i}:${'x'.repeat(4000)}`);
      frames.push(frame);
      ws.write(frame);
      if (ws.writableLength > 0) queuedInNode = true;
    }
    expect(queuedInNode).toBe(true);
    const expected = Buffer.concat(frames);
    const chunks: Buffer[] = [];
    let received = 0;
    await new Promise<void>((resolve) => {
      client.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        received += chunk.length;
        if (received >= expected.length) resolve();
      });
      client.resume();
    });
    expect(Buffer.concat(chunks).equals(expected)).toBe(true);
  });

  test('nothing is written once the socket has ended', async () => {
    const { server, client } = await socketPair();
    const ws = new WsSocket(server, idle, {
      maxPayload: 1024,
      closeTimeoutMs: 1000,
      maxDiscardBytes: 1024 * 1024,
    });
    const received: Buffer[] = [];
    client.on('data', (chunk: Buffer) => received.push(chunk));
    const ended = new Promise((resolve) => client.once('end', resolve));
    ws.write(encodeTextFrame('before'));
    server.end();
    expect(ws.write(encodeTextFrame('after'))).toBe(false);
    await ended;
    expect(Buffer.concat(received).equals(encodeTextFrame('before'))).toBe(true);
  });
});

describe('WsSocket closing', () => {
  test('a peer that ends its side of TCP and stops reading is let go after the close timeout', async () => {
    const { server, client } = await socketPair();
    server.on('error', () => {});
    client.pause();
    const gone = new Promise<number>((resolve) => {
      const ws = new WsSocket(
        server,
        { ...idle, onClose: resolve },
        { maxPayload: 1024, closeTimeoutMs: 300, maxDiscardBytes: 1024 * 1024 },
      );
      // More than the kernel buffers take, so our side of TCP cannot finish while the peer does not read.
      for (let i = 0; i < 3000; i++) ws.write(encodeTextFrame('x'.repeat(4000)));
    });
    client.end();
    expect(await gone).toBe(1006);
    expect(server.destroyed).toBe(true);
  });

  test('a peer sending pings without reading makes the server hold at most one pong', async () => {
    const { server, client } = await socketPair();
    server.on('error', () => {});
    client.pause();
    let frames = 0;
    const ws = new WsSocket(
      server,
      { ...idle, onActivity: () => frames++ },
      {
        maxPayload: 1024,
        closeTimeoutMs: 1000,
        maxDiscardBytes: 1024 * 1024,
      },
    );
    const ping = clientFrame({ opcode: Opcode.PING, payload: Buffer.alloc(125) });
    const batch = Buffer.concat(Array.from({ length: 1000 }, () => ping));
    // 200,000 pings (26 MB): the kernel takes ~4 MB of their pongs (one small segment each counts far
    // more than its bytes against the reader's buffer); without the rule, ~20 MB would queue in Node.
    for (let i = 0; i < 200; i++) await new Promise((resolve) => client.write(batch, resolve));
    while (frames < 200_000) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(ws.writableLength).toBeLessThanOrEqual(127);
  });
});

describe('WsSocket.receive', () => {
  test('frames read in pieces of every size come out whole: a 60 KB one byte by byte, then three in one read', async () => {
    const { server } = await socketPair();
    const texts: string[] = [];
    const ws = new WsSocket(
      server,
      { ...idle, onText: (text) => texts.push(text) },
      {
        maxPayload: 64 * 1024,
        closeTimeoutMs: 1000,
        maxDiscardBytes: 1024 * 1024,
      },
    );
    const big = `{"pad":"${'é'.repeat(30_000)}"}`;
    const frame = clientFrame({ opcode: Opcode.TEXT, payload: big });
    for (let i = 0; i < frame.length; i++) ws.receive(frame.subarray(i, i + 1));
    expect(texts).toEqual([big]);
    const three = Buffer.concat(
      ['a', 'b', 'c'].map((payload) => clientFrame({ opcode: Opcode.TEXT, payload })),
    );
    ws.receive(three.subarray(0, 5));
    ws.receive(three.subarray(5));
    expect(texts.slice(1)).toEqual(['a', 'b', 'c']);
  });
});

describe('wss:// (TLS)', () => {
  test('a client over TLS subscribes and receives every message of a burst, encrypted', async () => {
    const server: LivedashServer = await createServer({
      port: 0,
      host: '127.0.0.1',
      tls: selfSignedCertificate(),
    });
    cleanup.push(() => server.close());
    expect(server.url.startsWith('https://')).toBe(true);
    const ws = new WebSocket(`${server.url.replace(/^https/, 'wss')}/ws`, { rejectUnauthorized: false });
    cleanup.push(() => ws.terminate());
    const seqs: number[] = [];
    // 200 × 2 KB in one turn: several TLS records, well under the 1 MiB outgoing bound.
    const burst = 200;
    const done = new Promise<void>((resolve, reject) => {
      ws.on('error', reject);
      ws.on('close', (code) => reject(new Error(`closed with ${code} after ${seqs.length} messages`)));
      ws.on('message', (data: Buffer) => {
        const frame = JSON.parse(String(data)) as { type: string; seq?: number };
        if (frame.type === '$welcome')
          ws.send(JSON.stringify({ action: 'subscribe', channels: ['tls.test'] }));
        if (frame.type === '$subscribed') {
          for (let i = 0; i < burst; i++) server.hub.publish('tls.test', { i, pad: 'y'.repeat(2000) });
        }
        if (frame.type === 'tls.test' && frame.seq !== undefined) {
          seqs.push(frame.seq);
          if (seqs.length === burst) resolve();
        }
      });
    });
    await done;
    expect(seqs).toEqual(Array.from({ length: burst }, (_, i) => i + 1));
  });
});

/** Writes `bytes`; resolves once written, or once the write failed on a socket the server cut. */
function written(socket: Socket, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => socket.write(bytes, () => resolve()));
}

/** The frames the server sends to `client`, as they come. */
function serverFrames(client: Socket): ServerFrame[] {
  const reader = new FrameReader();
  const frames: ServerFrame[] = [];
  client.on('data', (chunk: Buffer) => frames.push(...reader.push(chunk)));
  return frames;
}

function closeOf(frames: ServerFrame[]): string {
  const close = frames.find((frame) => frame.opcode === Opcode.CLOSE);
  return close
    ? `${close.payload.readUInt16BE(0)} ${close.payload.subarray(2).toString()}`
    : 'no close frame';
}

describe('WsSocket after refusing a message: the peer reads why, and is let go', () => {
  // A close timer of a minute: in these tests it is never what lets go of the peer.
  const limits = { maxPayload: 64 * 1024, closeTimeoutMs: 60_000, maxDiscardBytes: 16 * 1024 * 1024 };
  const piece = (opcode: number, fin: boolean) =>
    clientFrame({ opcode, fin, payload: Buffer.alloc(60 * 1024, 0x78) });

  test.each([
    ['one 4 MB frame', [clientFrame({ opcode: Opcode.TEXT, payload: Buffer.alloc(4 * 1024 * 1024, 0x78) })]],
    [
      '70 fragments of 60 KiB (the second goes over)',
      [
        piece(Opcode.TEXT, false),
        ...Array.from({ length: 68 }, () => piece(Opcode.CONTINUATION, false)),
        piece(Opcode.CONTINUATION, true),
      ],
    ],
  ])(
    "%s: the rest and the frames after it are dropped; the peer's close frame lets the socket go",
    async (_shape, frames) => {
      // The peer keeps its side of TCP open: only its close frame can end the connection.
      const { server, client } = await socketPair(true);
      const fromServer = serverFrames(client);
      const texts: string[] = [];
      const gone = new Promise<number>((resolve) => {
        new WsSocket(server, { ...idle, onText: (text) => texts.push(text), onClose: resolve }, limits);
      });
      const after = [
        clientFrame({ opcode: Opcode.TEXT, payload: '{"action":"ping"}' }),
        clientFrame({ opcode: Opcode.PING, payload: 'p' }),
        clientFrame({ opcode: Opcode.CLOSE, payload: closeBody(1000) }),
      ];
      for (const frame of [...frames, ...after]) await written(client, frame);
      expect(await gone).toBe(1009);
      expect(texts).toEqual([]);
      expect(closeOf(fromServer)).toBe('1009 message over 65536 bytes');
      expect(fromServer.some((frame) => frame.opcode === Opcode.PONG)).toBe(false);
    },
  );

  test('a peer that keeps sending is cut once maxDiscardBytes more have come', async () => {
    const { server, client } = await socketPair(true);
    client.on('error', () => {});
    const fromServer = serverFrames(client);
    const gone = new Promise<number>((resolve) => {
      new WsSocket(server, { ...idle, onClose: resolve }, { ...limits, maxDiscardBytes: 1024 * 1024 });
    });
    // A frame announcing 1 GiB, then its payload for as long as the server takes it.
    await written(client, clientFrame({ opcode: Opcode.TEXT, announcedLength: 1n << 30n }));
    const chunk = Buffer.alloc(64 * 1024, 0x78);
    let sent = 0;
    while (!server.destroyed && sent < 256 * 1024 * 1024) {
      await written(client, chunk);
      sent += chunk.length;
    }
    expect(await gone).toBe(1009);
    // Beyond the bound, only what the two kernels' socket buffers took before the cut.
    expect(sent).toBeLessThan(1024 * 1024 + 64 * 1024 * 1024);
    expect(closeOf(fromServer)).toBe('1009 message over 65536 bytes');
  });

  test('a peer that neither sends its close nor ends TCP is let go when the close timer runs out', async () => {
    const { server, client } = await socketPair(true);
    const fromServer = serverFrames(client);
    const gone = new Promise<number>((resolve) => {
      new WsSocket(server, { ...idle, onClose: resolve }, { ...limits, closeTimeoutMs: 300 });
    });
    // The header of a 4 MB frame and 100 KB of it; the rest never comes.
    const frame = clientFrame({ opcode: Opcode.TEXT, payload: Buffer.alloc(4 * 1024 * 1024, 0x78) });
    await written(client, frame.subarray(0, 100 * 1024));
    expect(await gone).toBe(1009);
    expect(server.destroyed).toBe(true);
    expect(closeOf(fromServer)).toBe('1009 message over 65536 bytes');
  });

  test('dropping 256 MB keeps nothing: the process does not grow with it', async () => {
    const { server, client } = await socketPair(true);
    const gone = new Promise<number>((resolve) => {
      new WsSocket(server, { ...idle, onClose: resolve }, { ...limits, maxDiscardBytes: 512 * 1024 * 1024 });
    });
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const total = 256 * 1024 * 1024;
    await written(client, clientFrame({ opcode: Opcode.BINARY, announcedLength: BigInt(total) }));
    const chunk = Buffer.alloc(256 * 1024, 0x78);
    for (let sent = 0; sent < total; sent += chunk.length) await written(client, chunk);
    await written(client, clientFrame({ opcode: Opcode.CLOSE, payload: closeBody(1000) }));
    expect(await gone).toBe(1009);
    clearInterval(sampler);
    expect(peak - before).toBeLessThan(64 * 1024 * 1024);
  }, 60_000);
});
