/**
 * Keeps only the latest value per key until drained: for streams where only the current value of
 * each thing matters (a gauge per host, a price per symbol), so a burst costs one render per key.
 *
 * @example
 * const latest = new Conflator<string, Price>();
 * client.subscribe('prices', (p) => latest.set(p.symbol, p));
 * requestAnimationFrame(() => render(latest.drain()));
 */
export class Conflator<K, V> {
  #latest = new Map<K, V>();
  #maxKeys: number;
  #dropped = 0;

  /** `maxKeys` (default 10 000): past it a new key evicts the key least recently set. */
  constructor(maxKeys = 10_000) {
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 1)
      throw new RangeError('Conflator maxKeys must be a positive integer');
    this.#maxKeys = maxKeys;
  }

  get size(): number {
    return this.#latest.size;
  }

  /** Keys evicted because `maxKeys` was reached. */
  get dropped(): number {
    return this.#dropped;
  }

  set(key: K, value: V): void {
    // Delete first so the key moves to the end: Map order becomes "least recently set first".
    this.#latest.delete(key);
    this.#latest.set(key, value);
    if (this.#latest.size > this.#maxKeys) {
      const oldest = this.#latest.keys().next();
      if (!oldest.done) this.#latest.delete(oldest.value);
      this.#dropped++;
    }
  }

  get(key: K): V | undefined {
    return this.#latest.get(key);
  }

  /** Returns the latest value per key (in order of last update) and empties the conflator. */
  drain(): Map<K, V> {
    const out = this.#latest;
    this.#latest = new Map();
    return out;
  }
}

/** Keeps the last item per key from `items`, in order of each key's last occurrence. */
export function conflate<T, K>(items: Iterable<T>, keyOf: (item: T) => K): T[] {
  const latest = new Map<K, T>();
  for (const item of items) {
    latest.delete(keyOf(item));
    latest.set(keyOf(item), item);
  }
  return [...latest.values()];
}
