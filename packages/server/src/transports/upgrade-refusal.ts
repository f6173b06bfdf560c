import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { ErrorCodes } from '@livedash/protocol';

/** What a refused upgrade is answered with: its status, extra header lines, and a reason for the body. */
export interface UpgradeRefusal {
  status: number;
  headers?: Record<string, string>;
  /** The error code in the body (default: one that fits the status). */
  code?: string;
  /** Sent as livedash's JSON error body (`{"error":{"code","message"}}`); without it the body is empty. */
  message?: string;
}

/**
 * Answers an upgrade request that will not become a WebSocket with a plain HTTP response and ends the
 * connection (a WebSocket client reads only the status; curl and logs see the reason).
 */
export function refuseUpgrade(socket: Duplex, refusal: UpgradeRefusal): void {
  const { status, headers = {}, code, message } = refusal;
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Refused'}\r\nConnection: close\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  const body =
    message === undefined ? '' : JSON.stringify({ error: { code: code ?? codeOf(status), message } });
  if (body !== '') head += 'Content-Type: application/json; charset=utf-8\r\n';
  head += `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  if (socket.writable) socket.end(head + body);
  else socket.destroy();
}

function codeOf(status: number): string {
  if (status === 404) return ErrorCodes.NOT_FOUND;
  if (status === 429) return ErrorCodes.RATE_LIMITED;
  if (status === 503) return ErrorCodes.SHUTTING_DOWN;
  if (status === 401) return ErrorCodes.UNAUTHORIZED;
  if (status === 403) return ErrorCodes.FORBIDDEN;
  return ErrorCodes.BAD_COMMAND;
}
