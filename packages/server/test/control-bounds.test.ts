/**
 * Every byte counts against the bounds: what the server writes back to one WebSocket peer in reply to
 * its own frames (`$pong`, `$error`, `$ack`, WebSocket pongs) is held to that connection's
 * `maxQueueBytes` like its data, and ping, pong and close frames count against the frame rate limit like
 * data frames. Raw sockets, so the peer can stop reading while it keeps sending.
 */
import type { Socket } from 'node:net';
import { CloseCodes, ErrorCodes } from '@livedash/protocol';
import { createServer, type LivedashServer } from '@livedash/server';
import { afterEach, describe, expect, it } from 'vitest';
import { RawWsClient } from './helpers/raw-ws-client.js';
import { clientFrame, Opcode } from './helpers/raw-ws-frame.js';

/** The smallest queue bound the options allow, so the kernel's socket buffers are most of what fills first. */
const MAX_QUEUE_BYTES = 16 * 1024;
/**
 * What the server may hold for one peer: the bound, the reserve control replies may use past it, and
 * the close frame that tells the peer why it is closed.
 */
const HELD_BOUND = MAX_QUEUE_BYTES * 1.25 + 64;
/** The longest request id, echoed in every answer: the largest reply per byte the peer sends. */
const LONG_ID = 'i'.repeat(64);
/** Far more replies than the kernel's buffers (a few MB on loopback) plus any bound could hold. */
const MAX_REPLY_BYTES = 32 * 2 ** 20;

let server: LivedashServer | undefined;
const clients: RawWsClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await server?.close();
  server = undefined;
});

async function start(options: Parameters<typeof createServer>[0] = {}): Promise<LivedashServer> {
  server = await createServer({ port: 0, publishToken: 'secret', heartbeatMs: 120_000, ...options });
  return server;
}

/** A client past its `$welcome`, and the server's side of its TCP connection. */
async function welcomed(live: LivedashServer): Promise<{ client: RawWsClient; serverSide: Socket }> {
  const accepted = new Promise<Socket>((resolve) => live.app.server.once('connection', resolve));
  const client = await RawWsClient.open(live.port);
  clients.push(client);
  await client.waitForJson((m) => m.type === '$welcome', '$welcome');
  return { client, serverSide: await accepted };
}

async function slowConsumerCloses(live: LivedashServer): Promise<number> {
  const { values } = await live.metrics.slowConsumerDisconnects.get();
  return values.find((value) => value.labels.transport === 'ws')?.value ?? 0;
}

/**
 * Sends `frame` over and over in batches without ever reading, until the server gives up on the peer
 * or `MAX_REPLY_BYTES` of replies would have been asked for. Returns the most the server held in its
 * socket's buffer for the peer meanwhile and whether it closed it as a slow consumer.
 */
async function floodWithoutReading(
  live: LivedashServer,
  client: RawWsClient,
  serverSide: Socket,
  frame: Buffer,
  replyBytes: number,
): Promise<{ maxHeld: number; closedAsSlow: boolean }> {
  client.socket.pause();
  const batch = Buffer.concat(Array.from({ length: 1000 }, () => frame));
  let maxHeld = 0;
  for (let asked = 0; asked < MAX_REPLY_BYTES; asked += 1000 * replyBytes) {
    await client.write(batch);
    // Let the server read and answer the batch before looking at what it holds.
    await new Promise((resolve) => setImmediate(resolve));
    maxHeld = Math.max(maxHeld, serverSide.writableLength);
    if ((await slowConsumerCloses(live)) > 0) return { maxHeld, closedAsSlow: true };
  }
  return { maxHeld, closedAsSlow: false };
}

/** Reads again, and expects the slow-consumer close behind everything the server had queued. */
async function expectSlowConsumerClose(client: RawWsClient): Promise<void> {
  client.socket.resume();
  const close = await client.waitForClose();
  expect(close.code).toBe(CloseCodes.SLOW_CONSUMER);
  expect(close.reason.toString()).toBe('slow consumer: outgoing queue full');
  await client.waitForTcpClose();
}

