/** Wire protocol version. Sent in `$welcome`; bumped only for incompatible changes. */
export const PROTOCOL_VERSION = 1;

/** A request id chosen by the client and echoed in `$ack`, `$subscribed`, `$pong` and `$error`. */
export type RequestId = number | string;

/** A position in a channel: the channel's epoch and the seq of the last message seen. */
export interface Position {
  epoch: string;
  seq: number;
}

// ── client → server ────────────────────────────────────────────────────────────

export interface SubscribeCommand {
  action: 'subscribe';
  channels: string[];
  /** Resume positions per channel: the server replays every message after each one that history holds. */
  since?: ReadonlyMap<string, Position>;
  /**
   * At most this many writes of each of these channels per second (`MaxRate`): a state channel's newest
   * value, a stream channel's messages batched. Absent: every message is written as it comes.
   */
  maxRate?: number;
  id?: RequestId;
}

export interface UnsubscribeCommand {
  action: 'unsubscribe';
  channels: string[];
  id?: RequestId;
}

export interface PublishCommand {
  action: 'publish';
  channel: string;
  data: unknown;
  id?: RequestId;
}

export interface PingCommand {
  action: 'ping';
  id?: RequestId;
}

export interface AuthCommand {
  action: 'auth';
  token: string;
  id?: RequestId;
}

export type ClientCommand =
  | SubscribeCommand
  | UnsubscribeCommand
  | PublishCommand
  | PingCommand
  | AuthCommand;
export type ClientAction = ClientCommand['action'];

// ── server → client ────────────────────────────────────────────────────────────

/** A message on a channel. A plain WebSocket client reads only `type` and `data`; the rest is for recovery. */
export interface DataEnvelope<T = unknown> {
  type: string;
  data: T;
  seq: number;
  epoch: string;
  /** Publish time, milliseconds since the Unix epoch. */
  ts: number;
}

/** First frame on every connection. */
export interface WelcomeFrame {
  type: '$welcome';
  version: number;
  /** The server's heartbeat interval in ms: a connection silent for a few of these is dead. */
  heartbeat: number;
  /** The server node's name (useful behind a load balancer). */
  node: string;
}

/**
 * Sent once per channel in answer to `subscribe`, before any of that channel's data.
 * `seq` is the channel's latest seq at that moment (0 when it has no message yet).
 * `recovered` is true when `since` was given and every message after it is replayed next;
 * false when it was given but history no longer covers it (or the epoch changed): state built from
 * the stream must be rebuilt, and the latest value follows. Without `since`, `recovered` is false
 * and the latest value (if any) follows.
 */
export interface SubscribedFrame {
  type: '$subscribed';
  channel: string;
  epoch: string;
  seq: number;
  recovered: boolean;
  /** The subscription's `maxRate`, when it has one. */
  maxRate?: number;
  /**
   * True when the subscription has a `maxRate` on a state channel: each message written is the newest
   * at that moment, so seqs skip on purpose (no gap to repair).
   */
  conflate?: boolean;
  id?: RequestId;
}

export interface UnsubscribedFrame {
  type: '$unsubscribed';
  channel: string;
  id?: RequestId;
}

/** Answer to `publish` (with the assigned position) or `auth`. */
export interface AckFrame {
  type: '$ack';
  id?: RequestId;
  channel?: string;
  epoch?: string;
  seq?: number;
}

export interface ErrorFrame {
  type: '$error';
  code: string;
  message: string;
  id?: RequestId;
  channel?: string;
}

export interface HeartbeatFrame {
  type: '$heartbeat';
  ts: number;
}

export interface PongFrame {
  type: '$pong';
  ts: number;
  id?: RequestId;
}

export type ControlFrame =
  | WelcomeFrame
  | SubscribedFrame
  | UnsubscribedFrame
  | AckFrame
  | ErrorFrame
  | HeartbeatFrame
  | PongFrame;

export type ServerFrame = DataEnvelope | ControlFrame;

/** A parse outcome: never thrown, always returned. */
export type Result<T, E> = { ok: true; value: T } | { ok: false; error: E };
