import type { LiveClient } from '@livedash/client';
import { createContext, useContext } from 'react';
import { getDefaultClient } from './default-client.js';

/** The client a `LiveProvider` shares with everything below it. */
export const LiveClientContext = createContext<LiveClient | null>(null);

/**
 * The `LiveClient` hooks below use: the nearest `LiveProvider`'s, otherwise the shared default one for
 * the page (see `getDefaultClient`). `undefined` only when server rendering without a provider.
 *
 * @example
 * const client = useLiveClient();
 * const measure = () => client?.ping().then((ms) => setLatency(ms));
 */
export function useLiveClient(): LiveClient | undefined {
  return useContext(LiveClientContext) ?? getDefaultClient();
}
