import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** RFC 6455 §4.2.2: what a server appends to the client's key before hashing it. */
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** A base64-encoded 16-byte value. */
const KEY_PATTERN = /^[+/0-9A-Za-z]{22}==$/;
/** An HTTP token (RFC 9110 §5.6.2), what a subprotocol name must be. */
const TOKEN_PATTERN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Why a handshake was refused: the HTTP status, the reason sent in the JSON error body, and, for a
 * wrong version, the header RFC 6455 §4.4 asks for.
 */
export interface HandshakeRefusal {
  status: number;
  message: string;
  headers?: Record<string, string>;
}

/**
 * Checks an upgrade request against RFC 6455 §4.2.1 and returns the `101` response to write, or why
 * not. A client's subprotocol offer is answered with its first protocol (what `ws` did, so clients that
 * send one keep working); extensions (compression) are never accepted.
 */
export function acceptHandshake(
  request: IncomingMessage,
): { ok: true; response: string } | { ok: false; refusal: HandshakeRefusal } {
  if (request.method !== 'GET') {
    return { ok: false, refusal: { status: 405, message: 'a WebSocket upgrade must be a GET request' } };
  }
  if (request.headers.upgrade?.toLowerCase() !== 'websocket') {
    return { ok: false, refusal: { status: 400, message: 'the Upgrade header must be exactly "websocket"' } };
  }
  // RFC 6455 §4.4: a version the server does not speak is refused with the one it does.
  if (request.headers['sec-websocket-version'] !== '13') {
    const message = 'Sec-WebSocket-Version must be 13, the only version this server speaks';
    return { ok: false, refusal: { status: 400, message, headers: { 'Sec-WebSocket-Version': '13' } } };
  }
  const key = request.headers['sec-websocket-key'];
  if (typeof key !== 'string' || !KEY_PATTERN.test(key.trim())) {
    const message = 'Sec-WebSocket-Key must be a base64-encoded 16-byte value';
    return { ok: false, refusal: { status: 400, message } };
  }
  let protocol: string | undefined;
  const offered = request.headers['sec-websocket-protocol'];
  if (typeof offered === 'string') {
    // A comma-separated list of tokens, checked without a backtracking regex over the whole header.
    const protocols = offered.split(',').map((name) => name.trim());
    if (!protocols.every((name) => TOKEN_PATTERN.test(name))) {
      const message = 'Sec-WebSocket-Protocol must be a comma-separated list of protocol names';
      return { ok: false, refusal: { status: 400, message } };
    }
    protocol = protocols[0];
  }
  const accept = createHash('sha1').update(`${key.trim()}${GUID}`).digest('base64');
  let response = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n`;
  if (protocol) response += `Sec-WebSocket-Protocol: ${protocol}\r\n`;
  return { ok: true, response: `${response}\r\n` };
}
