import { connect, createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { connect as connectTls, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { afterEach, describe, expect, test } from 'vitest';
import { socketDescriptor, writeToSocket } from '../src/transports/direct-write.js';
import { encodeTextFrame } from '../src/transports/ws-frame.js';
import { type WsHandler, WsSocket } from '../src/transports/ws-socket.js';
import { clientFrame, Opcode } from './helpers/raw-ws-frame.js';
import { selfSignedCertificate } from './helpers/tls-certificate.js';

// Frames go straight to the socket's file descriptor when Node exposes it (`_handle.fd`, an internal)
// and through `socket.write` when it does not. Node counts in `socket.bytesWritten` only what went
// through the stream, which is how these tests tell the two paths apart.

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function socketPair(): Promise<{ server: Socket; client: Socket }> {
  const listener: Server = createTcpServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise<void>((resolve) => listener.close(() => resolve())));
  const accepted = new Promise<Socket>((resolve) => listener.once('connection', resolve));
  const client = connect((listener.address() as { port: number }).port, '127.0.0.1');
  const server = await accepted;
  cleanup.push(() => {
    client.destroy();
    server.destroy();
  });
  return { server, client };
}

function receive(socket: Socket, bytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let received = 0;
  return new Promise((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received >= bytes) resolve(Buffer.concat(chunks));
    });
  });
}

/** What a Node release without `_handle.fd` would look like: the handle still works, the field is gone. */
function hideDescriptor(socket: Socket, how: 'missing' | 'throws'): void {
  const handle = (socket as unknown as { _handle: object })._handle;
  Object.defineProperty(handle, 'fd', {
    configurable: true,
    get: () => {
      if (how === 'throws') throw new Error('internal field removed');
      return undefined;
    },
  });
}

const idle: WsHandler = {
  onText: () => {},
  onBinary: () => {},
  onActivity: () => {},
  onControl: () => true,
  onFailed: () => {},
  onClose: () => {},
  onFault: () => {},
};

describe('socketDescriptor', () => {
  test('a plain TCP socket has one; a destroyed socket, a TLS socket and a Duplex that is not a socket have none', async () => {
    const { server } = await socketPair();
    expect(socketDescriptor(server)).toBeGreaterThanOrEqual(0);
    expect(socketDescriptor(new Duplex({ read() {}, write: (_c, _e, done) => done() }))).toBe(-1);

    const tls = createTlsServer(selfSignedCertificate());
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise<void>((resolve) => tls.close(() => resolve())));
    const secured = new Promise<TLSSocket>((resolve) => tls.once('secureConnection', resolve));
    const client = connectTls({
      port: (tls.address() as { port: number }).port,
      host: '127.0.0.1',
      rejectUnauthorized: false,
    });
    cleanup.push(() => void client.destroy());
    const tlsServerSide = await secured;
    cleanup.push(() => void tlsServerSide.destroy());
    expect(socketDescriptor(tlsServerSide)).toBe(-1);

    server.destroy();
    expect(socketDescriptor(server)).toBe(-1);
  });

  test('a handle whose fd is missing or throws gives none', async () => {
    const { server: a } = await socketPair();
    const { server: b } = await socketPair();
    hideDescriptor(a, 'missing');
    hideDescriptor(b, 'throws');
    expect(socketDescriptor(a)).toBe(-1);
    expect(socketDescriptor(b)).toBe(-1);
  });
});

describe('writeToSocket', () => {
  test('with a descriptor, bytes reach the peer without passing through Node’s stream', async () => {
    const { server, client } = await socketPair();
    const chunk = Buffer.from('direct bytes');
    const arrived = receive(client, chunk.length);
    let written = false;
    expect(writeToSocket(server, socketDescriptor(server), chunk, () => (written = true))).toBe(true);
    expect(written).toBe(true); // the kernel took it all before writeToSocket returned
    expect((await arrived).equals(chunk)).toBe(true);
    expect(server.bytesWritten).toBe(0);
  });

  test('without a descriptor, bytes go through socket.write and arrive the same', async () => {
    const { server, client } = await socketPair();
    const chunk = Buffer.from('through the stream');
    const arrived = receive(client, chunk.length);
    const written = new Promise<void>((resolve) => writeToSocket(server, -1, chunk, resolve));
    await written;
    expect((await arrived).equals(chunk)).toBe(true);
    expect(server.bytesWritten).toBe(chunk.length);
  });

  test('nothing is written to an ended socket on either path', async () => {
    const { server } = await socketPair();
    const fd = socketDescriptor(server);
    server.end();
    expect(writeToSocket(server, fd, Buffer.from('late'))).toBe(false);
    expect(writeToSocket(server, -1, Buffer.from('late'))).toBe(false);
  });
});

describe('a WebSocket on a socket without a descriptor', () => {
  test('on a TCP socket whose handle lost its fd, frames go out through the stream and frames in are read', async () => {
    const { server, client } = await socketPair();
    hideDescriptor(server, 'missing');
    const texts: string[] = [];
    const ws = new WsSocket(
      server,
      { ...idle, onText: (text) => texts.push(text) },
      {
        maxPayload: 1024,
        closeTimeoutMs: 1000,
        maxDiscardBytes: 1024 * 1024,
      },
    );
    const frames = Array.from({ length: 50 }, (_, i) => encodeTextFrame(`{"i":${i}}`));
    const expected = Buffer.concat(frames);
    const arrived = receive(client, expected.length);
    for (const frame of frames) ws.write(frame);
    expect((await arrived).equals(expected)).toBe(true);
    expect(server.bytesWritten).toBe(expected.length);
    client.write(clientFrame({ opcode: Opcode.TEXT, payload: 'hello' }));
    await expect.poll(() => texts).toEqual(['hello']);
  });

  test('on a Duplex that is not a kernel socket, frames go out and the close handshake runs', async () => {
    const out: Buffer[] = [];
    const duplex = new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, done) {
        out.push(chunk);
        done();
      },
    });
    let closedWith: number | undefined;
    const ws = new WsSocket(
      duplex as unknown as Socket,
      { ...idle, onClose: (code) => (closedWith = code) },
      {
        maxPayload: 1024,
        closeTimeoutMs: 1000,
        maxDiscardBytes: 1024 * 1024,
      },
    );
    ws.write(encodeTextFrame('{"type":"$welcome"}'));
    expect(Buffer.concat(out).equals(encodeTextFrame('{"type":"$welcome"}'))).toBe(true);
    ws.close(1000, 'bye');
    duplex.push(clientFrame({ opcode: Opcode.CLOSE, payload: Buffer.from([0x03, 0xe8]) }));
    duplex.push(null);
    await expect.poll(() => closedWith).toBe(1000);
  });
});
