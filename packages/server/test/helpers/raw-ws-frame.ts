/**
 * RFC 6455 frames by hand, for the conformance tests: client frames with any header bits, length
 * encoding and mask (legal or not), and a reader of the server's frames that also lists every rule of
 * the RFC a server frame breaks. Not a test file itself.
 */
import { createHash, randomBytes } from 'node:crypto';

export const Opcode = {
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

/** The GUID every server appends to the client's key (RFC 6455 §1.3, §4.2.2). */
const HANDSHAKE_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The `Sec-WebSocket-Accept` a server must answer to `key`. */
export function acceptFor(key: string): string {
  return createHash('sha1')
    .update(key + HANDSHAKE_GUID)
    .digest('base64');
}

export interface ClientFrameSpec {
  opcode: number;
  payload?: Buffer | string;
  /** Default true. */
  fin?: boolean;
  /** RSV1..3 as a 3-bit number (4 = RSV1, 2 = RSV2, 1 = RSV3). */
  rsv?: number;
  /** Default true; client frames must be masked (§5.1), false builds an illegal one. */
  masked?: boolean;
  /** Length field width: the shortest that fits (default, and a MUST for senders, §5.2) or always 16 / 64 bits. */
  lengthBits?: 16 | 64;
  /** Announce this length instead of the payload's: a header for a payload that never comes. */
  announcedLength?: bigint;
}

/** One client frame exactly as `spec` says, legal or not. */
export function clientFrame(spec: ClientFrameSpec): Buffer {
  const payload =
    typeof spec.payload === 'string' ? Buffer.from(spec.payload) : (spec.payload ?? Buffer.alloc(0));
  const length = spec.announcedLength ?? BigInt(payload.length);
  const masked = spec.masked ?? true;
  const bits = spec.lengthBits ?? (length < 126n ? 7 : length < 65_536n ? 16 : 64);
  const head = Buffer.alloc(2 + (bits === 16 ? 2 : bits === 64 ? 8 : 0));
  head.writeUInt8(((spec.fin ?? true) ? 0x80 : 0) | (((spec.rsv ?? 0) & 0x7) << 4) | (spec.opcode & 0x0f), 0);
  const maskBit = masked ? 0x80 : 0;
  if (bits === 7) head.writeUInt8(maskBit | Number(length), 1);
  else if (bits === 16) {
    head.writeUInt8(maskBit | 126, 1);
    head.writeUInt16BE(Number(length), 2);
  } else {
    head.writeUInt8(maskBit | 127, 1);
    head.writeBigUInt64BE(length, 2);
  }
  if (!masked) return Buffer.concat([head, payload]);
  const key = randomBytes(4);
  const body = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; i++) body.writeUInt8(payload.readUInt8(i) ^ key.readUInt8(i % 4), i);
  return Buffer.concat([head, key, body]);
}

/** A close frame's body: a 2-byte code and a reason, or nothing when `code` is undefined (§5.5.1). */
export function closeBody(code?: number, reason: Buffer | string = ''): Buffer {
  if (code === undefined) return Buffer.alloc(0);
  const head = Buffer.alloc(2);
  head.writeUInt16BE(code);
  return Buffer.concat([head, typeof reason === 'string' ? Buffer.from(reason) : reason]);
}

export interface ServerFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Buffer;
  /** Bytes the length field took beyond the 7-bit one: 0, 2 or 8. */
  extendedLengthBytes: number;
}

