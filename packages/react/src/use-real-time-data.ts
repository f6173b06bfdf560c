import type { LiveClient, MessageMeta } from '@livedash/client';
import { useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import { useLiveClient } from './live-context.js';
import { shallowMerge } from './shallow.js';
import { ReducedStore } from './stores/reduced-store.js';

export interface UseRealTimeDataOptions<T> {
  /**
   * Folds one message into the state. Default: a plain-object message is spread over a plain-object
   * state (partial updates accumulate), anything else replaces it. Called for every message, in order.
   */
  merge?: (previous: T, update: unknown) => T;
  /**
   * At most this many messages a second from the server (0.1–100, see `SubscribeOptions.maxRate`): on
   * a state channel only the newest value of each interval is merged, on a stream channel every message
   * still is, arriving in batches. Changing it keeps the state and resubscribes from the last message,
   * so nothing is merged twice or missed.
   */
  maxRate?: number | undefined;
}

interface Delivery {
  data: unknown;
  meta: MessageMeta;
}

/** The state with the position of the last message folded into it. */
interface Folded<T> {
  readonly value: T;
  readonly epoch: string;
  readonly seq: number;
}

const noSubscription = () => () => {};

function channelSource(client: LiveClient, channel: string, maxRate: number | undefined) {
  return {
    subscribe: (next: (delivery: Delivery) => void) =>
      client.subscribe(channel, (data: unknown, meta: MessageMeta) => next({ data, meta }), { maxRate }),
  };
}

/**
 * The real-time dashboards guide's hook, over the shared connection: the channel's messages merged into `initialData`.
 * Every message is merged (none skipped), but the component re-renders at most once per animation
 * frame. When the server reports it could not recover messages missed during a disconnect, the state
 * restarts from `initialData` with the latest value merged in. A new `channel` starts from `initialData`.
 *
 * @example
 * const metrics = useRealTimeData('metrics', { cpu: 0, memory: 0 });
 * return <Gauge value={metrics.cpu} label="CPU" />;
 * // a gauge needs no more than 5 values a second
 * const slow = useRealTimeData('metrics', { cpu: 0, memory: 0 }, { maxRate: 5 });
 */
export function useRealTimeData<T>(
  channel: string,
  initialData: T,
  options: UseRealTimeDataOptions<T> = {},
): T {
  const merge = options.merge ?? shallowMerge;
  const { maxRate } = options;
  const client = useLiveClient();
  // The first render's initialData, as in the guide (later values are ignored, like useState's).
  const [initial] = useState(initialData);
  const reducer = (state: Folded<T>, { data, meta }: Delivery): Folded<T> => {
    // A listener that joins a live channel (a new rate, a remount) first gets the latest message
    // again: it is already folded in.
    if (meta.reset !== true && meta.epoch === state.epoch && meta.seq <= state.seq) return state;
    const value = merge(meta.reset === true ? initial : state.value, data);
    return { value, epoch: meta.epoch, seq: meta.seq };
  };
  const source = useMemo(
    () => (client === undefined ? undefined : channelSource(client, channel, maxRate)),
    [client, channel, maxRate],
  );
  // A new rate is a new source for the same store (the state is kept); a new client or channel, a new store.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the reducer and source are refreshed in the effects below.
  const store = useMemo(() => {
    if (source === undefined) return undefined;
    return new ReducedStore<Folded<T>, Delivery>(source, { value: initial, epoch: '', seq: 0 }, reducer);
  }, [client, channel, initial]);
  useEffect(() => {
    store?.setReducer(reducer);
  });
  useEffect(() => {
    if (source !== undefined) store?.setSource(source);
  }, [store, source]);
  const getInitial = () => initial;
  const getSnapshot = store === undefined ? getInitial : () => store.getSnapshot().value;
  return useSyncExternalStore(store?.subscribe ?? noSubscription, getSnapshot, getInitial);
}
