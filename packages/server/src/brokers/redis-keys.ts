import type { StoredMessage } from './broker.js';
import { keySlot, slotTag } from './redis-slots.js';

/**
 * Where a channel lives in Redis. Every key of one channel carries the channel name as a hash tag
 * (`{name}`), so all of them — and the Pub/Sub channel — map to one Cluster slot: the publish script
 * touches them together, and sharded Pub/Sub (`SPUBLISH`) can later use the same name.
 *
 * ```ts
 * const keys = channelKeys('livedash:', 'orders'); // keys.seq === 'livedash:{orders}:seq'
 * ```
 */
export interface ChannelKeys {
  /** String: the channel's epoch. Created with SET NX; its loss means history was lost. */
  epoch: string;
  /** Integer: the latest seq (INCR per publish). */
  seq: string;
  /** Stream: history, one entry per message with fields `s` (seq), `t` (ts) and `d` (data JSON). */
  stream: string;
  /** String: run id of the Redis process that last started this channel's epoch (see ENSURE_EPOCH). */
  run: string;
  /** Pub/Sub channel: live messages, `epoch|seq|ts|data` (see `parseLiveMessage`). */
  live: string;
}

/** Prefixes are free text except braces, which would break the hash tags above. */
export function isValidPrefix(prefix: string): boolean {
  return !/[{}\s]/.test(prefix) && prefix.length <= 64;
}

export function channelKeys(prefix: string, channel: string): ChannelKeys {
  const base = `${prefix}{${channel}}`;
  return {
    epoch: `${base}:epoch`,
    seq: `${base}:seq`,
    stream: `${base}:stream`,
    run: `${base}:run`,
    live: `${base}:live`,
  };
}

/** Set of every channel ever published to under this prefix (for `channels()`). */
export function registryKey(prefix: string): string {
  return `${prefix}channels`;
}

/**
 * In a Redis Cluster a script may only touch keys of one slot, so the registry is one set per slot,
 * `<prefix>channels:{<tag>}` with a tag that hashes to the channel's slot: it moves with the slot's channels
 * in a reshard. `channels()` finds them with `SCAN` on each master.
 */
export function slotRegistryKey(prefix: string, channel: string): string {
  return `${prefix}channels:{${slotTag(keySlot(channel))}}`;
}

/** The `SCAN MATCH` pattern of every per-slot registry under `prefix` (glob characters escaped). */
export function slotRegistryPattern(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, '\\$&')}channels:{*}`;
}

/**
 * Live messages travel as `epoch|seq|ts|data`: epochs, seqs and timestamps cannot contain `|`, and the data
 * JSON goes last, so it needs no escaping. Each node wraps it in the envelope itself (`encodeEnvelope`), once
 * per message, which keeps the envelope format in one place (the protocol package) rather than in Lua.
 */
export function parseLiveMessage(
  channel: string,
  payload: string,
): (Omit<StoredMessage, 'frame'> & { data: string }) | undefined {
  const first = payload.indexOf('|');
  const second = payload.indexOf('|', first + 1);
  const third = payload.indexOf('|', second + 1);
  if (first <= 0 || second < 0 || third < 0) return undefined;
  const seq = Number(payload.slice(first + 1, second));
  const ts = Number(payload.slice(second + 1, third));
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(ts)) return undefined;
  return { channel, epoch: payload.slice(0, first), seq, ts, data: payload.slice(third + 1) };
}
