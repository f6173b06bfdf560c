import { channelMatches } from '@livedash/protocol';

/**
 * What a channel's messages mean to a client that fell behind:
 *  - `state`: each message replaces the last (host metrics, gauges) — keeping only the newest is lossless
 *    for the client's picture, so a full outgoing queue conflates;
 *  - `stream`: every message matters (events, logs, alerts) — a full queue disconnects (4008) and the
 *    client recovers what it missed from history.
 */
export type ChannelPolicy = 'state' | 'stream';

/** Lookups are cached per channel name; past this many names the cache starts over. */
const CACHE_LIMIT = 10_000;

/**
 * Resolves a channel's policy from `stateChannels` patterns (`metrics`, `metrics.*`, `*`).
 *
 * @example
 * const policies = new ChannelPolicies(['metrics', 'metrics.*']);
 * policies.of('metrics.node1'); // 'state'
 * policies.of('alerts');        // 'stream'
 */
export class ChannelPolicies {
  readonly #patterns: readonly string[];
  #cache = new Map<string, ChannelPolicy>();

  constructor(statePatterns: readonly string[]) {
    this.#patterns = statePatterns;
  }

  of(channel: string): ChannelPolicy {
    let policy = this.#cache.get(channel);
    if (policy === undefined) {
      policy = this.#patterns.some((pattern) => channelMatches(pattern, channel)) ? 'state' : 'stream';
      if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
      this.#cache.set(channel, policy);
    }
    return policy;
  }
}
