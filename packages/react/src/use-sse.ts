import { useMemo, useSyncExternalStore } from 'react';
import { type SSESnapshot, SSEStore, type SSEStoreOptions } from './stores/sse-store.js';

/**
 * Follows a Server-Sent Events stream (any server's, not only livedash's) — the guide's signature,
 * returning `{ data, error, status, lastEventId, … }`. A frame that does not parse becomes `error` (the
 * stream goes on, `data` keeps the last good value); a dropped stream is retried. Re-renders at most once
 * per animation frame. The stream opens on mount and closes on unmount; a new `url` opens a new stream.
 *
 * `options` are read when the stream is created (on mount and when `url` changes).
 *
 * @example
 * const { data, error, status } = useSSE<Price>('/prices');
 */
export function useSSE<T>(url: string, options?: SSEStoreOptions<T>): SSESnapshot<T> {
  // A store is inert until subscribed, so StrictMode's extra memo call opens nothing.
  // biome-ignore lint/correctness/useExhaustiveDependencies: options are read at creation, documented above.
  const store = useMemo(() => new SSEStore<T>(url, options), [url]);
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}
