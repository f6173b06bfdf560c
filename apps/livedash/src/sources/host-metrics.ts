import { type DiskUsage, type HostReader, type HostSample, systemHostReader } from './host-reader.js';
import { consoleSourceLog, FailureStreak, type SourceHub, type SourceLog } from './source-hub.js';

/**
 * The `metrics` message: `cpu` and `memory` (all that the first clients of this channel read, so they
 * keep working) plus load, network, disk, node and time.
 */
export interface MetricsMessage {
  /** CPU busy, percent 0–100, one decimal. */
  cpu: number;
  /** Memory in use, percent 0–100, one decimal. */
  memory: number;
  /** 1, 5 and 15 minute load averages. */
  load: [number, number, number];
  /** Summed over every non-loopback interface, since the previous message. */
  network: { rxBytesPerSec: number; txBytesPerSec: number };
  /** Mounted file systems, read every `diskIntervalMs` (the last read is repeated in between). */
  disk: DiskUsage[];
  /** The node that measured this (`options.node`). */
  node: string;
  /** When it was measured, ms since the Unix epoch. */
  ts: number;
}

export interface HostMetricsOptions {
  /** Time between reads, ms (> 0). */
  intervalMs: number;
  /** This node's name: messages also go to `metrics.<node>`. */
  node: string;
  /** Time between disk reads, ms. Disk usage changes slowly and `df` is the slowest read. Default 10 s. */
  diskIntervalMs?: number;
  reader?: HostReader;
  log?: SourceLog;
}

export const METRICS_CHANNEL = 'metrics';

/** Node names (the core's `node` option): what may follow `metrics.` in a channel name. */
export { NODE_NAME_PATTERN } from '@livedash/server';
export const DEFAULT_DISK_INTERVAL_MS = 10_000;
/** stop() waits this long for a read in flight to finish, so a hung OS call cannot hang shutdown. */
const STOP_WAIT_MS = 2_000;

/** The read loop: `reading` while a read (and its publish) is in flight; a tick then is skipped. */
type LoopState =
  | { kind: 'idle' }
  | { kind: 'reading'; done: Promise<void>; startedAt: number; reported: boolean }
  | { kind: 'stopped' };

/** A read still in flight after this many intervals (and at least 10 s) is reported as stuck, once. */
const STUCK_AFTER_INTERVALS = 10;

/**
 * Publishes host metrics on `metrics` and `metrics.<node>` every `intervalMs`. Reads never overlap:
 * a read slower than the interval makes the next tick a no-op instead of queueing another read.
 *
 * @example
 * const metrics = new HostMetrics(hub, { intervalMs: 1000, node: 'web-1' });
 * metrics.start();
 * // …
 * await metrics.stop();
 */
export class HostMetrics {
  readonly #hub: SourceHub;
  readonly #options: Required<HostMetricsOptions>;
  readonly #readFailures: FailureStreak;
  readonly #diskFailures: FailureStreak;
  readonly #publishFailures: FailureStreak;
  #state: LoopState = { kind: 'idle' };
  #timer: NodeJS.Timeout | undefined;
  #previous: { network: HostSample['network']; at: number } | undefined;
  #disks: DiskUsage[] = [];
  #disksReadAt = Number.NEGATIVE_INFINITY;
  #diskRead: Promise<void> | undefined;
  #reads = 0;
  #skipped = 0;

