import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { CloseCodes, ErrorCodes } from '@livedash/protocol';
import type { AccessControl } from '../auth/access-control.js';
import { ChannelPolicies } from '../channel-policy.js';
import { FlushScheduler } from '../outgoing-queue.js';
import { HeartbeatWheel } from './heartbeat-wheel.js';
import { routeOf } from './request-target.js';
import { refuseUpgrade } from './upgrade-refusal.js';
import { WsConnection, type WsConnectionContext, type WsOutgoing, wsOutgoingHooks } from './ws-connection.js';
import { frameCache } from './ws-frame.js';
import { acceptHandshake } from './ws-handshake.js';

/** How long a close handshake may take before the socket is destroyed, ms. */
const CLOSE_TIMEOUT_MS = 5000;

/** What every WebSocket transport's caller provides (the connection context without the transport's own parts). */
export type WsTransportContext = Omit<WsConnectionContext, 'limits' | 'released'>;

/**
 * The WebSocket endpoint at `/ws`, where the client's `WebSocketTransport` connects: the HTTP
 * server's `upgrade` event hands sockets here, so WebSocket, SSE and HTTP share one port.
 * The WebSocket protocol itself is livedash's own (ws-socket.ts): handshake, frame reader, pings
 * and the close handshake.
 *
 * Heartbeat: every `heartbeatMs` each connection is visited once (`beat` below), the visits spread
 * over the period by a HeartbeatWheel so thousands of pings never go out in one turn.
 */
export class WsEndpoint {
  readonly #ctx: WsConnectionContext;
  readonly #outgoing: WsOutgoing;
  readonly #connections: HeartbeatWheel<WsConnection>;
  /** The path WebSockets are served at (`/ws`, or under a prefix). */
  readonly #path: string;
  #closing = false;
  /** Resolves `close()` once the last connection is gone. */
  #allClosed: (() => void) | undefined;

