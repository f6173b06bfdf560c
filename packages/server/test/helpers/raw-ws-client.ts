/**
 * A WebSocket client on a bare `node:net` socket for the conformance tests: the opening handshake
 * written by hand, frames built by hand and written in any pieces, and every server frame checked
 * against RFC 6455 (see `ServerFrameChecker`). Waits are on socket events, never sleeps.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import {
  type ClientFrameSpec,
  clientFrame,
  closeBody,
  FrameReader,
  Opcode,
  type ServerFrame,
  ServerFrameChecker,
  type ServerMessage,
} from './raw-ws-frame.js';

/** Default bound on every wait, ms: generous, for a loaded two-core machine. */
export const WAIT_MS = 10_000;

export interface UpgradeRequest {
  method?: string;
  path?: string;
  /** Replaces the default header of that name (case-insensitive); `undefined` leaves it out. */
  headers?: Record<string, string | undefined>;
}

/** The request line and header block of an upgrade request, with the key it carries. */
export function upgradeRequestText(request: UpgradeRequest = {}): { text: string; key: string | undefined } {
  const headers = new Map<string, [string, string | undefined]>([
    ['host', ['Host', '127.0.0.1']],
    ['upgrade', ['Upgrade', 'websocket']],
    ['connection', ['Connection', 'Upgrade']],
    ['sec-websocket-key', ['Sec-WebSocket-Key', randomBytes(16).toString('base64')]],
    ['sec-websocket-version', ['Sec-WebSocket-Version', '13']],
  ]);
  for (const [name, value] of Object.entries(request.headers ?? {}))
    headers.set(name.toLowerCase(), [name, value]);
  const lines = [`${request.method ?? 'GET'} ${request.path ?? '/ws'} HTTP/1.1`];
  for (const [name, value] of headers.values()) if (value !== undefined) lines.push(`${name}: ${value}`);
  return { text: `${lines.join('\r\n')}\r\n\r\n`, key: headers.get('sec-websocket-key')?.[1] };
}

export interface HttpAnswer {
  status: number;
  /** Header names in lower case; repeated headers joined with ", ". */
  headers: Map<string, string>;
}

function parseAnswer(head: string): HttpAnswer {
  const [statusLine = '', ...lines] = head.split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!match) throw new Error(`not an HTTP answer: ${JSON.stringify(statusLine)}`);
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const earlier = headers.get(name);
    headers.set(name, earlier === undefined ? value : `${earlier}, ${value}`);
  }
  return { status: Number(match[1]), headers };
}

/** Resolves when `socket` has closed, false if it is still open after `timeoutMs`. */
function closedWithin(socket: Socket, timeoutMs: number): Promise<boolean> {
  if (socket.closed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

interface Exchange {
  socket: Socket;
  answer: HttpAnswer;
  /** Bytes that followed the header block in the same reads (the first frames, or a body). */
  rest: Buffer;
}

/** Opens a TCP connection, sends `text` and reads the answer's header block. */
async function exchange(port: number, text: string): Promise<Exchange> {
  const socket = connect({ port, host: '127.0.0.1', noDelay: true });
  socket.on('error', () => {});
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('no HTTP answer in time')), WAIT_MS);
    const fail = (error: Error) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.destroy();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      const bytes = Buffer.concat(chunks);
      const end = bytes.indexOf('\r\n\r\n');
      if (end < 0) return;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
      try {
        resolve({
          socket,
          answer: parseAnswer(bytes.subarray(0, end).toString('latin1')),
          rest: bytes.subarray(end + 4),
        });
      } catch (error) {
        fail(error as Error);
      }
    };
    const onClose = () =>
      fail(
        new Error(
          `closed before an HTTP answer: ${JSON.stringify(Buffer.concat(chunks).toString('latin1'))}`,
        ),
      );
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('connect', () => socket.write(text));
  });
}

/**
 * Sends an upgrade request that should be refused: the answer's status and headers, and whether the
 * server then closed the TCP connection (within `closeWithinMs`).
 */
export async function refusedUpgrade(
  port: number,
  request: UpgradeRequest | string,
  closeWithinMs = WAIT_MS,
): Promise<HttpAnswer & { closed: boolean }> {
  const text = typeof request === 'string' ? request : upgradeRequestText(request).text;
  const { socket, answer } = await exchange(port, text);
  socket.resume();
  const closed = await closedWithin(socket, closeWithinMs);
  socket.destroy();
  return { ...answer, closed };
}

/** A parsed JSON text message from the server. */
export interface JsonMessage {
  type: string;
  [key: string]: unknown;
}

export interface RawWsOptions {
  /** Answer every server ping with a pong of the same payload (default false: frames go out only when a test says). */
  autoPong?: boolean;
}

export class RawWsClient {
  readonly socket: Socket;
  readonly handshake: HttpAnswer;
  /** The key this client sent, for checking `Sec-WebSocket-Accept`. */
  readonly key: string | undefined;
  readonly frames: ServerFrame[] = [];
  readonly messages: ServerMessage[] = [];
  readonly json: JsonMessage[] = [];
  readonly #checker = new ServerFrameChecker();
  readonly #reader = new FrameReader();
  readonly #autoPong: boolean;
  /** Text messages that were not JSON: not an RFC matter, but no livedash server sends one. */
  readonly #notJson: string[] = [];
  #waiters = new Set<() => void>();
  #tcpClosed = false;
  #peerEnded = false;