  constructor(hub: SourceHub, options: HostMetricsOptions) {
    if (!(Number.isFinite(options.intervalMs) && options.intervalMs > 0)) {
      throw new RangeError(`HostMetrics: intervalMs must be a positive number, got ${options.intervalMs}`);
    }
    this.#hub = hub;
    const log = options.log ?? consoleSourceLog;
    this.#options = {
      diskIntervalMs: DEFAULT_DISK_INTERVAL_MS,
      reader: systemHostReader(),
      ...options,
      log,
    };
    this.#readFailures = new FailureStreak(log, 'host metrics read');
    this.#diskFailures = new FailureStreak(log, 'disk usage read');
    this.#publishFailures = new FailureStreak(log, 'host metrics publish');
  }

  /** The per-node channel, `metrics.<node>`. */
  get nodeChannel(): string {
    return `${METRICS_CHANNEL}.${this.#options.node}`;
  }

  /** Reads started and ticks skipped because a read was still in flight. */
  get stats(): { reads: number; skipped: number } {
    return { reads: this.#reads, skipped: this.#skipped };
  }

  /** Reads at once, then every `intervalMs`. */
  start(): void {
    if (this.#timer !== undefined || this.#state.kind === 'stopped') return;
    this.#tick();
    this.#timer = setInterval(() => this.#tick(), this.#options.intervalMs);
    // Sources never keep a process alive on their own; the server's sockets do.
    this.#timer.unref();
  }

  /** Stops the loop and waits (briefly) for a read in flight; nothing is published after it resolves. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    const inFlight = this.#state.kind === 'reading' ? this.#state.done : undefined;
    this.#state = { kind: 'stopped' };
    await waitAtMost(Promise.all([inFlight, this.#diskRead]), STOP_WAIT_MS);
  }

  #tick(): void {
    if (this.#state.kind === 'reading') {
      this.#skipped++;
      this.#reportIfStuck(this.#state);
      return;
    }
    if (this.#state.kind === 'stopped') return;
    this.#reads++;
    const done = this.#readAndPublish().finally(() => {
      if (this.#state.kind === 'reading') this.#state = { kind: 'idle' };
    });
    this.#state = { kind: 'reading', done, startedAt: Date.now(), reported: false };
  }

  /** A hung OS call would otherwise just silence `metrics`; say so once, and keep waiting for it. */
  #reportIfStuck(state: { startedAt: number; reported: boolean }): void {
    const stuckAfter = Math.max(10_000, STUCK_AFTER_INTERVALS * this.#options.intervalMs);
    const elapsed = Date.now() - state.startedAt;
    if (state.reported || elapsed < stuckAfter) return;
    state.reported = true;
    this.#options.log(
      `host metrics read has not finished after ${Math.round(elapsed / 1000)} s; skipping ticks until it does`,
    );
  }

  async #readAndPublish(): Promise<void> {
    this.#refreshDisksWhenStale();
    let sample: HostSample;
    try {
      sample = await this.#options.reader.sample();
      this.#readFailures.succeeded();
    } catch (error) {
      this.#readFailures.failed(error);
      return;
    }
    if (this.#state.kind === 'stopped') return;
    const message = this.#toMessage(sample, Date.now());
    try {
      await Promise.all([
        this.#hub.publish(METRICS_CHANNEL, message),
        this.#hub.publish(this.nodeChannel, message),
      ]);
      this.#publishFailures.succeeded();
    } catch (error) {
      this.#publishFailures.failed(error);
    }
  }

  #toMessage(sample: HostSample, now: number): MetricsMessage {
    const previous = this.#previous;
    this.#previous = { network: sample.network, at: now };
    const seconds = previous ? (now - previous.at) / 1000 : 0;
    // A counter that went down (interface removed, counter wrapped) gives 0 rather than a negative rate.
    const rate = (current: number, before: number | undefined) =>
      before === undefined || seconds <= 0 ? 0 : Math.max(0, Math.round((current - before) / seconds));
    return {
      cpu: sample.cpu,
      memory: sample.memory,
      load: sample.load,
      network: {
        rxBytesPerSec: rate(sample.network.rxBytes, previous?.network.rxBytes),
        txBytesPerSec: rate(sample.network.txBytes, previous?.network.txBytes),
      },
      disk: this.#disks,
      node: this.#options.node,
      ts: now,
    };
  }

  /** Disk usage is read in the background and cached, so a slow `df` never delays a `metrics` message. */
  #refreshDisksWhenStale(): void {
    if (this.#diskRead !== undefined || Date.now() - this.#disksReadAt < this.#options.diskIntervalMs) return;
    this.#diskRead = this.#options.reader
      .disks()
      .then(
        (disks) => {
          this.#disks = disks;
          this.#diskFailures.succeeded();
        },
        (error: unknown) => this.#diskFailures.failed(error),
      )
      .finally(() => {
        this.#disksReadAt = Date.now();
        this.#diskRead = undefined;
      });
  }
}

async function waitAtMost(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([promise.then(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
