import type { SubscribedFrame } from '@livedash/protocol';
import type { StoredMessage } from './brokers/broker.js';
import type { ChannelPolicies } from './channel-policy.js';

/**
 * Where a connection's bytes go: the raw `net.Socket` under a WebSocket (after the handshake) or an SSE
 * `ServerResponse`. Both are Node writables; only what the queue uses is named here.
 */
export interface ByteSink {
  readonly writableLength: number;
  readonly writableNeedDrain: boolean;
  write(chunk: Buffer): boolean;
  cork(): void;
  uncork(): void;
  once(event: 'drain', listener: () => void): unknown;
}

/**
 * What the queue asks of its transport. One object per transport, shared by every connection (so a
 * connection costs no closures); `owner` is the connection the queue belongs to.
 */
export interface OutgoingHooks<Owner> {
  /** The message's bytes on this transport (built once per message where the bytes are the same for all). */
  encode(message: StoredMessage, owner: Owner): Buffer;
  /** The bytes that tell the client a state channel was conflated (`$subscribed`, recovered:false). */
  conflationNotice(message: StoredMessage, owner: Owner): Buffer;
  /** A stream channel went over the bound: the transport closes the connection (4008 / end of stream). */
  overflow(owner: Owner): void;
  /** False once the connection is closing: nothing more is written. */
  isOpen(owner: Owner): boolean;
  /** Frames not written: `conflated` (replaced by a newer value of their state channel) or `closed`. */
  dropped(reason: 'conflated' | 'closed', count: number): void;
  /** Writing this connection's frames threw outside any caller (a flush or drain): close it. Must not throw. */
  failed(owner: Owner, error: unknown): void;
}

/** What every queue of one transport shares. */
export interface OutgoingShared<Owner> {
  scheduler: FlushScheduler;
  /** Per-connection bound: bytes buffered in the sink plus this turn's frames. */
  maxQueueBytes: number;
  policies: ChannelPolicies;
  hooks: OutgoingHooks<Owner>;
}

/**
 * A queue's lifecycle:
 *  - `flowing`: messages are written at the end of the event-loop turn;
 *  - `congested`: the bound was hit; state channels hold only their newest message until the sink drains;
 *  - `closed`: the connection is gone; everything is dropped.
 */
export type QueueState = 'flowing' | 'congested' | 'closed';
export type QueueEvent = 'overflow' | 'drained' | 'close';

export function nextQueueState(state: QueueState, event: QueueEvent): QueueState {
  if (state === 'closed' || event === 'close') return 'closed';
  return event === 'overflow' ? 'congested' : 'flowing';
}

/**
 * Control frames (answers to the client's own commands, `$error`, heartbeats) may take the queue this
 * far past `maxQueueBytes` (a quarter more): a client whose queue is full of data still gets the answer
 * to its command, while one that keeps asking without reading is closed like any slow consumer.
 */
const CONTROL_RESERVE = 1.25;

/** Past this many bytes a turn's frames are written with cork/uncork (one writev) instead of copied into one Buffer. */
const CONCAT_LIMIT = 64 * 1024;

/**
 * Batches every connection's writes to once per event-loop turn: a burst of publishes costs each
 * socket one `write` (one syscall) whatever the number of messages. Counts frames and bytes per turn
 * so metrics are updated once per turn, not once per delivery.
 */
export class FlushScheduler {
  #dirty: Array<{ flush(): void; fail(error: unknown): void }> = [];
  #scheduled = false;
  #frames = 0;
  #bytes = 0;
  /** When the current (or last) flush ran, ms since the Unix epoch: read as a connection's last write time. */
  now = Date.now();
  readonly #onFlushed: (frames: number, bytes: number) => void;

  constructor(onFlushed: (frames: number, bytes: number) => void) {
    this.#onFlushed = onFlushed;
  }

  /** @internal a queue got its first frame of this turn */
  schedule(queue: { flush(): void; fail(error: unknown): void }): void {
    this.#dirty.push(queue);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.flush());
  }

  /** @internal counts what a queue wrote */
  count(frames: number, bytes: number): void {
    this.#frames += frames;
    this.#bytes += bytes;
  }

  /** Writes every queue that has frames waiting. Runs once per turn; callable directly (shutdown). */
  flush(): void {
    this.#scheduled = false;
    this.now = Date.now();
    const dirty = this.#dirty;
    this.#dirty = [];
    for (const queue of dirty) {
      // One connection's failure closes that connection; the others of this turn are still written.
      try {
        queue.flush();
      } catch (error) {
        queue.fail(error);
      }
    }
    if (this.#frames > 0) {
      this.#onFlushed(this.#frames, this.#bytes);
      this.#frames = 0;
      this.#bytes = 0;
    }
  }
}

