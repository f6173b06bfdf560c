/**
 * A fixed-capacity FIFO: `push` is O(1) and never reallocates; when full, the oldest item is dropped.
 * Used for chart series and message history, where only the last N matter.
 *
 * @example
 * const last = new RingBuffer<number>(3);
 * for (const n of [1, 2, 3, 4]) last.push(n);
 * last.toArray(); // [2, 3, 4]
 */
export class RingBuffer<T> {
  readonly capacity: number;
  #items: (T | undefined)[];
  /** Index of the oldest item. */
  #head = 0;
  #size = 0;

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError('RingBuffer capacity must be a positive integer');
    }
    this.capacity = capacity;
    this.#items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.#size;
  }

  /** Appends `item`; returns the item it pushed out when full, otherwise undefined. */
  push(item: T): T | undefined {
    const tail = (this.#head + this.#size) % this.capacity;
    if (this.#size < this.capacity) {
      this.#items[tail] = item;
      this.#size++;
      return undefined;
    }
    const dropped = this.#items[this.#head];
    this.#items[this.#head] = item;
    this.#head = (this.#head + 1) % this.capacity;
    return dropped;
  }

  /** The item `index` places after the oldest (0 = oldest); undefined outside `0..size-1`. */
  at(index: number): T | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= this.#size) return undefined;
    return this.#items[(this.#head + index) % this.capacity];
  }

  /** The newest item. */
  last(): T | undefined {
    return this.at(this.#size - 1);
  }

  /** A new array, oldest first. */
  toArray(): T[] {
    const out = new Array<T>(this.#size);
    for (let i = 0; i < this.#size; i++) out[i] = this.#items[(this.#head + i) % this.capacity] as T;
    return out;
  }

  clear(): void {
    // Drop references so cleared items can be collected.
    this.#items.fill(undefined);
    this.#head = 0;
    this.#size = 0;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.#size; i++) yield this.#items[(this.#head + i) % this.capacity] as T;
  }
}
