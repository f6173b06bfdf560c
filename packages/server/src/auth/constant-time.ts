import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares two secrets in time that does not depend on where they differ (nor, by hashing both to
 * the same length first, on their lengths), so a client cannot guess a token byte by byte.
 *
 * @example
 * constantTimeEqual(bearer, options.publishToken);
 */
export function constantTimeEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  // The length check after hashing only guards against an empty expected secret matching "".
  return timingSafeEqual(a, b) && expected.length > 0;
}
