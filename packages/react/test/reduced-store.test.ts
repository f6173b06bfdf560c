import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BufferSource } from '../src/stores/buffered-store.js';
import { ReducedStore } from '../src/stores/reduced-store.js';

function subject<T>(): BufferSource<T> & { next(value: T): void; size(): number } {
  const observers = new Set<(value: T) => void>();
  return {
    subscribe(next) {
      observers.add(next);
      return () => observers.delete(next);
    },
    next(value) {
      for (const observer of [...observers]) observer(value);
    },
    size: () => observers.size,
  };
}

describe('ReducedStore', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('applies every value in order and notifies once per interval', async () => {
    const source = subject<Partial<{ cpu: number; memory: number }>>();
    const store = new ReducedStore(
      source,
      { cpu: 0, memory: 0 },
      (state, patch) => ({ ...state, ...patch }),
      {
        notifyInterval: 16,
      },
    );
    let notifications = 0;
    const stop = store.subscribe(() => notifications++);
    source.next({ cpu: 10 });
    source.next({ memory: 20 });
    source.next({ cpu: 30 });
    expect(notifications).toBe(0);
    await vi.advanceTimersByTimeAsync(16);
    expect(notifications).toBe(1);
    expect(store.getSnapshot()).toEqual({ cpu: 30, memory: 20 });
    stop();
  });

  it('keeps the snapshot identity when the reducer returns the same state, and runs no timer', async () => {
    const source = subject<number>();
    const store = new ReducedStore(source, 5, (state) => state);
    const stop = store.subscribe(() => {});
    source.next(1);
    expect(vi.getTimerCount()).toBe(0);
    stop();
  });

  it('subscribes to the source only while listened to, and uses the latest reducer', async () => {
    const source = subject<number>();
    const store = new ReducedStore(source, 0, (sum, n: number) => sum + n, { notifyInterval: 0 });
    expect(source.size()).toBe(0);
    const stop = store.subscribe(() => {});
    expect(source.size()).toBe(1);
    source.next(2);
    store.setReducer((product, n) => product * n);
    source.next(10);
    expect(store.getSnapshot()).toBe(20);
    stop();
    expect(source.size()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('moves to a new source keeping the state, and hears nothing more from the old one', () => {
    const first = subject<number>();
    const second = subject<number>();
    const store = new ReducedStore(first, 0, (sum, n: number) => sum + n, { notifyInterval: 0 });
    store.setSource(second); // not listened to yet: nothing subscribes
    expect([first.size(), second.size()]).toEqual([0, 0]);
    store.setSource(first);
    const stop = store.subscribe(() => {});
    first.next(2);
    store.setSource(second);
    expect([first.size(), second.size()]).toEqual([0, 1]);
    first.next(100);
    second.next(3);
    expect(store.getSnapshot()).toBe(5);
    stop();
    expect(second.size()).toBe(0);
    expect(() => store.setSource({} as never)).toThrow(/subscribe\(callback\)/);
  });

  it('rejects bad arguments', () => {
    expect(() => new ReducedStore({} as never, 0, (s) => s)).toThrow(/subscribe\(callback\)/);
    expect(() => new ReducedStore(subject(), 0, 'x' as never)).toThrow(/reduce must be a function/);
    expect(() => new ReducedStore(subject(), 0, (s) => s, { notifyInterval: -1 })).toThrow(/notifyInterval/);
  });
});
