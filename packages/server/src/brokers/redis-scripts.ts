import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * The Lua scripts behind the Redis broker. Each runs atomically on the Redis server, which is what makes
 * seq assignment safe across nodes: two nodes publishing at once are serialized by Redis itself, so no seq
 * is ever given twice or skipped. Time comes from Redis (`TIME`), one clock for every node, so `ts` never
 * goes backwards within a channel because one node's clock is behind another's.
 */

/**
 * `epoch` handling shared by the scripts (KEYS[1..4]: epoch, seq, stream, run; ARGV[1]: a candidate epoch,
 * ARGV[2]: the run id of the Redis server the node is talking to). A new epoch starts — seq and stream
 * restart — when the epoch is missing (history lost) or when the channel was last written by another Redis
 * process: after a restart from a snapshot or AOF, or a failover to a replica, the tail of the history may be
 * gone and seq rolled back, and re-using seqs within the old epoch would make nodes drop new messages as
 * duplicates of ones they already delivered.
 */
const ENSURE_EPOCH = `
local epoch = redis.call('GET', KEYS[1])
local created = false
if not epoch or redis.call('GET', KEYS[4]) ~= ARGV[2] then
  epoch = ARGV[1]
  redis.call('DEL', KEYS[2], KEYS[3])
  created = true
end
`;

const NOW_MS = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
`;

/**
 * KEYS: epoch, seq, stream, run, registry. ARGV: candidate epoch, run id, data JSON, max messages, max age ms,
 * live Pub/Sub channel, channel name. Returns `{epoch, seq, ts}`.
 * `ts` is the millisecond part of the stream entry's ID, so it is one clock for every node and never goes
 * backwards within a channel (Redis keeps IDs increasing even if its clock steps back). Trimming is
 * approximate (`~`: whole stream nodes at a time, far cheaper); reads apply the exact bounds. Age trimming
 * can never drop the entry just added, so the latest value outlives its age bound, as in the memory broker.
 */
export const PUBLISH_SCRIPT = `${ENSURE_EPOCH}
if created then
  redis.call('SET', KEYS[1], epoch)
  redis.call('SET', KEYS[4], ARGV[2])
end
local seq = redis.call('INCR', KEYS[2])
if seq == 1 and not created then
  -- The epoch was created by a read (with a TTL, see READ_SCRIPT); the first publish makes it permanent.
  redis.call('PERSIST', KEYS[1])
  redis.call('PERSIST', KEYS[4])
end
-- Numbers are formatted explicitly: Lua 5.1 would print large ones in exponent notation.
local seqText = string.format('%d', seq)
local id = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 's', seqText, 'd', ARGV[3])
local ts = string.match(id, '^(%d+)')
redis.call('XTRIM', KEYS[3], 'MINID', '~', string.format('%d', tonumber(ts) - tonumber(ARGV[5])))
redis.call('SADD', KEYS[5], ARGV[7])
redis.call('PUBLISH', ARGV[6], epoch .. '|' .. seqText .. '|' .. ts .. '|' .. ARGV[3])
return {epoch, seqText, ts}
`;

/**
 * KEYS: epoch, seq, stream, run. ARGV: candidate epoch, run id, TTL ms for an epoch nobody published to yet,
 * since epoch ('' for none), since seq, most entries wanted, max age ms.
 * Returns `{epoch, seq, seq of the oldest entry within the age bound or '', entries newest first}`.
 * Entries hold consecutive seqs (trimming only removes the oldest), so the oldest one tells whether history
 * still covers a position. A read of a channel never published to creates its epoch, so a subscriber's
 * position stays valid when the first message arrives; the TTL keeps reads of made-up names from leaving
 * keys behind forever.
 */
export const READ_SCRIPT = `${ENSURE_EPOCH}
local seq = tonumber(redis.call('GET', KEYS[2]) or '0')
if created then
  redis.call('SET', KEYS[1], epoch, 'PX', ARGV[3])
  redis.call('SET', KEYS[4], ARGV[2], 'PX', ARGV[3])
elseif seq == 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  redis.call('PEXPIRE', KEYS[4], ARGV[3])
end
${NOW_MS}
local want = 1
local oldestSeq = ''
local sinceSeq = tonumber(ARGV[5])
if ARGV[4] == epoch and sinceSeq < seq then
  want = math.max(math.min(seq - sinceSeq, tonumber(ARGV[6])), 1)
end
local entries = {}
if seq > 0 then
  local window = redis.call('XRANGE', KEYS[3], string.format('%d', now - tonumber(ARGV[7])), '+', 'COUNT', 1)
  -- Entry fields are written as s, seq, d, data: the seq is the second field value.
  if window[1] then oldestSeq = window[1][2][2] end
  entries = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', want)
end
return {epoch, string.format('%d', seq), oldestSeq, entries}
`;

/**
 * KEYS: epoch, seq, stream, run. ARGV: max age ms, run id. Drops aged-out entries exactly (an idle channel's
 * history still ages) but keeps the latest, and returns `{epoch, seq, messages within the age bound, latest
 * entry}`, or nil when the channel has no epoch, or one from another Redis process (see ENSURE_EPOCH: its next
 * read or publish starts a new one).
 */
export const INFO_SCRIPT = `
local epoch = redis.call('GET', KEYS[1])
if not epoch or redis.call('GET', KEYS[4]) ~= ARGV[2] then return nil end
${NOW_MS}
local latest = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)
local size = 0
if latest[1] then
  local cutoff = now - tonumber(ARGV[1])
  if tonumber(string.match(latest[1][1], '^(%d+)')) < cutoff then
    redis.call('XTRIM', KEYS[3], 'MINID', latest[1][1])
  else
    redis.call('XTRIM', KEYS[3], 'MINID', string.format('%d', cutoff))
    size = redis.call('XLEN', KEYS[3])
  end
end
return {epoch, redis.call('GET', KEYS[2]) or '0', size, latest}
`;

/**
 * A script run by SHA (EVALSHA), sent in full only when Redis does not know it yet — after a restart or
 * SCRIPT FLUSH, Redis answers NOSCRIPT and the next call carries the source.
 *
 * ```ts
 * const publish = new RedisScript(PUBLISH_SCRIPT);
 * const reply = await publish.run(redis, [k1, k2], ['a', 'b']);
 * ```
 */
export class RedisScript {
  readonly #source: string;
  readonly #sha: string;

  constructor(source: string) {
    this.#source = source;
    this.#sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return await redis.eval(this.#source, keys.length, ...keys, ...args);
    }
  }
}
