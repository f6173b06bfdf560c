import {
  type CancelScheduled,
  type ChannelSnapshot,
  type ChannelStatus,
  type ConnectionError,
  type HistoryEntry,
  nextFrame,
} from '@livedash/client';
import { useMemo, useRef, useSyncExternalStore } from 'react';
import { useLiveClient } from './live-context.js';
import { shallowEqual } from './shallow.js';

export interface UseChannelOptions<T, S> {
  /**
   * Derives what the component needs from the channel's data. The hook then re-renders only when the
   * selection (compared with `isEqual`), `status`, `stale` or `error` change — not on every message.
   */
  select?: (data: T | undefined) => S;
  /** Compares selections. Default: shallow equality (same keys, `Object.is` values). */
  isEqual?: (a: S, b: S) => boolean;
  /** Also keep the last N messages (a ring buffer, backfilled from the server's history on mount). */
  history?: number;
  /**
   * At most this many updates a second from the server (0.1–100, see `SubscribeOptions.maxRate`): on
   * a state channel the newest value of each interval, on a stream channel every message in batches.
   * Changing it resubscribes from the last message; what is shown stays until the new rate's first
   * update.
   */
  maxRate?: number | undefined;
}

export interface ChannelState<D, T = unknown> {
  /** The latest data (or its selection); `undefined` before the first message. */
  readonly data: D;
  readonly status: ChannelStatus;
  /** Seq and publish time of the last message (with `select`: of the last one that changed the selection). */
  readonly seq: number;
  readonly ts: number;
  /** True while `data` may be out of date (reconnecting, offline). */
  readonly stale: boolean;
  readonly error: ConnectionError | undefined;
  /** How often the server said missed messages were lost (state rebuilt from the stream must restart). */
  readonly resetCount: number;
  /** The last `history` messages, oldest first; empty without the `history` option. */
  readonly history: readonly HistoryEntry<T>[];
}

const PENDING: ChannelSnapshot<never> = Object.freeze({
  data: undefined,
  seq: 0,
  epoch: '',
  ts: 0,
  status: 'pending',
  stale: false,
  resetCount: 0,
});
const NO_HISTORY: readonly HistoryEntry<never>[] = Object.freeze([]);
const noSubscription = () => () => {};

/**
 * One channel's latest data and status, over the shared connection. Re-renders at most once per
 * animation frame however fast messages arrive; with `select`, only when the selection changes.
 *
 * @example
 * const { data, status, stale } = useChannel<Metrics>('metrics');
 * const cpu = useChannel<Metrics, number | undefined>('metrics', { select: (m) => m?.cpu }).data;
 * const { history } = useChannel<Metrics>('metrics', { history: 300 }); // chart series
 * const gauge = useChannel<Metrics>('metrics', { maxRate: 5 }); // at most 5 updates a second
 */
export function useChannel<T = unknown>(
  channel: string,
  options?: Omit<UseChannelOptions<T, T | undefined>, 'select' | 'isEqual'>,
): ChannelState<T | undefined, T>;
export function useChannel<T, S>(
  channel: string,
  options: UseChannelOptions<T, S> & { select: (data: T | undefined) => S },
): ChannelState<S, T>;
export function useChannel<T, S>(
  channel: string,
  options: UseChannelOptions<T, S> = {},
): ChannelState<unknown, T> {
  const { select, isEqual = shallowEqual, history, maxRate } = options;
  const client = useLiveClient();
  const store = useMemo(() => client?.channel<T>(channel, { maxRate }), [client, channel, maxRate]);
  const historyStore = useMemo(
    () => (history === undefined ? undefined : client?.history<T>(channel, { limit: history, maxRate })),
    [client, channel, history, maxRate],
  );

  // With history, two stores feed one result. Each notifies at most once per frame, but in separate
  // animation-frame callbacks — React would render once for each. Coalescing their notifications into
  // one (on the next frame) keeps this hook at one render per frame.
  const subscribe = useMemo(() => {
    if (store === undefined) return noSubscription;
    if (historyStore === undefined) return store.subscribe;
    return (onChange: () => void) => {
      let cancel: CancelScheduled | undefined;
      const notify = () => {
        cancel ??= nextFrame(() => {
          cancel = undefined;
          onChange();
        });
      };
      const offChannel = store.subscribe(notify);
      const offHistory = historyStore.subscribe(notify);
      return () => {
        cancel?.();
        offChannel();
        offHistory();
      };
    };
  }, [store, historyStore]);

  // The last result handed to React: returned again (same object) while nothing the caller sees changed.
  const last = useRef<
    | {
        snapshot: ChannelSnapshot<T>;
        result: ChannelState<unknown, T>;
        /** Whose stores it was read from: a new rate bridges only within one client and channel. */
        client: unknown;
        channel: string;
      }
    | undefined
  >(undefined);
  const readSnapshot = (
    snapshot: ChannelSnapshot<T>,
    entries: readonly HistoryEntry<T>[],
  ): ChannelState<unknown, T> => {
    const previous = last.current;
    if (previous?.snapshot === snapshot && previous.result.history === entries) return previous.result;
    const data = select === undefined ? snapshot.data : select(snapshot.data);
    const result = previous?.result;
    const unchanged =
      result !== undefined &&
      select !== undefined &&
      (isEqual as (a: unknown, b: unknown) => boolean)(result.data, data) &&
      result.status === snapshot.status &&
      result.stale === snapshot.stale &&
      result.error === snapshot.error &&
      result.resetCount === snapshot.resetCount &&
      result.history === entries;
    const next = unchanged
      ? result
      : {
          data,
          status: snapshot.status,
          seq: snapshot.seq,
          ts: snapshot.ts,
          stale: snapshot.stale,
          error: snapshot.error,
          resetCount: snapshot.resetCount,
          history: entries,
        };
    last.current = { snapshot, result: next, client, channel };
    return next;
  };
  // New functions each render are fine: React calls getSnapshot every render and only re-subscribes
  // when `subscribe` changes; readSnapshot keeps the result's identity while nothing visible changed.
  const getSnapshot = () => {
    let snapshot = (store?.getSnapshot() ?? PENDING) as ChannelSnapshot<T>;
    let entries = historyStore?.getSnapshot() ?? (NO_HISTORY as readonly HistoryEntry<T>[]);
    // A new `maxRate` is a new store, empty until the resubscription delivers (a frame or two later):
    // until then the previous store's data and history stay on screen instead of flashing to pending
    // (while connected: offline, the new store's status is the truth).
    const previous = last.current;
    if (
      previous !== undefined &&
      previous.client === client &&
      previous.channel === channel &&
      client?.state.status === 'open'
    ) {
      if (snapshot.status === 'pending' && snapshot.seq === 0) snapshot = previous.snapshot;
      const kept = previous.result.history;
      if (entries.length === 0 && history !== undefined && kept.length <= history) entries = kept;
    }
    return readSnapshot(snapshot, entries);
  };
  const getServerSnapshot = () => readSnapshot(PENDING as ChannelSnapshot<T>, NO_HISTORY);
  return useSyncExternalStore(subscribe, getSnapshot, getServerSnapshot);
}
