import { LiveClient, type LiveClientOptions } from '@livedash/client';
import { type ReactNode, useEffect, useMemo } from 'react';
import { LiveClientContext } from './live-context.js';

export type LiveProviderProps =
  | {
      /** The livedash server's base URL; the provider creates one client and closes it on unmount. */
      url: string;
      /** Options for that client (read when it is created, i.e. when `url` changes). */
      options?: Omit<LiveClientOptions, 'url'>;
      client?: undefined;
      children?: ReactNode;
    }
  | {
      /** A client you created and own (the provider never closes it). */
      client: LiveClient;
      url?: undefined;
      options?: undefined;
      children?: ReactNode;
    };

/** Owned clients whose provider unmounted; a remount within the same tick (StrictMode) cancels the close. */
const pendingClose = new WeakMap<LiveClient, ReturnType<typeof setTimeout>>();

/**
 * Shares one `LiveClient` — one connection — with every hook below it.
 *
 * @example
 * <LiveProvider url="https://dash.example.com">
 *   <MetricsDashboard />
 * </LiveProvider>
 */
export function LiveProvider(props: LiveProviderProps): ReactNode {
  const { url, client, children } = props;
  if ((url === undefined) === (client === undefined)) {
    throw new TypeError('LiveProvider needs exactly one of `url` or `client`');
  }
  // autoConnect: false — the connection opens when the first hook subscribes, so a client made by a
  // render React throws away (StrictMode, a suspended render) never opens a socket.
  // biome-ignore lint/correctness/useExhaustiveDependencies: options are read when the client is created.
  const owned = useMemo(
    () => (url === undefined ? null : new LiveClient({ ...props.options, url, autoConnect: false })),
    [url],
  );
  useEffect(() => {
    if (owned === null) return;
    const pending = pendingClose.get(owned);
    if (pending !== undefined) clearTimeout(pending);
    pendingClose.delete(owned);
    return () => {
      pendingClose.set(
        owned,
        setTimeout(() => {
          pendingClose.delete(owned);
          owned.close();
        }, 0),
      );
    };
  }, [owned]);
  return <LiveClientContext.Provider value={client ?? owned}>{children}</LiveClientContext.Provider>;
}
