// The dashboard's one doorway to live data: everything here comes from @livedash/client stores,
// read through useSyncExternalStore, so panels re-render at most once per animation frame.
import type { ChannelSnapshot, ConnectionSnapshot, HistoryEntry, LiveClient } from '@livedash/client';
import { createContext, useContext, useMemo, useRef, useSyncExternalStore } from 'react';
import { useView } from './model/view-store.js';

export const ClientContext = createContext<LiveClient | null>(null);

export function useClient(): LiveClient {
  const client = useContext(ClientContext);
  if (client === null) throw new Error('useClient must be used inside <ClientContext.Provider>');
  return client;
}

export function useConnection(): ConnectionSnapshot {
  const client = useClient();
  return useSyncExternalStore(client.connection.subscribe, client.connection.getSnapshot);
}

/**
 * The channel's latest snapshot; while the view is paused, the one shown when the pause began
 * (status and staleness still update, so a paused screen is still honest about its connection).
 */
export function useChannelSnapshot(channel: string): ChannelSnapshot {
  const client = useClient();
  const store = useMemo(() => client.channel(channel), [client, channel]);
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot);
  return useFrozen(snapshot, (frozen, live) => ({ ...frozen, status: live.status, stale: live.stale }));
}

/** The channel's last `limit` messages, oldest first, frozen while paused. */
export function useHistory(channel: string, limit: number): readonly HistoryEntry[] {
  const store = useHistoryStore(channel, limit);
  const entries = useSyncExternalStore(store.subscribe, store.getSnapshot);
  return useFrozen(entries, (frozen) => frozen);
}

export function useHistoryStore(channel: string, limit: number) {
  const client = useClient();
  return useMemo(() => client.history(channel, { limit }), [client, channel, limit]);
}

function useFrozen<T>(live: T, merge: (frozen: T, live: T) => T): T {
  const { paused } = useView();
  const frozen = useRef<T | undefined>(undefined);
  if (!paused) {
    frozen.current = undefined;
    return live;
  }
  frozen.current ??= live;
  return merge(frozen.current, live);
}
