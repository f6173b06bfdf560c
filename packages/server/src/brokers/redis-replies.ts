import { encodeEnvelope, type Position } from '@livedash/protocol';
import type { ChannelInfo, ReadResult, StoredMessage } from './broker.js';

/**
 * Turns the raw replies of the Redis scripts into broker results. Replies are checked field by field: a
 * key of another type under our prefix, or a script from another version, must give an error, not NaN.
 */

type StreamEntry = [id: string, fields: string[]];

export interface HistoryReadOptions {
  since: Position | undefined;
  limit: number | undefined;
  /** The channel's history bound: a gap longer than this is never recovered, whatever Redis still holds. */
  maxMessages: number;
}

/**
 * Parses READ_SCRIPT's `{epoch, seq, oldest seq within the age bound, entries newest first}` into a ReadResult
 * with exactly the memory broker's semantics (see Broker.read): recovered only when the history bounds
 * cover every message after `since`; past `limit`, the newest `limit` messages and recovered false;
 * `firstSeq` when history holds anything.
 */
export function parseHistoryReply(channel: string, reply: unknown, options: HistoryReadOptions): ReadResult {
  if (!Array.isArray(reply) || reply.length !== 4)
    throw new TypeError('unexpected reply from the read script');
  const [epoch, seqText, oldestText, entries] = reply as [unknown, unknown, unknown, unknown];
  if (typeof epoch !== 'string') throw new TypeError('read script: epoch is not a string');
  const seq = toInteger(seqText, 'seq');
  const messages = toMessages(channel, epoch, entries).reverse();
  // The oldest message history holds within both bounds (the stream may hold a few more: trimming is lazy).
  const oldest = oldestText === '' ? undefined : toInteger(oldestText, 'oldest seq');
  const firstSeq = oldest === undefined ? undefined : Math.max(oldest, seq - options.maxMessages + 1);
  const base = firstSeq === undefined ? { epoch, seq } : { epoch, seq, firstSeq };
  const latestOnly = { ...base, recovered: false, messages: messages.slice(-1) };
  const { since, limit } = options;
  if (since === undefined || since.epoch !== epoch || since.seq > seq) return latestOnly;
  if (since.seq === seq) return { ...base, recovered: true, messages: [] };
  const missing = seq - since.seq;
  if (firstSeq === undefined || firstSeq > since.seq + 1) return latestOnly;
  if (limit !== undefined && missing > limit) {
    return { ...base, recovered: false, messages: limit > 0 ? messages.slice(-limit) : [] };
  }
  // Entries hold consecutive seqs, so this holds unless keys were changed behind our back.
  if (messages.length !== missing || messages[0]?.seq !== since.seq + 1) return latestOnly;
  return { ...base, recovered: true, messages };
}

/** Parses INFO_SCRIPT's `{epoch, seq, length, latest}` (nil for a channel without an epoch). */
export function parseInfoReply(
  channel: string,
  reply: unknown,
  maxMessages: number,
): ChannelInfo | undefined {
  if (reply === null) return undefined;
  if (!Array.isArray(reply) || reply.length !== 4)
    throw new TypeError('unexpected reply from the info script');
  const [epoch, seqText, length, latest] = reply as [unknown, unknown, unknown, unknown];
  if (typeof epoch !== 'string') throw new TypeError('info script: epoch is not a string');
  const info: ChannelInfo = {
    channel,
    epoch,
    seq: toInteger(seqText, 'seq'),
    size: Math.min(toInteger(length, 'size'), maxMessages),
  };
  const last = toMessages(channel, epoch, latest)[0];
  if (last !== undefined) info.ts = last.ts;
  return info;
}

function toMessages(channel: string, epoch: string, entries: unknown): StoredMessage[] {
  if (!Array.isArray(entries)) throw new TypeError('stream entries are not a list');
  return entries.map((entry) => toMessage(channel, epoch, entry as StreamEntry));
}

function toMessage(channel: string, epoch: string, entry: StreamEntry): StoredMessage {
  const [id, fields] = entry;
  // The entry ID's millisecond part is the publish time (see PUBLISH_SCRIPT).
  const ts = toInteger(id.slice(0, id.indexOf('-')), 'entry id');
  let seq: number | undefined;
  let data: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1]!;
    if (fields[i] === 's') seq = toInteger(value, 'entry seq');
    else if (fields[i] === 'd') data = value;
  }
  if (seq === undefined || data === undefined) throw new TypeError(`stream entry ${id} lacks a field`);
  return { channel, seq, epoch, ts, frame: encodeEnvelope(channel, seq, epoch, ts, data) };
}

function toInteger(value: unknown, what: string): number {
  const number = typeof value === 'number' ? value : Number(value);
  if (typeof value !== 'number' && typeof value !== 'string') throw new TypeError(`${what} is not a number`);
  if (!Number.isSafeInteger(number)) throw new TypeError(`${what} is not an integer: ${String(value)}`);
  return number;
}
