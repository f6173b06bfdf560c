import { expect, test } from 'vitest';
import { RingBuffer } from '../src/index.js';

test('keeps the last `capacity` items, oldest first, returning what it pushes out', () => {
  const ring = new RingBuffer<number>(3);
  expect(ring.toArray()).toEqual([]);
  expect(ring.push(1)).toBeUndefined();
  ring.push(2);
  ring.push(3);
  expect(ring.push(4)).toBe(1);
  expect(ring.toArray()).toEqual([2, 3, 4]);
  expect([...ring]).toEqual([2, 3, 4]);
  expect(ring.size).toBe(3);
  expect(ring.at(0)).toBe(2);
  expect(ring.last()).toBe(4);
  expect(ring.at(3)).toBeUndefined();
  expect(ring.at(-1)).toBeUndefined();
});

test('wraps around many times without growing', () => {
  const ring = new RingBuffer<number>(5);
  for (let i = 1; i <= 10_003; i++) ring.push(i);
  expect(ring.toArray()).toEqual([9999, 10_000, 10_001, 10_002, 10_003]);
  expect(ring.size).toBe(5);
});

test('clear empties it', () => {
  const ring = new RingBuffer<string>(2);
  ring.push('a');
  ring.clear();
  expect(ring.size).toBe(0);
  expect(ring.last()).toBeUndefined();
  ring.push('b');
  expect(ring.toArray()).toEqual(['b']);
});

test('capacity must be a positive integer', () => {
  expect(() => new RingBuffer(0)).toThrow(RangeError);
  expect(() => new RingBuffer(1.5)).toThrow(RangeError);
});
