import type { ConnectionSnapshot } from '@livedash/client';
import { useSyncExternalStore } from 'react';
import { useLiveClient } from './live-context.js';

const IDLE: ConnectionSnapshot = Object.freeze({
  status: 'idle',
  transport: null,
  attempt: 0,
  nextRetryAt: null,
});
const noSubscription = () => () => {};
const idle = () => IDLE;

/**
 * The shared connection's state: `status` (`idle | connecting | open | reconnecting | offline | failed |
 * closed`), `transport`, `attempt`, `nextRetryAt`, `lastError`, `rtt`. Re-renders only when it changes.
 * `idle` until some hook subscribes to a channel (the connection is opened on demand).
 *
 * @example
 * const { status, nextRetryAt } = useConnectionState();
 */
export function useConnectionState(): ConnectionSnapshot {
  const client = useLiveClient();
  const store = client?.connection;
  return useSyncExternalStore(store?.subscribe ?? noSubscription, store?.getSnapshot ?? idle, idle);
}
