/**
 * Raw-socket tools for the security, advisory and fuzz tests: hand-built HTTP requests, a manual
 * WebSocket handshake, frames with any header bits, and a well-behaved client that checks the server
 * still delivers every message in order. Not a test file itself.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import type { LivedashServer } from '../src/server.js';
import { until } from './helpers/wait.js';

export interface RawResponse {
  /** Everything the server sent before closing (or before the timeout). */
  text: string;
  bytes: Buffer;
  /** First line's status code, if an HTTP response arrived. */
  status: number | undefined;
  /** True when the server closed the socket (rather than the timeout firing). */
  closed: boolean;
}

/**
 * Sends `chunks` on a fresh TCP connection and collects the answer until the server closes, `timeoutMs`
 * passes, or (with `headersOnly`) the response's header block is complete.
 */
export function rawExchange(
  port: number,
  chunks: Array<string | Buffer>,
  timeoutMs = 5000,
  headersOnly = false,
): Promise<RawResponse> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const bytes = Buffer.concat(received);
      const text = bytes.toString('latin1');
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ text, bytes, status: match ? Number(match[1]) : undefined, closed });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (chunk) => {
      received.push(chunk);
      if (headersOnly && Buffer.concat(received).includes('\r\n\r\n')) finish(false);
    });
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('connect', async () => {
      for (const chunk of chunks) {
        if (socket.destroyed) return;
        // The server may refuse mid-request; a write after that is expected to fail.
        await new Promise<void>((done) => socket.write(chunk, () => done()));
      }
    });
  });
}

