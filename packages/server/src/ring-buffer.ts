/** Slots a ring starts with: most channels hold a handful of messages, so capacity is never allocated up front. */
const INITIAL_SLOTS = 4;

/**
 * A bounded FIFO: pushing past capacity overwrites the oldest item. Its storage grows (doubling) with
 * what it holds and shrinks again when emptied, so a channel allowed 1,000 messages that holds one costs
 * a few slots, not 1,000. Reads and writes are O(1) amortized and nothing is shifted.
 *
 * @example
 * const ring = new RingBuffer<number>(2);
 * ring.push(1); ring.push(2); ring.push(3); // 3 pushes out 1
 * [...ring]; // [2, 3]
 */
export class RingBuffer<T> {
  readonly capacity: number;
  #items: (T | undefined)[];
  /** Index of the oldest item. */
  #head = 0;
  #size = 0;

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`RingBuffer capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
    this.#items = new Array<T | undefined>(Math.min(capacity, INITIAL_SLOTS)).fill(undefined);
  }

  get size(): number {
    return this.#size;
  }

  /** Appends `item`; returns the oldest item when it was pushed out (the ring was at capacity). */
  push(item: T): T | undefined {
    if (this.#size === this.#items.length && this.#size < this.capacity) {
      this.#resize(Math.min(this.capacity, this.#items.length * 2));
    }
    const slots = this.#items.length;
    const tail = (this.#head + this.#size) % slots;
    const displaced = this.#size === slots ? this.#items[tail] : undefined;
    this.#items[tail] = item;
    if (this.#size < slots) this.#size++;
    else this.#head = (this.#head + 1) % slots;
    return displaced;
  }

  /** The oldest item, or undefined when empty. */
  first(): T | undefined {
    return this.#size === 0 ? undefined : this.#items[this.#head];
  }

  /** The newest item, or undefined when empty. */
  last(): T | undefined {
    return this.#size === 0 ? undefined : this.#items[(this.#head + this.#size - 1) % this.#items.length];
  }

  /** Item `index` counted from the oldest (0) to the newest (size - 1). */
  at(index: number): T | undefined {
    if (index < 0 || index >= this.#size) return undefined;
    return this.#items[(this.#head + index) % this.#items.length];
  }

  /** Removes and returns the oldest item. */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#items.length;
    this.#size--;
    // A history that aged out gives its memory back (a quarter full: half the slots).
    if (this.#items.length > INITIAL_SLOTS && this.#size <= this.#items.length / 4) {
      this.#resize(Math.max(INITIAL_SLOTS, this.#items.length / 2));
    }
    return item;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.#size; i++) yield this.at(i) as T;
  }

  /** Moves the items, oldest first, into storage of `slots` slots. */
  #resize(slots: number): void {
    const items = new Array<T | undefined>(slots).fill(undefined);
    for (let i = 0; i < this.#size; i++) items[i] = this.#items[(this.#head + i) % this.#items.length];
    this.#items = items;
    this.#head = 0;
  }
}
