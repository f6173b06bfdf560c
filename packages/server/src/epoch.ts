import { randomBytes } from 'node:crypto';

/**
 * A new random epoch: 16 base64url characters (96 bits), inside `EPOCH_PATTERN`, so it never collides
 * with a previous life of the same channel and fits resume tokens without escaping.
 */
export function newEpoch(): string {
  return randomBytes(12).toString('base64url');
}
