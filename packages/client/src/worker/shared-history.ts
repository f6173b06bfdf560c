import { itemsAfter, RingBuffer } from '@livedash/protocol';
import type { HistoryAnswer } from '../history-fetch.js';
import type { HistoryEntry } from '../types.js';

/** How many messages of each channel a worker keeps for its tabs: past it the oldest are dropped. */
export const SHARED_HISTORY_LIMIT = 10_000;

/** Reads the server's history of the channel after `since`; undefined when it could not. Never rejects. */
export type HistoryReader = (since: number, epoch: string | undefined) => Promise<HistoryAnswer | undefined>;

/**
 * One channel's recent messages, kept once in the worker for every tab that shows the channel:
 * recorded from the messages the shared connection receives, and completed from the server's history
 * (one read, however many tabs ask at the same time) when a tab asks for more than it holds.
 *
 * What it holds has no gap: every message of one epoch after `#from`, up to the newest received. A new
 * epoch, or a message after a gap (the connection missed some), starts it over from that message; past
 * `limit` the oldest are dropped, and a tab asking for those reads them from the server as it would in
 * the page.
 *
 * @example
 * const history = new SharedHistory((since, epoch) => fetchChannelHistory(fetch, url, token, 'cpu', since, epoch));
 * history.record(envelope); // each message the connection receives
 * await history.read(0, epoch); // a tab's backfill, from what is held when it covers `since`
 */
export class SharedHistory {
  readonly #ring: RingBuffer<HistoryEntry>;
  readonly #readServer: HistoryReader;
  #epoch: string | undefined;
  /** The seq just before the oldest held: every message of `#epoch` after it is held. */
  #from = 0;
  /** The server held nothing older when last asked, so a `since` before `#from` is covered too. */
  #complete = false;
  /** The read from the server under way: a tab asking meanwhile waits for it instead of reading again. */
  #reading: Promise<unknown> | undefined;

  constructor(readServer: HistoryReader, limit = SHARED_HISTORY_LIMIT) {
    this.#readServer = readServer;
    this.#ring = new RingBuffer(limit);
  }

  /** How many messages are held. */
  get size(): number {
    return this.#ring.size;
  }

  /** Records a message the connection received (in the order received). */
  record(message: HistoryEntry): void {
    const newest = this.#ring.last()?.seq ?? this.#from;
    if (message.epoch !== this.#epoch || message.seq > newest + 1) {
      // A new epoch, or messages the connection never got: what is held no longer leads up to this one.
      this.#restart(message.epoch, message.seq - 1);
    } else if (message.seq <= newest) {
      return; // replayed for a tab that was behind: held already
    }
    this.#push({ data: message.data, seq: message.seq, epoch: message.epoch, ts: message.ts });
  }

  /**
   * The messages after `since` of `epoch` (the current one when undefined), oldest first: from what is
   * held when that covers them, else read from the server and merged; [] when the server cannot say.
   */
  async read(since: number, epoch: string | undefined): Promise<HistoryEntry[]> {
    if (!this.#covers(since, epoch) && this.#reading) await this.#reading;
    if (this.#covers(since, epoch)) return itemsAfter(this.#ring, since);
    const reading = this.#readServer(since, epoch);
    this.#reading = reading;
    const answer = await reading;
    if (this.#reading === reading) this.#reading = undefined;
    if (!answer) return [];
    this.#merge(answer);
    return this.#covers(since, epoch)
      ? itemsAfter(this.#ring, since)
      : answer.messages.filter((entry) => entry.seq > since);
  }

  #covers(since: number, epoch: string | undefined): boolean {
    return (
      this.#ring.size > 0 && (epoch ?? this.#epoch) === this.#epoch && (since >= this.#from || this.#complete)
    );
  }

  /** Puts what the server answered before what is held, when the two meet without a gap. */
  #merge(answer: HistoryAnswer): void {
    const entries = answer.messages.filter((entry) => entry.epoch === answer.epoch);
    const last = entries.at(-1);
    if (!last) return;
    // Nothing held yet: all of the answer is older than what is held.
    if (this.#ring.size === 0) this.#restart(answer.epoch, last.seq);
    // Another epoch than the one held (the live messages decide which is current), or a gap between.
    else if (answer.epoch !== this.#epoch || last.seq < this.#from) return;
    // Without `recovered` the server sent all it would: asking it for older gives nothing more.
    if (!answer.recovered) this.#complete = true;
    const older = entries.filter((entry) => entry.seq <= this.#from);
    const first = older[0];
    if (!first) return;
    const held = this.#ring.toArray();
    this.#ring.clear();
    this.#from = first.seq - 1;
    for (const entry of older) this.#push(entry);
    for (const entry of held) this.#push(entry);
  }

  #push(entry: HistoryEntry): void {
    const dropped = this.#ring.push(entry);
    if (dropped) {
      this.#from = dropped.seq;
      this.#complete = false;
    }
  }

  #restart(epoch: string, from: number): void {
    this.#ring.clear();
    this.#epoch = epoch;
    this.#from = from;
    this.#complete = false;
  }
}
