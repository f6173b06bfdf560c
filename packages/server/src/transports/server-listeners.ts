import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ErrorCodes } from '@livedash/protocol';
import type { PeerFaults } from '../peer-faults.js';
import type { ServerMetrics } from '../server-metrics.js';
import { answerAndClose } from './http-errors.js';
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
        answerAndClose(response, 400, target.error);
        return;
      }
      const coding = unsupportedCoding(request);
      if (coding !== undefined) {
        ctx.metrics.protocolErrors.inc({ code: ErrorCodes.BAD_COMMAND });
        answerAndClose(
          response,
          501,
          `the transfer coding "${coding}" is not implemented: send the body as it is, or only chunked`,
        );
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

/**
 * A transfer coding other than `chunked` in a request's `Transfer-Encoding` (Node's parser has already
 * refused one whose last coding is not `chunked`): the body would be read as if it were not encoded.
 */
function unsupportedCoding(request: IncomingMessage): string | undefined {
  const header = request.headers['transfer-encoding'];
  if (header === undefined) return undefined;
  return header
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .find((coding) => coding !== '' && coding !== 'chunked');
}

/**
 * `Expect` with anything but `100-continue` (which Node and body-refusal.ts answer) gets 417 with the
 * JSON error body, instead of Node's bare 417.
 */
export function refuseExpectations(server: Server): void {
  server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    answerAndClose(response, 417, 'the only Expect this server meets is 100-continue');
  });
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
