import { RingBuffer } from '@livedash/protocol';
import { type CancelScheduled, type Scheduler, schedulerFor } from '../frame-scheduler.js';
import type { ExternalStore, HistoryEntry, SubscribedInfo } from '../types.js';
import type { StoreSource } from './store-source.js';

export interface HistoryOptions {
  /** How many of the latest messages to keep (the ring buffer's capacity). Default 100. */
  limit?: number;
  /** Fill the buffer from the server's history on first subscribe (and after a reset). Default true. */
  backfill?: boolean;
  /**
   * Live messages at most this often a second (`SubscribeOptions.maxRate`): on a state channel the
   * series then holds one value per interval (the backfill is every message history holds).
   */
  maxRate?: number | undefined;
}

const EMPTY: readonly HistoryEntry<never>[] = Object.freeze([]);

/**
 * The last `limit` messages of a channel as an external store (what `client.history()` returns):
 * a chart's series. On its first listener it subscribes to the channel and backfills from
 * `GET /api/channels/:ch/messages?since=…`, so a chart starts full; then live messages append.
 * The snapshot (oldest first) is rebuilt at most once per animation frame.
 *
 * @example
 * const series = client.history<Metrics>('metrics', { limit: 300 });
 * series.subscribe(() => chart.setData(series.getSnapshot().map((m) => m.data.cpu)));
 */
export class HistoryStore<T = unknown> implements ExternalStore<readonly HistoryEntry<T>[]> {
  readonly channel: string;
  readonly limit: number;
  readonly maxRate: number | undefined;
  #source: StoreSource;
  #backfill: boolean;
  #buffer: RingBuffer<HistoryEntry<T>>;
  #snapshot: readonly HistoryEntry<T>[] = EMPTY;
  #listeners = new Set<() => void>();
  #schedule: Scheduler;
  /** Cancels the scheduled snapshot rebuild, while messages wait for it in the buffer. */
  #pending: CancelScheduled | undefined;
  #teardown: (() => void) | undefined;
  /** Bumped on every start and reset, so a backfill that answers late for an older one is ignored. */
  #generation = 0;
  #needsBackfill = true;
  /** The latest `$subscribed`: a reset it announced backfills from the new epoch's history at once. */
  #subscribed: SubscribedInfo | undefined;

  constructor(
    source: StoreSource,
    channel: string,
    options: HistoryOptions & { interval?: 'frame' | number } = {},
  ) {
    const limit = options.limit ?? 100;
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new RangeError('history limit must be a positive integer');
    this.channel = channel;
    this.limit = limit;
    this.maxRate = options.maxRate;
    this.#source = source;
    this.#backfill = options.backfill ?? true;
    this.#buffer = new RingBuffer(limit);
    this.#schedule = schedulerFor(options.interval ?? 'frame');
  }

  getSnapshot = (): readonly HistoryEntry<T>[] => this.#snapshot;

  subscribe = (onChange: () => void): (() => void) => {
    const listener = () => onChange();
    this.#listeners.add(listener);
    if (this.#listeners.size === 1) this.#start();
    return () => {
      if (!this.#listeners.delete(listener)) return;
      if (this.#listeners.size === 0) this.#stop();
    };
  };

  #start(): void {
    this.#generation++;
    this.#needsBackfill = this.#backfill;
    if (this.#source.state.status === 'closed') return; // a closed client delivers nothing more
    this.#teardown = this.#source.subscribe(
      this.channel,
      (data, meta) => {
        // A backfill can reach past what the connection has delivered yet (a worker answers it from a
        // copy that is ahead of the page's batched frames): those messages then arrive again live.
        const newest = this.#buffer.last();
        if (newest && newest.epoch === meta.epoch && meta.seq <= newest.seq) return;
        // Straight into the ring buffer; the snapshot is rebuilt once per frame, however many came.
        this.#buffer.push({ data: data as T, seq: meta.seq, epoch: meta.epoch, ts: meta.ts });
        this.#pending ??= this.#schedule(() => this.#publish());
      },
      {
        maxRate: this.maxRate,
        onSubscribed: (info) => {
          this.#subscribed = info;
          this.#maybeBackfill(info);
        },
        onReset: (reset) => {
          // A new epoch: what was kept belongs to a history that no longer exists.
          this.#generation++;
          this.#flushNow();
          this.#buffer.clear();
          this.#needsBackfill = this.#backfill;
          this.#publish();
          // `$subscribed` came just before this reset: what the new epoch already holds (published
          // before the client got back) is fetched now rather than lost from the series.
          if (this.#subscribed?.epoch === reset.epoch) this.#maybeBackfill(this.#subscribed);
        },
      },
    );
  }

  #stop(): void {
    this.#teardown?.();
    this.#teardown = undefined;
    this.#generation++;
    this.#flushNow();
  }

  #maybeBackfill(info: SubscribedInfo): void {
    if (!this.#needsBackfill) return;
    this.#needsBackfill = false;
    const newest = this.#buffer.last();
    const since = Math.max(0, info.seq - this.limit);
    if (
      info.seq === 0 ||
      (newest && newest.epoch === info.epoch && newest.seq >= info.seq && this.#buffer.size >= this.limit)
    )
      return;
    const generation = this.#generation;
    void this.#source.fetchHistory(this.channel, since, info.epoch).then((entries) => {
      if (generation !== this.#generation) return;
      this.#merge(entries as HistoryEntry<T>[], info.epoch);
    });
  }

  /** Puts backfilled entries before the live ones, without duplicates, keeping the newest `limit`. */
  #merge(backfilled: HistoryEntry<T>[], epoch: string): void {
    this.#flushNow();
    const live = this.#buffer.toArray().filter((entry) => entry.epoch === epoch);
    const firstLive = live[0]?.seq ?? Number.POSITIVE_INFINITY;
    const older = backfilled.filter((entry) => entry.epoch === epoch && entry.seq < firstLive);
    if (older.length === 0) return;
    this.#buffer.clear();
    for (const entry of [...older, ...live]) this.#buffer.push(entry);
    this.#publish();
  }

  /** Publishes messages waiting for the scheduled rebuild now. */
  #flushNow(): void {
    if (this.#pending) this.#publish();
  }

  #publish(): void {
    this.#pending?.();
    this.#pending = undefined;
    this.#snapshot = this.#buffer.size === 0 ? EMPTY : Object.freeze(this.#buffer.toArray());
    for (const listener of [...this.#listeners]) listener();
  }
}
