import type { LivedashError, Position, ServerFrame } from '@livedash/protocol';
import type { TransportName } from '../types.js';

/*
 * Handler parameters are typed `never` so that any implementation's handler types fit (the browser's
 * `MessageEvent`, the `ws` package's own event classes); the transports read the few fields they need.
 */

/** The minimal WebSocket the client needs; the browser's and the `ws` package's both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: never) => void) | null;
  /** Gets `{ data }`: a string, or bytes from implementations that deliver text frames as buffers. */
  onmessage: ((event: never) => void) | null;
  /** Gets `{ code, reason }`. */
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** The minimal EventSource the client needs; the browser's and the `eventsource` package's both fit. */
export interface EventSourceLike {
  onopen: ((event: never) => void) | null;
  /** Gets `{ data, lastEventId }`. */
  onmessage: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
  /** For the server's named `heartbeat` events. */
  addEventListener(type: 'heartbeat', listener: () => void): void;
  close(): void;
}
export type EventSourceConstructor = new (url: string) => EventSourceLike;

/** The part of `fetch` the client uses. */
export type FetchLike = (
  url: string,
  init?: { signal?: AbortSignal; headers?: Record<string, string> },
) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

/** What a transport reports to the client. Each transport calls `closed` at most once, and nothing after it. */
export interface TransportEvents {
  /**
   * Ready to carry subscriptions; `heartbeatMs` is the server's heartbeat interval when it said.
   * `watchSilence: false` when the transport cannot see the server's heartbeats (SSE sends them as
   * comments, which EventSource hides): silence is then watched only once a `$heartbeat` frame shows up.
   */
  opened(info: { heartbeatMs?: number | undefined; watchSilence?: boolean }): void;
  /** A frame from the server, already parsed: data envelopes and control frames alike. */
  frame(frame: ServerFrame): void;
  /** The transport ended. `wasOpen` tells a failure to open (try the next transport) from a lost connection. */
  closed(error: LivedashError, wasOpen: boolean): void;
}

export interface TransportContext {
  /** The server's http(s) base URL, without a trailing slash. */
  baseUrl: string;
  events: TransportEvents;
  /** Every channel the client wants, with the position to resume from; read whenever a transport (re)starts a request. */
  positions(): Map<string, Position | undefined>;
  /** The `maxRate` a channel is subscribed with (undefined: every message as it comes). */
  maxRate(channel: string): number | undefined;
  /** The current token (`?token=` on each connection or request), if the client has one. */
  token(): string | undefined;
}

/**
 * One way of talking to the server. Created already connecting; the client owns the lifecycle:
 * subscribe/unsubscribe as listeners come and go, `close()` when done. After `close()` a transport
 * reports nothing more.
 */
export interface Transport {
  readonly name: TransportName;
  /** Starts (or restarts) these channels, replaying after each position given. */
  subscribe(channels: ReadonlyMap<string, Position | undefined>): void;
  unsubscribe(channels: readonly string[]): void;
  /** Sends a ping answered by `$pong` with the same id; false when this transport cannot. */
  ping(id: number): boolean;
  /** A fresh token for the open connection, before the old one expires; subscriptions stay. */
  authenticate?(token: string): void;
  close(): void;
}

/** True when both are the same position (or both none). */
export function samePosition(a: Position | undefined, b: Position | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.epoch === b.epoch && a.seq === b.seq);
}
