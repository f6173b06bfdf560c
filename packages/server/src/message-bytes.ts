import type { StoredMessage } from './brokers/broker.js';

/**
 * How many recent messages keep their bytes: a `maxRate` tick hands every paced subscriber of a stream
 * channel the same run of messages one subscriber after another, so the run must still be cached when
 * the next subscriber asks. Past this many the oldest entries are forgotten (a rebuild, never an error).
 */
const RECENT = 1024;

/**
 * A message's bytes on one transport, built once however many subscribers it goes to. Unpaced fan-out
 * hands one message to every subscriber before the next, so the last one answers almost every call;
 * the few recent ones behind it serve the batches written on a rate's tick.
 *
 * @example
 * const frames = new MessageBytes((message) => encodeTextFrame(message.frame));
 * socket.write(frames.of(message)); // the same Buffer for every socket
 */
export class MessageBytes {
  readonly #encode: (message: StoredMessage) => Buffer;
  #last: StoredMessage | undefined;
  #lastBytes: Buffer = Buffer.alloc(0);
  readonly #recent = new Map<StoredMessage, Buffer>();

  constructor(encode: (message: StoredMessage) => Buffer) {
    this.#encode = encode;
  }

  of(message: StoredMessage): Buffer {
    if (message === this.#last) return this.#lastBytes;
    let bytes = this.#recent.get(message);
    if (bytes === undefined) {
      bytes = this.#encode(message);
      this.#recent.set(message, bytes);
      // Map iteration is insertion order: the first key is the oldest.
      if (this.#recent.size > RECENT) this.#recent.delete(this.#recent.keys().next().value as StoredMessage);
    }
    this.#last = message;
    this.#lastBytes = bytes;
    return bytes;
  }
}