/** Splits a byte stream into server frames; keeps an incomplete frame until the rest arrives. */
export class FrameReader {
  #pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): ServerFrame[] {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const frames: ServerFrame[] = [];
    for (;;) {
      const frame = this.#next();
      if (!frame) return frames;
      frames.push(frame);
    }
  }

  #next(): ServerFrame | undefined {
    const bytes = this.#pending;
    if (bytes.length < 2) return undefined;
    const first = bytes.readUInt8(0);
    const second = bytes.readUInt8(1);
    let length = BigInt(second & 0x7f);
    let at = 2;
    if (length === 126n) {
      if (bytes.length < 4) return undefined;
      length = BigInt(bytes.readUInt16BE(2));
      at = 4;
    } else if (length === 127n) {
      if (bytes.length < 10) return undefined;
      length = bytes.readBigUInt64BE(2);
      at = 10;
    }
    const masked = (second & 0x80) !== 0;
    const key = masked ? bytes.subarray(at, at + 4) : undefined;
    if (masked) at += 4;
    if (BigInt(bytes.length - at) < length) return undefined;
    const end = at + Number(length);
    const payload = Buffer.from(bytes.subarray(at, end));
    if (key && key.length === 4) {
      for (let i = 0; i < payload.length; i++)
        payload.writeUInt8(payload.readUInt8(i) ^ key.readUInt8(i % 4), i);
    }
    this.#pending = bytes.subarray(end);
    return {
      fin: (first & 0x80) !== 0,
      rsv: (first >> 4) & 0x7,
      opcode: first & 0x0f,
      masked,
      payload,
      extendedLengthBytes: (second & 0x7f) === 126 ? 2 : (second & 0x7f) === 127 ? 8 : 0,
    };
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export function isValidUtf8(bytes: Buffer): boolean {
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * Codes an endpoint may put in a close frame (§7.4.1, §7.4.2 and the IANA registry): 1004 is reserved,
 * 1005, 1006 and 1015 must never be sent, 1016–2999 are reserved, 3000–4999 are for libraries and apps.
 */
export function isSendableCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999)
  );
}

/** A text or binary message put back together from its frames. */
export interface ServerMessage {
  opcode: number;
  data: Buffer;
}

/**
 * Follows the server's frames as the RFC's receiving side would: reassembles messages and records
 * each rule a frame breaks (as `§section: what`), so a test can require that there are none.
 */
export class ServerFrameChecker {
  readonly violations: string[] = [];
  #message: { opcode: number; parts: Buffer[] } | undefined;
  #closeSeen = false;

  /** The message this frame completes, if any. */
  check(frame: ServerFrame): ServerMessage | undefined {
    const broken = (rule: string) => this.violations.push(`${rule} (opcode ${frame.opcode})`);
    if (this.#closeSeen) broken('§5.5.1: a frame after the server sent Close');
    if (frame.masked) broken('§5.1: a masked server frame');
    if (frame.rsv !== 0) broken('§5.2: RSV bits set with no extension negotiated');
    const minimal = frame.payload.length < 126 ? 0 : frame.payload.length < 65_536 ? 2 : 8;
    if (frame.extendedLengthBytes !== minimal) broken('§5.2: length not in its minimal encoding');
    if (frame.opcode >= 0x8) {
      if (!frame.fin) broken('§5.5: a fragmented control frame');
      if (frame.payload.length > 125) broken('§5.5: a control frame over 125 bytes');
      if (frame.opcode === Opcode.CLOSE) this.#checkClose(frame.payload, broken);
      else if (frame.opcode !== Opcode.PING && frame.opcode !== Opcode.PONG)
        broken('§5.2: a reserved opcode');
      return undefined;
    }
    if (frame.opcode === Opcode.CONTINUATION) {
      if (!this.#message) {
        broken('§5.4: a continuation with no message started');
        return undefined;
      }
      this.#message.parts.push(frame.payload);
    } else if (frame.opcode === Opcode.TEXT || frame.opcode === Opcode.BINARY) {
      if (this.#message) broken('§5.4: a new message inside a fragmented one');
      this.#message = { opcode: frame.opcode, parts: [frame.payload] };
    } else {
      broken('§5.2: a reserved opcode');
      return undefined;
    }
    if (!frame.fin) return undefined;
    const message = { opcode: this.#message.opcode, data: Buffer.concat(this.#message.parts) };
    this.#message = undefined;
    if (message.opcode === Opcode.TEXT && !isValidUtf8(message.data))
      broken('§8.1: a text message not UTF-8');
    return message;
  }

  #checkClose(body: Buffer, broken: (rule: string) => void): void {
    this.#closeSeen = true;
    if (body.length === 1) broken('§5.5.1: a one-byte close body');
    if (body.length < 2) return;
    if (!isSendableCloseCode(body.readUInt16BE(0))) broken(`§7.4: close code ${body.readUInt16BE(0)}`);
    if (!isValidUtf8(body.subarray(2))) broken('§5.5.1: a close reason not UTF-8');
  }
}