describe('control replies count against maxQueueBytes', () => {
  const calmRate = { maxQueueBytes: MAX_QUEUE_BYTES, framesPerSec: 100_000, frameBurst: 1_000_000 };

  it('a peer sending ping commands without reading its socket is closed 4008, its $pongs held within the bound', async () => {
    const live = await start(calmRate);
    const { client, serverSide } = await welcomed(live);
    const ping = clientFrame({
      opcode: Opcode.TEXT,
      payload: JSON.stringify({ action: 'ping', id: LONG_ID }),
    });
    const result = await floodWithoutReading(live, client, serverSide, ping, 100);
    expect(result.closedAsSlow).toBe(true);
    expect(result.maxHeld).toBeLessThanOrEqual(HELD_BOUND);
    await expectSlowConsumerClose(client);
  }, 60_000);

  it('a peer sending invalid commands without reading its socket is closed 4008, its $errors held within the bound', async () => {
    const live = await start(calmRate);
    const { client, serverSide } = await welcomed(live);
    const invalid = clientFrame({
      opcode: Opcode.TEXT,
      payload: JSON.stringify({ action: 'x', id: LONG_ID }),
    });
    const result = await floodWithoutReading(live, client, serverSide, invalid, 140);
    expect(result.closedAsSlow).toBe(true);
    expect(result.maxHeld).toBeLessThanOrEqual(HELD_BOUND);
    await expectSlowConsumerClose(client);
  }, 60_000);

  it('a client that reads gets every reply to bursts of commands, and stays open', async () => {
    const live = await start(calmRate);
    const { client } = await welcomed(live);
    // 200 at a time: past 256 commands waiting, commands are refused (a separate bound).
    for (let burst = 0; burst < 10; burst++) {
      const ids = Array.from({ length: 200 }, (_, i) => burst * 200 + i);
      await client.write(
        Buffer.concat(
          ids.map((id) =>
            clientFrame({ opcode: Opcode.TEXT, payload: JSON.stringify({ action: 'ping', id }) }),
          ),
        ),
      );
      const last = ids.at(-1);
      await client.waitForJson((m) => m.type === '$pong' && m.id === last, `$pong #${last}`);
    }
    expect(client.json.filter((m) => m.type === '$pong')).toHaveLength(2000);
    expect(client.closeFrame).toBeUndefined();
    expect(await slowConsumerCloses(live)).toBe(0);
  });
});

describe('ping, pong and close frames count against the frame rate limit', () => {
  const tightRate = { framesPerSec: 5, frameBurst: 10 };

  it('a peer flooding WebSocket pings gets one rate_limited $error, at most a burst of pongs, then close 4029', async () => {
    const live = await start(tightRate);
    const { client } = await welcomed(live);
    await client.write(
      Buffer.concat(Array.from({ length: 100 }, () => clientFrame({ opcode: Opcode.PING, payload: 'p' }))),
    );
    const close = await client.waitForClose();
    expect(close.code).toBe(CloseCodes.RATE_LIMITED);
    expect(close.reason.toString()).toBe(ErrorCodes.RATE_LIMITED);
    const errors = client.json.filter((m) => m.type === '$error').map((m) => m.code);
    expect(errors).toEqual([ErrorCodes.RATE_LIMITED, ErrorCodes.RATE_LIMITED]);
    expect(client.frames.filter((f) => f.opcode === Opcode.PONG).length).toBeLessThanOrEqual(10);
  });

  it('a peer flooding unsolicited pongs is closed 4029', async () => {
    const live = await start(tightRate);
    const { client } = await welcomed(live);
    await client.write(
      Buffer.concat(Array.from({ length: 100 }, () => clientFrame({ opcode: Opcode.PONG, payload: 'p' }))),
    );
    expect((await client.waitForClose()).code).toBe(CloseCodes.RATE_LIMITED);
  });

  it('a close frame takes its token too (the peer is told it is over the limit), and is still honoured', async () => {
    const live = await start(tightRate);
    const { client } = await welcomed(live);
    const pongs = Array.from({ length: 10 }, () => clientFrame({ opcode: Opcode.PONG }));
    await client.write(
      Buffer.concat([...pongs, clientFrame({ opcode: Opcode.CLOSE, payload: Buffer.from([0x03, 0xe8]) })]),
    );
    expect((await client.waitForClose()).code).toBe(1000);
    expect(client.json.filter((m) => m.type === '$error').map((m) => m.code)).toEqual([
      ErrorCodes.RATE_LIMITED,
    ]);
    await client.waitForTcpClose();
  });

  it('pings within the rate are all answered', async () => {
    const live = await start(tightRate);
    const { client } = await welcomed(live);
    for (let i = 0; i < 8; i++) {
      await client.send({ opcode: Opcode.PING, payload: `p${i}` });
      await client.until(
        () => (client.frames.filter((f) => f.opcode === Opcode.PONG).length > i ? true : undefined),
        `pong ${i + 1}`,
      );
    }
    expect(client.closeFrame).toBeUndefined();
  });
});