/**
 * One connection's outgoing data, bounded in bytes (what the sink has buffered plus this turn's frames).
 * Over the bound, a *state* channel conflates — only its newest message is kept, and when the sink has
 * drained the client gets `$subscribed` (recovered:false) and that message, exactly what a fresh
 * subscribe gives — while a *stream* channel calls `overflow` (the transport disconnects with 4008 and
 * the client recovers from history). Control frames are written at once, after anything pending, so
 * an `$error` followed by a close arrives before the close; they count against the same bound (with a
 * reserve of a quarter of it), past which the transport closes the connection as slow (`overflow`).
 *
 * @example
 * const queue = new OutgoingQueue(socket, connection, shared); // shared: scheduler, bound, policies, hooks
 * queue.push(message);          // written at the end of this event-loop turn
 * queue.writeNow(controlBytes); // written now, after whatever was pending
 */
export class OutgoingQueue<Owner> {
  readonly #sink: ByteSink;
  readonly #owner: Owner;
  readonly #shared: OutgoingShared<Owner>;
  #state: QueueState = 'flowing';
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** State channels' newest messages held while congested. */
  #conflated: Map<string, StoredMessage> | undefined;
  /**
   * The size of a message bigger than the whole bound, let into a queue that held nothing else (or
   * only its conflation notice): until the queue is back under the bound it is counted on top of it,
   * so the frames that follow (a pong, the next message) are held to the usual bound rather than
   * closing the connection behind it.
   */
  #oversized = 0;
  /** When something was last written, ms since the Unix epoch (idle connections get heartbeats). */
  lastWriteAt = Date.now();

  constructor(sink: ByteSink, owner: Owner, shared: OutgoingShared<Owner>) {
    this.#sink = sink;
    this.#owner = owner;
    this.#shared = shared;
  }

  get state(): QueueState {
    return this.#state;
  }

  /** Bytes waiting: buffered in the sink plus this turn's frames. */
  get queuedBytes(): number {
    return this.#sink.writableLength + this.#pendingBytes;
  }

