import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { CloseCodes, type LivedashError, type Result } from '@livedash/protocol';
import WebSocket, { WebSocketServer } from 'ws';
import type { Principal } from '../auth/authenticator.js';
import { ChannelPolicies } from '../channel-policy.js';
import { FlushScheduler } from '../outgoing-queue.js';
import { WsConnection, type WsConnectionContext, type WsOutgoing, wsOutgoingHooks } from './ws-connection.js';
import { FrameCache } from './ws-frame.js';

/**
 * The WebSocket transport at `/ws`, on the `ws` package in `noServer` mode: the HTTP server's
 * `upgrade` event hands sockets here, so WebSocket, SSE and HTTP share one port.
 *
 * Heartbeat: every `heartbeatMs` each connection gets a ping frame, plus a `$heartbeat` frame when
 * nothing else was sent meanwhile (browsers cannot see pings); one that has not answered the previous
 * ping (nor sent anything) is terminated.
 */
export class WsTransport {
  readonly #ctx: WsConnectionContext;
  readonly #wss: WebSocketServer;
  readonly #outgoing: WsOutgoing;
  #connections = new Set<WsConnection>();
  #heartbeat: NodeJS.Timeout;
  #closing = false;

  constructor(ctx: WsConnectionContext) {
    this.#ctx = ctx;
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: ctx.options.maxFrameBytes,
      // Frames are small JSON; compression costs CPU per client and was a source of ws advisories.
      perMessageDeflate: false,
      clientTracking: false,
    });
    const { metrics } = ctx;
    this.#outgoing = {
      scheduler: new FlushScheduler((frames, bytes) => {
        metrics.messagesOut.inc({ transport: 'ws' }, frames);
        metrics.bytesOut.inc({ transport: 'ws' }, bytes);
      }),
      maxQueueBytes: ctx.options.maxQueueBytes,
      policies: new ChannelPolicies(ctx.options.stateChannels),
      hooks: wsOutgoingHooks(new FrameCache(), metrics),
    };
    this.#heartbeat = setInterval(() => this.#beat(), ctx.options.heartbeatMs);
    this.#heartbeat.unref();
  }

  get size(): number {
    return this.#connections.size;
  }

  /** Takes an HTTP upgrade request; anything but `/ws` (or while shutting down) is refused. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    // A named function, not a closure: a closure here would share this function's scope and keep the
    // upgrade request (headers and all) alive for the whole life of the connection.
    socket.on('error', destroySocket);
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== '/ws' || !this.#ctx.options.transports.ws) {
      refuse(socket, 404, 'Not Found');
      return;
    }
    if (this.#closing) {
      refuse(socket, 503, 'Service Unavailable');
      return;
    }
    // Header count, Origin and connections per address are refused as HTTP; credentials are checked
    // after the handshake so a browser (which cannot read an upgrade's status) gets a code and close code.
    const admission = this.#ctx.access.admitWebSocket(request);
    if (!admission.ok) {
      refuse(socket, admission.error.status, STATUS_CODES[admission.error.status] ?? 'Refused');
      return;
    }
    socket.once('close', admission.value.release);
    this.#ctx.access.authenticate(request, url.searchParams.get('token') ?? undefined).then(
      (who) => {
        if (socket.destroyed) return;
        this.#wss.handleUpgrade(request, socket, head, (ws) => this.#accept(ws, who));
      },
      () => socket.destroy(),
    );
  }

  /**
   * Closes every connection with 1012 (service restart: clients reconnect soon) and resolves when all
   * are gone, terminating those still open after `timeoutMs`.
   */
  async close(timeoutMs: number): Promise<void> {
    this.#closing = true;
    clearInterval(this.#heartbeat);
    // Frames fanned out this turn go before the close frames.
    this.#outgoing.scheduler.flush();
    const closed = [...this.#connections].map(
      (connection) =>
        new Promise<void>((resolve) => {
          if (connection.ws.readyState === WebSocket.CLOSED) return resolve();
          connection.ws.once('close', () => resolve());
          connection.ws.close(CloseCodes.SERVICE_RESTART, 'server restarting');
        }),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.all(closed), timeout]);
    clearTimeout(timer);
    for (const connection of this.#connections) connection.ws.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  #accept(ws: WebSocket, who: Result<Principal, LivedashError>): void {
    const { metrics } = this.#ctx;
    // The HTTP server's idle timeout must not cut a quiet WebSocket; heartbeats watch it instead.
    const socket = (ws as unknown as { _socket?: { setTimeout?: (ms: number) => void } })._socket;
    socket?.setTimeout?.(0);
    ws.on('error', (error: Error & { code?: string }) => {
      // Protocol errors (oversized or malformed frames) are answered by ws with a close code; the
      // 'error' event only needs a listener so it does not crash the process.
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.#ctx.access.metrics.limitHit('frame_size');
    });
    const principal = who.ok ? who.value : this.#ctx.access.authenticator.anonymous;
    const connection = new WsConnection(ws, this.#ctx, principal, this.#outgoing);
    this.#connections.add(connection);
    metrics.connections.inc({ transport: 'ws' });
    ws.on('close', () => {
      this.#connections.delete(connection);
      metrics.connections.dec({ transport: 'ws' });
    });
    if (this.#closing) ws.close(CloseCodes.SERVICE_RESTART, 'server restarting');
    else if (!who.ok) connection.closeWith(who.error);
  }

  #beat(): void {
    const now = Date.now();
    const idleAfter = this.#ctx.options.heartbeatMs * 0.9;
    for (const connection of this.#connections) {
      if (!connection.alive) {
        connection.ws.terminate();
        continue;
      }
      connection.alive = false;
      connection.ws.ping();
      if (now - connection.lastSentAt >= idleAfter) connection.send(`{"type":"$heartbeat","ts":${now}}`);
    }
  }
}

function destroySocket(this: Duplex): void {
  this.destroy();
}

function refuse(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
