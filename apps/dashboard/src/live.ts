// The dashboard's one doorway to live data: the shared LiveClient from @livedash/react's LiveProvider,
// its channel and history stores read through useSyncExternalStore — panels at most 10 times a second
// (ThrottledStore), charts on animation frames straight from the history store.
import type {
  ChannelSnapshot,
  ConnectionSnapshot,
  HistoryEntry,
  HistoryStore,
  LiveClient,
} from '@livedash/client';
import { useConnectionState, useLiveClient } from '@livedash/react';
import { useMemo, useRef, useSyncExternalStore } from 'react';
import { throttled } from './model/throttled-store.js';
import { useView } from './model/view-store.js';

export function useClient(): LiveClient {
  const client = useLiveClient();
  // Only server rendering has no client, and the dashboard is never server-rendered.
  if (client === undefined)
    throw new Error('the dashboard needs a LiveClient (render it inside <LiveProvider>)');
  return client;
}

export function useConnection(): ConnectionSnapshot {
  return useConnectionState();
}

/** What a panel frame needs to know about its channel. */
export type PanelSnapshot = Pick<ChannelSnapshot, 'data' | 'status' | 'stale' | 'ts'>;

/** Numbers, tables and feeds show at most this many updates a second; charts draw on every frame. */
export const PANEL_UPDATES_PER_SECOND = 10;
const PANEL_INTERVAL_MS = 1000 / PANEL_UPDATES_PER_SECOND;

/**
 * The channel's latest data, at most 10 times a second; while the view is paused, the data shown
 * when the pause began (status and staleness still update, so a paused screen stays honest).
 */
export function useChannelSnapshot(channel: string): PanelSnapshot {
  const client = useClient();
  const store = useMemo(() => throttled(client.channel(channel), PANEL_INTERVAL_MS), [client, channel]);
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot);
  return useFrozen(snapshot as PanelSnapshot, (frozen, live) => ({
    ...frozen,
    status: live.status,
    stale: live.stale,
  }));
}

/** The channel's last `limit` messages, oldest first (backfilled from the server), frozen while paused. */
export function useHistory(channel: string, limit: number): readonly HistoryEntry[] {
  const client = useClient();
  const store = useMemo(
    () => throttled(client.history(channel, { limit }), PANEL_INTERVAL_MS),
    [client, channel, limit],
  );
  const entries = useSyncExternalStore(store.subscribe, store.getSnapshot);
  return useFrozen(entries, (frozen) => frozen);
}

/** The history store itself, for charts that read it on animation frames instead of re-rendering. */
export function useHistoryStore(channel: string, limit: number): HistoryStore<unknown> {
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
