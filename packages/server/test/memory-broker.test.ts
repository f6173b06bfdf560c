import { EPOCH_PATTERN } from '@livedash/protocol';
import { MemoryBroker } from '@livedash/server';
import { afterEach, describe, expect, test } from 'vitest';

/** Every channel in one page. */
const ALL = { allowed: () => true, limit: 100_000 };

const brokers: MemoryBroker[] = [];
afterEach(async () => {
  for (const broker of brokers.splice(0)) await broker.close();
});

function broker(options: ConstructorParameters<typeof MemoryBroker>[0] = {}) {
  const created = new MemoryBroker(options);
  brokers.push(created);
  return created;
}

describe('MemoryBroker', () => {
  test('seq grows by one per message from 1; each channel gets its own random epoch', async () => {
    const b = broker();
    const a1 = await b.publish('a', '1');
    const a2 = await b.publish('a', '2');
    const other = await b.publish('b', '1');
    expect([a1.seq, a2.seq, other.seq]).toEqual([1, 2, 1]);
    expect(a1.epoch).toMatch(EPOCH_PATTERN);
    expect(a2.epoch).toBe(a1.epoch);
    expect(other.epoch).not.toBe(a1.epoch);
    expect(a1.frame).toBe(`{"type":"a","seq":1,"epoch":"${a1.epoch}","ts":${a1.ts},"data":1}`);
    // A new broker (a restarted server) gives the same channel a new epoch.
    expect((await broker().publish('a', '1')).epoch).not.toBe(a1.epoch);
  });

  test('history is bounded by count: the oldest are overwritten, a read past them is not recovered', async () => {
    const b = broker({ history: [{ pattern: '*', maxMessages: 5, maxAgeMs: 60_000 }] });
    let epoch = '';
    for (let i = 1; i <= 12; i++) epoch = (await b.publish('log', String(i))).epoch;
    const info = (await b.channels(ALL)).channels.find((c) => c.channel === 'log');
    expect(info).toMatchObject({ seq: 12, size: 5 });
    const covered = await b.read('log', { epoch, seq: 7 });
    expect(covered.recovered).toBe(true);
    expect(covered.messages.map((m) => m.seq)).toEqual([8, 9, 10, 11, 12]);
    const tooOld = await b.read('log', { epoch, seq: 6 });
    expect(tooOld.recovered).toBe(false);
    expect(tooOld.messages.map((m) => m.seq)).toEqual([12]);
  });

  test('history is bounded by age: older messages are dropped, the latest value stays', async () => {
    let now = 1_000_000;
    const b = broker({ history: [{ pattern: '*', maxMessages: 100, maxAgeMs: 10_000 }], now: () => now });
    const first = await b.publish('log', '1');
    now += 6000;
    await b.publish('log', '2');
    now += 6000; // message 1 is now 12 s old
    const read = await b.read('log', { epoch: first.epoch, seq: 1 });
    expect(read.recovered).toBe(true);
    expect(read.messages.map((m) => m.seq)).toEqual([2]);
    expect((await b.read('log', { epoch: first.epoch, seq: 0 })).recovered).toBe(false);
    now += 60_000; // everything aged out
    expect((await b.channels(ALL)).channels[0]).toMatchObject({ size: 0, seq: 2 });
    const latest = await b.read('log');
    expect(latest.messages.map((m) => m.seq)).toEqual([2]);
    expect((await b.read('log', { epoch: first.epoch, seq: 1 })).recovered).toBe(false);
  });

  test('a channel holding the default 1,000 messages can age out to its latest and fill again', async () => {
    let now = 1_000_000;
    const b = broker({ now: () => now });
    for (let i = 1; i <= 1000; i++) await b.publish('busy', String(i));
    const full = b.usage.historyBytes;
    now += 10 * 60_000; // all of it older than the default 5 minutes
    const latest = await b.read('busy');
    expect(latest.messages.map((m) => m.seq)).toEqual([1000]);
    expect((await b.channels(ALL)).channels[0]).toMatchObject({ size: 0, seq: 1000 });
    // Only the latest value is still counted.
    expect(b.usage.historyBytes).toBeGreaterThan(0);
    expect(b.usage.historyBytes).toBeLessThan(full / 500);
    for (let i = 1001; i <= 2000; i++) await b.publish('busy', String(i));
    expect(b.usage.historyBytes).toBeGreaterThanOrEqual(full);
    expect(b.usage.historyBytes).toBeLessThan(full * 1.1);
    const resumed = await b.read('busy', { epoch: latest.epoch, seq: 1990 });
    expect(resumed.messages.map((m) => m.seq)).toEqual([
      1991, 1992, 1993, 1994, 1995, 1996, 1997, 1998, 1999, 2000,
    ]);
  });

  test('history rules apply per channel pattern, first match wins', async () => {
    const b = broker({
      history: [
        { pattern: 'metrics*', maxMessages: 2, maxAgeMs: 60_000 },
        { pattern: '*', maxMessages: 4, maxAgeMs: 60_000 },
      ],
    });
    for (let i = 0; i < 10; i++) {
      await b.publish('metrics.node1', String(i));
      await b.publish('orders', String(i));
    }
    const sizes = Object.fromEntries((await b.channels(ALL)).channels.map((c) => [c.channel, c.size]));
    expect(sizes).toEqual({ 'metrics.node1': 2, orders: 4 });
  });

  test('since equal to the latest seq recovers with nothing to replay; a wrong epoch or future seq does not', async () => {
    const b = broker();
    const { epoch } = await b.publish('x', '1');
    await b.publish('x', '2');
    expect(await b.read('x', { epoch, seq: 2 })).toMatchObject({ recovered: true, messages: [], seq: 2 });
    expect(await b.read('x', { epoch: 'other', seq: 2 })).toMatchObject({ recovered: false, seq: 2 });
    expect(await b.read('x', { epoch, seq: 9 })).toMatchObject({ recovered: false, seq: 2 });
  });

  test('limit keeps the newest messages and then reports recovered:false', async () => {
    const b = broker();
    let epoch = '';
    for (let i = 1; i <= 10; i++) epoch = (await b.publish('x', String(i))).epoch;
    const read = await b.read('x', { epoch, seq: 0 }, 3);
    expect(read.recovered).toBe(false);
    expect(read.messages.map((m) => m.seq)).toEqual([8, 9, 10]);
  });

  test('live messages reach the listener only for subscribed channels', async () => {
    const b = broker();
    const seen: number[] = [];
    b.onMessage((m) => seen.push(m.seq));
    await b.publish('x', '1');
    await b.subscribe('x');
    await b.publish('x', '2');
    await b.unsubscribe('x');
    await b.publish('x', '3');
    expect(seen).toEqual([2]);
  });
});

