import { afterEach, expect, test, vi } from 'vitest';
import { Batcher, FALLBACK_FRAME_MS } from '../src/index.js';

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

test('collects a burst and flushes it once per frame (timer fallback without requestAnimationFrame)', () => {
  vi.useFakeTimers();
  const flushes: number[][] = [];
  const batcher = new Batcher<number>({ flush: (items) => flushes.push(items) });
  for (let i = 0; i < 1000; i++) batcher.add(i);
  expect(flushes).toHaveLength(0);
  vi.advanceTimersByTime(FALLBACK_FRAME_MS);
  expect(flushes).toHaveLength(1);
  expect(flushes[0]).toHaveLength(1000);
  vi.advanceTimersByTime(1000);
  expect(flushes).toHaveLength(1); // nothing pending, no empty flush
});

test('uses requestAnimationFrame when there is one', () => {
  const frames: (() => void)[] = [];
  vi.stubGlobal('requestAnimationFrame', (cb: () => void) => frames.push(cb));
  vi.stubGlobal('cancelAnimationFrame', () => {});
  const flushes: string[][] = [];
  const batcher = new Batcher<string>({ flush: (items) => flushes.push(items) });
  batcher.add('a');
  batcher.add('b');
  expect(frames).toHaveLength(1);
  frames[0]?.();
  expect(flushes).toEqual([['a', 'b']]);
});

test('an interval batches per that many ms', () => {
  vi.useFakeTimers();
  const flushes: number[][] = [];
  const batcher = new Batcher<number>({ flush: (items) => flushes.push(items), interval: 100 });
  batcher.add(1);
  vi.advanceTimersByTime(50);
  batcher.add(2);
  vi.advanceTimersByTime(50);
  batcher.add(3);
  vi.advanceTimersByTime(100);
  expect(flushes).toEqual([[1, 2], [3]]);
});

test('a burst over maxItems drops the oldest and counts them', () => {
  vi.useFakeTimers();
  const flushes: number[][] = [];
  const batcher = new Batcher<number>({ flush: (items) => flushes.push(items), maxItems: 100 });
  for (let i = 0; i < 1000; i++) batcher.add(i);
  expect(batcher.pending).toBe(100);
  vi.advanceTimersByTime(FALLBACK_FRAME_MS);
  // Exactly the newest 100 survive, the rest are counted.
  expect(flushes[0]).toEqual(Array.from({ length: 100 }, (_, i) => 900 + i));
  expect(batcher.dropped).toBe(900);
});

test('dispose cancels the pending flush and ignores later adds', () => {
  vi.useFakeTimers();
  const flush = vi.fn();
  const batcher = new Batcher<number>({ flush });
  batcher.add(1);
  batcher.dispose();
  batcher.add(2);
  vi.advanceTimersByTime(1000);
  expect(flush).not.toHaveBeenCalled();
  expect(vi.getTimerCount()).toBe(0);
});

test('bad options throw', () => {
  expect(() => new Batcher({ flush: () => {}, interval: -1 })).toThrow(RangeError);
  expect(() => new Batcher({ flush: () => {}, maxItems: 0 })).toThrow(RangeError);
});
