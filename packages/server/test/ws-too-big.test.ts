/**
 * A WebSocket message over `maxFrameBytes` is answered with close 1009 and its reason, and the client
 * reads them every time — also while it is still writing the rest of a 4 MB message when the refusal
 * comes. Real clients, many attempts each: undici's WebSocket, Node's global WebSocket (in a child
 * process, since Node 20 has it behind `--experimental-websocket`), and the `ws` package, with the
 * message as one frame and in fragments. Then the bounds: a peer that never sends its close, or keeps
 * sending after the refusal, is still let go.
 *
 * More attempts, to measure a rare failure: LIVEDASH_TOO_BIG_ATTEMPTS=300 npx vitest run <this file>
 */
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { CloseCodes } from '@livedash/protocol';
import { createServer, type LivedashServer } from '@livedash/server';
import { WebSocket as UndiciWebSocket } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import WsWebSocket from 'ws';
import { upgradeRequestText } from './helpers/raw-ws-client.js';
import { clientFrame, FrameReader, Opcode, type ServerFrame } from './helpers/raw-ws-frame.js';
import { until } from './helpers/wait.js';

const MAX_FRAME_BYTES = 64 * 1024;
const MESSAGE_BYTES = 4 * 1024 * 1024;
const ATTEMPTS = Number(process.env.LIVEDASH_TOO_BIG_ATTEMPTS ?? 40);
const EXPECTED = `${CloseCodes.MESSAGE_TOO_BIG} message over ${MAX_FRAME_BYTES} bytes`;

let server: LivedashServer | undefined;
const cleanup: Array<() => void> = [];

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) step();
  await server?.close();
  server = undefined;
});

async function start(options: Parameters<typeof createServer>[0] = {}): Promise<string> {
  server = await createServer({
    port: 0,
    host: '127.0.0.1',
    maxFrameBytes: MAX_FRAME_BYTES,
    heartbeatMs: 120_000,
    ...options,
  });
  return `ws://127.0.0.1:${server.port}/ws`;
}

/** One attempt with undici's WebSocket: the close it reports, as "code reason". */
function undiciAttempt(url: string, message: string): Promise<string> {
  return new Promise((resolve) => {
    const ws = new UndiciWebSocket(url);
    cleanup.push(() => ws.close());
    ws.onopen = () => ws.send(message);
    ws.onclose = ({ code, reason }) => resolve(`${code} ${reason}`);
  });
}

/** One attempt with the `ws` package: the message in one frame, or in `fragments` pieces. */
function wsAttempt(url: string, message: string, fragments = 1): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WsWebSocket(url);
    cleanup.push(() => ws.terminate());
    // A reset shows as an error before the close (code 1006); the close event is what is recorded.
    ws.on('error', () => {});
    ws.on('open', () => {
      const size = Math.ceil(message.length / fragments);
      for (let at = 0; at < message.length; at += size) {
        ws.send(message.slice(at, at + size), { fin: at + size >= message.length });
      }
    });
    ws.on('close', (code, reason) => resolve(`${code} ${reason.toString()}`));
  });
}

/**
 * `attempts` attempts with Node's own global WebSocket, in a child process (Node 20 needs
 * `--experimental-websocket` for it; later releases accept the flag and have it anyway).
 */
