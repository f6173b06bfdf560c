import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';

/** True when the request asks for WebSocket (`Upgrade` may list several protocols). */
export function asksForWebSocket(request: IncomingMessage): boolean {
  const upgrade = request.headers.upgrade;
  if (upgrade === undefined) return false;
  return upgrade.split(',').some((token) => token.trim().toLowerCase() === 'websocket');
}

/** Headers that exist only to ask for an upgrade, and `Connection` tokens that name them. */
const UPGRADE_ONLY = new Set(['upgrade', 'http2-settings']);

/**
 * Serves a request that asks to upgrade to something other than WebSocket as the plain HTTP request
 * it also is (RFC 9110 §7.8: a server may ignore `Upgrade`). Java's `HttpClient` and `curl --http2`
 * add `Upgrade: h2c` to every request to an `http://` URL; Node hands every request with an `Upgrade`
 * header to the `upgrade` event once anyone listens to it, so without this a publish from them got
 * 404. The request head is written back without its upgrade headers, in front of the bytes that came
 * after it, and the socket handed to the HTTP server again as if it had just connected.
 */
export function serveIgnoringUpgrade(
  server: Server,
  request: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  const lines = [`${request.method} ${request.url} HTTP/${request.httpVersion}`];
  const raw = request.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const lower = name.toLowerCase();
    if (UPGRADE_ONLY.has(lower)) continue;
    if (lower === 'connection') {
      const kept = value
        .split(',')
        .map((token) => token.trim())
        .filter((token) => token !== '' && !UPGRADE_ONLY.has(token.toLowerCase()));
      if (kept.length > 0) lines.push(`${name}: ${kept.join(', ')}`);
      continue;
    }
    lines.push(`${name}: ${value}`);
  }
  // Node's parser reads header bytes as latin1, so latin1 writes back the bytes that came.
  const replay = Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), head]);
  whenNoResponsePending(socket, () => {
    if (socket.destroyed) return;
    socket.unshift(replay);
    // An https server's HTTP side listens to `secureConnection`; its `connection` would start TLS again.
    server.emit(socket instanceof TLSSocket ? 'secureConnection' : 'connection', socket);
  });
}

/**
 * Calls `then` once no response to an earlier request on this socket is still being written. Requests
 * pipelined ahead of this one in the same write are answered by the HTTP server that read them, which
 * hands the socket from one response to the next; the fresh HTTP server state made for this request
 * would otherwise queue its answer behind a response it never sees finish, and never send it. Node
 * keeps the response holding the socket in `_httpMessage`; without it the request is served at once.
 *
 * Handing the socket to `upgrade`, Node took away its own `error` and `timeout` listeners; until the
 * socket is handed back, these stand in for them: a reset is not an unhandled error (which would stop
 * the process), and a peer that reads none of the answers ahead is still cut after the server's timeout.
 */
function whenNoResponsePending(socket: Duplex, then: () => void): void {
  const pending = responseHolding(socket);
  if (!pending || socket.destroyed) {
    then();
    return;
  }
  const cut = () => socket.destroy();
  socket.on('error', cut);
  socket.on('timeout', cut);
  let current = pending;
  const onEnd = () => {
    current.off('finish', onEnd);
    current.off('close', onEnd);
    // The server's own 'finish' listener (added first) has handed the socket to the next response.
    const following = responseHolding(socket);
    if (following && following !== current && !socket.destroyed) {
      current = following;
      current.on('finish', onEnd);
      current.on('close', onEnd);
      return;
    }
    // Cut meanwhile: `cut` stays, for an error the socket still reports while closing.
    if (socket.destroyed) return;
    socket.off('error', cut);
    socket.off('timeout', cut);
    then();
  };
  current.on('finish', onEnd);
  current.on('close', onEnd);
}

function responseHolding(socket: Duplex): ServerResponse | null | undefined {
  return (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
}
