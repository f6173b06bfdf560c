import { once } from 'node:events';
import { createServer, connect as dial, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import type { StoredMessage } from '../src/brokers/broker.js';
import { ChannelPolicies } from '../src/channel-policy.js';
import { FlushScheduler, OutgoingQueue, type OutgoingShared } from '../src/outgoing-queue.js';

// The queue over a real TCP socket pair on 127.0.0.1: `writer` is the server side the queue writes to,
// `reader` the peer, paused when a test needs a consumer that does not read.

interface Owner {
  overflowed: number;
  open: boolean;
  failed?: unknown;
}

const message = (channel: string, seq: number, size = 10): StoredMessage => ({
  channel,
  seq,
  epoch: 'e',
  ts: 0,
  frame: `${channel}#${seq}:${'x'.repeat(size)}`,
});

function setup(maxQueueBytes: number) {
  const flushes: number[] = [];
  const dropped = { conflated: 0, closed: 0 };
  const shared: OutgoingShared<Owner> = {
    scheduler: new FlushScheduler((frames) => flushes.push(frames)),
    maxQueueBytes,
    policies: new ChannelPolicies(['state.*']),
    hooks: {
      encode: (m) => Buffer.from(`${m.frame}\n`),
      conflationNotice: (m) => Buffer.from(`reset ${m.channel} ${m.seq}\n`),
      overflow: (owner) => {
        owner.overflowed++;
      },
      isOpen: (owner) => owner.open,
      dropped: (reason, count) => {
        dropped[reason] += count;
      },
      failed: (owner, error) => {
        owner.failed = error;
      },
    },
  };
  return { shared, flushes, dropped };
}

/**
 * Pushes 4 kB values on `state.cpu` to a queue whose reader reads nothing, far more than the kernel
 * buffers plus the bound hold, until `conflations` of them were dropped. Returns the last seq pushed and
 * whether the queue was seen congested.
 */
async function congest(
  queue: OutgoingQueue<Owner>,
  dropped: { conflated: number },
  conflations: number,
): Promise<{ seq: number; congested: boolean }> {
  let seq = 0;
  let congested = false;
  while (dropped.conflated < conflations) {
    for (let i = 0; i < 20; i++) queue.push(message('state.cpu', ++seq, 4000));
    // Checked before yielding: by the next turn the kernel may have taken enough to release it.
    congested ||= queue.state === 'congested';
    await new Promise((resolve) => setImmediate(resolve));
    if (seq > 50_000) throw new Error('never conflated');
  }
  return { seq, congested };
}

describe('OutgoingQueue', () => {
  let server: Server;
  let writer: Socket;
  let reader: Socket;
  let received = '';

  async function connect(): Promise<void> {
    server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const accepted = once(server, 'connection');
    reader = dial(port, '127.0.0.1');
    reader.setEncoding('latin1');
    reader.on('data', (chunk: string) => {
      received += chunk;
    });
    [writer] = (await accepted) as [Socket];
  }

  async function receivedUntil(done: (text: string) => boolean): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!done(received)) {
      if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(received.slice(-200))}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async function receivedLines(count: number): Promise<string[]> {
    await receivedUntil((text) => text.split('\n').length - 1 >= count);
    return received.split('\n').slice(0, count);
  }

  afterEach(async () => {
    received = '';
    reader?.destroy();
    writer?.destroy();
    await new Promise((resolve) => server?.close(resolve));
  });

  test('messages of one event-loop turn go out in order in one write', async () => {
    await connect();
    const { shared, flushes } = setup(1 << 20);
    const owner = { overflowed: 0, open: true };
    const queue = new OutgoingQueue(writer, owner, shared);
    let writes = 0;
    const write = writer.write.bind(writer);
    writer.write = ((chunk: Buffer) => {
      writes++;
      return write(chunk);
    }) as typeof writer.write;
    for (let seq = 1; seq <= 5; seq++) queue.push(message('log', seq));
    expect(writes).toBe(0);
    expect(await receivedLines(5)).toEqual([1, 2, 3, 4, 5].map((seq) => message('log', seq).frame));
    expect(writes).toBe(1);
    expect(flushes).toEqual([5]);
  });

  test('a queue whose flush throws is closed alone; the other queues of that turn are still written', async () => {
    await connect();
    const { shared } = setup(1 << 20);
    const broken = { overflowed: 0, open: true } as Owner;
    const healthy = { overflowed: 0, open: true } as Owner;
    const failing = {
      writableLength: 0,
      writableNeedDrain: false,
      write: () => {
        throw new Error('write exploded');
      },
      cork: () => {},
      uncork: () => {},
      once: () => {},
    };
    const first = new OutgoingQueue(failing, broken, shared);
    const second = new OutgoingQueue(writer, healthy, shared);
    first.push(message('log', 1));
    second.push(message('log', 1));
    expect(await receivedLines(1)).toEqual([message('log', 1).frame]);
    expect((broken.failed as Error).message).toBe('write exploded');
    expect(healthy.failed).toBeUndefined();
    expect(first.state).toBe('closed');
  });

  test('a control frame is written at once, after the data still pending', async () => {
    await connect();
    const { shared } = setup(1 << 20);
    const queue = new OutgoingQueue(writer, { overflowed: 0, open: true }, shared);
    queue.push(message('log', 1));
    queue.writeNow(Buffer.from('control\n'));
    queue.push(message('log', 2));
    expect(await receivedLines(3)).toEqual([message('log', 1).frame, 'control', message('log', 2).frame]);
  });

  test('a state channel over the bound conflates to its newest message, announced, once the reader drains', async () => {
    await connect();
    reader.pause();
    const { shared, dropped } = setup(64 * 1024);
    const owner = { overflowed: 0, open: true };
    const queue = new OutgoingQueue(writer, owner, shared);
    const { seq, congested } = await congest(queue, dropped, 50);
    expect(owner.overflowed).toBe(0);
    expect(congested).toBe(true);
    reader.resume();
    await receivedUntil((text) => text.includes(`state.cpu#${seq}:`));
    const lines = received.split('\n').filter((line) => line !== '');
    const notice = lines.indexOf(`reset state.cpu ${seq}`);
    expect(notice).toBeGreaterThan(0);
    expect(lines[notice + 1]?.startsWith(`state.cpu#${seq}:`)).toBe(true);
    const seqs = lines
      .filter((line) => !line.startsWith('reset'))
      .map((line) => Number(/#(\d+):/.exec(line)?.[1]));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(seqs.length).toBeLessThan(seq);
  });

  test('a state value bigger than the whole bound, held while congested, is sent once the reader drains', async () => {
    await connect();
    reader.pause();
    const { shared, dropped } = setup(16 * 1024);
    const owner = { overflowed: 0, open: true };
    const queue = new OutgoingQueue(writer, owner, shared);
    let { seq } = await congest(queue, dropped, 1);
    // The newest value is bigger than the bound: held, and sent, announced, once there is room.
    queue.push(message('state.cpu', ++seq, 20_000));
    reader.resume();
    await receivedUntil((text) => text.includes(`state.cpu#${seq}:`));
    expect(received).toContain(`reset state.cpu ${seq}\n`);
    expect(owner.overflowed).toBe(0);
    expect(queue.state).toBe('flowing');
  });

  test('a stream channel over the bound overflows (the transport disconnects it)', async () => {
    await connect();
    reader.pause();
    const { shared } = setup(64 * 1024);
    const owner = { overflowed: 0, open: true };
    const queue = new OutgoingQueue(writer, owner, shared);
    for (let seq = 1; owner.overflowed === 0 && seq < 50_000; seq++) {
      queue.push(message('log', seq, 4000));
      if (seq % 20 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(owner.overflowed).toBeGreaterThan(0);
    expect(queue.queuedBytes).toBeLessThanOrEqual(64 * 1024 + 4100);
  });

  test('a message bigger than the whole bound goes alone into an empty queue; behind other frames it overflows', async () => {
    await connect();
    reader.pause();
    const { shared } = setup(16 * 1024);
    const owner = { overflowed: 0, open: true };
    const queue = new OutgoingQueue(writer, owner, shared);
    expect(queue.fits(message('log', 1, 20_000))).toBe(true);
    queue.push(message('log', 1, 20_000));
    expect(owner.overflowed).toBe(0);
    expect(queue.queuedBytes).toBeGreaterThan(16 * 1024);
    // Behind it, frames are held to the usual bound on top of it: a pong, a small message go.
    expect(queue.reserve(100)).toBe(true);
    expect(queue.fits(message('log', 2, 10))).toBe(true);
    queue.push(message('log', 2, 10));
    expect(owner.overflowed).toBe(0);
    // A second message over the bound does not.
    expect(queue.fits(message('log', 3, 20_000))).toBe(false);
    queue.push(message('log', 3, 20_000));
    expect(owner.overflowed).toBe(1);
  });

  test('control frames count against the bound: past it and its reserve they overflow instead of piling up', async () => {
    await connect();
    reader.pause();
    const { shared, dropped } = setup(64 * 1024);
    const owner = { overflowed: 0, open: true };
    const queue = new OutgoingQueue(writer, owner, shared);
    const control = Buffer.from(`${'c'.repeat(1000)}\n`);
    for (let i = 0; owner.overflowed === 0 && i < 50_000; i++) {
      queue.writeNow(control);
      if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(owner.overflowed).toBe(1);
    expect(dropped.closed).toBe(1);
    expect(queue.queuedBytes).toBeLessThanOrEqual(64 * 1024 * 1.25);
  });

  test('once closed, nothing more is written and pending frames are dropped', async () => {
    await connect();
    const { shared, dropped } = setup(1 << 20);
    const owner = { overflowed: 0, open: true };
    const queue = new OutgoingQueue(writer, owner, shared);
    queue.push(message('log', 1));
    owner.open = false;
    await new Promise((resolve) => setImmediate(resolve));
    expect(dropped.closed).toBe(1);
    queue.close();
    queue.push(message('log', 2));
    queue.writeNow(Buffer.from('control\n'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(received).toBe('');
  });
});
