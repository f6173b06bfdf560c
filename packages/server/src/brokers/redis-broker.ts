import {
  ErrorCodes,
  encodeEnvelope,
  isValidChannel,
  LivedashError,
  type Position,
  type Result,
} from '@livedash/protocol';
import { Cluster, type Redis } from 'ioredis';
import { EpochSource, newEpoch } from '../epoch.js';
import { historyBoundsFor } from '../history-policy.js';
import type { HistoryRule } from '../options.js';
import type {
  Broker,
  BrokerHealth,
  ChannelInfo,
  ChannelPage,
  ChannelQuery,
  ReadResult,
  StoredMessage,
} from './broker.js';
import { pageOfNames } from './channel-page.js';
import { ChannelFeed } from './redis-channel-feed.js';
import {
  type ChannelKeys,
  channelKeys,
  isValidPrefix,
  parseLiveMessage,
  registryKey,
  slotRegistryKey,
  slotRegistryPattern,
} from './redis-keys.js';
import { type LinkState, RedisLink } from './redis-link.js';
import { parseHistoryReply, parseInfoReply } from './redis-replies.js';
import { INFO_SCRIPT, PUBLISH_SCRIPT, READ_SCRIPT, RedisScript } from './redis-scripts.js';
import { ShardSubscriptions } from './redis-shard-subscriptions.js';
import { keySlot } from './redis-slots.js';
import { describeTarget, type RedisTarget } from './redis-target.js';

