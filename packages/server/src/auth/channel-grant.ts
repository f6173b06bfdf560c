import { channelMatches, isValidChannel } from '@livedash/protocol';

/**
 * What a holder of credentials may do, as channel patterns (`metrics`, `team.*`, `*`), matched with the
 * protocol's `channelMatches` so permissions and history rules read the same way.
 *
 * @example
 * const grant: ChannelGrant = { subscribe: ['metrics', 'team.*'], publish: ['team.a'] };
 * grantAllows(grant.subscribe, 'team.b'); // true
 */
export interface ChannelGrant {
  readonly subscribe: readonly string[];
  readonly publish: readonly string[];
}

/** Everything: the publish token's grant, and anonymous clients' when no authentication is configured. */
export const FULL_GRANT: ChannelGrant = Object.freeze({ subscribe: ['*'], publish: ['*'] });

export const EMPTY_GRANT: ChannelGrant = Object.freeze({ subscribe: [], publish: [] });

/** Most patterns one claim may list; a token is a header, so this also bounds per-connection memory. */
export const MAX_GRANT_PATTERNS = 256;

/**
 * True for a channel pattern: `*`, a channel name, or a channel-name prefix followed by `*`.
 *
 * @example
 * isValidChannelPattern('team.*'); // true
 * isValidChannelPattern('team.*.x'); // false
 */
export function isValidChannelPattern(pattern: unknown): pattern is string {
  if (typeof pattern !== 'string') return false;
  if (pattern === '*') return true;
  return isValidChannel(pattern.endsWith('*') ? pattern.slice(0, -1) : pattern);
}

export function grantAllows(patterns: readonly string[], channel: string): boolean {
  for (const pattern of patterns) if (channelMatches(pattern, channel)) return true;
  return false;
}

/**
 * Reads one claim (`subscribe` or `publish`) as a list of patterns. A missing claim grants nothing;
 * anything but an array of valid patterns is an error, so a typo in a token never widens access.
 */
export function readPatternClaim(
  value: unknown,
  name: string,
): { ok: true; value: string[] } | { ok: false; error: string } {
  if (value === undefined) return { ok: true, value: [] };
  if (!Array.isArray(value) || value.length > MAX_GRANT_PATTERNS) {
    return {
      ok: false,
      error: `claim "${name}" must be an array of at most ${MAX_GRANT_PATTERNS} channel patterns`,
    };
  }
  for (const pattern of value) {
    if (!isValidChannelPattern(pattern)) {
      return { ok: false, error: `claim "${name}" holds an invalid channel pattern` };
    }
  }
  return { ok: true, value: [...(value as string[])] };
}
