/**
 * What a WebSocket reads after it failed the connection (a message over the size limit, text that is
 * not UTF-8, a protocol error): everything the peer still sends, dropped as it comes, until the peer's
 * close frame. Closing instead with those bytes unread would make the kernel answer them with a TCP
 * reset, and a reset makes the peer's network stack throw away the close frame it has not read yet:
 * the client would see 1006 instead of 1009 and its reason.
 *
 * Only frame headers are looked at (and control frames, at most 139 bytes); payloads are skipped by
 * count, so nothing grows with what is dropped. After a protocol error the framing itself cannot be
 * trusted, and everything is dropped unread. `maxBytes` bounds how much is read in all.
 *
 * @example
 * const discard = new WsDiscard(bytesLeftInRefusedFrame, limits.maxDiscardBytes);
 * const outcome = discard.push(chunk); // 'reading' | 'peer-closed' | 'over-bound'
 */
export type WsDiscardOutcome = 'reading' | 'peer-closed' | 'over-bound';

/** The longest frame start read whole: a 14-byte header (64-bit length, mask) and a 125-byte control payload. */
const MAX_HEAD = 14 + 125;
const OP_CLOSE = 0x8;

export class WsDiscard {
  readonly #maxBytes: number;
  #bytes = 0;
  /** Payload bytes of the current frame still to drop; Infinity once the framing is lost. */
  #skip: number;
  readonly #head = Buffer.allocUnsafe(MAX_HEAD);
  #headLength = 0;

  /**
   * @param skip bytes to drop before the next frame starts (the rest of the frame that failed), or
   *   `undefined` when the framing is lost and everything is dropped unread.
   * @param maxBytes bytes read in all (those of `skip` included) before the outcome is `over-bound`.
   */
  constructor(skip: number | undefined, maxBytes: number) {
    this.#skip = skip ?? Number.POSITIVE_INFINITY;
    this.#maxBytes = maxBytes;
  }

  /** Takes the next bytes from the peer: still reading, its close frame came, or past the byte bound. */
  push(chunk: Buffer): WsDiscardOutcome {
    this.#bytes += chunk.length;
    if (this.#bytes > this.#maxBytes) return 'over-bound';
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#skip > 0) {
        const skipped = Math.min(this.#skip, chunk.length - offset);
        this.#skip -= skipped;
        offset += skipped;
        continue;
      }
      const needed = headBytes(this.#head, this.#headLength);
      if (needed === undefined) {
        this.#skip = Number.POSITIVE_INFINITY;
        continue;
      }
      if (this.#headLength < needed) {
        const copied = chunk.copy(this.#head, this.#headLength, offset, offset + needed - this.#headLength);
        this.#headLength += copied;
        offset += copied;
        // The header's first bytes may say it is longer (an extended length, a mask): asked again.
        if (this.#headLength < needed || headBytes(this.#head, this.#headLength) !== needed) continue;
      }
      if (this.#frameRead()) {
        // Nothing after a close frame is a frame (RFC 6455 §5.5.1); what still comes is dropped unread.
        this.#skip = Number.POSITIVE_INFINITY;
        return 'peer-closed';
      }
    }
    return 'reading';
  }

  /** A frame's start is in `#head`: true for a close frame; otherwise its payload is skipped. */
  #frameRead(): boolean {
    const head = this.#head;
    const opcode = head[0]! & 0x0f;
    this.#headLength = 0;
    if (opcode >= 0x8) return opcode === OP_CLOSE;
    const length = head[1]! & 0x7f;
    if (length === 126) this.#skip = head.readUInt16BE(2);
    else if (length === 127) this.#skip = head.readUInt32BE(2) * 2 ** 32 + head.readUInt32BE(6);
    else this.#skip = length;
    return false;
  }
}

/**
 * Bytes of the frame start in `head` (the first `have` bytes of it) that are read whole: header, mask
 * and, for a control frame, its payload. `undefined` when no frame starts like this (a control frame
 * over 125 bytes or fragmented): the framing is lost.
 */
function headBytes(head: Buffer, have: number): number | undefined {
  if (have < 2) return 2;
  const first = head[0]!;
  const second = head[1]!;
  const length = second & 0x7f;
  const mask = (second & 0x80) !== 0 ? 4 : 0;
  if ((first & 0x0f) >= 0x8) {
    if ((first & 0x80) === 0 || length > 125) return undefined;
    return 2 + mask + length;
  }
  return 2 + (length === 126 ? 2 : length === 127 ? 8 : 0) + mask;
}
