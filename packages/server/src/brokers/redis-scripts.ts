import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

/**
 * The Lua scripts behind the Redis broker. Each runs atomically on the Redis server, which is what makes
 * seq assignment safe across nodes: two nodes publishing at once are serialized by Redis itself, so no seq
 * is ever given twice or skipped. Time comes from Redis (`TIME`), one clock for every node, so `ts` never
 * goes backwards within a channel because one node's clock is behind another's.
 */

/**
 * `epoch` handling shared by the publish and read scripts. KEYS[1..5]: epoch, seq, stream, run, registry.
 * ARGV[1]: the channel's first epoch under this Redis process (derived from its run id, the same on every
 * node), ARGV[2]: a random epoch, ARGV[3]: the run id of the Redis server the node talks to, ARGV[4]: the
 * channel name. Leaves `epoch` and `current` (true when the channel's keys hold a live epoch).
 *
 * The channel is current only when its epoch was written by this Redis process and its seq is still there.
 * Otherwise its next publish starts a new epoch (seq from 1, empty history):
 * - keys written by another Redis process (a restart from a snapshot or AOF, a failover to a replica) may
 *   lack the tail of the history and have seq rolled back;
 * - an epoch without its seq (evicted, deleted) would give out seqs already delivered, which every node and
 *   client would drop as duplicates.
 * A channel nobody published to under this process reads as the derived epoch without any key being written,
 * so reads of made-up names leave nothing behind, and a subscriber that read it before the first publish
 * still resumes within the same epoch. Channels that lost keys under this process get a random epoch, which
 * no earlier position of theirs can match.
 *
 * In a Redis Cluster (ARGV[1] and ARGV[3] empty) every shard is another Redis process and a node cannot know
 * ahead which one a script lands on (a slot may have moved), so the script asks the server it runs on
 * (`INFO server`, a few microseconds) and derives the first epoch from that run id itself. A channel whose
 * slot moved to another shard (a reshard) therefore starts a new epoch too: its keys moved intact, but they
 * cannot be told apart from a promoted replica's, which may lack the last writes.
 */
const RUN_ID = `
local runId = ARGV[3]
local firstEpoch = ARGV[1]
if runId == '' then
  runId = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)')
  firstEpoch = string.sub(redis.sha1hex(runId .. '|' .. ARGV[4]), 1, 16)
end
`;

const ENSURE_EPOCH = `${RUN_ID}
local epoch = redis.call('GET', KEYS[1])
local run = redis.call('GET', KEYS[4])
local current = epoch and run == runId and redis.call('EXISTS', KEYS[2]) == 1
if not current then
  local fromOtherProcess = epoch and run and run ~= runId
  local neverPublished = not epoch and not run and redis.call('EXISTS', KEYS[2], KEYS[3]) == 0
    and redis.call('SISMEMBER', KEYS[5], ARGV[4]) == 0
  if fromOtherProcess or neverPublished then epoch = firstEpoch else epoch = ARGV[2] end
end
`;

const NOW_MS = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
`;

/**
 * KEYS: epoch, seq, stream, run, registry. ARGV[1..4] as in ENSURE_EPOCH, then: data JSON, max messages,
 * max age ms, live Pub/Sub channel, and the command that publishes on it: `PUBLISH`, or `SPUBLISH` in a
 * Cluster (sharded Pub/Sub: the message goes only to the shard that owns the channel's slot, which is this
 * one, since the channel name carries the same hash tag as the keys). Returns `{epoch, seq, ts}`.
 * `ts` is the millisecond part of the stream entry's ID, so it is one clock for every node and never goes
 * backwards within a channel (Redis keeps IDs increasing even if its clock steps back). Trimming is
 * approximate (`~`: whole stream nodes at a time, far cheaper); reads apply the exact bounds. Age trimming
 * can never drop the entry just added, so the latest value outlives its age bound, as in the memory broker.
 */
export const PUBLISH_SCRIPT = `${ENSURE_EPOCH}
if not current then
  redis.call('DEL', KEYS[2], KEYS[3])
  redis.call('SET', KEYS[1], epoch)
  redis.call('SET', KEYS[4], runId)
end
local seq = redis.call('INCR', KEYS[2])
-- Numbers are formatted explicitly: Lua 5.1 would print large ones in exponent notation.
local seqText = string.format('%d', seq)
local id = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[6], '*', 's', seqText, 'd', ARGV[5])
local ts = string.match(id, '^(%d+)')
redis.call('XTRIM', KEYS[3], 'MINID', '~', string.format('%d', tonumber(ts) - tonumber(ARGV[7])))
redis.call('SADD', KEYS[5], ARGV[4])
redis.call(ARGV[9], ARGV[8], epoch .. '|' .. seqText .. '|' .. ts .. '|' .. ARGV[5])
return {epoch, seqText, ts}
`;

/**
 * KEYS: epoch, seq, stream, run, registry. ARGV[1..4] as in ENSURE_EPOCH, then: since epoch ('' for none),
 * since seq, most entries wanted, max age ms.
 * Returns `{epoch, seq, seq of the oldest entry within the age bound or '', entries newest first}`.
 * Entries hold consecutive seqs (trimming only removes the oldest), so the oldest one tells whether history
 * still covers a position. Writes nothing: a channel that is not current reads as the epoch its next publish
 * will start, with seq 0.
 */
export const READ_SCRIPT = `${ENSURE_EPOCH}
if not current then return {epoch, '0', '', {}} end
local seq = tonumber(redis.call('GET', KEYS[2]))
${NOW_MS}
local want = 1
local oldestSeq = ''
local sinceSeq = tonumber(ARGV[6])
if ARGV[5] == epoch and sinceSeq < seq then
  want = math.max(math.min(seq - sinceSeq, tonumber(ARGV[7])), 1)
end
local entries = {}
if seq > 0 then
  local window = redis.call('XRANGE', KEYS[3], string.format('%d', now - tonumber(ARGV[8])), '+', 'COUNT', 1)
  -- Entry fields are written as s, seq, d, data: the seq is the second field value.
  if window[1] then oldestSeq = window[1][2][2] end
  entries = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', want)
end
return {epoch, string.format('%d', seq), oldestSeq, entries}
`;

/**
 * KEYS: epoch, seq, stream, run. ARGV: max age ms, run id ('' in a Cluster: the server's own). Drops aged-out entries exactly (an idle channel's
 * history still ages) but keeps the latest, and returns `{epoch, seq, messages within the age bound, latest
 * entry}`, or nil when the channel is not current (see ENSURE_EPOCH: its next publish starts a new epoch).
 */
export const INFO_SCRIPT = `
local runId = ARGV[2]
if runId == '' then runId = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)') end
local epoch = redis.call('GET', KEYS[1])
if not epoch or redis.call('GET', KEYS[4]) ~= runId or redis.call('EXISTS', KEYS[2]) == 0 then return nil end
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

  async run(redis: Redis | Cluster, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return await redis.eval(this.#source, keys.length, ...keys, ...args);
    }
  }
}
