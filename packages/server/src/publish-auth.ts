import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * True when `given` equals the publish token. Compared in constant time over SHA-256 digests, so
 * neither the content nor the length of the token leaks through timing. An empty configured token
 * matches nothing: publishing is then off.
 */
export function publishTokenMatches(expected: string, given: string | undefined): boolean {
  if (expected === '' || given === undefined) return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer <token>` header, if there is one. */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const header = headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
