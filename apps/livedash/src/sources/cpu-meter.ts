import { cpus } from 'node:os';

/** CPU time counters summed over every core, ms since boot. */
export interface CpuTimes {
  busy: number;
  total: number;
}

/**
 * CPU busy percent between two reads, from the kernel's per-core time counters (`os.cpus()`).
 *
 * Why not systeminformation's `currentLoad()`: on Linux it runs `execSync('cat /proc/stat')` on every
 * call, which blocked the event loop for up to ~290 ms per read on a loaded machine here — a pause in
 * fan-out for every client, once a second. `os.cpus()` reads the same counters without a process.
 * Each meter keeps its own previous reading, so several servers in one process do not disturb each other.
 *
 * @example
 * const meter = new CpuMeter();
 * // …a second later
 * meter.read(); // 12.34 (percent since the meter was created or last read)
 */
export class CpuMeter {
  readonly #times: () => CpuTimes;
  #previous: CpuTimes;
  #last = 0;

  constructor(times: () => CpuTimes = osCpuTimes) {
    this.#times = times;
    this.#previous = times();
  }

  /** Percent 0–100 busy since the previous read; the previous value when no time has passed. */
  read(): number {
    const now = this.#times();
    const total = now.total - this.#previous.total;
    const busy = now.busy - this.#previous.busy;
    // Counters that did not move (two reads within one clock tick) or went backwards (a core went
    // offline) say nothing new.
    if (total > 0 && busy >= 0) {
      this.#last = Math.min(100, (busy / total) * 100);
      this.#previous = now;
    } else if (total < 0) {
      this.#previous = now;
    }
    return this.#last;
  }
}

export function osCpuTimes(): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    const all = times.user + times.nice + times.sys + times.irq + times.idle;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}
