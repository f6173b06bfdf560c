import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/** How much of a refused body the server still reads and throws away before closing. */
export interface DiscardLimits {
  /** Bytes of a refused body read and dropped; past it the connection is cut. */
  maxDiscardBytes: number;
  /** Time allowed for the client to finish sending (or close) after a refusal, ms; past it the connection is cut. */
  maxDiscardMs: number;
}

/**
 * Makes every refusal of a request body reach the client (413 too large, 415 wrong type, 401/403
 * before the body, any error answered while the body is still arriving), on the routes of `app` (or of
 * the plugin scope it is called on):
 *
 * - the answer goes out with `Connection: close`; then, instead of closing at once, the server ends
 *   its side and reads and drops what the client is still sending, up to `maxDiscardBytes` and
 *   `maxDiscardMs`, and closes when the body is over (or the client closes, or a bound is hit).
 *   Closing a socket with unread bytes in it sends a TCP reset, and a reset makes the client's
 *   network stack drop the answer it has not read yet: the client sees "connection reset" instead of
 *   the 413 it was sent. Nothing read is kept, so memory does not grow with what is discarded;
 * - a request marked by `awaitContinue` (`Expect: 100-continue`, not answered yet) gets its
 *   `100 Continue` once it has passed the checks that need no body (credentials, permission, declared
 *   length against the route's body limit), so a request refused on its headers gets its final status
 *   instead and its body is never sent.
 *
 * @example
 * registerBodyRefusals(app, { maxDiscardBytes: 8 << 20, maxDiscardMs: 5000 }); // before listening
 * deferContinue(app.server);                                                 // createServer's own server
 */
export function registerBodyRefusals(app: FastifyInstance, limits: DiscardLimits): void {
  app.addHook('preParsing', async (request, reply, payload) => {
    if (!expectsContinue.delete(request.raw)) return payload;
    const declared = Number(request.headers['content-length']);
    // Over the limit: Fastify's body parser refuses on the declared length, before reading anything.
    if (!(declared > request.routeOptions.bodyLimit)) reply.raw.writeContinue();
    return payload;
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const raw = request.raw;
    if (reply.statusCode >= 400 && bodyStillArriving(raw)) {
      reply.header('connection', 'close');
      discardRest(raw, limits);
    }
    return payload;
  });
}

/**
 * Hands every `Expect: 100-continue` request of `server` to its `request` listeners without the
 * `100 Continue` Node would send first: the routes registered with `registerBodyRefusals` send it, or
 * their final answer instead. For a server whose every route is livedash's (`createServer`).
 */
export function deferContinue(server: Server): void {
  server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    awaitContinue(request);
    server.emit('request', request, response);
  });
}

/**
 * Marks a request that asked for `100 Continue` and was not given it: a route with `registerBodyRefusals`
 * sends it once the request passes the checks that need no body. A request so marked that reaches
 * another route waits for a body that never comes, so only mark what livedash serves.
 */
export function awaitContinue(request: IncomingMessage): void {
  expectsContinue.add(request);
}

/** Requests that asked for `100 Continue` and have not been given it (or a final answer) yet. */
const expectsContinue = new WeakSet<IncomingMessage>();

/** True when the request has a body the server has not received in full. */
export function bodyStillArriving(request: IncomingMessage): boolean {
  if (request.complete) return false;
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Reads and drops the rest of `request`'s body, then closes. Node's HTTP server closes a
 * `Connection: close` response's socket as soon as the answer is written (`destroySoon`); for this one
 * socket that becomes a half-close — our side ends, the client's side is still read — and the socket
 * is destroyed when the body is over, the client closes, or a bound is hit.
 */
function discardRest(request: IncomingMessage, limits: DiscardLimits): void {
  const socket = request.socket as Socket & { destroySoon?: () => void };
  if (socket.destroyed) return;
  let discarded = 0;
  const timer = setTimeout(() => socket.destroy(), limits.maxDiscardMs);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.destroySoon = () => socket.end();
  request.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > limits.maxDiscardBytes) socket.destroy();
  });
  // The whole body is in: nothing unread is left, so closing now cannot reset the answer (which the
  // kernel still delivers after the close). Not before the answer has been handed to the kernel.
  request.once('end', () => {
    if (socket.writableFinished) socket.destroy();
    else socket.once('finish', () => socket.destroy());
  });
  request.resume();
}
