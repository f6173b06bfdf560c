import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ErrorCodes } from '@livedash/protocol';
import type { PeerFaults } from '../peer-faults.js';
import type { ServerMetrics } from '../server-metrics.js';
import { asksForWebSocket, serveIgnoringUpgrade } from './other-upgrade.js';
import { originForm, parseRequestTarget, type RequestTarget } from './request-target.js';
import { refuseUpgrade } from './upgrade-refusal.js';
import type { WsTransport } from './ws.js';

export interface ListenerContext {
  metrics: ServerMetrics;
  /** Longest request-target accepted, bytes (the header block limit). */
  maxTargetBytes: number;
}

/**
 * The HTTP server's `request` listener around Fastify's: the request-target is parsed first (a
 * malformed one is answered 400 with the reason, and the connection closed), an absolute-form target
 * is routed as its path with its authority as `Host` (RFC 9112 §3.2.2), and an exception that escapes
 * closes that one connection — counted and logged, never the process.
 */
export function guardRequests(
  handler: (request: IncomingMessage, response: ServerResponse) => void,
  ctx: ListenerContext,
): (request: IncomingMessage, response: ServerResponse) => void {
  const { faults } = ctx.metrics;
  return (request, response) => {
    try {
      const target = routableTarget(request, ctx);
      if (!target.ok) {
        ctx.metrics.protocolErrors.inc({ code: ErrorCodes.BAD_COMMAND });
        answerBadTarget(response, target.error);
        return;
      }
      handler(request, response);
    } catch (error) {
      closeAfterFault(faults, 'request', request.socket, error);
    }
  };
}

/**
 * The HTTP server's `upgrade` listener: WebSocket upgrades go to `ws`, any other `Upgrade` is served as
 * the plain request it also is. A malformed target is refused 400 with the reason; an exception that
 * escapes closes that one socket, counted and logged.
 */
export function handleUpgrades(server: Server, ws: WsTransport, ctx: ListenerContext): void {
  const { faults } = ctx.metrics;
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    try {
      // A named function, not a closure: a closure here would share this scope and keep the upgrade
      // request (headers and all) alive for the whole life of the connection.
      socket.on('error', destroySocket);
      if (!asksForWebSocket(request)) {
        // Parsed (and refused if malformed) by the request listener once handed back.
        serveIgnoringUpgrade(server, request, socket, head);
        return;
      }
      const target = routableTarget(request, ctx);
      if (!target.ok) {
        ctx.metrics.protocolErrors.inc({ code: ErrorCodes.BAD_COMMAND });
        refuseUpgrade(socket, { status: 400, message: target.error });
        return;
      }
      ws.handleUpgrade(request, socket, head, target.value);
    } catch (error) {
      closeAfterFault(faults, 'upgrade', socket, error);
    }
  });
}

/** The request's target, parsed; absolute-form rewritten to origin-form with its authority as `Host`. */
function routableTarget(
  request: IncomingMessage,
  ctx: ListenerContext,
): { ok: true; value: { path: string; query: string } } | { ok: false; error: string } {
  const parsed = parseRequestTarget(request.url, ctx.maxTargetBytes);
  if (!parsed.ok) return parsed;
  const target: RequestTarget = parsed.value;
  if (target.form === 'asterisk') {
    return request.method === 'OPTIONS'
      ? { ok: true, value: { path: '*', query: '' } }
      : { ok: false, error: 'the request target * is only for OPTIONS' };
  }
  if (target.form === 'authority')
    return { ok: false, error: 'a host:port request target is only for CONNECT' };
  if (target.form === 'absolute') {
    request.url = originForm(target) ?? '/';
    request.headers.host = target.authority;
  }
  return { ok: true, value: { path: target.path, query: target.query } };
}

function answerBadTarget(response: ServerResponse, reason: string): void {
  const body = JSON.stringify({ error: { code: ErrorCodes.BAD_COMMAND, message: reason } });
  response.writeHead(400, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  response.end(body);
}

function closeAfterFault(
  faults: PeerFaults,
  where: 'request' | 'upgrade',
  socket: Duplex | null | undefined,
  error: unknown,
): void {
  faults.record(where, error);
  try {
    socket?.destroy();
  } catch {
    // Nothing more can be done for this peer; the fault is counted and logged.
  }
}

function destroySocket(this: Duplex): void {
  this.destroy();
}
