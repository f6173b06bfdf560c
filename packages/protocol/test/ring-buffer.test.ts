import { itemsAfter, RingBuffer } from '@livedash/protocol';
import { describe, expect, test } from 'vitest';

describe('RingBuffer', () => {
  test('keeps the newest `capacity` items, oldest first, returning what it pushes out', () => {
    const ring = new RingBuffer<number>(3);
    expect(ring.toArray()).toEqual([]);
    expect(ring.push(1)).toBeUndefined();
    ring.push(2);
    ring.push(3);
    expect(ring.push(4)).toBe(1);
    expect(ring.toArray()).toEqual([2, 3, 4]);
    expect([...ring]).toEqual([2, 3, 4]);
    expect(ring.size).toBe(3);
    expect(ring.first()).toBe(2);
    expect(ring.last()).toBe(4);
    expect(ring.at(1)).toBe(3);
    expect(ring.at(3)).toBeUndefined();
    expect(ring.at(-1)).toBeUndefined();
    expect(ring.at(0.5)).toBeUndefined();
  });

  test('wraps around many times, at every size its storage passes through on the way up', () => {
    for (const capacity of [1, 3, 4, 5, 8, 9, 100]) {
      const ring = new RingBuffer<number>(capacity);
      const kept: number[] = [];
      for (let i = 1; i <= 1000; i++) {
        const expectedOut = kept.length === capacity ? kept.shift() : undefined;
        kept.push(i);
        expect(ring.push(i)).toBe(expectedOut);
        expect(ring.size).toBe(kept.length);
      }
      expect(ring.toArray()).toEqual(kept);
    }
  });

  test('shift removes the oldest; pushing after shifting wraps correctly', () => {
    const ring = new RingBuffer<number>(3);
    ring.push(1);
    ring.push(2);
    ring.push(3);
    expect(ring.shift()).toBe(1);
    ring.push(4);
    ring.push(5);
    expect([...ring]).toEqual([3, 4, 5]);
    expect(ring.shift()).toBe(3);
    expect(ring.shift()).toBe(4);
    expect(ring.shift()).toBe(5);
    expect(ring.shift()).toBeUndefined();
    expect(ring.first()).toBeUndefined();
    expect(ring.last()).toBeUndefined();
    expect(ring.size).toBe(0);
  });

  test('keeps its order while it grows, shrinks as it empties and grows again', () => {
    const ring = new RingBuffer<number>(1000);
    for (let i = 0; i < 700; i++) ring.push(i);
    for (let i = 0; i < 690; i++) expect(ring.shift()).toBe(i);
    expect(ring.toArray()).toEqual([690, 691, 692, 693, 694, 695, 696, 697, 698, 699]);
    for (let i = 700; i < 2000; i++) ring.push(i);
    expect(ring.size).toBe(1000);
    expect(ring.first()).toBe(1000);
    expect(ring.last()).toBe(1999);
  });

  test('clear empties it, and it fills again from empty', () => {
    const ring = new RingBuffer<string>(2);
    ring.push('a');
    ring.push('b');
    ring.clear();
    expect(ring.size).toBe(0);
    expect(ring.last()).toBeUndefined();
    ring.push('c');
    expect(ring.toArray()).toEqual(['c']);
  });

  test('a capacity that is not a positive integer is a programming error', () => {
    expect(() => new RingBuffer(0)).toThrow(RangeError);
    expect(() => new RingBuffer(1.5)).toThrow(RangeError);
    expect(() => new RingBuffer(Number.NaN)).toThrow(
      'RingBuffer capacity must be a positive integer, got NaN',
    );
  });
});

describe('itemsAfter (what a subscriber resuming after a seq has missed)', () => {
  const history = (from: number, to: number) => {
    const ring = new RingBuffer<{ seq: number }>(to - from + 1);
    for (let seq = from; seq <= to; seq++) ring.push({ seq });
    return ring;
  };
  const seqs = (items: { seq: number }[]) => items.map((item) => item.seq);

  test('gives the items after the seq, oldest first, wherever the ring has wrapped', () => {
    const ring = history(1, 5);
    for (let seq = 6; seq <= 12; seq++) ring.push({ seq });
    expect(seqs(itemsAfter(ring, 7))).toEqual([8, 9, 10, 11, 12]);
    expect(seqs(itemsAfter(ring, 9))).toEqual([10, 11, 12]);
    expect(seqs(itemsAfter(ring, 11))).toEqual([12]);
  });

  test('gives nothing after the newest and everything before the oldest', () => {
    const ring = history(10, 14);
    expect(itemsAfter(ring, 14)).toEqual([]);
    expect(itemsAfter(ring, 99)).toEqual([]);
    expect(seqs(itemsAfter(ring, 3))).toEqual([10, 11, 12, 13, 14]);
    expect(itemsAfter(new RingBuffer<{ seq: number }>(3), 0)).toEqual([]);
  });

  test('works when seqs are not consecutive', () => {
    const ring = new RingBuffer<{ seq: number }>(8);
    for (const seq of [2, 3, 7, 8, 20]) ring.push({ seq });
    expect(seqs(itemsAfter(ring, 5))).toEqual([7, 8, 20]);
    expect(seqs(itemsAfter(ring, 8))).toEqual([20]);
  });
});

describe('RingBuffer memory', () => {
  test('a ring costs what it holds, not its capacity: 1,000 rings allowed 100,000 items holding one each', () => {
    // Allocated up front this would be about 800 MB (8 bytes a slot); grown on demand, a few slots a ring.
    const before = process.memoryUsage().heapUsed;
    const rings: RingBuffer<number>[] = [];
    for (let i = 0; i < 1000; i++) {
      const ring = new RingBuffer<number>(100_000);
      ring.push(i);
      rings.push(ring);
    }
    const grown = process.memoryUsage().heapUsed - before;
    expect(rings.reduce((sum, ring) => sum + (ring.first() ?? 0), 0)).toBe(499_500);
    expect(grown).toBeLessThan(16 * 1024 * 1024);
  });

  test('a ring whose capacity is no power of two fills and empties again, at every capacity', () => {
    // Storage shrinks by halves as a ring empties; 1000 → 500 → 250 → 125 must not ask for 62.5 slots.
    for (const capacity of [5, 6, 7, 100, 125, 1000, 1001, 200_000]) {
      const ring = new RingBuffer<number>(capacity);
      for (let round = 0; round < 2; round++) {
        for (let n = 0; n < capacity; n++) ring.push(n);
        for (let n = 0; n < capacity; n++) expect(ring.shift()).toBe(n);
        expect(ring.size).toBe(0);
      }
    }
  });
});