  private constructor(opened: Exchange, key: string | undefined, options: RawWsOptions) {
    this.socket = opened.socket;
    this.handshake = opened.answer;
    this.key = key;
    this.#autoPong = options.autoPong ?? false;
    this.socket.on('data', (chunk: Buffer) => this.#onBytes(chunk));
    this.socket.once('end', () => {
      this.#peerEnded = true;
    });
    this.socket.once('close', () => {
      this.#tcpClosed = true;
      this.#wake();
    });
    if (opened.rest.length > 0) this.#onBytes(opened.rest);
    this.socket.resume();
  }

  /** Completes the opening handshake; rejects unless the server answers 101. */
  static async open(
    port: number,
    request: UpgradeRequest = {},
    options: RawWsOptions = {},
  ): Promise<RawWsClient> {
    const { text, key } = upgradeRequestText(request);
    const opened = await exchange(port, text);
    if (opened.answer.status !== 101) {
      opened.socket.destroy();
      throw new Error(`upgrade answered ${opened.answer.status}, not 101`);
    }
    return new RawWsClient(opened, key, options);
  }

  /** Every RFC 6455 rule the server's frames broke so far (empty for a conforming server). */
  get violations(): readonly string[] {
    return [...this.#checker.violations, ...this.#notJson.map((text) => `not JSON: ${text.slice(0, 80)}`)];
  }

  get tcpClosed(): boolean {
    return this.#tcpClosed;
  }

  /** True when the server ended the TCP stream (FIN) rather than the client destroying the socket. */
  get peerEnded(): boolean {
    return this.#peerEnded;
  }

  /** The server's close frame, once one arrived. */
  get closeFrame(): ServerFrame | undefined {
    return this.frames.find((frame) => frame.opcode === Opcode.CLOSE);
  }

  /** Writes bytes; resolves once written (or once the write failed on a closed socket). */
  write(bytes: Buffer): Promise<void> {
    if (this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => this.socket.write(bytes, () => resolve()));
  }

  /** Writes `bytes` as one TCP write per piece: cut at each offset in `cuts`, or every byte alone. */
  async writeInPieces(bytes: Buffer, cuts: number[] | 'every-byte'): Promise<void> {
    const offsets = cuts === 'every-byte' ? Array.from({ length: bytes.length - 1 }, (_, i) => i + 1) : cuts;
    let from = 0;
    for (const to of [...offsets, bytes.length]) {
      await this.write(bytes.subarray(from, to));
      from = to;
    }
  }

  send(spec: ClientFrameSpec): Promise<void> {
    return this.write(clientFrame(spec));
  }

  /** Sends a command as one masked text frame. */
  command(command: unknown): Promise<void> {
    return this.send({
      opcode: Opcode.TEXT,
      payload: typeof command === 'string' ? command : JSON.stringify(command),
    });
  }

  sendClose(code?: number, reason: Buffer | string = ''): Promise<void> {
    return this.send({ opcode: Opcode.CLOSE, payload: closeBody(code, reason) });
  }

  /** Resolves with `find()`'s first defined result, checked again on every frame; rejects on timeout or TCP close. */
  until<T>(find: () => T | undefined, what: string, timeoutMs = WAIT_MS): Promise<T> {
    return new Promise((resolve, reject) => {
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        settle();
      };
      const check = () => {
        const found = find();
        if (found !== undefined) finish(() => resolve(found));
        else if (this.#tcpClosed)
          finish(() => reject(new Error(`TCP closed while waiting for ${what}; ${this.#recent()}`)));
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`timed out waiting for ${what}; ${this.#recent()}`))),
        timeoutMs,
      );
      this.#waiters.add(check);
      check();
    });
  }

  /** The first JSON message matching `predicate` (already received or still to come). */
  waitForJson(
    predicate: (message: JsonMessage) => boolean,
    what: string,
    timeoutMs = WAIT_MS,
  ): Promise<JsonMessage> {
    return this.until(() => this.json.find(predicate), what, timeoutMs);
  }

  /** The server's close frame as code (undefined for an empty body) and reason. */
  async waitForClose(timeoutMs = WAIT_MS): Promise<{ code: number | undefined; reason: Buffer }> {
    const frame = await this.until(() => this.closeFrame, 'a close frame', timeoutMs);
    return {
      code: frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : undefined,
      reason: frame.payload.subarray(2),
    };
  }

  /** Resolves when the TCP connection has closed; rejects if it is still open after `timeoutMs`. */
  async waitForTcpClose(timeoutMs = WAIT_MS): Promise<void> {
    await this.until(() => (this.#tcpClosed ? true : undefined), 'the TCP connection to close', timeoutMs);
  }

  destroy(): void {
    this.socket.destroy();
  }

  #onBytes(chunk: Buffer): void {
    for (const frame of this.#reader.push(chunk)) {
      this.frames.push(frame);
      const message = this.#checker.check(frame);
      if (message) {
        this.messages.push(message);
        if (message.opcode === Opcode.TEXT) this.#addJson(message.data.toString());
      }
      if (frame.opcode === Opcode.PING && this.#autoPong && !this.closeFrame) {
        void this.send({ opcode: Opcode.PONG, payload: frame.payload });
      }
    }
    this.#wake();
  }

  #addJson(text: string): void {
    try {
      this.json.push(JSON.parse(text) as JsonMessage);
    } catch {
      this.#notJson.push(text);
    }
  }

  #wake(): void {
    for (const check of [...this.#waiters]) check();
  }

  #recent(): string {
    const close = this.closeFrame;
    const closeText = close
      ? `close ${close.payload.length >= 2 ? close.payload.readUInt16BE(0) : '(empty)'}`
      : 'no close';
    // Opcodes too: pings and pongs are frames, not messages, and a missing pong shows only here.
    const opcodes = this.frames.map((frame) => frame.opcode.toString(16)).join(' ');
    return `last messages ${JSON.stringify(this.json.slice(-3))}, frame opcodes [${opcodes.slice(-60)}], ${closeText}, tcp ${this.#tcpClosed ? 'closed' : 'open'}`;
  }
}
