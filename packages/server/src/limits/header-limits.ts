import type { IncomingMessage } from 'node:http';

/**
 * True when the request carries more header lines than `maxHeaders`. Node's own `maxHeadersCount`
 * silently drops the excess instead of refusing, so the server sets it one above the limit and
 * refuses here (HTTP 431) when it is reached.
 */
export function tooManyHeaders(request: IncomingMessage, maxHeaders: number): boolean {
  return request.rawHeaders.length / 2 > maxHeaders;
}