async function globalWebSocketAttempts(url: string, attempts: number): Promise<string[]> {
  const script = `
    const [url, attempts, bytes] = process.argv.slice(1);
    const message = 'x'.repeat(Number(bytes));
    const outcomes = [];
    for (let i = 0; i < Number(attempts); i++) {
      outcomes.push(await new Promise((resolve) => {
        const ws = new WebSocket(url);
        ws.onopen = () => ws.send(message);
        ws.onclose = ({ code, reason }) => resolve(code + ' ' + reason);
      }));
    }
    process.stdout.write(JSON.stringify(outcomes));
  `;
  const child = spawn(
    process.execPath,
    [
      '--experimental-websocket',
      '--no-warnings',
      '--input-type=module',
      '-e',
      script,
      url,
      String(attempts),
      String(MESSAGE_BYTES),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  cleanup.push(() => child.kill());
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const status = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (status !== 0) throw new Error(`the WebSocket child process exited with ${status}: ${stderr}`);
  return JSON.parse(stdout) as string[];
}

async function repeat(attempt: () => Promise<string>): Promise<string[]> {
  const outcomes: string[] = [];
  for (let i = 0; i < ATTEMPTS; i++) outcomes.push(await attempt());
  return outcomes;
}

// 40 attempts of 4 MB each take a few seconds; the ceiling is for a loaded machine.
describe('a 4 MB message over maxFrameBytes: every attempt reads 1009 and its reason, never a reset', {
  timeout: 120_000,
}, () => {
  const message = 'x'.repeat(MESSAGE_BYTES);

  it(`undici's WebSocket, one frame, ${ATTEMPTS} attempts`, async () => {
    const url = await start();
    expect(await repeat(() => undiciAttempt(url, message))).toEqual(Array(ATTEMPTS).fill(EXPECTED));
  });

  it(`Node's global WebSocket, one frame, ${ATTEMPTS} attempts`, async () => {
    const url = await start();
    expect(await globalWebSocketAttempts(url, ATTEMPTS)).toEqual(Array(ATTEMPTS).fill(EXPECTED));
  });

  it(`the ws package, one frame, ${ATTEMPTS} attempts`, async () => {
    const url = await start();
    expect(await repeat(() => wsAttempt(url, message))).toEqual(Array(ATTEMPTS).fill(EXPECTED));
  });

  it(`the ws package, 64 fragments of 64 KiB (the second one goes over), ${ATTEMPTS} attempts`, async () => {
    const url = await start();
    expect(await repeat(() => wsAttempt(url, message, 64))).toEqual(Array(ATTEMPTS).fill(EXPECTED));
  });
});

/**
 * A WebSocket client on a bare socket that keeps its side of TCP open after the server's FIN (a
 * half-close), so only the server's own bounds can end the connection; the frames it receives.
 */
function halfOpenClient(): { socket: Socket; frames: ServerFrame[] } {
  const socket = connect({ port: (server as LivedashServer).port, host: '127.0.0.1', allowHalfOpen: true });
  socket.on('error', () => {});
  cleanup.push(() => socket.destroy());
  const reader = new FrameReader();
  const frames: ServerFrame[] = [];
  let handshake: Buffer | undefined = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    if (handshake) {
      handshake = Buffer.concat([handshake, chunk]);
      const end = handshake.indexOf('\r\n\r\n');
      if (end < 0) return;
      frames.push(...reader.push(handshake.subarray(end + 4)));
      handshake = undefined;
      return;
    }
    frames.push(...reader.push(chunk));
  });
  socket.write(upgradeRequestText().text);
  return { socket, frames };
}

async function closeReceived(frames: ServerFrame[]): Promise<string> {
  await until(() => frames.some((frame) => frame.opcode === Opcode.CLOSE), 'the close frame');
  const close = frames.find((frame) => frame.opcode === Opcode.CLOSE) as ServerFrame;
  return `${close.payload.readUInt16BE(0)} ${close.payload.subarray(2).toString()}`;
}

/** WebSocket connections the server counts as open (/healthz). */
async function openConnections(): Promise<number> {
  const health = (await (await fetch(`${(server as LivedashServer).url}/healthz`)).json()) as {
    connections: { ws: number };
  };
  return health.connections.ws;
}

describe('after refusing a message, the server still lets go of the peer', () => {
  it('a peer that never sends its close nor ends TCP is dropped when the 5 s close timer runs out', async () => {
    await start();
    const { socket, frames } = halfOpenClient();
    // The header of a 4 MB frame and its first 64 KiB: refused on its length; the rest never comes.
    socket.write(
      clientFrame({
        opcode: Opcode.TEXT,
        payload: Buffer.alloc(MAX_FRAME_BYTES, 0x78),
        announcedLength: BigInt(MESSAGE_BYTES),
      }),
    );
    expect(await closeReceived(frames)).toBe(EXPECTED);
    // The close timer is 5 s; the wait's ceiling is generous for a loaded machine.
    await until(async () => (await openConnections()) === 0, 'the server to drop the connection', 15_000);
  });

  it('a peer that keeps sending after the refusal is cut once maxDiscardBytes more have come', async () => {
    const maxDiscardBytes = 1024 * 1024;
    await start({ maxDiscardBytes });
    const { socket, frames } = halfOpenClient();
    // A frame announcing 1 GiB, then its payload for as long as the server takes it.
    socket.write(clientFrame({ opcode: Opcode.TEXT, announcedLength: 1n << 30n }));
    const chunk = Buffer.alloc(64 * 1024, 0x78);
    let written = 0;
    while (!socket.destroyed && written < 256 * 1024 * 1024) {
      await new Promise((resolve) => socket.write(chunk, resolve));
      written += chunk.length;
    }
    expect(await closeReceived(frames)).toBe(EXPECTED);
    // What was written beyond the bound sits in the two kernels' socket buffers, a few MB at most.
    expect(written).toBeLessThan(maxDiscardBytes + 64 * 1024 * 1024);
    await until(async () => (await openConnections()) === 0, 'the server to drop the connection');
  });
});
