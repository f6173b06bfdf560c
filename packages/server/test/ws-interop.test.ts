/**
 * Interop of the WebSocket endpoint with a client that is not ours and not `ws`: undici's WebSocket
 * (the one Node's global WebSocket is built on). Handshake with and without an extension offer (undici
 * always offers permessage-deflate) or subprotocols, the protocol of docs/protocol.md with publishes
 * over HTTP, resume with `since`, messages at and over the size limit, pings both ways, the client's
 * close and the server's shutdown. Python's `websockets` and Java's java.net.http.WebSocket were tried
 * by hand the same way (not run here: neither is a dependency of the repository).
 */
import { subscribe as subscribeChannel, unsubscribe as unsubscribeChannel } from 'node:diagnostics_channel';
import { CloseCodes, ErrorCodes } from '@livedash/protocol';
import { createServer, type LivedashServer } from '@livedash/server';
import { ping, WebSocket } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { RawWsClient } from './helpers/raw-ws-client.js';
import { Opcode } from './helpers/raw-ws-frame.js';

const MAX_FRAME_BYTES = 64 * 1024;
const WAIT_MS = 10_000;

interface Frame {
  type: string;
  [key: string]: unknown;
}

/** An undici WebSocket that records every frame and its close, and lets a test wait for either. */
class UndiciClient {
  readonly ws: WebSocket;
  readonly frames: Frame[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string; wasClean: boolean }>;
  #wake = new Set<() => void>();

  constructor(url: string, protocols?: string[]) {
    this.ws = protocols ? new WebSocket(url, protocols) : new WebSocket(url);
    this.ws.onmessage = (event) => {
      this.frames.push(JSON.parse(String(event.data)) as Frame);
      for (const wake of this.#wake) wake();
    };
    this.opened = new Promise((resolve, reject) => {
      this.ws.onopen = () => resolve();
      this.ws.onerror = () => reject(new Error(`WebSocket to ${url} failed`));
    });
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) => {
      this.ws.onclose = ({ code, reason, wasClean }) => {
        resolve({ code, reason, wasClean });
        for (const wake of this.#wake) wake();
      };
    });
  }

  send(command: unknown): void {
    this.ws.send(typeof command === 'string' ? command : JSON.stringify(command));
  }

  /** The first frame matching `predicate`, received already or still to come. */
  waitFor(predicate: (frame: Frame) => boolean, what: string): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.frames.find(predicate);
        if (found) finish(() => resolve(found));
        else if (this.ws.readyState === WebSocket.CLOSED)
          finish(() => reject(new Error(`closed while waiting for ${what}`)));
      };
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.#wake.delete(check);
        settle();
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`timed out waiting for ${what}; got ${this.#recent()}`))),
        WAIT_MS,
      );
      this.#wake.add(check);
      check();
    });
  }

  #recent(): string {
    return JSON.stringify(this.frames.slice(-5)).slice(0, 500);
  }
}

let server: LivedashServer | undefined;
const clients: UndiciClient[] = [];
const rawClients: RawWsClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) {
    if (client.ws.readyState !== WebSocket.CLOSED) client.ws.close();
    await client.closed;
  }
  for (const client of rawClients.splice(0)) client.destroy();
  await server?.close();
  server = undefined;
});

async function start(options: Parameters<typeof createServer>[0] = {}): Promise<LivedashServer> {
  server = await createServer({
    port: 0,
    host: '127.0.0.1',
    publishToken: 'secret',
    maxFrameBytes: MAX_FRAME_BYTES,
    heartbeatMs: 120_000,
    ...options,
  });
  return server;
}

async function connect(protocols?: string[]): Promise<UndiciClient> {
  const client = new UndiciClient(`ws://127.0.0.1:${(server as LivedashServer).port}/ws`, protocols);
  clients.push(client);
  await client.opened;
  return client;
}

/** Publishes over HTTP, as docs/protocol.md tells a producer to. */
async function publish(channel: string, data: unknown): Promise<{ epoch: string; seq: number }> {
  const response = await fetch(
    `http://127.0.0.1:${(server as LivedashServer).port}/api/channels/${channel}`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer secret' },
      body: JSON.stringify(data),
    },
  );
  expect(response.status).toBe(200);
  return (await response.json()) as { epoch: string; seq: number };
}

