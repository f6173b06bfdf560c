import { isUtf8 } from 'node:buffer';
import type { Socket } from 'node:net';
import { socketDescriptor, writeToSocket } from './direct-write.js';
import { WsDiscard } from './ws-discard.js';

/**
 * The server side of RFC 6455 over one TCP (or TLS) socket, without the `ws` package: livedash writes
 * its data frames itself (framed once per publish, see ws-frame.ts), so all a connection needs from a
 * WebSocket layer is the handshake (ws-handshake.ts), a frame reader for what clients send, pings and
 * the close handshake. Keeping that here, in one small object per connection with no event emitter and
 * no closures, is what brings an idle connection's memory to about that of the socket itself.
 */

/** Close codes of the WebSocket layer itself (the application's are in @livedash/protocol). */
export const WsCloseCodes = {
  PROTOCOL_ERROR: 1002,
  INVALID_PAYLOAD: 1007,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
} as const;

/**
 * Fragments one message may arrive in. Each costs a Buffer, so 64 KiB of one-byte fragments would cost
 * megabytes; past this many the connection is closed with 1008 before the size limit is reached.
 */
export const MAX_FRAGMENTS = 1024;

/** What a connection hears from its WebSocket. Called synchronously from the socket's events. */
export interface WsHandler {
  /** A complete text message (reassembled from fragments, valid UTF-8). */
  onText(text: string): void;
  /** A complete binary message; livedash speaks JSON text, so the handler only refuses it. */
  onBinary(): void;
  /** Any frame arrived (data, ping or pong): the peer is alive. */
  onActivity(): void;
  /**
   * A ping, pong or close frame arrived on an open connection: it counts against the peer's frame
   * budget like a message. For a ping, `replyBytes` is the size of the pong that answers it; false
   * means the ping is not answered (over the frame rate, or the pong would not fit the connection's
   * outgoing bound — the handler closes the connection as it sees fit). A close is honoured whatever
   * this returns: a peer saying goodbye is never held back.
   */
  onControl(kind: 'ping' | 'pong' | 'close', replyBytes: number): boolean;
  /**
   * The peer broke the protocol (1002), sent text that is not UTF-8 (1007), a message in too many
   * fragments (1008) or too large (1009); the socket is closing.
   */
  onFailed(code: number, reason: string): void;
  /** The socket is gone (close handshake finished, failed, or the TCP connection dropped). Called once. */
  onClose(code: number): void;
  /**
   * Handling the peer's bytes threw (a bug): the socket is being destroyed, the process goes on.
   * Must not throw.
   */
  onFault(error: unknown): void;
}

/**
 * A WebSocket's lifecycle: `open`; `closing` once a close frame went out (or the peer ended TCP) — a
 * timer destroys the socket if the close does not finish; `closed` when the socket is gone.
 */
export type WsState = 'open' | 'closing' | 'closed';

/** Shared by every connection of one server. */
export interface WsLimits {
  /** Largest message a client may send (a single frame, or fragments together); over it: close 1009. */
  maxPayload: number;
  /** How long a close handshake may take before the socket is destroyed, ms. */
  closeTimeoutMs: number;
  /**
   * After the connection failed (1009 and the others), bytes the peer may still send — read and
   * dropped until its close frame — before the socket is destroyed.
   */
  maxDiscardBytes: number;
}

const OWNER = Symbol('livedash.ws');
/** Reads of one unfinished frame held apart before they are merged into one Buffer. */
const MAX_PARTIAL_READS = 64;

const OP_CONTINUATION = 0x0;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

type OwnedSocket = Socket & { [OWNER]?: WsSocket };

/**
 * One server-side WebSocket. Reads frames (masked, possibly fragmented, split anywhere across TCP
 * reads), answers pings, runs the close handshake, and fails the connection with 1002 / 1007 / 1008 /
 * 1009 on a protocol error, a text message that is not UTF-8, a message in over `MAX_FRAGMENTS`
 * fragments, or one over `maxPayload` — before buffering it; then reads and drops what the peer still
 * sends until its close frame (ws-discard.ts), so the peer reads why instead of a reset. Also the byte sink of the connection's outgoing queue: `write` goes straight to the
 * socket's file descriptor when nothing is queued in Node (one syscall, none of the stream
 * machinery), and through the socket otherwise, so bytes never reorder. The caller keeps an 'error'
 * listener on the socket (a failed write reports there; the 'close' that follows ends the WebSocket).
 *
 * @example
 * const reply = acceptHandshake(request);           // after checking the request's path and credentials
 * socket.write(reply.response);
 * const ws = new WsSocket(socket, handler, limits);
 * ws.write(encodeTextFrame('{"type":"$welcome"}'));
 * ws.receive(head);                                 // bytes that came with the upgrade request
 * ws.close(1012, 'server restarting');
 */
