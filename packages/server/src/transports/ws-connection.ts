import type { Socket } from 'node:net';
import {
  type ClientCommand,
  CloseCodes,
  type ControlFrame,
  ErrorCodes,
  encodeControl,
  LivedashError,
  PROTOCOL_VERSION,
  parseCommand,
  type RequestId,
} from '@livedash/protocol';
import type { AccessControl } from '../auth/access-control.js';
import type { Principal } from '../auth/authenticator.js';
import { ConnectionGuard } from '../auth/connection-guard.js';
import type { StoredMessage } from '../brokers/broker.js';
import type { Hub } from '../hub.js';
import type { MessageBytes } from '../message-bytes.js';
import type { ServerOptions } from '../options.js';
import { conflationNotice, OutgoingQueue, type OutgoingShared } from '../outgoing-queue.js';
import type { ServerMetrics } from '../server-metrics.js';
import type { Session } from '../session.js';
import { encodeTextFrame } from './ws-frame.js';
import { WsCloseCodes, type WsHandler, type WsLimits, WsSocket } from './ws-socket.js';

/** Commands a connection may have waiting while an earlier one (a subscribe reading history) runs. */
export const MAX_PENDING_COMMANDS = 256;

const SETTLED: Promise<void> = Promise.resolve();

/** How long a connection closed for being slow may take to finish its close handshake, ms. */
const SLOW_CLOSE_GRACE_MS = 2000;

export interface WsConnectionContext {
  hub: Hub;
  options: ServerOptions;
  metrics: ServerMetrics;
  access: AccessControl;
  /** Frame size and close-handshake limits, shared by every connection. */
  limits: WsLimits;
  /** Called once when a connection's socket is gone. */
  released(connection: WsConnection): void;
}

/** The fan-out machinery every connection of one transport shares. */
export type WsOutgoing = OutgoingShared<WsConnection>;

/**
 * The WebSocket side of every connection's outgoing queue: each publish framed once (`frames`), a
 * conflation announced as `$subscribed`, and a stream channel over the bound closed as slow (4008).
 */
export function wsOutgoingHooks(frames: MessageBytes, metrics: ServerMetrics): WsOutgoing['hooks'] {
  return {
    encode: (message) => frames.of(message),
    conflationNotice: (message) => encodeTextFrame(encodeControl(conflationNotice(message))),
    overflow: (connection) => connection.closeSlow(),
    isOpen: (connection) => connection.ws.state === 'open',
    dropped: (reason, count) => metrics.dropped.inc({ reason }, count),
    failed: (connection, error) => {
      metrics.faults.record('timer', error);
      connection.ws.terminate();
    },
  };
}

/**
 * One WebSocket client: parses its commands strictly (one at a time, in order), answers them, and
 * sends it its channels' frames. Nothing the client sends can throw out of here.
 */
export class WsConnection implements WsHandler {
  readonly ws: WsSocket;
  readonly #ctx: WsConnectionContext;
  readonly #session: Session;
  /** Who the client is, what it may do, its frame rate limit and its token's expiry. */
  readonly #guard: ConnectionGuard;
  /** Cleared by each heartbeat tick, set by any pong or frame from the peer. */
  alive = true;
  /** Data frames, framed once per publish and batched per event-loop turn, written through `ws`. */
  readonly #out: OutgoingQueue<WsConnection>;
  /** The command being handled; starts as one settled promise shared by every idle connection. */
  #queue: Promise<void> = SETTLED;
  #pending = 0;

  /** Takes over `socket` after a successful handshake (the `101` already written); then `start(head)`. */
  constructor(socket: Socket, ctx: WsConnectionContext, principal: Principal, outgoing: WsOutgoing) {
    this.#ctx = ctx;
    // The connection is its WebSocket's handler and its session's sink: no closures per connection.
    this.ws = new WsSocket(socket, this, ctx.limits);
    const rate = { framesPerSec: ctx.options.framesPerSec, burst: ctx.options.frameBurst };
    this.#guard = new ConnectionGuard(ctx.access, principal, rate, (error) => this.#expired(error));
    const { options } = ctx;
    this.#out = new OutgoingQueue(this.ws, this, outgoing);
    this.#session = ctx.hub.session(this);
    this.send(
      encodeControl({
        type: '$welcome',
        version: PROTOCOL_VERSION,
        heartbeat: options.heartbeatMs,
        node: options.node,
      }),
    );
  }

  /** Reads what came with the upgrade request, once the transport has decided the connection's fate. */
  start(head: Buffer): void {
    if (head.length > 0) this.ws.receive(head);
  }