test('an empty channel dropped and created again keeps its epoch, so an early subscriber resumes with no gap', async () => {
  const b = broker();
  await b.subscribe('alerts');
  const before = await b.read('alerts');
  await b.unsubscribe('alerts'); // empty and unwatched: dropped
  await b.publish('alerts', '"first"');
  await b.publish('alerts', '"second"');
  const resumed = await b.read('alerts', { epoch: before.epoch, seq: 0 });
  expect(resumed.recovered).toBe(true);
  expect(resumed.messages.map((m) => m.seq)).toEqual([1, 2]);
});

describe('bounded state', () => {
  test('reading or subscribing to a channel never published holds nothing and lists nothing', async () => {
    const b = broker();
    for (let i = 0; i < 1000; i++) {
      await b.read(`made.up.${i}`);
      await b.read(`made.up.${i}`, { epoch: 'AAAA', seq: 0 });
      await b.subscribe(`sub.${i}`);
    }
    expect(b.usage).toEqual({ channels: 0, historyBytes: 0 });
    expect((await b.channels(ALL)).channels).toEqual([]);
    for (let i = 0; i < 1000; i++) await b.unsubscribe(`sub.${i}`);
    expect(b.usage.channels).toBe(0);
  });

  test('past maxChannels the idle channel published least recently is evicted; a subscribed one is kept', async () => {
    const evicted: string[] = [];
    const b = broker({ maxChannels: 3, onEvict: (channel) => evicted.push(channel) });
    await b.subscribe('watched');
    await b.publish('watched', '1');
    await b.publish('old', '1');
    await b.publish('recent', '1');
    await b.publish('old', '2'); // `old` is now the most recently published
    await b.publish('new', '1');
    expect(evicted).toEqual(['recent']);
    expect((await b.channels(ALL)).channels.map((c) => c.channel)).toEqual(['new', 'old', 'watched']);
    expect(b.usage.channels).toBe(3);
  });

  test('with every channel subscribed, a publish creating one more is refused with capacity_exceeded', async () => {
    const b = broker({ maxChannels: 2 });
    for (const channel of ['a', 'b']) {
      await b.subscribe(channel);
      await b.publish(channel, '1');
    }
    await expect(b.publish('c', '1')).rejects.toMatchObject({ code: 'capacity_exceeded' });
    expect(b.usage.channels).toBe(2);
    expect((await b.publish('a', '2')).seq).toBe(2); // existing channels keep working
    await b.unsubscribe('b');
    expect((await b.publish('c', '1')).seq).toBe(1); // `b` was idle: evicted for it
  });

  test('past maxHistoryBytes idle channels go first, then the channel trims its own oldest messages', async () => {
    const payload = JSON.stringify('x'.repeat(900)); // ~1 KB a message with its envelope and overhead
    const b = broker({ maxHistoryBytes: 10_000 });
    await b.subscribe('live');
    for (let i = 0; i < 4; i++) await b.publish('idle', payload);
    for (let i = 0; i < 6; i++) await b.publish('live', payload);
    expect((await b.channels(ALL)).channels.map((c) => c.channel)).toEqual(['live']);
    for (let i = 0; i < 20; i++) await b.publish('live', payload);
    const [live] = (await b.channels(ALL)).channels;
    expect(live?.seq).toBe(26);
    expect(live?.size).toBeLessThan(10);
    expect(b.usage.historyBytes).toBeLessThanOrEqual(10_000);
  });

  test('a message larger than maxHistoryBytes is refused and leaves no channel behind', async () => {
    const b = broker({ maxHistoryBytes: 2000 });
    await expect(b.publish('big', JSON.stringify('x'.repeat(5000)))).rejects.toMatchObject({
      code: 'capacity_exceeded',
    });
    expect(b.usage).toEqual({ channels: 0, historyBytes: 0 });
  });

  test('bytes are given back as history ages and rolls over', async () => {
    let now = 1_000_000;
    const b = broker({ history: [{ pattern: '*', maxMessages: 3, maxAgeMs: 10_000 }], now: () => now });
    for (let i = 0; i < 12; i++) await b.publish('x', '"abcdefghij"'); // seqs of one length
    const three = b.usage.historyBytes;
    await b.publish('x', '"abcdefghij"');
    expect(b.usage.historyBytes).toBe(three);
    now += 60_000;
    await b.read('x');
    // Everything aged out of history; the latest value is still held (and counted).
    expect(b.usage.historyBytes).toBe(three / 3);
  });

  test('a channel evicted and published again starts a new epoch, so (epoch, seq) never names two messages', async () => {
    const b = broker({ maxChannels: 1 });
    const first = await b.publish('a', '1');
    await b.publish('b', '1'); // evicts `a`
    const again = await b.publish('a', '2');
    expect(again.seq).toBe(1);
    expect(again.epoch).not.toBe(first.epoch);
    expect((await b.read('a', { epoch: first.epoch, seq: 1 })).recovered).toBe(false);
  });

  test('channels() pages in name order and asks `allowed` before anything else', async () => {
    const b = broker();
    for (const name of ['c', 'a', 'team.x', 'b', 'team.y', 'd']) await b.publish(name, '1');
    const asked: string[] = [];
    const allowed = (name: string) => {
      asked.push(name);
      return !name.startsWith('team.');
    };
    const first = await b.channels({ allowed, limit: 2 });
    expect(first.channels.map((c) => c.channel)).toEqual(['a', 'b']);
    expect(first.next).toBe('b');
    const second = await b.channels({ allowed, limit: 2, after: 'b' });
    expect(second).toMatchObject({ channels: [{ channel: 'c' }, { channel: 'd' }] });
    expect(second.next).toBeUndefined();
    expect(asked).toContain('team.x');
  });
});
