import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BufferedStore, type BufferSource } from '../src/stores/buffered-store.js';

/** A minimal push source shaped like an RxJS Subject: `subscribe(fn)` → `{ unsubscribe }`. */
class Subject<T> implements BufferSource<T> {
  readonly observers = new Set<(value: T) => void>();
  subscribe(next: (value: T) => void): { unsubscribe(): void } {
    this.observers.add(next);
    return { unsubscribe: () => this.observers.delete(next) };
  }
  next(value: T): void {
    for (const observer of [...this.observers]) observer(value);
  }
}

describe('BufferedStore', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('publishes buffered values once per flush interval', async () => {
    const source = new Subject<number>();
    const store = new BufferedStore(source, { flushInterval: 100 });
    let notifications = 0;
    const stop = store.subscribe(() => notifications++);
    for (let i = 0; i < 10; i++) source.next(i);
    expect(store.getSnapshot()).toEqual([]);
    await vi.advanceTimersByTimeAsync(100);
    expect(store.getSnapshot()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(notifications).toBe(1);
    source.next(10);
    await vi.advanceTimersByTimeAsync(100);
    expect(store.getSnapshot()).toHaveLength(11);
    expect(notifications).toBe(2);
    stop();
  });

  it('never holds more than capacity, even in a burst, and counts what was never shown', async () => {
    const source = new Subject<number>();
    const store = new BufferedStore(source, { flushInterval: 100, capacity: 50 });
    const stop = store.subscribe(() => {
      expect(store.getSnapshot().length).toBeLessThanOrEqual(50);
    });
    for (let i = 0; i < 30; i++) source.next(i);
    await vi.advanceTimersByTimeAsync(100);
    expect(store.dropped).toBe(0);
    for (let i = 30; i < 10_030; i++) source.next(i);
    await vi.advanceTimersByTimeAsync(100);
    const snapshot = store.getSnapshot();
    expect(snapshot).toHaveLength(50);
    expect(snapshot[0]).toBe(9980);
    expect(snapshot.at(-1)).toBe(10_029);
    // The 30 shown earlier scrolled out (not drops); of the 10 000 new ones only the last 50 were shown.
    expect(store.dropped).toBe(10_000 - 50);
    stop();
  });

  it('runs no timer while nothing is buffered', async () => {
    const source = new Subject<number>();
    const store = new BufferedStore(source, { flushInterval: 100 });
    const stop = store.subscribe(() => {});
    expect(vi.getTimerCount()).toBe(0);
    source.next(1);
    expect(vi.getTimerCount()).toBe(1);
    source.next(2);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(vi.getTimerCount()).toBe(0);
    stop();
  });

  it("flushes on animation frames with flushInterval 'frame'", async () => {
    const frames: FrameRequestCallback[] = [];
    vi.stubGlobal('requestAnimationFrame', (cb: FrameRequestCallback) => frames.push(cb));
    vi.stubGlobal('cancelAnimationFrame', () => {});
    try {
      const source = new Subject<string>();
      const store = new BufferedStore(source, { flushInterval: 'frame' });
      const stop = store.subscribe(() => {});
      source.next('a');
      source.next('b');
      expect(frames).toHaveLength(1);
      expect(vi.getTimerCount()).toBe(0);
      frames.shift()?.(0);
      expect(store.getSnapshot()).toEqual(['a', 'b']);
      stop();
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('subscribes to the source only while it has listeners, and ignores values after', async () => {
    const source = new Subject<number>();
    const store = new BufferedStore(source);
    expect(source.observers.size).toBe(0);
    const a = store.subscribe(() => {});
    const b = store.subscribe(() => {});
    expect(source.observers.size).toBe(1);
    a();
    expect(source.observers.size).toBe(1);
    source.next(1);
    b();
    expect(source.observers.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('accepts sources whose subscribe returns a function, and synchronous emitters', async () => {
    const store = new BufferedStore<number>({
      subscribe(next) {
        next(1);
        next(2);
        return () => {};
      },
    });
    const stop = store.subscribe(() => {});
    await vi.advanceTimersByTimeAsync(100);
    expect(store.getSnapshot()).toEqual([1, 2]);
    stop();
  });

  it('switches sources, dropping the old subscription', async () => {
    const first = new Subject<number>();
    const second = new Subject<number>();
    const store = new BufferedStore(first);
    const stop = store.subscribe(() => {});
    first.next(1);
    store.setSource(second);
    expect(first.observers.size).toBe(0);
    second.next(2);
    await vi.advanceTimersByTimeAsync(100);
    expect(store.getSnapshot()).toEqual([1, 2]);
    stop();
  });

  it('shrinking capacity keeps the newest items', async () => {
    const source = new Subject<number>();
    const store = new BufferedStore(source, { capacity: 10 });
    const stop = store.subscribe(() => {});
    for (let i = 0; i < 10; i++) source.next(i);
    store.configure({ capacity: 3 });
    await vi.advanceTimersByTimeAsync(100);
    expect(store.getSnapshot()).toEqual([7, 8, 9]);
    stop();
  });

  it('rejects bad arguments', () => {
    expect(() => new BufferedStore({} as never)).toThrow(/subscribe\(callback\) method/);
    expect(() => new BufferedStore(new Subject(), { capacity: 0 })).toThrow(
      /capacity must be a positive integer/,
    );
    expect(() => new BufferedStore(new Subject(), { flushInterval: -5 })).toThrow(/flushInterval/);
  });
});
