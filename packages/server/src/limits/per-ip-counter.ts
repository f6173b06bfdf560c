import { addressGroup } from './client-address.js';

/**
 * Counts open things (connections, SSE streams) per client address and refuses past `max`. IPv6
 * addresses count by their /64 (`addressGroup`). Entries disappear at zero, so the map holds only
 * addresses with something open.
 *
 * @example
 * const release = counter.acquire(access.clientAddress(request));
 * if (!release) return refuse429();
 * socket.once('close', release);
 */
export class PerIpCounter {
  readonly #max: number;
  readonly #counts = new Map<string, number>();

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError('the per-IP limit must be an integer >= 1');
    this.#max = max;
  }

  /** A release function (idempotent) when under the limit; undefined when `ip` is at it. */
  acquire(ip: string | undefined): (() => void) | undefined {
    // A socket already gone has no address; count those under one key rather than not at all.
    const key = addressGroup(ip ?? 'unknown');
    const count = this.#counts.get(key) ?? 0;
    if (count >= this.#max) return undefined;
    this.#counts.set(key, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const current = this.#counts.get(key) ?? 1;
      if (current <= 1) this.#counts.delete(key);
      else this.#counts.set(key, current - 1);
    };
  }

  count(ip: string): number {
    return this.#counts.get(addressGroup(ip)) ?? 0;
  }

  /** Addresses with at least one open thing (for tests and metrics). */
  get size(): number {
    return this.#counts.size;
  }
}
