import { useEffect, useState, useSyncExternalStore } from 'react';
import { BufferedStore, type BufferSource } from './stores/buffered-store.js';

/**
 * Buffers a fast `source` (anything with `subscribe(callback)` returning `{ unsubscribe }` or a
 * function — RxJS observables work) and re-renders with its last `capacity` values at most once per
 * `flushInterval` ms, or once per animation frame with `'frame'`. The guide's signature; unlike the guide's version
 * it never keeps more than `capacity` values, however large the burst, and runs no timer while nothing
 * is buffered.
 *
 * @example
 * const ticks = useBufferedUpdates(ticks$, 'frame', 500);
 */
export function useBufferedUpdates<T>(
  source: BufferSource<T>,
  flushInterval: number | 'frame' = 100,
  capacity = 100,
): readonly T[] {
  const [store] = useState(() => new BufferedStore<T>(source, { flushInterval, capacity }));
  useEffect(() => {
    store.setSource(source);
  }, [store, source]);
  useEffect(() => {
    store.configure({ flushInterval, capacity });
  }, [store, flushInterval, capacity]);
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}
