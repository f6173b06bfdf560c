/** Slices a heartbeat period is cut into: each tick visits one slice's connections. */
export const HEARTBEAT_SLICES = 20;

/**
 * The set of a transport's connections, arranged so heartbeats are spread over the period: each
 * connection belongs to one of `HEARTBEAT_SLICES` slots (dealt out in turn), and every
 * `periodMs / HEARTBEAT_SLICES` one slot is visited. So every connection is visited exactly once per
 * period — the first time within one period of joining — and 10,000 connections cost 500 pings per
 * tick instead of 10,000 in one event-loop turn (a burst that delayed every message published during it).
 *
 * @example
 * const connections = new HeartbeatWheel<Connection>(
 *   15_000,
 *   (connection, now) => connection.beat(now),
 *   (connection) => connection.terminate(), // a visit threw
 * );
 * connections.add(connection);
 * connections.delete(connection); // on close
 * connections.stop();             // on shutdown
 */
export class HeartbeatWheel<T> implements Iterable<T> {
  readonly #slots: Array<Set<T>> = Array.from({ length: HEARTBEAT_SLICES }, () => new Set<T>());
  readonly #visit: (member: T, now: number) => void;
  readonly #fault: (member: T, error: unknown) => void;
  readonly #timer: NodeJS.Timeout;
  #next = 0;
  #dealt = 0;
  #size = 0;

  /** `fault` is told when a visit throws (it closes that member); the other members are still visited. */
  constructor(
    periodMs: number,
    visit: (member: T, now: number) => void,
    fault: (member: T, error: unknown) => void,
  ) {
    this.#visit = visit;
    this.#fault = fault;
    this.#timer = setInterval(() => this.#tick(), Math.max(1, periodMs / HEARTBEAT_SLICES));
    this.#timer.unref();
  }

  get size(): number {
    return this.#size;
  }

  /** Adds a new member (each member once). */
  add(member: T): void {
    this.#slots[this.#dealt++ % HEARTBEAT_SLICES]!.add(member);
    this.#size++;
  }

  /** Removes `member`; false when it was not there. */
  delete(member: T): boolean {
    for (const slot of this.#slots) {
      if (slot.delete(member)) {
        this.#size--;
        return true;
      }
    }
    return false;
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  *[Symbol.iterator](): Iterator<T> {
    for (const slot of this.#slots) yield* slot;
  }

  #tick(): void {
    const slot = this.#slots[this.#next]!;
    this.#next = (this.#next + 1) % HEARTBEAT_SLICES;
    const now = Date.now();
    // A visit may close its member, which removes it from the slot: Set iteration allows that.
    for (const member of slot) {
      try {
        this.#visit(member, now);
      } catch (error) {
        try {
          this.#fault(member, error);
        } catch {
          // The fault handler closes one member; it must not stop the others' heartbeats.
        }
      }
    }
  }
}
