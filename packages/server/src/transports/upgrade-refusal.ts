import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
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
 * After a refusal's answer, how long the peer has to read it and close before the socket is destroyed,
 * ms. Until then what it sends is read and dropped (so closing does not reset the connection under an
 * answer it has not read yet); a peer that never reads, never closes, or keeps sending is cut then.
 */
export const REFUSAL_LINGER_MS = 1000;

/**
 * Answers an upgrade request that will not become a WebSocket with a plain HTTP response, ends the
 * connection and destroys the socket at most `REFUSAL_LINGER_MS` later, whatever the peer does
 * (a WebSocket client reads only the status; curl and logs see the reason).
 */
export function refuseUpgrade(socket: Duplex, refusal: UpgradeRefusal): void {
  const { status, headers = {}, code, message } = refusal;
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Refused'}\r\nConnection: close\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  const body =
    message === undefined ? '' : JSON.stringify({ error: { code: code ?? codeOf(status), message } });
  if (body !== '') head += 'Content-Type: application/json; charset=utf-8\r\n';
  head += `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(head + body);
  releaseRefusedSocket(socket);
}

/**
 * Destroys a socket whose answer is written within `REFUSAL_LINGER_MS`, reading and dropping what the
 * peer still sends meanwhile; a peer that closes first frees it sooner.
 */
export function releaseRefusedSocket(socket: Duplex): void {
  socket.on('data', discard);
  socket.resume();
  destroyWithin(socket, REFUSAL_LINGER_MS);
}

/**
 * For a refused HTTP request whose answer goes out with `Connection: close`: once the answer is
 * written, Node would destroy the socket at once (`destroySoon`), which resets the connection if the
 * peer's next bytes are still unread and can cost it the answer. Instead the server ends its side
 * and destroys the socket when the peer closes or at most `REFUSAL_LINGER_MS` later; meanwhile the
 * HTTP parser still reads (and drops) what the peer sends, as for a refused upgrade.
 */
export function releaseAfterAnswer(socket: Socket): void {
  const closing = socket as Socket & { destroySoon?: () => void };
  closing.destroySoon = () => {
    socket.end();
    destroyWithin(socket, REFUSAL_LINGER_MS);
  };
}

function destroyWithin(socket: Duplex, ms: number): void {
  const timer = setTimeout(destroyLingering, ms, socket);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

function discard(): void {}

function destroyLingering(socket: Duplex): void {
  socket.destroy();
}

function codeOf(status: number): string {
  if (status === 404) return ErrorCodes.NOT_FOUND;
  if (status === 429) return ErrorCodes.RATE_LIMITED;
  if (status === 503) return ErrorCodes.SHUTTING_DOWN;
  if (status === 401) return ErrorCodes.UNAUTHORIZED;
  if (status === 403) return ErrorCodes.FORBIDDEN;
  return ErrorCodes.BAD_COMMAND;
}
