/**
 * Reads the presented token: `Authorization: Bearer <token>` first, then `?token=` (EventSource and
 * browser WebSocket cannot set headers). Undefined when neither is there. An `Authorization` header
 * with another scheme counts as no token, not as a wrong one.
 *
 * @example
 * bearerToken(request.headers.authorization, new URL(request.url, 'http://x').searchParams.get('token'));
 */
export function bearerToken(authorization: string | undefined, queryToken: unknown): string | undefined {
  if (typeof authorization === 'string') {
    const match = /^Bearer[ \t]+(\S{1,8192})[ \t]*$/i.exec(authorization);
    if (match) return match[1];
  }
  if (typeof queryToken === 'string' && queryToken.length > 0 && queryToken.length <= 8192) return queryToken;
  return undefined;
}

/**
 * Replaces the value of every `token` query parameter in a URL or path with `[redacted]`, so
 * request logs and error messages never hold a credential.
 */
export function redactToken(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]');
}
