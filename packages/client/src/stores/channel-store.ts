import { Batcher } from '../batcher.js';
import type {
  ChannelSnapshot,
  ChannelStatus,
  ConnectionError,
  ConnectionSnapshot,
  ExternalStore,
} from '../types.js';
import type { StoreSource } from './store-source.js';

/** A change to the snapshot; `error: undefined` removes the error. */
type Fields<T> = { -readonly [K in keyof ChannelSnapshot<T>]?: ChannelSnapshot<T>[K] | undefined };
type Patch<T> = Fields<T> | ((snapshot: ChannelSnapshot<T>) => Fields<T>);

const initialSnapshot: ChannelSnapshot<never> = Object.freeze({
  data: undefined,
  seq: 0,
  epoch: '',
  ts: 0,
  status: 'pending',
  stale: false,
  resetCount: 0,
});

/** Status of a channel that the server has confirmed, given the connection's status. */
function statusFor(
  connection: ConnectionSnapshot['status'],
  confirmed: boolean,
  hadData: boolean,
): ChannelStatus {
  if (connection === 'open') return confirmed ? 'live' : hadData ? 'recovering' : 'pending';
  if (connection === 'connecting' || connection === 'reconnecting' || connection === 'idle') {
    return hadData ? 'recovering' : 'pending';
  }
  return 'stale';
}

/**
 * One channel as an external store (what `client.channel(name)` returns): the latest value and the
 * channel's status. It subscribes to the channel on its first listener and unsubscribes on its last.
 * Messages are applied in batches, so any number of them within one animation frame (or one
 * `interval`) produce one new snapshot and one notification.
 *
 * @example
 * const cpu = client.channel<Metrics>('metrics');
 * const off = cpu.subscribe(() => render(cpu.getSnapshot().data));
 */
export class ChannelStore<T = unknown> implements ExternalStore<ChannelSnapshot<T>> {
  readonly channel: string;
  #source: StoreSource;
  #snapshot: ChannelSnapshot<T> = initialSnapshot;
  #listeners = new Set<() => void>();
  #batcher: Batcher<Patch<T>>;
  #teardown: (() => void) | undefined;
  /** The server confirmed the subscription on the current connection. */
  #confirmed = false;
  #refused: ConnectionError | undefined;

  constructor(source: StoreSource, channel: string, options: { interval?: 'frame' | number } = {}) {
    this.channel = channel;
    this.#source = source;
    this.#batcher = new Batcher<Patch<T>>({
      flush: (patches) => this.#apply(patches),
      interval: options.interval ?? 'frame',
    });
  }

  getSnapshot = (): ChannelSnapshot<T> => this.#snapshot;

  subscribe = (onChange: () => void): (() => void) => {
    // A wrapper per call, so the same function subscribed twice is two subscriptions (React StrictMode).
    const listener = () => onChange();
    this.#listeners.add(listener);
    if (this.#listeners.size === 1) this.#start();
    return () => {
      if (!this.#listeners.delete(listener)) return;
      if (this.#listeners.size === 0) this.#stop();
    };
  };

  #start(): void {
    this.#confirmed = false;
    this.#refused = undefined;
    if (this.#source.state.status === 'closed') {
      // A closed client delivers nothing more; the last known data stays, marked stale.
      this.#batcher.add(this.#statusPatch());
      return;
    }
    const offMessages = this.#source.subscribe(
      this.channel,
      (data, meta) => {
        this.#confirmed = true;
        this.#batcher.add({ data: data as T, seq: meta.seq, epoch: meta.epoch, ts: meta.ts });
        this.#batcher.add(this.#statusPatch());
      },
      {
        onSubscribed: ({ epoch }) => {
          this.#confirmed = true;
          this.#refused = undefined;
          this.#batcher.add({ epoch });
          this.#batcher.add(this.#statusPatch());
        },
        onReset: () => this.#batcher.add((s) => ({ resetCount: s.resetCount + 1 })),
        onError: (error) => {
          this.#refused = { code: error.code, message: error.message };
          this.#batcher.add(this.#statusPatch());
        },
      },
    );
    const offState = this.#source.onState((newState) => {
      if (newState.status !== 'open') this.#confirmed = false;
      this.#batcher.add(this.#statusPatch());
    });
    this.#teardown = () => {
      offMessages();
      offState();
    };
    this.#batcher.add(this.#statusPatch());
  }

  #stop(): void {
    this.#teardown?.();
    this.#teardown = undefined;
    this.#batcher.flushNow();
  }

  #statusPatch(): Patch<T> {
    return (snapshot) => {
      if (this.#refused) return { status: 'error', stale: snapshot.data !== undefined, error: this.#refused };
      const status = statusFor(this.#source.state.status, this.#confirmed, snapshot.seq > 0);
      return { status, stale: status !== 'live' && snapshot.data !== undefined, error: undefined };
    };
  }

  #apply(patches: Patch<T>[]): void {
    let snapshot = this.#snapshot;
    for (const patch of patches) {
      const merged: Fields<T> = { ...snapshot, ...(typeof patch === 'function' ? patch(snapshot) : patch) };
      if (merged.error === undefined) delete merged.error;
      snapshot = merged as ChannelSnapshot<T>;
    }
    if (shallowEqual(snapshot, this.#snapshot)) return;
    this.#snapshot = Object.freeze(snapshot);
    for (const listener of [...this.#listeners]) listener();
  }
}

function shallowEqual<T extends object>(a: T, b: T): boolean {
  const keys = Object.keys(a) as (keyof T)[];
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.is(a[key], b[key]));
}