export interface RedisBrokerOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…` for TLS. Give this or `target`. */
  url?: string;
  /** A master found through Sentinel, or a Cluster (see `parseSentinelTarget`, `parseClusterTarget`). */
  target?: RedisTarget;
  /** Prepended to every key and Pub/Sub channel (default `livedash:`), so several deployments or tests share one Redis. */
  prefix?: string;
  /** History bounds per channel pattern (first match wins); default 1000 messages / 5 minutes for every channel. */
  history?: readonly HistoryRule[];
  /** A command Redis has not answered within this long fails (publish answers 503), ms. Default 2000. */
  commandTimeoutMs?: number;
  /** How often each connection PINGs Redis; an unanswered PING marks the broker degraded, ms. Default 1000. */
  probeIntervalMs?: number;
  /** How long `connectRedisBroker` keeps trying to reach Redis before giving up, ms. Default 10000. */
  startTimeoutMs?: number;
  /**
   * Replicas that must hold a publish before it is acknowledged (Redis `WAIT`); default 0: acknowledged once
   * the master has it. When fewer confirm within `ackTimeoutMs`, the publish fails with `unavailable` (503).
   */
  ackReplicas?: number;
  /** How long a publish waits for `ackReplicas` replicas, ms; below `commandTimeoutMs`. Default 500. */
  ackTimeoutMs?: number;
  /** Included in Redis connection names (`CLIENT LIST`). */
  node?: string;
  /** Where connection changes are reported (default: stderr). */
  log?: (line: string) => void;
}

/**
 * Connects a Redis broker, retrying (with a log line per failed attempt) for `startTimeoutMs`. Resolves to an
 * error naming the URL and the last failure when Redis stays unreachable; the CLI prints it and exits 1.
 *
 * ```ts
 * const connected = await connectRedisBroker({ url: 'redis://127.0.0.1:6379', prefix: 'myapp:' });
 * if (!connected.ok) throw connected.error;
 * const server = await createServer({ broker: connected.value });
 * ```
 */
export async function connectRedisBroker(
  options: RedisBrokerOptions,
): Promise<Result<RedisBroker, LivedashError>> {
  const broker = new RedisBroker(options);
  const timeoutMs = options.startTimeoutMs ?? 10_000;
  const ready = await broker.waitUntilReady(timeoutMs);
  if (ready) return { ok: true, value: broker };
  const reason = broker.lastError ?? 'no answer';
  const where = broker.where;
  await broker.close();
  // A refused password or an unknown master name will not fix itself: say so at once, not after the wait.
  const message = isConfigurationError(reason)
    ? `cannot use Redis at ${where}: ${reason}`
    : `cannot reach Redis at ${where} within ${timeoutMs} ms: ${reason}`;
  return { ok: false, error: new LivedashError(ErrorCodes.UNAVAILABLE, message) };
}

/**
 * The Broker shared by many livedash nodes through Redis: seq, epoch and history in Redis keys and streams
 * (see `redis-scripts.ts`), live delivery over Pub/Sub, subscribed only for channels with local subscribers.
 * In a Redis Cluster, live delivery is sharded Pub/Sub, subscribed on each channel's shard
 * (`redis-shard-subscriptions.ts`). Use `connectRedisBroker` to create one; the constructor starts
 * connecting without waiting.
 */
export class RedisBroker implements Broker {
  readonly #prefix: string;
  readonly #history: readonly HistoryRule[];
  readonly #log: (line: string) => void;
  readonly #url: string;
  readonly #ackReplicas: number;
  readonly #ackTimeoutMs: number;
  /** Resolves `waitUntilReady`: true when ready, false on a configuration error. */
  #readyWaiter: ((ready: boolean) => void) | undefined;
  readonly #commands: RedisLink;
  /** The subscriber connection of one Redis (or of the Sentinel-found master); none in a Cluster. */
  readonly #live: RedisLink | undefined;
  /** A Cluster's subscriber connections, one per shard; none otherwise. */
  readonly #shards: ShardSubscriptions | undefined;
  readonly #publishScript = new RedisScript(PUBLISH_SCRIPT);
  readonly #readScript = new RedisScript(READ_SCRIPT);
  readonly #infoScript = new RedisScript(INFO_SCRIPT);
  /** Subscribed channels, by channel name and by their Pub/Sub name. */
  readonly #feeds = new Map<string, ChannelFeed>();
  readonly #feedsByLiveName = new Map<string, ChannelFeed>();
  #health: BrokerHealth = { status: 'degraded', reason: 'connecting to Redis' };
  /** `run_id` of the Redis process the command link is connected to; learnt on every (re)connect. */
  #runId: string | undefined;
  /** First epochs of channels under that process, derived from its run id (see ENSURE_EPOCH). */
  #firstEpochs = new EpochSource('');
  #messageListener: (message: StoredMessage) => void = () => {};
  #healthListener: (health: BrokerHealth) => void = () => {};
  #closed = false;

  constructor(options: RedisBrokerOptions) {
    const target = targetOf(options);
    const prefix = options.prefix ?? 'livedash:';
    if (!isValidPrefix(prefix))
      throw new TypeError(`Redis key prefix must not contain braces or spaces: ${prefix}`);
    this.#prefix = prefix;
    this.#history = options.history ?? [];
    this.#log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.#url = describeTarget(target);
    const commandTimeoutMs = options.commandTimeoutMs ?? 2000;
    this.#ackReplicas = options.ackReplicas ?? 0;
    this.#ackTimeoutMs = options.ackTimeoutMs ?? 500;
    if (!Number.isSafeInteger(this.#ackReplicas) || this.#ackReplicas < 0)
      throw new TypeError(`ackReplicas must be an integer of 0 or more, got ${this.#ackReplicas}`);
    // WAIT blocks the connection until it answers: past the command timeout it would be cut as a stuck Redis.
    const ackTimeoutOk =
      Number.isSafeInteger(this.#ackTimeoutMs) &&
      this.#ackTimeoutMs >= 1 &&
      this.#ackTimeoutMs < commandTimeoutMs;
    if (this.#ackReplicas > 0 && !ackTimeoutOk)
      throw new TypeError(
        `ackTimeoutMs must be an integer from 1 to below the command timeout (${commandTimeoutMs} ms), got ${this.#ackTimeoutMs}`,
      );
    const name = `livedash:${options.node ?? 'node'}`.replace(/[^A-Za-z0-9_.:-]/g, '_');
    const probeIntervalMs = options.probeIntervalMs ?? 1000;
    this.#commands = new RedisLink({
      target,
      name: `${name}:commands`,
      commandTimeoutMs,
      probeIntervalMs,
    });
    this.#commands.onState((state, previous) => this.#onLinkState('commands', state, previous));
    const links = [this.#commands];
    if (target.kind === 'cluster' && this.#commands.redis instanceof Cluster) {
      this.#live = undefined;
      this.#shards = new ShardSubscriptions(
        this.#commands.redis,
        {
          name: `${name}:live`,
          commandTimeoutMs,
          probeIntervalMs,
          ...(target.username !== undefined && { username: target.username }),
          ...(target.password !== undefined && { password: target.password }),
        },
        {
          message: (liveName, payload) => this.#onLiveMessage(liveName, payload),
          resubscribed: (liveNames) => {
            for (const liveName of liveNames) this.#feedsByLiveName.get(liveName)?.catchUp();
          },
          stateChanged: () => this.#updateHealth(),
        },
      );
    } else {
      const live = new RedisLink({ target, name: `${name}:live`, commandTimeoutMs, probeIntervalMs });
      this.#live = live;
      this.#shards = undefined;
      live.onState((state, previous) => this.#onLinkState('live', state, previous));
      live.redis.on('message', (liveName: string, payload: string) => this.#onLiveMessage(liveName, payload));
      links.push(live);
    }
    for (const link of links) {
      link.onError((message) => {
        if (isConfigurationError(message)) this.#readyWaiter?.(false);
      });
      link.start();
    }
  }

  async publish(channel: string, dataJson: string): Promise<StoredMessage> {
    assertChannel(channel);
    const epochArgs = this.#epochArgs(channel);
    const keys = channelKeys(this.#prefix, channel);
    const { maxMessages, maxAgeMs } = historyBoundsFor(this.#history, channel);
    let message: StoredMessage;
    try {
      const reply = await this.#publishScript.run(this.#commands.redis, this.#scriptKeys(keys, channel), [
        ...epochArgs,
        dataJson,
        Math.max(1, maxMessages),
        maxAgeMs,
        keys.live,
        this.#shards === undefined ? 'PUBLISH' : 'SPUBLISH',
      ]);
      const [epoch, seqText, tsText] = reply as [string, string, string];
      const seq = Number(seqText);
      const ts = Number(tsText);
      message = { channel, seq, epoch, ts, frame: encodeEnvelope(channel, seq, epoch, ts, dataJson) };
    } catch (error) {
      throw this.#failure('publish', error);
    }
    if (this.#ackReplicas > 0) await this.#awaitReplicas(message);
    return message;
  }

  /**
   * Waits until `ackReplicas` replicas hold everything this node wrote so far (WAIT runs on the connection
   * that ran the script, so it covers this publish), or fails with `unavailable`. The master already has
   * the message and delivered it: a refused publish may still be seen, and is lost only if the master dies.
   */
  async #awaitReplicas(message: StoredMessage): Promise<void> {
    let confirmed: number;
    try {
      const redis = this.#commands.redis;
      // In a Cluster, WAIT goes to the connection that ran the script: the master of the channel's slot.
      const connection = redis instanceof Cluster ? masterConnection(redis, message.channel) : redis;
      confirmed = Number(await connection.call('WAIT', this.#ackReplicas, this.#ackTimeoutMs));
    } catch (error) {
      throw this.#failure('publish (waiting for replicas)', error);
    }
    if (confirmed >= this.#ackReplicas) return;
    throw new LivedashError(
      ErrorCodes.UNAVAILABLE,
      `publish not acknowledged: ${confirmed} of ${this.#ackReplicas} Redis replicas confirmed it within ` +
        `${this.#ackTimeoutMs} ms (seq ${message.seq} of epoch ${message.epoch} is on the master and may be ` +
        'delivered, but would be lost if the master failed now)',
    );
  }

  async read(channel: string, since?: Position, limit?: number): Promise<ReadResult> {
    assertChannel(channel);
    const epochArgs = this.#epochArgs(channel);
    const keys = channelKeys(this.#prefix, channel);
    const { maxMessages, maxAgeMs } = historyBoundsFor(this.#history, channel);
    const want = Math.min(limit ?? maxMessages, maxMessages);
    try {
      const reply = await this.#readScript.run(this.#commands.redis, this.#scriptKeys(keys, channel), [
        ...epochArgs,
        since?.epoch ?? '',
        since?.seq ?? 0,
        want,
        maxAgeMs,
      ]);
      return parseHistoryReply(channel, reply, { since, limit, maxMessages });
    } catch (error) {
      throw this.#failure('read', error);
    }
  }

  async subscribe(channel: string): Promise<void> {
    assertChannel(channel);
    if (this.#feeds.has(channel) || this.#closed) return;
    const feed = new ChannelFeed(channel, {
      read: (since) => this.read(channel, since).catch(() => undefined),
      deliver: (message) => this.#messageListener(message),
      onGap: (ch, from, to) =>
        this.#log(
          `livedash: ${ch}: messages ${from.seq + 1}..${to.seq - 1} of epoch ${from.epoch} are gone from Redis history`,
        ),
    });
    const liveName = channelKeys(this.#prefix, channel).live;
    this.#feeds.set(channel, feed);
    this.#feedsByLiveName.set(liveName, feed);
    try {
      if (this.#shards !== undefined) {
        // False when its shard's connection is not up yet (a node's first channel on that shard, or the
        // shard unreachable): the channel is subscribed once it is, and caught up from the baseline below.
        await this.#shards.add(liveName);
      } else if (this.#live?.state.kind === 'ready') {
        // While the subscriber link is down the channel is only recorded; the reconnect subscribes it.
        await this.#live.redis.subscribe(liveName);
      }
    } catch {
      // The link dropped mid-way; the reconnect resubscribes and catches the feed up.
    }
    // Delivery starts where the channel stands now: live when subscribed already, otherwise from history
    // once the subscription is made. Either way nothing published after this read is missed.
    await feed.takeBaseline(this.read(channel));
  }

  async unsubscribe(channel: string): Promise<void> {
    const feed = this.#feeds.get(channel);
    if (feed === undefined) return;
    feed.close();
    const liveName = channelKeys(this.#prefix, channel).live;
    this.#feeds.delete(channel);
    this.#feedsByLiveName.delete(liveName);
    if (this.#shards !== undefined) return this.#shards.remove(liveName);
    if (this.#live?.state.kind !== 'ready') return;
    await this.#live.redis.unsubscribe(liveName).catch(() => {
      // A lost link drops every subscription anyway.
    });
  }

  onMessage(listener: (message: StoredMessage) => void): void {
    this.#messageListener = listener;
  }

  async channels(query: ChannelQuery): Promise<ChannelPage> {
    const runId = this.#readyRunId();
    try {
      const names = await this.#channelNames();
      // Grants and paging first: only the page's channels are read from Redis.
      const page = pageOfNames(names.filter(isValidChannel), query);
      const infos = await Promise.all(page.names.map((channel) => this.#info(channel, runId)));
      const channels = infos.filter((info): info is ChannelInfo => info !== undefined);
      return page.next === undefined ? { channels } : { channels, next: page.next };
    } catch (error) {
      throw this.#failure('channels', error);
    }
  }

  health(): BrokerHealth {
    return this.#health;
  }

  /** Where Redis is, as logged (no password). */
  get where(): string {
    return this.#url;
  }

  /** The latest connection error, if a connection is not ready (for start-up messages). */
  get lastError(): string | undefined {
    return this.#commands.lastError ?? this.#live?.lastError;
  }

  onHealth(listener: (health: BrokerHealth) => void): void {
    this.#healthListener = listener;
  }

  /**
   * Resolves true once both connections are ready; false after `timeoutMs`, or at once when Redis refuses
   * the credentials or Sentinel knows no master of that name (see `lastError`).
   */
  waitUntilReady(timeoutMs: number): Promise<boolean> {
    if (this.#health.status === 'ok') return Promise.resolve(true);
    if (isConfigurationError(this.lastError)) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (ready: boolean) => {
        clearTimeout(timer);
        this.#readyWaiter = undefined;
        resolve(ready);
      };
      this.#readyWaiter = finish;
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const feed of this.#feeds.values()) feed.close();
    this.#feeds.clear();
    this.#feedsByLiveName.clear();
    await Promise.all([this.#commands.close(), this.#live?.close(), this.#shards?.close()]);
  }

  /**
   * ENSURE_EPOCH's arguments: derived first epoch, random epoch, run id, channel name. In a Cluster the first
   * and the third are empty: the script asks the shard it runs on.
   */
  #epochArgs(channel: string): [string, string, string, string] {
    const runId = this.#readyRunId();
    if (this.#shards !== undefined) return ['', newEpoch(), '', channel];
    return [this.#firstEpochs.of(channel), newEpoch(), runId, channel];
  }

  #scriptKeys(keys: ChannelKeys, channel: string): string[] {
    const registry =
      this.#shards === undefined ? registryKey(this.#prefix) : slotRegistryKey(this.#prefix, channel);
    return [keys.epoch, keys.seq, keys.stream, keys.run, registry];
  }

  /** Every channel in the registry: one set, or in a Cluster one set per slot, found by SCAN on each master. */
  async #channelNames(): Promise<string[]> {
    const redis = this.#commands.redis;
    if (!(redis instanceof Cluster)) return redis.smembers(registryKey(this.#prefix));
    const names = await Promise.all(
      redis.nodes('master').map(async (node) => {
        const found: string[] = [];
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(
            cursor,
            'MATCH',
            slotRegistryPattern(this.#prefix),
            'COUNT',
            1000,
          );
          for (const key of keys) found.push(...(await node.smembers(key)));
          cursor = next;
        } while (cursor !== '0');
        return found;
      }),
    );
    return [...new Set(names.flat())];
  }

  async #info(channel: string, runId: string): Promise<ChannelInfo | undefined> {
    const keys = channelKeys(this.#prefix, channel);
    const { maxMessages, maxAgeMs } = historyBoundsFor(this.#history, channel);
    const reply = await this.#infoScript.run(
      this.#commands.redis,
      [keys.epoch, keys.seq, keys.stream, keys.run],
      [maxAgeMs, runId],
    );
    return parseInfoReply(channel, reply, maxMessages);
  }

  #onLiveMessage(liveName: string, payload: string): void {
    const feed = this.#feedsByLiveName.get(liveName);
    if (feed === undefined) return; // unsubscribed while the message was in flight
    const parsed = parseLiveMessage(feed.channel, payload);
    if (parsed === undefined) {
      this.#log(`livedash: ignored a malformed message on Redis channel ${liveName}`);
      return;
    }
    const { data, ...position } = parsed;
    const frame = encodeEnvelope(position.channel, position.seq, position.epoch, position.ts, data);
    feed.offer({ ...position, frame });
  }

  #onLinkState(link: 'commands' | 'live', state: LinkState, previous: LinkState): void {
    if (this.#closed) return;
    if (link === 'commands' && state.kind !== 'ready' && state.kind !== 'stalled') this.#runId = undefined;
    // In a Cluster each script finds its shard's run id itself (see ENSURE_EPOCH).
    if (link === 'commands' && state.kind === 'ready' && this.#shards !== undefined) this.#runId = '';
    if (link === 'commands' && state.kind === 'ready' && this.#runId === undefined) {
      // Publishes wait (answering `unavailable`) until the run id is known; see ENSURE_EPOCH.
      void this.#learnRunId(previous);
      return;
    }
    if (state.kind === 'lost' && previous.kind === 'connecting') {
      this.#log(
        `livedash: cannot reach Redis (${link} connection) at ${this.#url}: ${state.reason}; retrying`,
      );
    } else if (state.kind === 'lost' && previous.kind === 'ready') {
      this.#log(`livedash: Redis ${link} connection to ${this.#url} lost (${state.reason}); reconnecting`);
    } else if (state.kind === 'stalled' && previous.kind === 'ready') {
      this.#log(
        `livedash: Redis at ${this.#url} is not answering on the ${link} connection (${state.reason})`,
      );
    } else if (state.kind === 'ready' && (previous.kind === 'lost' || previous.kind === 'stalled')) {
      this.#log(`livedash: Redis ${link} connection to ${this.#url} is back`);
    }
    if (state.kind === 'ready' && previous.kind !== 'ready') {
      // Subscriptions made while the live link was not ready were only recorded, and gap fills tried
      // while either link was down failed: (re)subscribe everything and let every feed catch up.
      if (link === 'live') void this.#resubscribe();
      else for (const feed of this.#feeds.values()) feed.catchUp();
    }
    this.#updateHealth();
  }

  /** Reads the server's run id, then completes the link's transition to ready (from `previous`). */
  async #learnRunId(previous: LinkState): Promise<void> {
    try {
      const info = await this.#commands.redis.info('server');
      const runId = /^run_id:(\w+)/m.exec(info)?.[1];
      if (runId === undefined) throw new TypeError('INFO server has no run_id');
      if (this.#commands.state.kind !== 'ready') return;
      this.#runId = runId;
      this.#firstEpochs = new EpochSource(`${runId}\u0000${this.#prefix}`);
      this.#onLinkState('commands', this.#commands.state, previous);
    } catch (error) {
      // Lost again (the next `ready` retries), or a server without run_id: say so in health.
      this.#log(
        `livedash: cannot read Redis run_id: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  /** After the subscriber link (re)connects: subscribe every wanted channel again and catch each one up. */
  async #resubscribe(): Promise<void> {
    const names = [...this.#feedsByLiveName.keys()];
    if (names.length === 0 || this.#live === undefined) return;
    try {
      await this.#live.redis.subscribe(...names);
    } catch {
      return; // lost again; the next `ready` retries
    }
    for (const feed of this.#feeds.values()) feed.catchUp();
  }

  #updateHealth(): void {
    const commands: LinkState =
      this.#commands.state.kind === 'ready' && this.#runId === undefined
        ? { kind: 'connecting' }
        : this.#commands.state;
    const next = healthOf(
      commands,
      this.#live?.state ?? this.#shards?.state ?? { kind: 'closed' },
      this.#url,
    );
    const current = this.#health;
    if (
      next.status === current.status &&
      (next.status === 'ok' || next.reason === (current as { reason: string }).reason)
    ) {
      return;
    }
    this.#health = next;
    if (next.status === 'ok') this.#readyWaiter?.(true);
    this.#healthListener(next);
  }

  /** The run id to pass to the scripts; throws `unavailable` unless the command link is ready. */
  #readyRunId(): string {
    const state = this.#commands.state;
    if (state.kind !== 'ready') throw this.#unavailable(state);
    if (this.#runId === undefined) throw this.#unavailable({ kind: 'connecting' });
    return this.#runId;
  }

  #unavailable(state: LinkState): LivedashError {
    const why =
      state.kind === 'lost' || state.kind === 'stalled'
        ? state.reason
        : state.kind === 'closed'
          ? 'broker closed'
          : 'still connecting';
    return new LivedashError(ErrorCodes.UNAVAILABLE, `Redis at ${this.#url} is unavailable: ${why}`);
  }

  #failure(operation: string, error: unknown): LivedashError {
    const text = error instanceof Error ? error.message : String(error);
    // Redis answered with an error, or with a reply we cannot read (a bug, or a key of the wrong type under
    // our prefix): not an outage. Anything else — timeouts, closed connections — is one.
    // A Cluster in the middle of a failover or a slot move answers with errors that mean "not now".
    const notNow =
      error instanceof Error && /^(CLUSTERDOWN|TRYAGAIN|MOVED|ASK|LOADING|MASTERDOWN|READONLY)\b/.test(text);
    const answered =
      !notNow && (error instanceof TypeError || (error instanceof Error && error.name === 'ReplyError'));
    const code = answered ? ErrorCodes.INTERNAL : ErrorCodes.UNAVAILABLE;
    return new LivedashError(code, `Redis ${operation} failed: ${text}`);
  }
}

/** The Cluster client's own connection to the master that owns `channel`'s slot. */
function masterConnection(cluster: Cluster, channel: string): Redis {
  const address = cluster.slots[keySlot(channel)]?.[0];
  const node = cluster
    .nodes('master')
    .find((candidate) => `${candidate.options.host}:${candidate.options.port}` === address);
  if (node === undefined) throw new Error(`no connection to the master of channel ${channel}`);
  return node;
}

function healthOf(commands: LinkState, live: LinkState, url: string): BrokerHealth {
  if (commands.kind === 'ready' && live.kind === 'ready') return { status: 'ok' };
  for (const state of [commands, live]) {
    if (state.kind === 'lost')
      return { status: 'degraded', reason: `Redis at ${url} unreachable: ${state.reason}` };
    if (state.kind === 'stalled')
      return { status: 'degraded', reason: `Redis at ${url} not answering: ${state.reason}` };
  }
  if (commands.kind === 'closed' || live.kind === 'closed')
    return { status: 'degraded', reason: 'broker closed' };
  return { status: 'degraded', reason: `connecting to Redis at ${url}` };
}

function targetOf(options: RedisBrokerOptions): RedisTarget {
  if ((options.url === undefined) === (options.target === undefined)) {
    throw new TypeError('give the Redis broker either url or target');
  }
  if (options.target !== undefined) return options.target;
  const url = options.url ?? '';
  if (!/^rediss?:\/\//.test(url)) {
    throw new TypeError(`Redis URL must start with redis:// or rediss://, got ${JSON.stringify(url)}`);
  }
  return { kind: 'url', url };
}

/** Errors that retrying cannot fix: a refused password or user, a master name no Sentinel knows. */
export function isConfigurationError(reason: string | undefined): boolean {
  return (
    reason !== undefined &&
    /WRONGPASS|NOAUTH|NOPERM|invalid password|invalid username-password|knows no master named/.test(reason)
  );
}

function assertChannel(channel: string): void {
  // Channel names become Redis key parts inside a hash tag; the Hub validates them before they get here.
  if (!isValidChannel(channel)) throw new TypeError(`invalid channel name: ${JSON.stringify(channel)}`);
}
