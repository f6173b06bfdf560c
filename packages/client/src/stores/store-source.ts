import type { ConnectionSnapshot, HistoryEntry, MessageListener, SubscribeOptions } from '../types.js';

/**
 * What the channel and history stores need from a client: the public `LiveClient` surface, named here
 * so the stores do not import the client class (and can be tested over any implementation of it).
 */
export interface StoreSource {
  readonly state: ConnectionSnapshot;
  onState(listener: (newState: ConnectionSnapshot, oldState: ConnectionSnapshot) => void): () => void;
  subscribe(channel: string, listener: MessageListener<unknown>, options?: SubscribeOptions): () => void;
  /** Messages after `since` that the server's history holds (oldest first); [] when it cannot say. */
  fetchHistory(channel: string, since: number, epoch?: string): Promise<HistoryEntry[]>;
}