  /** Queues a channel message for the end of this turn, or conflates / overflows past the bound. */
  push(message: StoredMessage): void {
    if (this.#state === 'closed') return;
    const held = this.#conflated;
    if (held?.has(message.channel)) {
      // Order within a channel: once one message of it is held, newer ones replace it.
      held.set(message.channel, message);
      this.#shared.hooks.dropped('conflated', 1);
      return;
    }
    const frame = this.#shared.hooks.encode(message, this.#owner);
    if (!this.#takes(frame)) {
      this.#overBound(message);
      return;
    }
    this.#enqueue(frame);
  }

  /**
   * The newest message of a state channel held while congested, not written yet: a position sent to
   * the client (an SSE `id:`) must not name it, or a resume from there would skip it.
   */
  held(channel: string): StoredMessage | undefined {
    return this.#conflated?.get(channel);
  }

  /** Whether `message` can be queued now without going over the bound (a paced replay asks first). */
  fits(message: StoredMessage): boolean {
    if (this.#state !== 'flowing') return false;
    return this.#takes(this.#shared.hooks.encode(message, this.#owner));
  }

  /**
   * Whether `frame` stays within the bound once queued. A message bigger than the whole bound (the
   * publish limits allow more than `maxQueueBytes`) goes alone into an empty queue, rather than
   * closing every connection it is sent to, or stalling a replay, for good.
   */
  #takes(frame: Buffer): boolean {
    const queued = this.queuedBytes;
    return queued === 0 || queued + frame.length <= this.#shared.maxQueueBytes + this.#excess();
  }

  /** What an oversized message still queued adds to the bound (see `#oversized`). */
  #excess(): number {
    if (this.#oversized > 0 && this.queuedBytes <= this.#shared.maxQueueBytes) this.#oversized = 0;
    return this.#oversized;
  }

  /**
   * Calls `callback` once the queue is at most half full (this turn's frames written, the sink drained),
   * so a replay larger than the bound goes out in pieces at the pace the client reads. Never called once
   * the queue is closed.
   */
  whenDrained(callback: () => void): void {
    const check = () => {
      if (this.#state === 'closed') return;
      if (this.#state === 'flowing' && this.queuedBytes <= this.#shared.maxQueueBytes / 2) callback();
      else wait();
    };
    // 'drain' only comes after a write past the sink's high-water mark; below it a short timer polls.
    const wait = () => {
      if (this.#sink.writableNeedDrain) this.#sink.once('drain', check);
      else setTimeout(check, 10).unref();
    };
    wait();
  }

  /**
   * Writes a control frame now, after anything pending (never conflated, never deferred). Over
   * `maxQueueBytes` plus the control reserve the frame is dropped and the transport closes the
   * connection as slow (`overflow`): a peer that makes the server answer without reading its answers
   * is held to the same bound as one that does not read its data.
   */
  writeNow(frame: Buffer): void {
    this.flush();
    if (!this.reserve(frame.length)) {
      this.#shared.hooks.dropped('closed', 1);
      return;
    }
    this.lastWriteAt = Date.now();
    this.#sink.write(frame);
    this.#shared.scheduler.count(1, frame.length);
  }

  /**
   * Whether a control frame of `bytes` may be written now (by `writeNow`, or by the transport itself,
   * as WebSocket pongs are). False when the connection is closing, or when the frame would take the
   * queue past `maxQueueBytes` plus the control reserve: then the transport is told to close the
   * connection as slow (`overflow`).
   */
  reserve(bytes: number): boolean {
    if (this.#state === 'closed' || !this.#shared.hooks.isOpen(this.#owner)) return false;
    if (this.queuedBytes + bytes <= this.#shared.maxQueueBytes * CONTROL_RESERVE + this.#excess())
      return true;
    this.#shared.hooks.overflow(this.#owner);
    return false;
  }

  /** Writes this turn's frames in one write. Called by the scheduler. */
  flush(): void {
    const pending = this.#pending;
    const count = pending.length;
    if (count === 0) return;
    const bytes = this.#pendingBytes;
    this.#pendingBytes = 0;
    if (this.#state === 'closed' || !this.#shared.hooks.isOpen(this.#owner)) {
      pending.length = 0;
      this.#shared.hooks.dropped('closed', count);
      return;
    }
    this.lastWriteAt = this.#shared.scheduler.now;
    // The array is reused turn after turn: a fresh one per connection per flush was measurable GC work
    // at thousands of connections. Writes never call back into the queue synchronously.
    if (count === 1) this.#sink.write(pending.pop()!);
    else {
      if (bytes <= CONCAT_LIMIT) this.#sink.write(Buffer.concat(pending, bytes));
      else {
        this.#sink.cork();
        for (const frame of pending) this.#sink.write(frame);
        this.#sink.uncork();
      }
      pending.length = 0;
    }
    this.#shared.scheduler.count(count, bytes);
  }

  /** Writing failed outside any caller: the queue closes and the transport closes its connection. */
  fail(error: unknown): void {
    this.close();
    try {
      this.#shared.hooks.failed(this.#owner, error);
    } catch {
      // The transport's handler is best effort; the queue is closed either way.
    }
  }

  close(): void {
    this.#state = nextQueueState(this.#state, 'close');
    this.#pending.length = 0;
    this.#pendingBytes = 0;
    this.#conflated = undefined;
  }

  #enqueue(frame: Buffer): void {
    if (frame.length > this.#shared.maxQueueBytes) this.#oversized = Math.max(this.#excess(), frame.length);
    this.#pending.push(frame);
    this.#pendingBytes += frame.length;
    if (this.#pending.length === 1) this.#shared.scheduler.schedule(this);
  }

  #overBound(message: StoredMessage): void {
    if (this.#shared.policies.of(message.channel) !== 'state') {
      this.#shared.hooks.overflow(this.#owner);
      return;
    }
    this.#conflated ??= new Map();
    this.#conflated.set(message.channel, message);
    this.#shared.hooks.dropped('conflated', 1);
    if (this.#state === 'congested') return;
    this.#state = nextQueueState(this.#state, 'overflow');
    this.#awaitDrain();
  }

  #awaitDrain(): void {
    // 'drain' only comes after a write that went past the sink's high-water mark; a bound below it
    // (tiny test bounds) is watched with a short timer instead.
    if (this.#sink.writableNeedDrain) this.#sink.once('drain', () => this.#releaseGuarded());
    else setTimeout(() => this.#releaseGuarded(), 10).unref();
  }

  #releaseGuarded(): void {
    try {
      this.#release();
    } catch (error) {
      this.fail(error);
    }
  }

  /** The sink drained: send each held state channel's newest message, announced as a reset. */
  #release(): void {
    if (this.#state !== 'congested') return;
    if (this.#sink.writableLength + this.#pendingBytes > this.#shared.maxQueueBytes / 2) {
      this.#awaitDrain();
      return;
    }
    const held = this.#conflated;
    this.#state = nextQueueState(this.#state, 'drained');
    if (!held) return;
    // Each message leaves the map only as it is encoded, so what is written before it (an SSE id names
    // every channel, its notice's too) does not name it; one that no longer fits goes back in.
    for (const message of [...held.values()]) {
      const notice = this.#shared.hooks.conflationNotice(message, this.#owner);
      held.delete(message.channel);
      const frame = this.#shared.hooks.encode(message, this.#owner);
      // A value bigger than the whole bound goes, with its notice, into an otherwise empty queue.
      const alone = this.queuedBytes === 0;
      if (
        this.#state === 'congested' ||
        (!alone && this.queuedBytes + notice.length + frame.length > this.#shared.maxQueueBytes)
      ) {
        this.#overBound(message);
        continue;
      }
      this.#enqueue(notice);
      this.#enqueue(frame);
    }
    if (held.size === 0 && this.#conflated === held) this.#conflated = undefined;
  }
}

/**
 * What a client gets before a conflated state value: the frame a fresh subscribe starts with, so it
 * takes the value that follows as the channel's current state (the seqs in between were skipped).
 */
export function conflationNotice(message: StoredMessage): SubscribedFrame {
  return {
    type: '$subscribed',
    channel: message.channel,
    epoch: message.epoch,
    seq: message.seq,
    recovered: false,
  };
}