export class WsSocket {
  readonly socket: Socket;
  #state: WsState = 'open';
  readonly #handler: WsHandler;
  readonly #limits: WsLimits;
  /** The socket's file descriptor for direct writes; -1 when there is none (see direct-write.ts). */
  readonly #fd: number;
  /** Reads of an unfinished frame, kept apart until enough bytes are there (no copy per TCP read). */
  #partial: Buffer[] | undefined;
  #partialBytes = 0;
  /** Bytes the unfinished frame needs before it can be read further (its header, then all of it). */
  #needed = 0;
  /** Payloads of a fragmented message so far, its opcode and size. */
  #fragments: Buffer[] | undefined;
  #fragmentOpcode = 0;
  #fragmentBytes = 0;
  /** A pong is in Node's buffer; the payload of the latest ping that came since, to answer next. */
  #pongWaiting = false;
  #unansweredPing: Buffer | undefined;
  #closeCode = 1006;
  #closeTimer: NodeJS.Timeout | undefined;
  /** Once the connection failed: what the peer still sends, read and dropped until its close frame. */
  #discard: WsDiscard | undefined;

  constructor(socket: Socket, handler: WsHandler, limits: WsLimits) {
    this.socket = socket;
    this.#handler = handler;
    this.#limits = limits;
    this.#fd = socketDescriptor(socket);
    (socket as OwnedSocket)[OWNER] = this;
    // Shared listeners that find their WsSocket on the socket: no closures per connection.
    socket.on('data', onSocketData);
    socket.on('end', onSocketEnd);
    socket.on('close', onSocketClose);
  }

  get state(): WsState {
    return this.#state;
  }

  // ByteSink, for the connection's outgoing queue.
  get writableLength(): number {
    return this.socket.writableLength;
  }

  get writableNeedDrain(): boolean {
    return this.socket.writableNeedDrain;
  }

  cork(): void {
    this.socket.cork();
  }

  uncork(): void {
    this.socket.uncork();
  }

  once(event: 'drain', listener: () => void): this {
    this.socket.once(event, listener);
    return this;
  }

