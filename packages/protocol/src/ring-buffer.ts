/**
 * The one bounded FIFO of livedash: a channel's history on the server, a chart's series in the client.
 * Pushing past `capacity` drops the oldest item and returns it. Storage grows with what the ring holds
 * and is given back as it empties, so a ring allowed 100,000 items that holds one costs one slot, not
 * 100,000. Reads and writes are O(1) amortized.
 *
 * @example
 * const last = new RingBuffer<number>(3);
 * for (const n of [1, 2, 3, 4]) last.push(n); // 4 pushes out 1
 * last.toArray(); // [2, 3, 4]
 */
export class RingBuffer<T> {
  readonly capacity: number;
  /**
   * The items from `#head` on, oldest first. Slots before `#head` were shifted out; once they are half
   * the array it is copied without them, so each push pays for about one copied slot and the array is
   * never more than twice what the ring holds.
   */
  #items: (T | undefined)[] = [];
  #head = 0;

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`RingBuffer capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
  }

  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Appends `item`; returns the oldest item when it was pushed out (the ring was at capacity). */
  push(item: T): T | undefined {
    this.#items.push(item);
    return this.size > this.capacity ? this.shift() : undefined;
  }

  /** Removes and returns the oldest item, or undefined when empty. */
  shift(): T | undefined {
    const item = this.first();
    if (this.size > 0) this.#items[this.#head++] = undefined;
    if (this.#head * 2 >= this.#items.length && this.#head > 0) {
      this.#items = this.toArray();
      this.#head = 0;
    }
    return item;
  }

  /** The oldest item, or undefined when empty. */
  first(): T | undefined {
    return this.at(0);
  }

  /** The newest item, or undefined when empty. */
  last(): T | undefined {
    return this.at(this.size - 1);
  }

  /** Item `index` counted from the oldest (0) to the newest (size - 1); undefined outside that range. */
  at(index: number): T | undefined {
    return index < 0 ? undefined : this.#items[this.#head + index];
  }

  /** A new array, oldest first. */
  toArray(): T[] {
    return this.#items.slice(this.#head) as T[];
  }

  /** Empties the ring and gives its storage back. */
  clear(): void {
    this.#items = [];
    this.#head = 0;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.#head; i < this.#items.length; i++) yield this.#items[i] as T;
  }
}

/**
 * The items of `ring` whose `seq` is greater than `seq`, oldest first: what a subscriber resuming after
 * `seq` has missed. Items must have been pushed in increasing `seq` order (a channel's history is). The
 * first one is found by binary search, so resuming from a long history costs only the copy. A function
 * rather than a method, so a browser bundle that never resumes from a ring leaves it out.
 */
export function itemsAfter<T extends { readonly seq: number }>(ring: RingBuffer<T>, seq: number): T[] {
  let low = 0;
  let high = ring.size;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((ring.at(middle) as T).seq <= seq) low = middle + 1;
    else high = middle;
  }
  const out = new Array<T>(ring.size - low);
  for (let i = low; i < ring.size; i++) out[i - low] = ring.at(i) as T;
  return out;
}
