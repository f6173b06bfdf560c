import type { Position } from '@livedash/protocol';

/**
 * The seam between the Hub and where channels live. The in-memory broker serves a single node;
 * the Redis broker lets many nodes share seq, epoch, history and fan-out. The Hub talks only to this.
 *
 * Ordering contract: for one channel, `onMessage` listeners see messages in seq order, each once per
 * node-level subscription. Messages published before `subscribe(channel)` resolved may or may not be
 * delivered live; the Hub reads history and drops duplicates by seq, so either is correct.
 */
export interface StoredMessage {
  channel: string;
  seq: number;
  epoch: string;
  /** Publish time, ms since the Unix epoch. */
  ts: number;
  /** The encoded envelope (`encodeEnvelope`), built once at publish and sent as is on every transport. */
  frame: string;
}

export interface ChannelInfo {
  channel: string;
  epoch: string;
  /** Seq of the latest message (0 when the channel has none yet). */
  seq: number;
  /** Messages currently held in history. */
  size: number;
  /** Publish time of the latest message, if any. */
  ts?: number;
}

export interface ReadResult {
  /** The channel's current epoch. */
  epoch: string;
  /** The channel's latest seq (0 when empty). */
  seq: number;
  /**
   * With `since`: true when `since.epoch` is the current epoch and history holds every message after
   * `since.seq` (all of them are in `messages`, in order); false otherwise, and `messages` holds only the
   * latest message (if any). Without `since`: false, and `messages` holds the latest message (if any).
   */
  recovered: boolean;
  messages: StoredMessage[];
  /**
   * Seq of the oldest message history holds, when the broker knows it cheaply (optional). Lets the
   * HTTP history endpoint answer a position history no longer covers with all it does hold.
   */
  firstSeq?: number;
}

/**
 * One page of `channels()`. `allowed` is the caller's grants: it is asked about names only, and a
 * channel it refuses is never read (its info is not even computed), so a listing costs what the caller
 * may see. Pages are in ascending name order (JavaScript string order, `<`); `after` continues from the
 * `next` of the previous page.
 */
export interface ChannelQuery {
  allowed: (channel: string) => boolean;
  /** Most channels in the page (at least 1). */
  limit: number;
  /** Only names after this one. */
  after?: string;
}

export interface ChannelPage {
  channels: ChannelInfo[];
  /** The name to pass as `after` for the next page; absent on the last page. */
  next?: string;
}

export type BrokerHealth = { status: 'ok' } | { status: 'degraded'; reason: string };

export interface Broker {
  /**
   * Assigns the next seq atomically, stores the message in history, and delivers it to every node.
   * Rejects with a `LivedashError`: `capacity_exceeded` when the broker's bounds (channels, history
   * bytes) leave no room even after evicting idle channels, `unavailable` when it cannot be reached.
   */
  publish(channel: string, dataJson: string): Promise<StoredMessage>;
  /** Starts live delivery of `channel` to this node's `onMessage` listener (called on the first local subscriber). */
  subscribe(channel: string): Promise<void>;
  /** Stops live delivery (called when the last local subscriber leaves). */
  unsubscribe(channel: string): Promise<void>;
  /** Sets the one listener for live messages of subscribed channels. */
  onMessage(listener: (message: StoredMessage) => void): void;
  /**
   * Reads history after `since` (see ReadResult), or the latest message without it; at most `limit`
   * messages (the oldest are dropped past it, and `recovered` is then false). A channel never published
   * to reads as epoch of a new channel, seq 0, no messages.
   */
  read(channel: string, since?: Position, limit?: number): Promise<ReadResult>;
  /**
   * A page of the channels that hold messages (a channel only read or subscribed is not one), filtered
   * by `query.allowed` before anything else (see ChannelQuery). Reads and subscriptions of channels never
   * published must leave nothing behind: every such read answers as a new channel would.
   */
  channels(query: ChannelQuery): Promise<ChannelPage>;
  health(): BrokerHealth;
  /** Called whenever health changes (Redis lost or back). */
  onHealth(listener: (health: BrokerHealth) => void): void;
  close(): Promise<void>;
}