/** A text message of exactly `bytes` bytes that the server answers with `$pong`. */
function pingCommandOf(bytes: number, id: string): string {
  const command = JSON.stringify({ action: 'ping', id });
  return command + ' '.repeat(bytes - Buffer.byteLength(command));
}

describe('undici WebSocket against livedash', () => {
  it('opens with no extension (its permessage-deflate offer is declined) and no subprotocol; $welcome first', async () => {
    await start();
    const client = await connect();
    expect(client.ws.extensions).toBe('');
    expect(client.ws.protocol).toBe('');
    const welcome = await client.waitFor(() => true, 'a first frame');
    expect(welcome).toMatchObject({ type: '$welcome', version: 1 });
  });

  it('gets one of the subprotocols it offered', async () => {
    await start();
    const client = await connect(['livedash.v1', 'json']);
    expect(client.ws.protocol).toBe('livedash.v1');
    await client.waitFor((frame) => frame.type === '$welcome', '$welcome');
  });

  it('receives what is published over HTTP, closes cleanly, and resumes with since without gap or duplicate', async () => {
    await start();
    const first = await connect();
    first.send({ action: 'subscribe', channels: ['interop'], id: 1 });
    const subscribed = await first.waitFor((frame) => frame.type === '$subscribed', '$subscribed');
    expect(subscribed).toMatchObject({ channel: 'interop', seq: 0, recovered: false, id: 1 });
    const published = await publish('interop', { n: 1 });
    const seen = await first.waitFor((frame) => frame.type === 'interop', 'message 1');
    expect(seen).toMatchObject({ seq: published.seq, epoch: published.epoch, data: { n: 1 } });
    first.ws.close(1000, 'done');
    expect(await first.closed).toMatchObject({ code: 1000, wasClean: true });

    await publish('interop', { n: 2 });
    await publish('interop', { n: 3 });
    const resumed = await connect();
    resumed.send({
      action: 'subscribe',
      channels: ['interop'],
      since: { interop: { epoch: seen.epoch, seq: seen.seq } },
    });
    await resumed.waitFor((frame) => frame.type === 'interop' && frame.seq === 3, 'message 3');
    const stream = resumed.frames.filter((frame) => frame.type === '$subscribed' || frame.type === 'interop');
    expect(stream.map((frame) => (frame.type === 'interop' ? frame.data : frame.recovered))).toEqual([
      true,
      { n: 2 },
      { n: 3 },
    ]);
  });

  it('a message of exactly maxFrameBytes is answered; one byte more closes with 1009', async () => {
    await start();
    const client = await connect();
    client.send(pingCommandOf(MAX_FRAME_BYTES, 'at-limit'));
    await client.waitFor((frame) => frame.type === '$pong' && frame.id === 'at-limit', '$pong');
    client.send(pingCommandOf(MAX_FRAME_BYTES + 1, 'over'));
    const closed = await client.closed;
    expect(closed.code).toBe(CloseCodes.MESSAGE_TOO_BIG);
    expect(closed.wasClean).toBe(true);
  });

  it('a 4 MB message (the client still sending when refused) closes with 1009 and its reason, 20 of 20 times', async () => {
    await start();
    const big = 'x'.repeat(4 * 1024 * 1024);
    const outcomes: string[] = [];
    for (let i = 0; i < 20; i++) {
      const client = await connect();
      client.send(big);
      const closed = await client.closed;
      outcomes.push(`${closed.code} ${closed.reason} clean=${closed.wasClean}`);
    }
    expect(outcomes).toEqual(Array(20).fill(`1009 message over ${MAX_FRAME_BYTES} bytes clean=true`));
  });

  it('receives an envelope over 64 KiB (a 64-bit length) whole', async () => {
    await start();
    const client = await connect();
    client.send({ action: 'subscribe', channels: ['large'] });
    await client.waitFor((frame) => frame.type === '$subscribed', '$subscribed');
    // The HTTP body limit is 64 KiB; the envelope around it is larger, so its frame needs 64 bits.
    const text = 'x'.repeat(MAX_FRAME_BYTES - 100);
    await publish('large', { text });
    const message = await client.waitFor((frame) => frame.type === 'large', 'the large message');
    expect((message.data as { text: string }).text).toBe(text);
  });

  it('a binary message gets $error binary_frame and the connection stays', async () => {
    await start();
    const client = await connect();
    client.ws.send(new Uint8Array([1, 2, 3]));
    await client.waitFor(
      (frame) => frame.type === '$error' && frame.code === ErrorCodes.BINARY_FRAME,
      '$error',
    );
    client.send({ action: 'ping', id: 'after' });
    await client.waitFor((frame) => frame.type === '$pong' && frame.id === 'after', '$pong');
  });

  it('its ping is answered with a pong of the same payload', async () => {
    await start();
    const client = await connect();
    const pongs: string[] = [];
    const onPong = (message: unknown) => {
      const { payload, websocket } = message as { payload: Buffer; websocket: unknown };
      if (websocket === client.ws) pongs.push(payload.toString());
    };
    subscribeChannel('undici:websocket:pong', onPong);
    try {
      ping(client.ws, Buffer.from('are you there'));
      // Answered in order: the pong is in before this $pong.
      client.send({ action: 'ping', id: 'marker' });
      await client.waitFor((frame) => frame.type === '$pong' && frame.id === 'marker', '$pong');
      expect(pongs).toEqual(['are you there']);
    } finally {
      unsubscribeChannel('undici:websocket:pong', onPong);
    }
  });

  it('answers the server pings: stays open across heartbeats', async () => {
    // A peer that answers no ping (and sends nothing else) is terminated at the next heartbeat.
    await start({ heartbeatMs: 100 });
    const client = await connect();
    await client.waitFor(
      () => client.frames.filter((frame) => frame.type === '$heartbeat').length >= 4,
      'four $heartbeat frames',
    );
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('is closed with 1012 when the server shuts down', async () => {
    await start();
    const client = await connect();
    await client.waitFor((frame) => frame.type === '$welcome', '$welcome');
    const stopping = (server as LivedashServer).close();
    server = undefined;
    expect(await client.closed).toEqual({
      code: CloseCodes.SERVICE_RESTART,
      reason: 'server restarting',
      wasClean: true,
    });
    await stopping;
  });
});

describe('keepalive pings from clients that read slowly', () => {
  // Python's `websockets` pings every 20 s and closes with 1011 when a pong does not come within 20 s.
  // A ping that arrives while the server still has bytes queued for the client must be answered too.
  it('a ping that arrives behind a backlog of data is answered once the client reads again', async () => {
    await start({ maxQueueBytes: 64 * 1024 * 1024 });
    const reader = await RawWsClient.open((server as LivedashServer).port, {
      headers: { Authorization: 'Bearer secret' },
    });
    rawClients.push(reader);
    const watcher = await connect();
    watcher.send({ action: 'subscribe', channels: ['marker'] });
    await watcher.waitFor((frame) => frame.type === '$subscribed', 'watcher $subscribed');
    await reader.command({ action: 'subscribe', channels: ['backlog'] });
    await reader.waitForJson((message) => message.type === '$subscribed', 'reader $subscribed');

    reader.socket.pause();
    // 24 MB: far more than the kernel buffers of both ends hold, so most of it waits in Node.
    const pad = 'x'.repeat(60_000);
    for (let i = 0; i < 400; i++) await (server as LivedashServer).hub.publish('backlog', { i, pad });
    await reader.send({ opcode: Opcode.PING, payload: 'keepalive' });
    // Frames are handled in order: once the watcher sees this publish, the server has read the ping.
    await reader.command({ action: 'publish', channel: 'marker', data: 'ping sent' });
    await watcher.waitFor((frame) => frame.type === 'marker', 'the marker publish');

    reader.socket.resume();
    const pong = await reader.until(
      () => reader.frames.find((frame) => frame.opcode === Opcode.PONG),
      'the pong',
      30_000,
    );
    expect(pong.payload.toString()).toBe('keepalive');
    expect(reader.violations).toEqual([]);
  }, 60_000);
});
