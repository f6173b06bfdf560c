import {
  type CloseCodes,
  closeCodePolicy,
  encodeCommand,
  LivedashError,
  type Position,
  parseServerFrame,
  type WelcomeFrame,
} from '@livedash/protocol';
import { withToken } from '../token-source.js';
import type { Transport, TransportContext, WebSocketConstructor, WebSocketLike } from './transport.js';

const OPEN = 1;
/** Close codes as literals checked against the table (a browser bundle need not carry all of it). */
const NORMAL = 1000 satisfies (typeof CloseCodes)['NORMAL'];

/** `http://host/base` → `ws://host/base/ws`. */
export function webSocketUrl(baseUrl: string): string {
  return `${baseUrl.replace(/^http/, 'ws')}/ws`;
}

/**
 * The WebSocket transport: one socket to `/ws`, opened when `$welcome` arrives (so a proxy that accepts
 * the upgrade but never lets a frame through counts as a failure to open), JSON text frames both ways.
 */
export class WebSocketTransport implements Transport {
  readonly name = 'ws' as const;
  #socket: WebSocketLike;
  #context: TransportContext;
  #opened = false;
  #closed = false;

  constructor(context: TransportContext, WebSocketImpl: WebSocketConstructor) {
    this.#context = context;
    this.#socket = new WebSocketImpl(withToken(webSocketUrl(context.baseUrl), context.token()));
    this.#socket.onmessage = (event: { data: unknown }) => this.#onMessage(event.data);
    this.#socket.onclose = (event: { code: number; reason: string }) =>
      this.#onClose(event.code, event.reason);
    // An error is always followed by a close; the close carries the code.
    this.#socket.onerror = () => {};
  }

  #onMessage(data: unknown): void {
    if (this.#closed) return;
    if (typeof data !== 'string') {
      // The `ws` package hands over Buffers unless told otherwise; decode them as UTF-8 text.
      data =
        typeof TextDecoder === 'function' && data instanceof Uint8Array
          ? new TextDecoder().decode(data)
          : String(data);
    }
    const parsed = parseServerFrame(data as string);
    if (!parsed.ok) return; // One bad frame must not take the connection down; the next frames still count.
    const frame = parsed.value;
    if (!this.#opened) {
      if (frame.type !== '$welcome') return;
      this.#opened = true;
      const heartbeat = (frame as WelcomeFrame).heartbeat;
      this.#context.events.opened(
        typeof heartbeat === 'number' && heartbeat > 0 ? { heartbeatMs: heartbeat } : {},
      );
      return;
    }
    this.#context.events.frame(frame);
  }

  #onClose(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    const policy = closeCodePolicy(code);
    const message =
      reason || (this.#opened ? `WebSocket closed (${code})` : `WebSocket could not open (${code})`);
    const errorCode = policy === 'never' && code !== NORMAL ? closeCodeToError(code) : 'transport_failed';
    this.#context.events.closed(new LivedashError(errorCode, message, { closeCode: code }), this.#opened);
  }

  #send(text: string): boolean {
    if (this.#closed || this.#socket.readyState !== OPEN) return false;
    this.#socket.send(text);
    return true;
  }

  /** One `subscribe` command per `maxRate` among the channels (a command's rate applies to all of its channels). */
  subscribe(channels: ReadonlyMap<string, Position | undefined>): void {
    const byRate = new Map<number | undefined, Map<string, Position | undefined>>();
    for (const [channel, position] of channels) {
      const rate = this.#context.maxRate(channel);
      byRate.set(rate, (byRate.get(rate) ?? new Map()).set(channel, position));
    }
    for (const [maxRate, group] of byRate) {
      const since = new Map<string, Position>();
      for (const [channel, position] of group) if (position) since.set(channel, position);
      this.#send(
        encodeCommand({
          action: 'subscribe',
          channels: [...group.keys()],
          ...(since.size > 0 ? { since } : {}),
          ...(maxRate === undefined ? {} : { maxRate }),
        }),
      );
    }
  }

  unsubscribe(channels: readonly string[]): void {
    if (channels.length > 0) this.#send(encodeCommand({ action: 'unsubscribe', channels: [...channels] }));
  }

  ping(id: number): boolean {
    return this.#send(encodeCommand({ action: 'ping', id }));
  }

  /** Re-authenticates the open socket; the server keeps every subscription the new token allows. */
  authenticate(token: string): void {
    this.#send(encodeCommand({ action: 'auth', token }));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.onmessage = null;
    this.#socket.onclose = null;
    try {
      this.#socket.close(NORMAL);
    } catch {
      // Closing a socket that is still connecting throws in some implementations; it is abandoned either way.
    }
  }
}

function closeCodeToError(code: number): LivedashError['code'] {
  switch (code) {
    case 4001 satisfies (typeof CloseCodes)['UNAUTHORIZED']:
      return 'unauthorized';
    case 4003 satisfies (typeof CloseCodes)['FORBIDDEN']:
      return 'forbidden';
    default:
      return 'transport_failed';
  }
}
