import type { MessageMeta } from '@livedash/client';
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
}

interface Delivery {
  data: unknown;
  meta: MessageMeta;
}

const noSubscription = () => () => {};

/**
 * The real-time dashboards guide's hook, over the shared connection: the channel's messages merged into `initialData`.
 * Every message is merged (none skipped), but the component re-renders at most once per animation
 * frame. When the server reports it could not recover messages missed during a disconnect, the state
 * restarts from `initialData` with the latest value merged in. A new `channel` starts from `initialData`.
 *
 * @example
 * const metrics = useRealTimeData('metrics', { cpu: 0, memory: 0 });
 * return <Gauge value={metrics.cpu} label="CPU" />;
 */
export function useRealTimeData<T>(
  channel: string,
  initialData: T,
  options: UseRealTimeDataOptions<T> = {},
): T {
  const merge = options.merge ?? shallowMerge;
  const client = useLiveClient();
  // The first render's initialData, as in the guide (later values are ignored, like useState's).
  const [initial] = useState(initialData);
  const reducer = (state: T, { data, meta }: Delivery): T =>
    merge(meta.reset === true ? initial : state, data);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the reducer is refreshed in the effect below.
  const store = useMemo(() => {
    if (client === undefined) return undefined;
    const source = {
      subscribe: (next: (delivery: Delivery) => void) =>
        client.subscribe(channel, (data: unknown, meta: MessageMeta) => next({ data, meta })),
    };
    return new ReducedStore<T, Delivery>(source, initial, reducer);
  }, [client, channel, initial]);
  useEffect(() => {
    store?.setReducer(reducer);
  });
  const getInitial = () => initial;
  return useSyncExternalStore(
    store?.subscribe ?? noSubscription,
    store?.getSnapshot ?? getInitial,
    getInitial,
  );
}