  constructor(ctx: WsTransportContext, path = '/ws') {
    const { metrics } = ctx;
    this.#path = path;
    this.#ctx = {
      ...ctx,
      // Compression is never negotiated: frames are small JSON, and deflate costs CPU and memory per client.
      limits: {
        maxPayload: ctx.options.maxFrameBytes,
        closeTimeoutMs: CLOSE_TIMEOUT_MS,
        // The bound of a refused HTTP body serves a refused WebSocket message too: one setting for both.
        maxDiscardBytes: ctx.options.maxDiscardBytes,
      },
      released: (connection) => {
        if (!this.#connections.delete(connection)) return;
        metrics.connections.dec({ transport: 'ws' });
        if (this.#connections.size === 0) this.#allClosed?.();
      },
    };
    this.#outgoing = {
      scheduler: new FlushScheduler((frames, bytes) => {
        metrics.messagesOut.inc({ transport: 'ws' }, frames);
        metrics.bytesOut.inc({ transport: 'ws' }, bytes);
      }),
      maxQueueBytes: ctx.options.maxQueueBytes,
      policies: new ChannelPolicies(ctx.options.stateChannels),
      hooks: wsOutgoingHooks(frameCache(), metrics),
    };
    const idleAfter = ctx.options.heartbeatMs * 0.9;
    this.#connections = new HeartbeatWheel(
      ctx.options.heartbeatMs,
      (connection, now) => beat(connection, now, idleAfter),
      (connection, error) => {
        metrics.faults.record('timer', error);
        connection.ws.terminate();
      },
    );
  }

  get size(): number {
    return this.#connections.size;
  }

  /**
   * Takes an HTTP upgrade request; a malformed target is refused 400 with the reason, anything but this
   * transport's path (or while shutting down) 404 / 503. Never throws: an unexpected exception closes
   * this one socket and is counted (`livedash_peer_faults_total{where="upgrade"}`).
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    try {
      this.#upgrade(request, socket, head);
    } catch (error) {
      this.#ctx.metrics.faults.record('upgrade', error);
      socket.destroy();
    }
  }

  #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    // A named function, not a closure: a closure here would share this function's scope and keep the
    // upgrade request (headers and all) alive for the whole life of the connection.
    socket.on('error', destroySocket);
    const target = routeOf(request, this.#ctx.options.maxHeaderBytes);
    if (!target.ok) {
      this.#ctx.metrics.protocolErrors.inc({ code: ErrorCodes.BAD_COMMAND });
      refuseUpgrade(socket, { status: 400, message: target.error });
      return;
    }
    if (target.value.path !== this.#path || !this.#ctx.options.transports.ws) {
      const message = this.#ctx.options.transports.ws
        ? `no WebSocket endpoint at ${target.value.path}; it is ${this.#path}`
        : 'this server does not serve WebSocket (see its transports option)';
      refuseUpgrade(socket, { status: 404, message });
      return;
    }
    if (this.#closing) {
      refuseUpgrade(socket, { status: 503, message: 'the server is shutting down; reconnect shortly' });
      return;
    }
    // Header count, Origin and connections per address are refused as HTTP; credentials are checked
    // after the handshake so a browser (which cannot read an upgrade's status) gets a code and close code.
    const handshake = acceptHandshake(request);
    if (!handshake.ok) {
      refuseUpgrade(socket, handshake.refusal);
      return;
    }
    const admission = this.#ctx.access.admitWebSocket(request);
    if (!admission.ok) {
      const { status, code, message } = admission.error;
      refuseUpgrade(socket, { status, code, message });
      return;
    }
    socket.once('close', admission.value.release);
    const { response } = handshake;
    const token = new URLSearchParams(target.value.query).get('token') ?? undefined;
    this.#ctx.access.authenticate(request, token).then(
      (who) => {
        try {
          this.#open(socket, response, who, head);
        } catch (error) {
          this.#ctx.metrics.faults.record('upgrade', error);
          socket.destroy();
        }
      },
      () => socket.destroy(),
    );
  }

  /** The handshake's answer, then the connection: refused credentials close it with their code at once. */
  #open(
    socket: Duplex,
    response: string,
    who: Awaited<ReturnType<AccessControl['authenticate']>>,
    head: Buffer,
  ): void {
    if (socket.destroyed || !socket.writable) {
      socket.destroy();
      return;
    }
    socket.write(response);
    const tcp = socket as Socket;
    // The HTTP server's idle timeout must not cut a quiet WebSocket; heartbeats watch it instead.
    tcp.setTimeout(0);
    tcp.setNoDelay(true);
    const principal = who.ok ? who.value : this.#ctx.access.authenticator.anonymous;
    const connection = new WsConnection(tcp, this.#ctx, principal, this.#outgoing);
    this.#connections.add(connection);
    this.#ctx.metrics.connections.inc({ transport: 'ws' });
    if (this.#closing) connection.ws.close(CloseCodes.SERVICE_RESTART, 'server restarting');
    else if (!who.ok) connection.closeWith(who.error);
    // Only now the bytes that came with the request: a refused client's frames are not answered.
    connection.start(head);
  }

  /**
   * Closes every connection with 1012 (service restart: clients reconnect soon) and resolves when all
   * are gone, terminating those still open after `timeoutMs`.
   */
  async close(timeoutMs: number): Promise<void> {
    this.#closing = true;
    this.#connections.stop();
    // Frames fanned out this turn go before the close frames.
    this.#outgoing.scheduler.flush();
    const allClosed = new Promise<void>((resolve) => {
      this.#allClosed = resolve;
    });
    if (this.#connections.size === 0) this.#allClosed?.();
    for (const connection of this.#connections) {
      connection.ws.close(CloseCodes.SERVICE_RESTART, 'server restarting');
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([allClosed, timeout]);
    clearTimeout(timer);
    for (const connection of this.#connections) connection.ws.terminate();
  }
}

/**
 * One connection's heartbeat: terminated when it has not answered the previous ping (nor sent anything)
 * or is still closing a period after its close began; otherwise pinged, plus a `$heartbeat` frame when
 * nothing else was sent for most of the period (browsers cannot see pings).
 */
function beat(connection: WsConnection, now: number, idleAfter: number): void {
  if (!connection.alive) {
    connection.ws.terminate();
    return;
  }
  connection.alive = false;
  if (connection.ws.state !== 'open') return;
  connection.ws.ping();
  if (now - connection.lastSentAt >= idleAfter) connection.send(`{"type":"$heartbeat","ts":${now}}`);
}

function destroySocket(this: Duplex): void {
  this.destroy();
}
