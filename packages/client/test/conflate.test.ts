import { expect, test } from 'vitest';
import { Conflator, conflate } from '../src/index.js';

test('keeps only the latest value per key, in order of last update', () => {
  const latest = new Conflator<string, number>();
  latest.set('a', 1);
  latest.set('b', 1);
  latest.set('a', 2);
  expect(latest.get('a')).toBe(2);
  expect([...latest.drain()]).toEqual([
    ['b', 1],
    ['a', 2],
  ]);
  expect(latest.size).toBe(0);
});

test('past maxKeys the least recently set key is evicted and counted', () => {
  const latest = new Conflator<number, string>(2);
  latest.set(1, 'x');
  latest.set(2, 'y');
  latest.set(1, 'z');
  latest.set(3, 'w');
  expect([...latest.drain().keys()]).toEqual([1, 3]);
  expect(latest.dropped).toBe(1);
  expect(() => new Conflator(0)).toThrow(RangeError);
});

test('conflate() over a list', () => {
  const ticks = [
    { symbol: 'A', price: 1 },
    { symbol: 'B', price: 5 },
    { symbol: 'A', price: 2 },
  ];
  expect(conflate(ticks, (t) => t.symbol)).toEqual([
    { symbol: 'B', price: 5 },
    { symbol: 'A', price: 2 },
  ]);
});
