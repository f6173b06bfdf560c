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
import type { Socket } from 'node:net';
import WebSocket, { type RawData } from 'ws';
import type { StoredMessage } from '../brokers/broker.js';
import type { ChannelPolicies } from '../channel-policy.js';
import type { Hub } from '../hub.js';
import type { ServerOptions } from '../options.js';
import { type FlushScheduler, OutgoingQueue } from '../outgoing-queue.js';
import { publishTokenMatches } from '../publish-auth.js';
import type { ServerMetrics } from '../server-metrics.js';
import type { Session } from '../session.js';
import { encodeTextFrame, type FrameCache } from './ws-frame.js';

/** Commands a connection may have waiting while an earlier one (a subscribe reading history) runs. */
export const MAX_PENDING_COMMANDS = 256;

/** How long a connection closed for being slow may take to finish its close handshake, ms. */
const SLOW_CLOSE_GRACE_MS = 2000;

export interface WsConnectionContext {
  hub: Hub;
  options: ServerOptions;
  metrics: ServerMetrics;
}

/** The fan-out machinery every connection of one transport shares. */
export interface WsOutgoing {
  /** Writes each connection's frames once per event-loop turn. */
  scheduler: FlushScheduler;
  /** Frames each publish once for every socket. */
  frames: FrameCache;
  /** Which channels conflate when a connection falls behind. */
  policies: ChannelPolicies;
}

/**
 * One WebSocket client: parses its commands strictly (one at a time, in order), answers them, and
 * sends it its channels' frames. Nothing the client sends can throw out of here.
 */
export class WsConnection {
  readonly ws: WebSocket;
  readonly #ctx: WsConnectionContext;
  readonly #session: Session;
  #authorized: boolean;
  /** Cleared by each heartbeat tick, set by any pong or frame from the peer. */
  alive = true;
  /**
   * Data frames are written straight to the socket under `ws`, framed once per publish and batched
   * per event-loop turn; `ws` still does the handshake, reading, pings and the close handshake.
   */
  readonly #out: OutgoingQueue;
  #queue: Promise<void> = Promise.resolve();
  #pending = 0;

  constructor(ws: WebSocket, ctx: WsConnectionContext, authorized: boolean, outgoing: WsOutgoing) {
    this.ws = ws;
    this.#ctx = ctx;
    this.#authorized = authorized;
    const { metrics, options } = ctx;
    this.#out = new OutgoingQueue((ws as unknown as { _socket: Socket })._socket, outgoing.scheduler, {
      maxQueueBytes: options.maxQueueBytes,
      policyOf: (channel) => outgoing.policies.of(channel),
      hooks: {
        encode: (message) => outgoing.frames.of(message),
        conflationNotice: (message) => encodeTextFrame(encodeControl(conflationNotice(message))),
        overflow: () => this.closeSlow(),
        isOpen: () => ws.readyState === WebSocket.OPEN,
        dropped: (reason, count) => metrics.dropped.inc({ reason }, count),
      },
    });
    this.#session = ctx.hub.session({
      deliver: (message: StoredMessage) => this.#out.push(message),
      control: (frame: ControlFrame) => this.send(encodeControl(frame)),
      overflow: () => this.closeSlow(),
    });
    ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('close', () => {
      this.#out.close();
      this.#session.close();
    });
    this.send(
      encodeControl({
        type: '$welcome',
        version: PROTOCOL_VERSION,
        heartbeat: options.heartbeatMs,
        node: options.node,
      }),
    );
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
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.#out.close();
    this.#ctx.metrics.slowConsumerDisconnects.inc({ transport: 'ws' });
    this.ws.close(CloseCodes.SLOW_CONSUMER, 'slow consumer: outgoing queue full');
    // The close frame waits behind everything the peer has not read; do not wait for it for long.
    setTimeout(() => this.ws.terminate(), SLOW_CLOSE_GRACE_MS).unref();
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    this.alive = true;
    if (isBinary) {
      this.#error(
        new LivedashError(ErrorCodes.BINARY_FRAME, 'binary frames are not supported; send JSON text'),
      );
      return;
    }
    const text = Array.isArray(data)
      ? Buffer.concat(data).toString()
      : Buffer.from(data as Buffer).toString();
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
    if (this.ws.readyState !== WebSocket.OPEN) return;
    switch (command.action) {
      case 'subscribe': {
        const { channels, since, id } = command;
        await Promise.all(
          channels.map((channel) => this.#session.subscribe(channel, since?.get(channel), id)),
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
        this.#authorized = publishTokenMatches(this.#ctx.options.publishToken, command.token);
        if (this.#authorized) this.#control(withId({ type: '$ack' }, command.id));
        else this.#error(new LivedashError(ErrorCodes.UNAUTHORIZED, 'wrong token', idOf(command)));
        return;
      case 'publish':
        await this.#publish(command.channel, command.data, command.id);
        return;
    }
  }

  async #publish(channel: string, data: unknown, id: RequestId | undefined): Promise<void> {
    if (!this.#authorized) {
      this.#error(
        new LivedashError(
          ErrorCodes.UNAUTHORIZED,
          'publishing needs the publish token: send {"action":"auth"} first',
          optionalId(id),
        ),
        channel,
      );
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

/**
 * What a client gets before a conflated state value: the frame a fresh subscribe starts with, so it
 * takes the value that follows as the channel's current state (the seqs in between were skipped).
 */
export function conflationNotice(message: StoredMessage): ControlFrame {
  return {
    type: '$subscribed',
    channel: message.channel,
    epoch: message.epoch,
    seq: message.seq,
    recovered: false,
  };
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