  /** WsHandler: a text message from the client. */
  onText(text: string): void {
    this.#onMessage(text);
  }

  /** WsHandler: livedash speaks JSON text; a binary message is refused with `$error`. */
  onBinary(): void {
    if (this.#admit())
      this.#error(
        new LivedashError(ErrorCodes.BINARY_FRAME, 'binary frames are not supported; send JSON text'),
      );
  }

  /** WsHandler: any frame (a pong included) shows the peer is alive. */
  onActivity(): void {
    this.alive = true;
  }

  /**
   * WsHandler: ping, pong and close frames take from the frame rate budget like messages, and a pong
   * counts against the outgoing bound like any reply (over it, the connection is closed as slow).
   */
  onControl(_kind: 'ping' | 'pong' | 'close', replyBytes: number): boolean {
    if (!this.#admit()) return false;
    return replyBytes === 0 || this.#out.reserve(replyBytes);
  }

  /** WsHandler: the peer broke the WebSocket protocol or sent too much; counted, the socket is closing. */
  onFailed(code: number): void {
    if (code === WsCloseCodes.MESSAGE_TOO_BIG) this.#ctx.access.metrics.limitHit('frame_size');
  }

  /** WsHandler: handling this peer's bytes threw; the socket is being destroyed. */
  onFault(error: unknown): void {
    this.#ctx.metrics.faults.record('data', error);
  }

  /** WsHandler: the socket is gone. */
  onClose(): void {
    try {
      this.#guard.dispose();
      this.#out.close();
      this.#session.close();
    } finally {
      this.#ctx.released(this);
    }
  }

  /** SessionSink: a channel message, queued for this turn's flush. */
  deliver(message: StoredMessage): void {
    this.#out.push(message);
  }

  /** SessionSink: whether a replayed message fits the outgoing queue now (replays go out in pieces). */
  fits(message: StoredMessage): boolean {
    return this.#out.fits(message);
  }

  /** SessionSink: `callback` once the outgoing queue has drained. */
  whenDrained(callback: () => void): void {
    this.#out.whenDrained(callback);
  }

  /** SessionSink: a control frame (`$subscribed`, `$error`…), sent now. */
  control(frame: ControlFrame): void {
    if (frame.type === '$error' && frame.code === ErrorCodes.TOO_MANY_SUBSCRIPTIONS) {
      this.#ctx.access.metrics.limitHit('subscriptions');
    }
    this.send(encodeControl(frame));
  }

  /** SessionSink: live messages buffered during a subscribe's recovery went over the bound. */
  overflow(): void {
    this.closeSlow();
  }

  /** When a frame was last written, so idle connections get a `$heartbeat`. */
  get lastSentAt(): number {
    return this.#out.lastWriteAt;
  }

  /**
   * Sends a control frame now, after any data frames still waiting for this turn's flush (so an
   * `$error` followed by a close arrives before the close). Dropped when the socket is closing.
   */
  send(frame: string): void {
    this.#out.writeNow(encodeTextFrame(frame));
  }

  /** Closes a connection that cannot keep up (see docs/performance.md, slow consumers). */
  closeSlow(): void {
    if (this.ws.state !== 'open') return;
    this.#out.close();
    this.#ctx.metrics.slowConsumerDisconnects.inc({ transport: 'ws' });
    this.ws.close(CloseCodes.SLOW_CONSUMER, 'slow consumer: outgoing queue full');
    // The close frame waits behind everything the peer has not read; do not wait for it for long.
    setTimeout(() => this.ws.terminate(), SLOW_CLOSE_GRACE_MS).unref();
  }

  /** Sends `$error` for `error`, then closes with its close code (4001 unauthorized, 4004 expired, 4029 flood). */
  closeWith(error: LivedashError): void {
    if (this.ws.state !== 'open') return;
    this.#error(error);
    this.ws.close(error.closeCode ?? CloseCodes.POLICY_VIOLATION, error.code);
  }

  /** The token ran out (a timer): `$error token_expired`, then close 4004. */
  #expired(error: LivedashError): void {
    try {
      this.closeWith(error);
    } catch (fault) {
      this.#ctx.metrics.faults.record('timer', fault);
      this.ws.terminate();
    }
  }

