import { RingBuffer } from '@livedash/server';
import { describe, expect, test } from 'vitest';

describe('RingBuffer', () => {
  test('keeps the newest `capacity` items in order, overwriting the oldest', () => {
    const ring = new RingBuffer<number>(3);
    for (let i = 1; i <= 7; i++) ring.push(i);
    expect([...ring]).toEqual([5, 6, 7]);
    expect(ring.size).toBe(3);
    expect(ring.first()).toBe(5);
    expect(ring.last()).toBe(7);
    expect(ring.at(1)).toBe(6);
    expect(ring.at(3)).toBeUndefined();
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
    expect(ring.size).toBe(0);
  });

  test('a capacity that is not a positive integer is a programming error', () => {
    expect(() => new RingBuffer(0)).toThrow(RangeError);
    expect(() => new RingBuffer(1.5)).toThrow(RangeError);
  });
});
