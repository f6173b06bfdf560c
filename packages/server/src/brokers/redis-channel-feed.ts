import type { Position } from '@livedash/protocol';
import type { ReadResult, StoredMessage } from './broker.js';

/**
 * Keeps one subscribed channel's live messages in seq order, each once, with no gap that history can fill.
 *
 * Redis Pub/Sub is ordered and complete only while a connection stays up. Messages published while this
 * node's subscriber connection was down (a network blip, a failover) never arrive; so when a message skips
 * ahead, or the connection comes back, the feed reads the missing ones from the channel's stream and
 * delivers them before anything newer. While a read is in flight, new live messages are not buffered: the
 * feed only notes that more arrived and reads again, since history already holds them in order.
 */
export type FeedState = { kind: 'live' } | { kind: 'filling'; stale: boolean } | { kind: 'closed' };

export interface FeedDeps {
  /** Reads history after `since` (or the latest without it); undefined when Redis cannot answer. */
  read(since: Position | undefined): Promise<ReadResult | undefined>;
  deliver(message: StoredMessage): void;
  /** Told when history could not cover a gap (the next message skips ahead). */
  onGap(channel: string, from: Position, to: Position): void;
}

export class ChannelFeed {
  readonly channel: string;
  readonly #deps: FeedDeps;
  #state: FeedState = { kind: 'live' };
  /** The last position delivered (or known at subscribe time); undefined until either happens. */
  #last: Position | undefined;
  /** The baseline read in flight, if any (see `takeBaseline`). */
  #baseline: Promise<void> | undefined;

  constructor(channel: string, deps: FeedDeps) {
    this.channel = channel;
    this.#deps = deps;
  }

  get state(): FeedState {
    return this.#state;
  }

  /**
   * Where the channel stood when this node subscribed, as `read` finds it; later messages continue from it.
   * Until the read answers, a catch-up waits for it: when the subscription is made before the read answers
   * (its shard's connection was still opening), whatever was published after the baseline is filled from
   * history rather than taken for old news. Resolves once the baseline is known (or could not be read).
   */
  async takeBaseline(read: Promise<Position | undefined>): Promise<void> {
    const taken = read.then(
      (position) => {
        if (position !== undefined && this.#last === undefined) {
          this.#last = { epoch: position.epoch, seq: position.seq };
        }
      },
      () => {
        // Redis could not answer: the first catch-up takes the baseline instead (see #apply).
      },
    );
    this.#baseline = taken;
    await taken;
    if (this.#baseline === taken) this.#baseline = undefined;
  }

  /** A live message from Pub/Sub. */
  offer(message: StoredMessage): void {
    const state = this.#state;
    if (state.kind === 'closed') return;
    if (state.kind === 'filling') {
      state.stale = true;
      return;
    }
    const last = this.#last;
    // A new epoch means Redis lost the channel's history; its seq restarts from 1.
    const from = last === undefined ? undefined : last.epoch === message.epoch ? last.seq : 0;
    if (from === undefined || message.seq === from + 1) {
      this.#deliver(message);
    } else if (message.seq > from) {
      this.#last = { epoch: message.epoch, seq: from };
      void this.#fill();
    }
    // Otherwise seq <= last: already delivered (a read and a live message overlapped).
  }

  /** After the subscriber connection came back: fetch whatever was published meanwhile. */
  catchUp(): void {
    const state = this.#state;
    if (state.kind === 'closed') return;
    if (state.kind === 'filling') state.stale = true;
    else void this.#fill();
  }

  close(): void {
    this.#state = { kind: 'closed' };
  }

  #deliver(message: StoredMessage): void {
    this.#last = { epoch: message.epoch, seq: message.seq };
    this.#deps.deliver(message);
  }

  async #fill(): Promise<void> {
    const filling: FeedState = { kind: 'filling', stale: false };
    this.#state = filling;
    if (this.#baseline !== undefined) await this.#baseline;
    for (;;) {
      const from = this.#last;
      const result = await this.#deps.read(from);
      if (this.#state !== filling) return; // closed meanwhile
      if (result === undefined) break; // Redis gone: the reconnect will call catchUp()
      const again = this.#apply(from, result);
      if (!again && !filling.stale) break;
      filling.stale = false;
    }
    this.#state = { kind: 'live' };
  }

  /** Delivers what `result` holds past `from`; true when another read is needed. */
  #apply(from: Position | undefined, result: ReadResult): boolean {
    if (from === undefined) {
      // No baseline yet (subscribed while Redis was unreachable): where the channel stands now is the
      // baseline, as it would have been at subscribe time. The latest message was published before this
      // node could listen, so it is not news; anything after it is, and arrives live or by a fill.
      this.#last = { epoch: result.epoch, seq: result.seq };
      return false;
    }
    if (from.epoch !== result.epoch) {
      // History was lost: everything in the new epoch is news. Read it from its start.
      this.#last = { epoch: result.epoch, seq: 0 };
      return result.seq > 0;
    }
    const after = from.seq;
    const fresh = result.messages.filter((message) => message.seq > after);
    const first = fresh[0];
    if (first !== undefined && first.seq !== after + 1) {
      this.#deps.onGap(this.channel, from, { epoch: first.epoch, seq: first.seq });
    }
    for (const message of fresh) this.#deliver(message);
    return false;
  }
}