  /**
   * Writes whole frames. With nothing waiting in Node's buffer, straight to the file descriptor (what
   * the kernel does not take goes through the socket, which then queues everything after it).
   * `written` is called once the bytes have left Node's buffer (or the write failed): at once, before
   * `write` returns, when the kernel took them all.
   */
  write(chunk: Buffer, written?: () => void): boolean {
    return writeToSocket(this.socket, this.#fd, chunk, written);
  }

  /** Sends a ping; the peer answers with a pong (`onActivity`). */
  ping(): void {
    if (this.#state === 'open') this.write(PING_FRAME);
  }

  /**
   * Starts the close handshake: sends a close frame and waits up to `closeTimeoutMs` for the peer's,
   * then ends the TCP connection. Does nothing once closing.
   */
  close(code: number, reason = ''): void {
    if (this.#state === 'open') this.#startClosing(code, closeFrame(code, reason));
  }

  /** Drops the TCP connection at once (a dead peer, or a close handshake that did not finish). */
  terminate(): void {
    this.socket.destroy();
  }

  /** Something handling this peer threw: the handler is told, the socket destroyed (its 'close' cleans up). */
  faulted(error: unknown): void {
    this.socket.destroy();
    try {
      this.#handler.onFault(error);
    } catch {
      // The handler's report is best effort; the peer is already cut off.
    }
  }

  /** Bytes from the socket (and those that came with the upgrade request). */
  receive(chunk: Buffer): void {
    if (this.#discard) {
      this.#dropped(chunk);
      return;
    }
    let data = chunk;
    const partial = this.#partial;
    if (partial) {
      partial.push(chunk);
      this.#partialBytes += chunk.length;
      if (this.#partialBytes < this.#needed) {
        // A frame trickling in a few bytes per read: merged now and then, so neither the copying nor
        // the number of Buffers held grows with the number of reads.
        if (partial.length >= MAX_PARTIAL_READS) this.#partial = [Buffer.concat(partial, this.#partialBytes)];
        return;
      }
      data = Buffer.concat(partial, this.#partialBytes);
      this.#partial = undefined;
    }
    let offset = 0;
    while (this.#state !== 'closed' && offset < data.length) {
      const used = this.#readFrame(data, offset);
      if (used === 0) {
        // A copy: a view would keep the whole read (up to 64 KiB) alive for a few bytes.
        const rest = Buffer.from(data.subarray(offset));
        this.#partial = [rest];
        this.#partialBytes = rest.length;
        return;
      }
      if (used < 0) {
        // Failed: from the failing frame on, what the peer sends is dropped (see #fail).
        if (this.#discard) this.#dropped(data.subarray(offset));
        return;
      }
      offset += used;
    }
  }

  /** The socket closed (its 'close' event). */
  closed(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    clearTimeout(this.#closeTimer);
    this.#partial = undefined;
    this.#fragments = undefined;
    this.#discard = undefined;
    this.#handler.onClose(this.#closeCode);
  }

  /**
   * The peer ended its side of TCP (its 'end' event): end ours. A peer that also stops reading could
   * keep our side from finishing, so the close timer runs here too.
   */
  ended(): void {
    if (this.#state === 'open') this.#startClosing(1006, undefined);
    this.socket.end();
  }

  /**
   * Reads one frame at `offset`: returns the bytes it took, 0 when the frame is not complete yet, or
   * -1 when the connection failed.
   */
  #readFrame(data: Buffer, offset: number): number {
    const available = data.length - offset;
    if (available < 2) return this.#wait(2);
    const first = data[offset]!;
    const second = data[offset + 1]!;
    const fin = (first & 0x80) !== 0;
    const opcode = first & 0x0f;
    if ((first & 0x70) !== 0) return this.#protocolError('reserved bits set');
    if ((second & 0x80) === 0) return this.#protocolError('client frames must be masked');
    const control = opcode >= 0x8;
    if (control ? opcode > OP_PONG : opcode > OP_BINARY)
      return this.#protocolError(`unknown opcode ${opcode}`);
    let length = second & 0x7f;
    let header = 2;
    if (control && (!fin || length > 125)) {
      return this.#protocolError('control frames must be whole and at most 125 bytes');
    }
    if (length === 126) {
      if (available < 4) return this.#wait(4);
      length = data.readUInt16BE(offset + 2);
      header = 4;
    } else if (length === 127) {
      if (available < 10) return this.#wait(10);
      if (data.readUInt32BE(offset + 2) !== 0) return this.#tooBig(undefined);
      length = data.readUInt32BE(offset + 6);
      header = 10;
    }
    const total = header + 4 + length;
    if (!control && this.#fragmentBytes + length > this.#limits.maxPayload) return this.#tooBig(total);
    if (available < total) return this.#wait(total);
    const maskAt = offset + header;
    const payload = data.subarray(maskAt + 4, offset + total);
    for (let i = 0; i < length; i++) payload[i]! ^= data[maskAt + (i & 3)]!;
    this.#handler.onActivity();
    if (control) return this.#control(opcode, payload) ? total : -1;
    return this.#data(fin, opcode, payload, total) ? total : -1;
  }

  /** The frame at hand needs `bytes` in all before it can be read further. */
  #wait(bytes: number): 0 {
    this.#needed = bytes;
    return 0;
  }

  /** Handles a data frame of `frameBytes` in all; false when the connection failed. */
  #data(fin: boolean, opcode: number, payload: Buffer, frameBytes: number): boolean {
    if (this.#state !== 'open') return true; // after a close: read and ignored (RFC 6455 §5.5.1)
    if (opcode === OP_CONTINUATION) {
      if (!this.#fragments)
        return this.#fail(WsCloseCodes.PROTOCOL_ERROR, 'continuation without a message', frameBytes);
    } else if (this.#fragments) {
      return this.#fail(WsCloseCodes.PROTOCOL_ERROR, 'new message inside a fragmented one', frameBytes);
    }
    if (!fin) {
      if (!this.#fragments) {
        this.#fragments = [];
        this.#fragmentOpcode = opcode;
      }
      if (this.#fragments.length >= MAX_FRAGMENTS) {
        return this.#fail(WsCloseCodes.POLICY_VIOLATION, `more than ${MAX_FRAGMENTS} fragments`, frameBytes);
      }
      this.#fragments.push(Buffer.from(payload));
      this.#fragmentBytes += payload.length;
      return true;
    }
    let message = payload;
    let messageOpcode = opcode;
    if (this.#fragments) {
      this.#fragments.push(payload);
      message = Buffer.concat(this.#fragments, this.#fragmentBytes + payload.length);
      messageOpcode = this.#fragmentOpcode;
      this.#fragments = undefined;
      this.#fragmentBytes = 0;
    }
    if (messageOpcode === OP_BINARY) {
      this.#handler.onBinary();
      return true;
    }
    if (!isUtf8(message))
      return this.#fail(WsCloseCodes.INVALID_PAYLOAD, 'text is not valid UTF-8', frameBytes);
    this.#handler.onText(message.toString('utf8'));
    return true;
  }

  /** Handles ping, pong and close; false when the connection failed. */
  #control(opcode: number, payload: Buffer): boolean {
    if (opcode === OP_PING) {
      if (this.#state === 'open' && this.#handler.onControl('ping', 2 + payload.length)) this.#pong(payload);
      return true;
    }
    if (opcode === OP_PONG) {
      if (this.#state === 'open') this.#handler.onControl('pong', 0);
      return true;
    }
    // Close (RFC 6455 §5.5.1): a code of two bytes, then an optional UTF-8 reason.
    if (payload.length === 1)
      return this.#failOnClose(WsCloseCodes.PROTOCOL_ERROR, 'close frame of one byte');
    let code = 1005;
    if (payload.length >= 2) {
      code = payload.readUInt16BE(0);
      if (!isValidCloseCode(code))
        return this.#failOnClose(WsCloseCodes.PROTOCOL_ERROR, `close code ${code}`);
      if (!isUtf8(payload.subarray(2))) {
        return this.#failOnClose(WsCloseCodes.INVALID_PAYLOAD, 'close reason is not valid UTF-8');
      }
    }
    // The peer started it: answer with its code, then the server ends the TCP connection (§7.1.1).
    if (this.#state === 'open') this.#handler.onControl('close', 0);
    if (this.#state === 'open')
      this.#startClosing(code, code === 1005 ? EMPTY_CLOSE_FRAME : closeFrame(code, ''));
    this.socket.end();
    return true;
  }

  /**
   * Answers a ping (RFC 6455 §5.5.2: every ping gets a pong, however busy the socket). At most one pong
   * waits in Node's buffer at a time, so a peer sending pings without reading cannot make pongs pile
   * up; pings that come meanwhile are answered once it is written, by one pong of the latest payload
   * (§5.5.3). Clients with keepalive pings (Python's `websockets`, 20 s by default) close a connection
   * whose ping goes unanswered, so a pong is never dropped.
   */
  #pong(payload: Buffer): void {
    if (this.#state !== 'open' || !this.socket.writable) return;
    if (this.#pongWaiting) {
      this.#unansweredPing = Buffer.from(payload);
      return;
    }
    this.#pongWaiting = true;
    // A closure per pong, not per connection: pongs are rare, and the write's callback is the only
    // word of when this pong has left Node's buffer (at once when the kernel took it all).
    this.write(controlFrame(OP_PONG, payload), () => this.#pongWritten());
  }

  #pongWritten(): void {
    this.#pongWaiting = false;
    const latest = this.#unansweredPing;
    this.#unansweredPing = undefined;
    if (latest) this.#pong(latest);
  }

  /** open → closing: sends `frame` (none when the peer is gone) and arms the timer that ends a close that hangs. */
  #startClosing(code: number, frame: Buffer | undefined): void {
    this.#state = 'closing';
    this.#closeCode = code;
    if (frame) this.write(frame);
    this.#closeTimer = setTimeout(destroyOwner, this.#limits.closeTimeoutMs, this);
    this.#closeTimer.unref();
  }

  /**
   * Fails the connection (RFC 6455 §7.1.7): a close frame with `code`, and our side of TCP ends. Then
   * what the peer still sends is read and dropped (`WsDiscard`): from the failing frame's start,
   * `skip` bytes (the rest of that frame; `undefined` when the framing is lost) and then frames until
   * the peer's close frame, which lets the socket go. The close timer and `maxDiscardBytes` bound the
   * wait. Returns false, for the frame handlers to return.
   */
  #fail(code: number, reason: string, skip: number | undefined): false {
    this.#handler.onFailed(code, reason);
    this.#partial = undefined;
    this.#fragments = undefined;
    this.#fragmentBytes = 0;
    if (this.#state === 'open') this.#startClosing(code, closeFrame(code, reason));
    this.#discard = new WsDiscard(skip, this.#limits.maxDiscardBytes);
    this.socket.end();
    return false;
  }

  /** The peer's close frame itself is wrong: failed, and nothing more is waited for from that peer. */
  #failOnClose(code: number, reason: string): false {
    this.#fail(code, reason, undefined);
    this.#release();
    return false;
  }

  #protocolError(reason: string): -1 {
    this.#fail(WsCloseCodes.PROTOCOL_ERROR, reason, undefined);
    return -1;
  }

  /** `frameBytes`: the refused frame's size, header included; `undefined` when too large to count. */
  #tooBig(frameBytes: number | undefined): -1 {
    this.#fail(WsCloseCodes.MESSAGE_TOO_BIG, `message over ${this.#limits.maxPayload} bytes`, frameBytes);
    return -1;
  }

  /** Bytes after the connection failed: dropped, until the peer's close frame or the byte bound. */
  #dropped(chunk: Buffer): void {
    const outcome = (this.#discard as WsDiscard).push(chunk);
    if (outcome === 'peer-closed') this.#release();
    else if (outcome === 'over-bound') this.terminate();
  }

  /**
   * The close handshake is over: the socket is destroyed once our close frame has left Node's buffer
   * (our side of TCP has ended; every byte the peer sent up to its close frame was read, so this is no reset).
   */
  #release(): void {
    if (this.socket.writableFinished) this.socket.destroy();
    else this.socket.once('finish', destroySocket);
  }
}

/** Codes a close frame may carry on the wire (RFC 6455 §7.4, and the IANA registry's 1012–1014). */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

const PING_FRAME = controlFrame(OP_PING, Buffer.alloc(0));
const EMPTY_CLOSE_FRAME = controlFrame(OP_CLOSE, Buffer.alloc(0));

function controlFrame(opcode: number, payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(2 + payload.length);
  frame[0] = 0x80 | opcode;
  frame[1] = payload.length;
  payload.copy(frame, 2);
  return frame;
}

function closeFrame(code: number, reason: string): Buffer {
  // A control frame holds at most 125 bytes: the code and up to 123 of the reason.
  let text = reason;
  while (Buffer.byteLength(text) > 123) text = text.slice(0, -1);
  const payload = Buffer.allocUnsafe(2 + Buffer.byteLength(text));
  payload.writeUInt16BE(code, 0);
  payload.write(text, 2, 'utf8');
  return controlFrame(OP_CLOSE, payload);
}

// The socket's listeners: whatever handling the peer's bytes throws ends this peer, never the process.

function onSocketData(this: OwnedSocket, chunk: Buffer): void {
  const ws = this[OWNER];
  try {
    ws?.receive(chunk);
  } catch (error) {
    ws?.faulted(error);
  }
}

function onSocketEnd(this: OwnedSocket): void {
  const ws = this[OWNER];
  try {
    ws?.ended();
  } catch (error) {
    ws?.faulted(error);
  }
}

function onSocketClose(this: OwnedSocket): void {
  const ws = this[OWNER];
  try {
    ws?.closed();
  } catch (error) {
    ws?.faulted(error);
  }
}

function destroyOwner(ws: WsSocket): void {
  ws.terminate();
}

function destroySocket(this: Socket): void {
  this.destroy();
}
