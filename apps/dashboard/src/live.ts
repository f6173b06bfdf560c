// The dashboard's one doorway to live data: the shared LiveClient from @livedash/react's LiveProvider,
// its channel and history stores read through useSyncExternalStore — panels at most 10 times a second
// (ThrottledStore), charts on animation frames straight from the history store.
import type {
  ChannelSnapshot,
  ChannelStore,
  ConnectionSnapshot,
  ExternalStore,
  HistoryEntry,
  HistoryStore,
  LiveClient,
} from '@livedash/client';
import { useConnectionState, useLiveClient } from '@livedash/react';
import {
  type RefObject,
  useCallback,
  useEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
} from 'react';
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

/**
 * A panel's subscription rate as its config gives it (`maxRate`, filled per type by the validator):
 * at most that many updates a second, null for every message.
 */
export type PanelRate = number | null;

/** The rate as `client.channel()` / `client.history()` take it (undefined: every message). */
function rateOption(maxRate: PanelRate): { maxRate?: number } {
  return maxRate === null ? {} : { maxRate };
}

/** What a panel frame needs to know about its channel. */
export type PanelSnapshot = Pick<ChannelSnapshot, 'data' | 'status' | 'stale' | 'ts'>;

/** Numbers, tables and feeds show at most this many updates a second; charts draw on every frame. */
export const PANEL_UPDATES_PER_SECOND = 10;
const PANEL_INTERVAL_MS = 1000 / PANEL_UPDATES_PER_SECOND;

/**
 * `store.subscribe` whose notifications are dropped while `active` is false: a panel out of view keeps
 * its subscription (the channel stays subscribed, its history keeps filling) but does not re-render;
 * coming back into view re-renders it, which reads the store's latest snapshot.
 */
function useGatedSubscribe(
  store: ExternalStore<unknown>,
  active: boolean,
): (onChange: () => void) => () => void {
  const activeRef = useRef(active);
  activeRef.current = active;
  return useCallback(
    (onChange: () => void) =>
      store.subscribe(() => {
        if (activeRef.current) onChange();
      }),
    [store],
  );
}

/**
 * Whether the element is (at least partly) inside the viewport, from an IntersectionObserver: panels
 * scrolled out of view stop re-rendering, and catch up when they scroll back (the state change
 * re-renders them with the latest snapshot).
 */
export function useInView<E extends Element>(): [RefObject<E | null>, boolean] {
  const ref = useRef<E>(null);
  const [inView, setInView] = useState(true);
  useEffect(() => {
    const element = ref.current;
    if (!element || typeof IntersectionObserver !== 'function') return;
    const observer = new IntersectionObserver((records) => {
      const record = records.at(-1);
      if (record) setInView(record.isIntersecting);
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [ref, inView];
}

/**
 * The channel's latest data, at most 10 times a second (and only while `active`: in view); while the view is paused, the data shown
 * when the pause began (status and staleness still update, so a paused screen stays honest). The
 * subscription asks the server for at most `maxRate` updates a second.
 */
export function useChannelSnapshot(channel: string, maxRate: PanelRate, active = true): PanelSnapshot {
  const client = useClient();
  const store = useMemo(
    () => throttled(client.channel(channel, rateOption(maxRate)), PANEL_INTERVAL_MS),
    [client, channel, maxRate],
  );
  const snapshot = useSyncExternalStore(useGatedSubscribe(store, active), store.getSnapshot);
  return useFrozen(
    snapshot as PanelSnapshot,
    (frozen, live) => ({
      ...frozen,
      status: live.status,
      stale: live.stale,
    }),
    (value) => value.data === undefined,
  );
}

/** The channel's last `limit` messages, oldest first (backfilled from the server), frozen while paused. */
export function useHistory(
  channel: string,
  limit: number,
  maxRate: PanelRate,
  active = true,
): readonly HistoryEntry[] {
  const client = useClient();
  const store = useMemo(
    () => throttled(client.history(channel, { limit, ...rateOption(maxRate) }), PANEL_INTERVAL_MS),
    [client, channel, limit, maxRate],
  );
  const entries = useSyncExternalStore(useGatedSubscribe(store, active), store.getSnapshot);
  return useFrozen(
    entries,
    (frozen) => frozen,
    (value) => value.length === 0,
  );
}

/** The history store itself, for charts that read it on animation frames instead of re-rendering. */
export function useHistoryStore(channel: string, limit: number, maxRate: PanelRate): HistoryStore<unknown> {
  const client = useClient();
  return useMemo(
    () => client.history(channel, { limit, ...rateOption(maxRate) }),
    [client, channel, limit, maxRate],
  );
}

/** The channel's store at the panel's rate, for a panel that only reads its status. */
export function useChannelStore(channel: string, maxRate: PanelRate): ChannelStore<unknown> {
  const client = useClient();
  return useMemo(() => client.channel(channel, rateOption(maxRate)), [client, channel, maxRate]);
}

/**
 * While paused, the value shown when the pause began. A page opened paused (a link or reload with
 * `#paused`) has nothing on screen yet: it freezes on the first value that arrives (the backfill).
 */
function useFrozen<T>(live: T, merge: (frozen: T, live: T) => T, isEmpty: (value: T) => boolean): T {
  const { paused } = useView();
  const frozen = useRef<T | undefined>(undefined);
  if (!paused) {
    frozen.current = undefined;
    return live;
  }
  if (frozen.current === undefined && !isEmpty(live)) frozen.current = live;
  return frozen.current === undefined ? live : merge(frozen.current, live);
}