/** A WebSocket upgrade request for `path`, with any extra header lines. */
export function upgradeHeaders(path = '/ws', extra: Record<string, string> = {}): string {
  const lines = [
    `GET ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
    ...Object.entries(extra).map(([name, value]) => `${name}: ${value}`),
  ];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** An open WebSocket on a raw TCP socket (handshake done by hand), for sending frames ws would never build. */
export async function rawWebSocket(
  port: number,
  path = '/ws',
): Promise<{ socket: Socket; received: () => Buffer }> {
  const socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk) => chunks.push(chunk));
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  socket.write(upgradeHeaders(path));
  await until(() => Buffer.concat(chunks).includes('\r\n\r\n'), 'handshake answer', 5000);
  const all = Buffer.concat(chunks);
  const end = all.indexOf('\r\n\r\n') + 4;
  const head = all.subarray(0, end).toString('latin1');
  if (!head.startsWith('HTTP/1.1 101')) throw new Error(`handshake refused: ${head.split('\r\n')[0]}`);
  chunks.length = 0;
  chunks.push(all.subarray(end));
  return { socket, received: () => Buffer.concat(chunks) };
}

export interface FrameSpec {
  opcode: number;
  payload?: Buffer | string;
  fin?: boolean;
  /** RSV1..3 as a 3-bit number (4 = RSV1). */
  rsv?: number;
  /** Client frames must be masked; false builds an illegal unmasked one. */
  mask?: boolean;
  /** Length to announce instead of the payload's own (for lying 64-bit lengths). */
  announcedLength?: bigint;
}

/** Builds one WebSocket frame exactly as specified, legal or not. */
export function buildFrame(spec: FrameSpec): Buffer {
  const payload =
    typeof spec.payload === 'string' ? Buffer.from(spec.payload) : (spec.payload ?? Buffer.alloc(0));
  const length = spec.announcedLength ?? BigInt(payload.length);
  const mask = spec.mask ?? true;
  const head: number[] = [((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | (spec.opcode & 0x0f)];
  const maskBit = mask ? 0x80 : 0;
  let extended = Buffer.alloc(0);
  if (length < 126n) head.push(maskBit | Number(length));
  else if (length < 65536n) {
    head.push(maskBit | 126);
    extended = Buffer.alloc(2);
    extended.writeUInt16BE(Number(length));
  } else {
    head.push(maskBit | 127);
    extended = Buffer.alloc(8);
    extended.writeBigUInt64BE(length);
  }
  const key = mask ? randomBytes(4) : Buffer.alloc(0);
  const body = Buffer.from(payload);
  if (mask) for (let i = 0; i < body.length; i++) body[i] = (body[i] as number) ^ (key[i % 4] as number);
  return Buffer.concat([Buffer.from(head), extended, key, body]);
}

/** Reads unmasked server frames from a byte stream; stops at an incomplete one. */
export function parseServerFrames(bytes: Buffer): Array<{ opcode: number; payload: Buffer }> {
  const frames: Array<{ opcode: number; payload: Buffer }> = [];
  let at = 0;
  while (at + 2 <= bytes.length) {
    const opcode = (bytes[at] as number) & 0x0f;
    let length = (bytes[at + 1] as number) & 0x7f;
    let offset = at + 2;
    if (length === 126) {
      if (offset + 2 > bytes.length) break;
      length = bytes.readUInt16BE(offset);
      offset += 2;
    } else if (length === 127) {
      if (offset + 8 > bytes.length) break;
      length = Number(bytes.readBigUInt64BE(offset));
      offset += 8;
    }
    if (offset + length > bytes.length) break;
    frames.push({ opcode, payload: bytes.subarray(offset, offset + length) });
    at = offset + length;
  }
  return frames;
}

/** The close code of the first close frame the server sent, if any. */
export function closeCodeOf(bytes: Buffer): number | undefined {
  const close = parseServerFrames(bytes).find((frame) => frame.opcode === 0x8);
  return close && close.payload.length >= 2 ? close.payload.readUInt16BE(0) : undefined;
}

/** Resolves when the socket has closed (or at once if it already has). */
export function closed(socket: Socket, timeoutMs = 5000): Promise<void> {
  if (socket.destroyed || socket.closed) return Promise.resolve();
  return until(() => socket.destroyed || socket.closed, 'the server to close the socket', timeoutMs);
}

/**
 * A well-behaved WebSocket subscriber that records every data frame's seq on one channel, so a test can
 * check nothing was lost, duplicated or reordered while bad clients did their worst.
 */
export class ProbeClient {
  readonly ws: WebSocket;
  readonly seqs: number[] = [];
  readonly errors: string[] = [];
  #subscribed = false;

  private constructor(ws: WebSocket, channel: string) {
    this.ws = ws;
    ws.on('message', (raw) => {
      const frame = JSON.parse(String(raw)) as { type: string; seq?: number; code?: string };
      if (frame.type === '$subscribed') this.#subscribed = true;
      else if (frame.type === '$error') this.errors.push(frame.code ?? '?');
      else if (frame.type === channel && typeof frame.seq === 'number') this.seqs.push(frame.seq);
    });
  }

  static async connect(
    url: string,
    channel: string,
    headers: Record<string, string> = {},
  ): Promise<ProbeClient> {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`, { headers });
    const probe = new ProbeClient(ws, channel);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send(JSON.stringify({ action: 'subscribe', channels: [channel] }));
    await until(() => probe.#subscribed, `$subscribed to ${channel}`, 5000);
    return probe;
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const done = new Promise<void>((resolve) => this.ws.once('close', () => resolve()));
    this.ws.close();
    await done;
  }
}

/** True when `seqs` is exactly from..to, each once, in order. */
export function isContiguous(seqs: readonly number[], from: number, to: number): boolean {
  if (seqs.length !== to - from + 1) return false;
  return seqs.every((seq, i) => seq === from + i);
}

/**
 * Proves the server still works for others: a new subscriber receives every one of a burst of
 * publishes in order, and /healthz answers.
 */
export async function expectServerServes(server: LivedashServer, channel = 'probe.health'): Promise<void> {
  const probe = await ProbeClient.connect(server.url, channel);
  try {
    const first = (await server.hub.publish(channel, { n: 0 })).seq;
    for (let n = 1; n < 20; n++) await server.hub.publish(channel, { n });
    await until(() => probe.seqs.at(-1) === first + 19, 'the probe to receive the burst', 10_000);
    // The latest value on subscribe may precede the burst; what follows must be the burst, whole and in order.
    const burst = probe.seqs.filter((seq) => seq >= first);
    if (!isContiguous(burst, first, first + 19)) throw new Error(`probe saw ${burst.join(',')}`);
    const health = await fetch(`${server.url}/healthz`);
    if (health.status !== 200) throw new Error(`/healthz answered ${health.status}`);
  } finally {
    await probe.close();
  }
}
