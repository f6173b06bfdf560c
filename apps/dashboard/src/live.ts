// The dashboard's one doorway to live data, over @livedash/react: every panel reads the shared
// LiveClient's stores through useSyncExternalStore, so it re-renders at most once per animation frame.
import type {
  ChannelSnapshot,
  ConnectionSnapshot,
  HistoryEntry,
  HistoryStore,
  LiveClient,
} from '@livedash/client';
import { useChannel, useConnectionState, useLiveClient } from '@livedash/react';
import { useMemo, useRef } from 'react';
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

/**
 * The channel's latest data; while the view is paused, the data shown when the pause began
 * (status and staleness still update, so a paused screen stays honest about its connection).
 */
export function useChannelSnapshot(channel: string): PanelSnapshot {
  const state = useChannel(channel);
  return useFrozen(state, (frozen, live) => ({ ...frozen, status: live.status, stale: live.stale }));
}

/** The channel's last `limit` messages, oldest first (backfilled from the server), frozen while paused. */
export function useHistory(channel: string, limit: number): readonly HistoryEntry[] {
  const { history } = useChannel(channel, { history: limit, select: noData });
  return useFrozen(history, (frozen) => frozen);
}

/** The history store itself, for charts that read it on animation frames instead of re-rendering. */
export function useHistoryStore(channel: string, limit: number): HistoryStore<unknown> {
  const client = useClient();
  return useMemo(() => client.history(channel, { limit }), [client, channel, limit]);
}

/** A selection that never changes: the caller wants only `history`, not a render per message. */
const noData = () => null;

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
