import type { Position, ServerFrame } from '@livedash/protocol';
import type { LiveClientOptions } from '../options.js';
import type { ConnectionEvent } from '../state.js';
import type { HistoryEntry } from '../types.js';

/** Where a `LiveClient` runs its connection: chosen by `LiveClientOptions.worker`, reported in `state.mode`. */
export type ClientMode = 'shared-worker' | 'worker' | 'in-page';

/** The options a worker can take: everything that survives a structured clone (no functions, no classes). */
export type WorkerOptions = Omit<
  LiveClientOptions,
  'WebSocket' | 'EventSource' | 'fetch' | 'environment' | 'random' | 'token' | 'worker'
> & { token?: string };

/** Page → worker. */
export type PageMessage =
  | { t: 'hello'; options: WorkerOptions }
  | { t: 'start' }
  /** Channels with the position to resume from and the `maxRate` this page wants (null: none). */
  | { t: 'sub'; channels: [string, Position | null, number | null][] }
  | { t: 'unsub'; channels: string[] }
  | { t: 'ping'; id: number }
  | { t: 'reconnect' }
  /** The messages of `channel` after `since` (of `epoch`): answered by a `history` message with the same id. */
  | { t: 'history'; id: number; channel: string; since: number; epoch: string | undefined }
  | { t: 'bye' };

/** Worker → page: state events to replay on the page's store, and frames, batched. */
export type WorkerMessage =
  | { t: 'events'; events: ConnectionEvent[] }
  | { t: 'opened' }
  | { t: 'dropped' }
  | { t: 'frames'; frames: ServerFrame[] }
  | { t: 'history'; id: number; entries: HistoryEntry[] };
