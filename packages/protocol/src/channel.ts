/**
 * Channel names: a letter, digit or `_` first, then up to 127 of letters, digits and `_ . : -`.
 * Names starting with `$` are reserved for control frames, so no channel can collide with one.
 */
export const CHANNEL_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}$/;

export const MAX_CHANNEL_LENGTH = 128;

/** True when `name` is a valid channel name. */
export function isValidChannel(name: unknown): name is string {
  return typeof name === 'string' && name.length <= MAX_CHANNEL_LENGTH && CHANNEL_PATTERN.test(name);
}

/**
 * Channel patterns select channels in configuration (history bounds, permissions):
 * an exact name, `*` for every channel, or a prefix ending in `*` such as `team.*` or `metrics*`.
 */
export function channelMatches(pattern: string, channel: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return channel.startsWith(pattern.slice(0, -1));
  return pattern === channel;
}
