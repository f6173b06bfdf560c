import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ErrorCodes } from '@livedash/protocol';
import type { PeerFaults } from '../peer-faults.js';
import type { ServerMetrics } from '../server-metrics.js';
import { asksForWebSocket, serveIgnoringUpgrade } from './other-upgrade.js';
import { routeOf } from './request-target.js';
import { refuseUpgrade } from './upgrade-refusal.js';
import type { WsEndpoint } from './ws.js';

export interface ListenerContext {
  metrics: ServerMetrics;
  /** Longest request-target accepted, bytes (the header block limit). */
  maxTargetBytes: number;
}

/**
 * The HTTP server's `request` listener around Fastify's: the request-target is parsed first (a
 * malformed one is answered 400 with the reason, and the connection closed; see `routeOf`), and an
 * exception that escapes closes that one connection — counted and logged, never the process.
 */
export function guardRequests(
  handler: (request: IncomingMessage, response: ServerResponse) => void,
  ctx: ListenerContext,
): (request: IncomingMessage, response: ServerResponse) => void {
  const { faults } = ctx.metrics;
  return (request, response) => {
    try {
      const target = routeOf(request, ctx.maxTargetBytes);
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
 * The HTTP server's `upgrade` listener: WebSocket upgrades go to `ws` (which parses the target and
 * refuses what it does not serve), any other `Upgrade` is served as the plain request it also is. An
 * exception that escapes closes that one socket, counted and logged.
 */
export function handleUpgrades(server: Server, ws: WsEndpoint, metrics: ServerMetrics): void {
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    try {
      if (asksForWebSocket(request)) ws.handleUpgrade(request, socket, head);
      // Parsed (and refused if malformed) by the request listener once handed back.
      else serveIgnoringUpgrade(server, request, socket, head);
    } catch (error) {
      closeAfterFault(metrics.faults, 'upgrade', socket, error);
    }
  });
  // This server is no proxy: without a listener Node would close a CONNECT without a word.
  server.on('connect', (_request: IncomingMessage, socket: Duplex) => {
    try {
      refuseUpgrade(socket, { status: 405, message: 'CONNECT is not served: this server is not a proxy' });
    } catch (error) {
      closeAfterFault(metrics.faults, 'upgrade', socket, error);
    }
  });
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
