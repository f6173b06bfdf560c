import type { LivedashError } from '@livedash/protocol';
import type { ClientMode } from './worker/messages.js';

export type { ClientMode };

/** The transports a client can use, best first. */
export type TransportName = 'ws' | 'sse' | 'poll';

/**
 * Connection status (see `state.ts` for the transitions):
 * - `idle`: not started (`autoConnect: false` and nothing subscribed yet);
 * - `connecting`: an attempt to open a transport is in flight;
 * - `open`: connected, messages flow;
 * - `reconnecting`: the connection was lost or an attempt failed; waiting `nextRetryAt` for the next one;
 * - `offline`: the browser reports no network; waits for its `online` event;
 * - `failed`: `maxReconnectAttempts` used up, or the server said never to retry; `client.reconnect()` restarts;
 * - `closed`: `client.close()` was called; final.
 */
export type ConnectionStatus =
  | 'idle'
  | 'connecting'
  | 'open'
  | 'reconnecting'
  | 'offline'
  | 'failed'
  | 'closed';

/** The last failure the connection saw, in words and as a stable code from `ErrorCodes`. */
export interface ConnectionError {
  readonly code: string;
  readonly message: string;
  /** The WebSocket close code, when the failure was a close. */
  readonly closeCode?: number;
}

/**
 * The connection's state: an immutable object, replaced (never mutated) on every change, so the same
 * object is returned until something changes (what `useSyncExternalStore` requires).
 */
export interface ConnectionSnapshot {
  readonly status: ConnectionStatus;
  /** The transport in use (or being tried); null before the first attempt. */
  readonly transport: TransportName | null;
  /** Attempts since the connection was last stable; 0 while open and stable. */
  readonly attempt: number;
  /** When the next attempt starts (ms since the Unix epoch), while `reconnecting`; otherwise null. */
  readonly nextRetryAt: number | null;
  readonly lastError?: ConnectionError;
  /** Last measured round trip, ms (`client.ping()`). */
  readonly rtt?: number;
  /** When the last frame arrived (ms since the Unix epoch), updated at most once a second. */
  readonly lastMessageAt?: number;
  /**
   * Where the connection runs: `shared-worker` (one socket for every tab of this origin), `worker` (a
   * dedicated Worker for this page) or `in-page`. Absent means in-page (see `LiveClientOptions.worker`).
   */
  readonly mode?: ClientMode;
}

/** The `{oldState, newState}` event every transition emits. */
export interface StateChange {
  readonly oldState: ConnectionSnapshot;
  readonly newState: ConnectionSnapshot;
}

/**
 * A channel's status:
 * - `pending`: subscribed, nothing received from the server yet;
 * - `live`: receiving;
 * - `recovering`: the connection dropped and is being re-established; missed messages will be replayed;
 * - `stale`: the connection is `offline` or `failed`; `data` is the last value known;
 * - `error`: the server refused the subscription (`error` says why).
 */
export type ChannelStatus = 'pending' | 'live' | 'recovering' | 'stale' | 'error';

export interface ChannelSnapshot<T = unknown> {
  readonly data: T | undefined;
  /** Seq of the last message delivered; 0 before any. */
  readonly seq: number;
  /** The channel's epoch; '' before the server named it. */
  readonly epoch: string;
  /** Publish time of the last message (ms since the Unix epoch); 0 before any. */
  readonly ts: number;
  readonly status: ChannelStatus;
  /** True when `data` may be out of date (the channel is not `live`). */
  readonly stale: boolean;
  readonly error?: ConnectionError;
  /** How many times the server said history could not be recovered (state built from the stream must be rebuilt). */
  readonly resetCount: number;
}

/** What a subscriber gets with each message. */
export interface MessageMeta {
  readonly channel: string;
  readonly seq: number;
  readonly epoch: string;
  /** Publish time, ms since the Unix epoch. */
  readonly ts: number;
  /** True for messages published before this subscription (the latest value on subscribe, or missed ones after a reconnect). */
  readonly replayed: boolean;
  /**
   * True on the first message after the server could not recover what was missed (`recovered:false`
   * after a disconnect, or a new epoch): throw away state built from earlier messages.
   */
  readonly reset?: boolean;
}

/** One message as kept by `client.history()`. */
export interface HistoryEntry<T = unknown> {
  readonly data: T;
  readonly seq: number;
  readonly epoch: string;
  readonly ts: number;
}

/**
 * A framework-free external store: `subscribe` registers a change listener and returns its
 * unsubscribe; `getSnapshot` returns the current immutable snapshot (same identity until it changes).
 * Exactly the shape `useSyncExternalStore` takes.
 */
export interface ExternalStore<S> {
  subscribe(onChange: () => void): () => void;
  getSnapshot(): S;
}

/** Why a channel was reset; passed to `SubscribeOptions.onReset`. */
export interface ResetInfo {
  readonly channel: string;
  /** The new epoch. */
  readonly epoch: string;
  readonly error: LivedashError;
}

/** The server's answer to a subscription (`$subscribed`), passed to `SubscribeOptions.onSubscribed`. */
export interface SubscribedInfo {
  readonly channel: string;
  readonly epoch: string;
  /** The channel's latest seq when the subscription started. */
  readonly seq: number;
  /** True when everything missed since the last position is replayed next. */
  readonly recovered: boolean;
}

export interface SubscribeOptions {
  /**
   * At most this many messages a second (0.1–100): a state channel's newest value (values in between
   * are skipped), a stream channel's every message in batches. Listeners of one channel share one
   * server subscription, which asks for the highest rate among them (none if any listener gives none);
   * each listener then gets what that subscription delivers.
   * @example client.subscribe('metrics', (m) => gauge.set(m.cpu), { maxRate: 5 });
   */
  maxRate?: number | undefined;
  /** Called each time the server confirms the subscription (after every connect and reconnect). */
  onSubscribed?: (info: SubscribedInfo) => void;
  /** Called when the server could not recover missed messages, before the latest value is delivered. */
  onReset?: (info: ResetInfo) => void;
  /**
   * Called when the server refuses the subscription (forbidden, too many subscriptions, …). When it
   * cannot serve the channel for now (`unavailable`: its broker is down), the client subscribes again
   * by itself at `retryAt` (ms since the Unix epoch), with the reconnect backoff; otherwise `retryAt`
   * is undefined and the channel waits for the next reconnect.
   * @example client.subscribe('orders', show, { onError: (e, at) => at && banner(`retrying at ${new Date(at)}`) });
   */
  onError?: (error: LivedashError, retryAt?: number) => void;
}

/** `(data, meta) => void`: called once per message, in seq order, never twice for the same seq. */
export type MessageListener<T> = (data: T, meta: MessageMeta) => void;

/** A map from channel name to the type of its data, declared once: `new LiveClient<{ metrics: Metrics }>(…)`. */
export type ChannelMap = Record<string, unknown>;

/** The data type of `channel` in `Channels`, or `unknown` for channels the map does not name. */
export type ChannelData<Channels extends ChannelMap, K extends string> = K extends keyof Channels
  ? Channels[K]
  : unknown;
