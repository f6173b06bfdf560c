import type { Position } from '@livedash/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import type { ReadResult, StoredMessage } from '../src/brokers/broker.js';
import { MemoryBroker } from '../src/brokers/memory.js';
import { ChannelFeed } from '../src/brokers/redis-channel-feed.js';
import { until } from './helpers/wait.js';

/**
 * The feed's history comes from a real MemoryBroker (same read semantics as Redis); `live` is what Pub/Sub
 * would have carried, so a test drops some of it to play a lost connection.
 */
class Harness {
  readonly history = new MemoryBroker({ history: [{ pattern: '*', maxMessages: 50, maxAgeMs: 60_000 }] });
  readonly delivered: StoredMessage[] = [];
  readonly gaps: [Position, Position][] = [];
  readonly reads: (Position | undefined)[] = [];
  /** While set, reads wait for `release()`. */
  #gate: Promise<void> | undefined;
  #open: () => void = () => {};
  failReads = false;
  readonly feed: ChannelFeed;

  constructor() {
    this.feed = new ChannelFeed('ch', {
      read: async (since) => this.#read(since),
      deliver: (message) => this.delivered.push(message),
      onGap: (_channel, from, to) => this.gaps.push([from, to]),
    });
  }

  async publish(count: number): Promise<StoredMessage[]> {
    const published: StoredMessage[] = [];
    for (let i = 0; i < count; i++) published.push(await this.history.publish('ch', String(i)));
    return published;
  }

  hold(): void {
    this.#gate = new Promise((resolve) => (this.#open = resolve));
  }

  release(): void {
    this.#gate = undefined;
    this.#open();
  }

  seqs(): number[] {
    return this.delivered.map((message) => message.seq);
  }

  async #read(since: Position | undefined): Promise<ReadResult | undefined> {
    this.reads.push(since);
    if (this.#gate) await this.#gate;
    if (this.failReads) return undefined;
    return this.history.read('ch', since);
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
const harnesses: Harness[] = [];
function harness(): Harness {
  const h = new Harness();
  harnesses.push(h);
  return h;
}

afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.history.close();
});

describe('ChannelFeed', () => {
  it('passes messages in order and drops ones already delivered', async () => {
    const h = harness();
    const [m1, m2, m3] = await h.publish(3);
    for (const message of [m1!, m2!, m2!, m1!, m3!]) h.feed.offer(message);
    expect(h.seqs()).toEqual([1, 2, 3]);
    expect(h.reads).toEqual([]);
  });

  it('continues from the baseline taken at subscribe time', async () => {
    const h = harness();
    const published = await h.publish(4);
    await h.feed.takeBaseline(Promise.resolve({ epoch: published[0]!.epoch, seq: 2 }));
    h.feed.offer(published[2]!);
    h.feed.offer(published[3]!);
    expect(h.seqs()).toEqual([3, 4]);
  });

  it('fills a skipped range from history before anything newer, reading again for what arrived meanwhile', async () => {
    const h = harness();
    const published = await h.publish(8);
    h.feed.offer(published[0]!);
    h.hold();
    h.feed.offer(published[3]!); // 2 and 3 were lost: fill from 1
    expect(h.reads).toEqual([{ epoch: published[0]!.epoch, seq: 1 }]);
    const late = await h.history.publish('ch', 'late');
    h.feed.offer(late); // arrives while the fill is in flight: not delivered out of order
    expect(h.seqs()).toEqual([1]);
    h.release();
    await settle();
    await settle();
    expect(h.seqs()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(h.reads.length).toBe(2); // the second read picked up what came during the first
    expect(h.gaps).toEqual([]);
    h.feed.offer(late);
    expect(h.seqs().length).toBe(9);
  });

  it('reports a gap history cannot cover and carries on from the latest', async () => {
    const h = harness();
    const [first] = await h.publish(1);
    h.feed.offer(first!);
    const rest = await h.publish(60); // more than the 50 history keeps
    h.feed.offer(rest.at(-1)!);
    await settle();
    expect(h.seqs()).toEqual([1, 61]);
    expect(h.gaps).toEqual([
      [
        { epoch: first!.epoch, seq: 1 },
        { epoch: first!.epoch, seq: 61 },
      ],
    ]);
  });

  it('treats a new epoch as a restart of the channel and reads it from its start', async () => {
    const h = harness();
    const previousLife = new MemoryBroker();
    const old = await previousLife.publish('ch', '"old"');
    await previousLife.close();
    h.feed.offer(old);
    const fresh = await h.publish(3);
    h.feed.offer(fresh[2]!); // first live message of the new epoch is seq 3: 1 and 2 come from history
    await settle();
    await settle();
    expect(h.delivered.map((m) => [m.epoch, m.seq])).toEqual([
      [old.epoch, 1],
      [fresh[0]!.epoch, 1],
      [fresh[0]!.epoch, 2],
      [fresh[0]!.epoch, 3],
    ]);
  });

  it('catches up after a reconnect, even when nothing new arrives live', async () => {
    const h = harness();
    const published = await h.publish(5);
    h.feed.offer(published[0]!);
    h.failReads = true;
    h.feed.catchUp(); // Redis still down: nothing delivered, no error
    await settle();
    expect(h.seqs()).toEqual([1]);
    h.failReads = false;
    h.feed.catchUp();
    await settle();
    await settle();
    expect(h.seqs()).toEqual([1, 2, 3, 4, 5]);
  });

  it('takes its baseline on catch-up when it had none, delivering only what comes after it', async () => {
    const h = harness();
    await h.publish(3); // published before the node could listen (subscribed while Redis was down)
    h.feed.catchUp();
    await settle();
    expect(h.seqs()).toEqual([]);
    const later = await h.publish(2);
    h.feed.offer(later[1]!); // seq 5 arrives live, 4 was missed: filled from history
    await settle();
    await settle();
    expect(h.seqs()).toEqual([4, 5]);
    expect(h.gaps).toEqual([]);
  });

  it('a catch-up waits for the baseline read in flight, then fills everything published after it', async () => {
    // The node's first channel on a shard: the subscription comes up while the baseline read is still out,
    // and what was published between the two is in history only.
    const h = harness();
    let answer: (position: Position) => void = () => {};
    const baseline = h.feed.takeBaseline(new Promise<Position>((resolve) => (answer = resolve)));
    const published = await h.publish(3);
    h.feed.catchUp();
    await settle();
    expect(h.reads).toEqual([]);
    answer({ epoch: published[0]!.epoch, seq: 0 });
    await baseline;
    await until(() => h.seqs().length === 3, 'the fill from the baseline');
    expect(h.seqs()).toEqual([1, 2, 3]);
    expect(h.reads[0]).toEqual({ epoch: published[0]!.epoch, seq: 0 });
  });

  it('a baseline that cannot be read leaves the first catch-up to take it', async () => {
    const h = harness();
    await h.feed.takeBaseline(Promise.reject(new Error('Redis unreachable')));
    await h.publish(2);
    h.feed.catchUp();
    await settle();
    const later = await h.publish(1);
    h.feed.offer(later[0]!);
    expect(h.seqs()).toEqual([3]);
  });

  it('delivers nothing once closed, even from a read in flight', async () => {
    const h = harness();
    const published = await h.publish(3);
    h.feed.offer(published[0]!);
    h.hold();
    h.feed.offer(published[2]!);
    h.feed.close();
    h.release();
    await settle();
    h.feed.offer(published[1]!);
    expect(h.seqs()).toEqual([1]);
    expect(h.feed.state.kind).toBe('closed');
  });
});
