import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ThrottledStore, Tick } from '../src/model/throttled-store.js';

function counterStore() {
  let value = 0;
  const listeners = new Set<() => void>();
  return {
    getSnapshot: () => value,
    subscribe: (listener: () => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    set(next: number) {
      value = next;
      for (const listener of listeners) listener();
    },
    get listeners() {
      return listeners.size;
    },
  };
}

describe('ThrottledStore', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('notifies at most once per interval and always delivers the last value', () => {
    const source = counterStore();
    const store = new ThrottledStore(source, 100);
    const seen: number[] = [];
    const off = store.subscribe(() => seen.push(store.getSnapshot()));
    for (let i = 1; i <= 50; i++) source.set(i); // a burst within one task: one notification
    expect(store.getSnapshot()).toBe(0); // the snapshot changes only with a notification
    vi.advanceTimersByTime(0);
    expect(seen).toEqual([50]);
    source.set(51);
    source.set(52);
    vi.advanceTimersByTime(99);
    expect(seen).toEqual([50]);
    vi.advanceTimersByTime(1);
    expect(seen).toEqual([50, 52]);
    off();
  });

  it('tells every store that changed in the same task (one React commit for all panels)', () => {
    const tick = new Tick(100);
    const [a, b] = [counterStore(), counterStore()];
    const [viewA, viewB] = [new ThrottledStore(a, 100, tick), new ThrottledStore(b, 100, tick)];
    const order: string[] = [];
    const offs = [viewA.subscribe(() => order.push('a')), viewB.subscribe(() => order.push('b'))];
    a.set(1);
    b.set(1);
    vi.advanceTimersByTime(0);
    expect(order).toEqual(['a', 'b']);
    expect(vi.getTimerCount()).toBe(0);
    for (const off of offs) off();
  });

  it('subscribes to the source only while it has listeners, and leaves no timer behind', () => {
    const source = counterStore();
    const store = new ThrottledStore(source, 100);
    const off = store.subscribe(() => {});
    expect(source.listeners).toBe(1);
    source.set(1);
    source.set(2);
    off();
    expect(source.listeners).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    source.set(3);
    expect(store.getSnapshot()).toBe(3);
  });
});