  /** Counts a message against the frame rate limit; false when it must not be processed. */
  #admit(): boolean {
    const admission = this.#guard.admitFrame();
    if (admission.kind === 'process') return true;
    if (admission.kind === 'close') this.closeWith(admission.error);
    else if (admission.error) this.#error(admission.error);
    return false;
  }

  #onMessage(text: string): void {
    if (!this.#admit()) return;
    const { options } = this.#ctx;
    const parsed = parseCommand(text, {
      maxJsonDepth: options.maxJsonDepth,
      maxChannels: options.maxSubscriptions,
    });
    if (!parsed.ok) {
      this.#error(parsed.error);
      return;
    }
    if (this.#pending >= MAX_PENDING_COMMANDS) {
      this.#error(
        new LivedashError(
          ErrorCodes.RATE_LIMITED,
          `more than ${MAX_PENDING_COMMANDS} commands waiting; slow down`,
          idOf(parsed.value),
        ),
      );
      return;
    }
    const command = parsed.value;
    this.#pending++;
    this.#queue = this.#queue
      .then(() => this.#handle(command))
      .catch((error: unknown) => {
        this.#error(
          new LivedashError(ErrorCodes.INTERNAL, `command failed: ${String(error)}`, idOf(command)),
        );
      })
      .finally(() => {
        this.#pending--;
      });
  }

  async #handle(command: ClientCommand): Promise<void> {
    if (this.ws.state !== 'open') return;
    switch (command.action) {
      case 'subscribe': {
        const { channels, since, id, maxRate } = command;
        // A channel the client may not read is refused alone; the others go ahead.
        const allowed = channels.filter((channel) => {
          const denied = this.#guard.subscribeRefusal(channel);
          if (denied) this.#error(new LivedashError(denied.code, denied.message, optionalId(id)), channel);
          return !denied;
        });
        await Promise.all(
          allowed.map((channel) => this.#session.subscribe(channel, since?.get(channel), id, maxRate)),
        );
        return;
      }
      case 'unsubscribe':
        for (const channel of command.channels) this.#session.unsubscribe(channel, command.id);
        return;
      case 'ping':
        this.#control(withId({ type: '$pong', ts: Date.now() }, command.id));
        return;
      case 'auth':
        await this.#auth(command.token, command.id);
        return;
      case 'publish':
        await this.#publish(command.channel, command.data, command.id);
        return;
    }
  }

  /** A fresh token replaces the old one without dropping subscriptions it still allows; a bad one closes. */
  async #auth(token: string, id: RequestId | undefined): Promise<void> {
    const result = await this.#guard.reauthenticate(token, this.#session.channels());
    if (!result.ok) {
      const { code, message, closeCode } = result.error;
      this.closeWith(
        new LivedashError(code, message, {
          ...optionalId(id),
          closeCode: closeCode ?? CloseCodes.UNAUTHORIZED,
        }),
      );
      return;
    }
    for (const channel of result.value) {
      this.#session.unsubscribe(channel);
      this.#error(
        new LivedashError(ErrorCodes.FORBIDDEN, `the new token does not allow "${channel}"`),
        channel,
      );
    }
    this.#control(withId({ type: '$ack' }, id));
  }

  async #publish(channel: string, data: unknown, id: RequestId | undefined): Promise<void> {
    const denied = this.#guard.publishRefusal(channel);
    if (denied) {
      const hint =
        this.#guard.principal.kind === 'anonymous' ? ' (send {"action":"auth","token":…} first)' : '';
      this.#error(new LivedashError(denied.code, `${denied.message}${hint}`, optionalId(id)), channel);
      return;
    }
    try {
      const result = await this.#ctx.hub.publish(channel, data);
      this.#control(withId({ type: '$ack', channel, epoch: result.epoch, seq: result.seq }, id));
    } catch (error) {
      const failure =
        error instanceof LivedashError ? error : new LivedashError(ErrorCodes.INTERNAL, String(error));
      this.#error(new LivedashError(failure.code, failure.message, optionalId(id)), channel);
    }
  }

  #control(frame: ControlFrame): void {
    this.send(encodeControl(frame));
  }

  #error(error: LivedashError, channel?: string): void {
    this.#ctx.metrics.protocolErrors.inc({ code: error.code });
    const frame: ControlFrame = { type: '$error', code: error.code, message: error.message };
    if (error.id !== undefined) frame.id = error.id;
    if (channel !== undefined) frame.channel = channel;
    this.#control(frame);
  }
}

function idOf(command: ClientCommand): { id?: RequestId } {
  return optionalId(command.id);
}

function optionalId(id: RequestId | undefined): { id?: RequestId } {
  return id === undefined ? {} : { id };
}

function withId<T extends ControlFrame>(frame: T, id: RequestId | undefined): T {
  return id === undefined ? frame : { ...frame, id };
}
