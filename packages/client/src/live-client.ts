import {
  backoffDelay,
  type ControlFrame,
  type DataEnvelope,
  isValidChannel,
  isValidMaxRate,
  LivedashError,
  MAX_RATE_RULE,
  type ServerFrame,
} from '@livedash/protocol';
import { Connection, type ConnectionEvents } from './connection.js';
import { fetchChannelHistory } from './history-fetch.js';
import { type LiveClientOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { ChannelStore } from './stores/channel-store.js';
import { ConnectionStore } from './stores/connection-store.js';
import { type HistoryOptions, HistoryStore } from './stores/history-store.js';
import type { StoreSource } from './stores/store-source.js';
import { Subscriptions } from './subscriptions.js';
import { TokenSource } from './token-source.js';
import type { FetchLike } from './transports/transport.js';
import type {
  ChannelMap,
  ConnectionSnapshot,
  ExternalStore,
  HistoryEntry,
  MessageListener,
  StateChange,
  SubscribeOptions,
} from './types.js';

/** Options of `client.channel()`. */
export interface ChannelOptions {
  /** At most this many updates a second (see `SubscribeOptions.maxRate`). */
  maxRate?: number | undefined;
}

import type { ConnectionLike } from './worker/link.js';

interface PendingPing {
  resolve(rtt: number): void;
  reject(error: LivedashError): void;
  startedAt: number;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * One connection to a livedash server, shared by every subscription: reconnects with backoff and
 * jitter, detects dead connections, falls back from WebSocket to SSE to polling (and moves back), and
 * resumes every channel from its last position so each message arrives once, in order.
 *
 * @example
 * const client = new LiveClient<{ metrics: { cpu: number; memory: number } }>({ url: 'https://dash.example.com' });
 * const off = client.subscribe('metrics', (m, meta) => console.log(meta.seq, m.cpu));
 * client.onState((state) => console.log(state.status));
 * // later
 * off();
 * client.close();
 */
export class LiveClient<Channels extends ChannelMap = ChannelMap> implements StoreSource {
  /** The connection state as an external store (for `useSyncExternalStore`). */
  readonly connection: ExternalStore<ConnectionSnapshot>;
  readonly #options: ResolvedOptions;
  readonly #store = new ConnectionStore();
  readonly #subscriptions: Subscriptions;
  readonly #connection: ConnectionLike;
  readonly #channelStores = new Map<string, ChannelStore<unknown>>();
  readonly #historyStores = new Map<string, HistoryStore<unknown>>();
  readonly #pings = new Map<number, PendingPing>();
  #nextPingId = 1;
  readonly #tokens: TokenSource;

  constructor(options: LiveClientOptions) {
    this.#options = resolveOptions(options);
    // A fresh token goes to the open connection; a later connect picks it up by itself.
    this.#tokens = new TokenSource(this.#options.token, this.#options.tokenRefreshMarginMs, (token) =>
      this.#connection.transport?.authenticate?.(token),
    );
    this.connection = { subscribe: this.#store.subscribe, getSnapshot: this.#store.getSnapshot };
    this.#subscriptions = new Subscriptions({
      last: (channel) => this.#connection.transport?.unsubscribe([channel]),
      subscribe: (channel, position) => this.#connection.transport?.subscribe(new Map([[channel, position]])),
      retryDelay: (attempt) => backoffDelay(attempt, this.#options.backoff, this.#options.random),
    });
    const events: ConnectionEvents = {
      // Every channel, from its position (a transport given none sends nothing).
      opened: (transport) => transport.subscribe(this.#subscriptions.positions()),
      frame: (frame) => this.#onFrame(frame),
      dropped: () => this.#subscriptions.disconnected(),
    };
    const maxRate = (channel: string) => this.#subscriptions.maxRate(channel);
    const inPage = () =>
      new Connection(
        this.#options,
        this.#store,
        events,
        () => this.#subscriptions.positions(),
        maxRate,
        this.#tokens,
      );
    const mode = options.worker ?? 'auto';
    const g = globalThis as { document?: unknown; SharedWorker?: unknown; Worker?: unknown };
    if (mode === 'in-page' || !g.document || !(g.SharedWorker || g.Worker)) this.#connection = inPage();
    else {
      // The worker link is a chunk of its own, loaded only here; until it is, calls wait for it.
      let link: ConnectionLike | undefined;
      let started = false;
      let closed = false;
      this.#connection = {
        get transport() {
          return link?.transport;
        },
        start() {
          started = true;
          link?.start();
        },
        reconnect() {
          link?.reconnect();
        },
        history: (channel, since, epoch) => link?.history?.(channel, since, epoch),
        close: () => {
          closed = true;
          if (link) link.close();
          else this.#store.dispatch({ type: 'close' });
        },
      };
      void import('./worker/link.js').then((linked) => {
        if (closed) return;
        link = linked.connect(mode, options, this.#store, events, maxRate, inPage);
        if (started) link.start();
      });
    }
    if (this.#options.autoConnect) this.#connection.start();
  }

  /** The server's base URL. */
  get url(): string {
    return this.#options.baseUrl;
  }

  /** The current connection state (an immutable snapshot). */
  get state(): ConnectionSnapshot {
    return this.#store.state;
  }

  /**
   * Calls `listener(newState, oldState)` on every state transition; returns the function that stops it.
   * @example client.onState((s) => badge.textContent = s.status);
   */
  onState(listener: (newState: ConnectionSnapshot, oldState: ConnectionSnapshot) => void): () => void {
    return this.#store.onChange((change: StateChange) => listener(change.newState, change.oldState));
  }

  /**
   * Calls `listener(data, meta)` for every message on `channel`, in seq order, each once; returns the
   * unsubscribe function. Works before the connection is open. Listeners of one channel share one
   * server subscription; a listener joining a live channel first gets its latest value. With
   * `maxRate`, at most that many messages a second (see `SubscribeOptions.maxRate`).
   * @example const off = client.subscribe<Metrics>('metrics', (m) => gauge.set(m.cpu), { maxRate: 5 });
   */
  subscribe<K extends keyof Channels & string>(
    channel: K,
    listener: MessageListener<Channels[K]>,
    options?: SubscribeOptions,
  ): () => void;
  subscribe<T = unknown>(
    channel: string,
    listener: MessageListener<T>,
    options?: SubscribeOptions,
  ): () => void;
  subscribe<T>(channel: string, listener: MessageListener<T>, options: SubscribeOptions = {}): () => void {
    assertArguments(channel, options.maxRate);
    if (typeof listener !== 'function') throw new TypeError('subscribe needs a listener function');
    if (this.#store.state.status === 'closed') throw new Error('LiveClient is closed');
    const unsubscribe = this.#subscriptions.add(channel, listener as MessageListener<unknown>, options);
    if (this.#store.state.status === 'idle') this.#connection.start();
    // Calling it again does nothing: the registry forgets a subscriber once.
    return unsubscribe;
  }

  /**
   * The channel as an external store (latest value and status), shared per channel and `maxRate`,
   * created on first use; it subscribes while it has listeners.
   * @example const metrics = client.channel<Metrics>('metrics'); useSyncExternalStore(metrics.subscribe, metrics.getSnapshot);
   * @example const gauge = client.channel<Metrics>('metrics', { maxRate: 5 }); // at most 5 updates a second
   */
  channel<K extends keyof Channels & string>(channel: K, options?: ChannelOptions): ChannelStore<Channels[K]>;
  channel<T = unknown>(channel: string, options?: ChannelOptions): ChannelStore<T>;
  channel<T>(channel: string, { maxRate }: ChannelOptions = {}): ChannelStore<T> {
    assertArguments(channel, maxRate);
    // One store per channel whatever type the caller names: the type is the caller's claim about the data.
    return shared(
      this.#channelStores,
      `${channel}|${maxRate}`,
      () => new ChannelStore(this, channel, { interval: this.#options.notifyInterval, maxRate }),
    ) as ChannelStore<T>;
  }

  /**
   * The last `limit` messages of `channel` (default 100) as an external store, backfilled from the
   * server's history on first subscribe; shared per channel, limit and `maxRate`.
   * @example const series = client.history<Metrics>('metrics', { limit: 300 });
   */
  history<K extends keyof Channels & string>(channel: K, options?: HistoryOptions): HistoryStore<Channels[K]>;
  history<T = unknown>(channel: string, options?: HistoryOptions): HistoryStore<T>;
  history<T>(channel: string, options: HistoryOptions = {}): HistoryStore<T> {
    assertArguments(channel, options.maxRate);
    return shared(
      this.#historyStores,
      `${channel}|${options.limit ?? 100}|${options.backfill ?? true}|${options.maxRate}`,
      () => new HistoryStore(this, channel, { ...options, interval: this.#options.notifyInterval }),
    ) as HistoryStore<T>;
  }

  /**
   * Measures the round trip to the server in ms (WebSocket `ping`/`$pong`; over SSE or polling, a
   * `GET /healthz`). Rejects with a `LivedashError` when not connected or after `pingTimeoutMs`.
   */
  ping(): Promise<number> {
    const transport = this.#connection.transport;
    if (!transport) {
      return Promise.reject(new LivedashError('transport_failed', `cannot ping while ${this.state.status}`));
    }
    const id = this.#nextPingId++;
    return new Promise<number>((resolve, reject) => {
      const { pingTimeoutMs } = this.#options;
      const timer = setTimeout(
        () =>
          this.#settlePing(
            id,
            new LivedashError('heartbeat_timeout', `no answer to ping within ${pingTimeoutMs} ms`),
          ),
        pingTimeoutMs,
      );
      this.#pings.set(id, { resolve, reject, startedAt: performance.now(), timer });
      if (!transport.ping(id)) this.#pingOverHttp(id);
    });
  }

  /** Connects when `autoConnect` was false (subscribing does too); no-op when already connecting or open. */
  connect(): void {
    this.#connection.start();
  }

  /** Connects again now with a fresh attempt count: the way out of `failed`. */
  reconnect(): void {
    this.#connection.reconnect();
  }

  /** Closes the connection for good: no reconnects; pending pings reject. */
  close(): void {
    this.#tokens.close();
    this.#connection.close();
    for (const id of this.#pings.keys())
      this.#settlePing(id, new LivedashError('transport_failed', 'client closed'));
  }

  /**
   * Messages of `channel` after `since` that history holds, oldest first; [] on any failure. With the
   * connection in a worker they come from the worker's copy shared by every tab (read over HTTP once
   * when it does not cover them); in the page, over HTTP.
   */
  async fetchHistory(channel: string, since: number, epoch?: string): Promise<HistoryEntry[]> {
    return (
      this.#connection.history?.(channel, since, epoch) ??
      (await fetchChannelHistory(this.#options.fetch, this.url, this.#tokens.current, channel, since, epoch))
        ?.messages ??
      []
    );
  }

  #onFrame(frame: ServerFrame): void {
    if (!frame.type.startsWith('$')) {
      this.#subscriptions.handleData(frame as DataEnvelope);
      return;
    }
    const control = frame as ControlFrame;
    switch (control.type) {
      case '$subscribed':
        this.#subscriptions.handleSubscribed(control);
        return;
      case '$error':
        this.#subscriptions.handleError(control);
        return;
      case '$pong':
        if (typeof control.id === 'number') this.#settlePing(control.id);
        return;
      default:
        // $welcome, $heartbeat, $ack, $unsubscribed: nothing to do beyond counting as a sign of life.
        return;
    }
  }

  /** Ends a pending ping: answered (its round trip recorded), or failed with `error`. */
  #settlePing(id: number, error?: LivedashError): void {
    const ping = this.#pings.get(id);
    if (!ping) return;
    this.#pings.delete(id);
    clearTimeout(ping.timer);
    if (error) {
      ping.reject(error);
      return;
    }
    const rtt = Math.round((performance.now() - ping.startedAt) * 10) / 10;
    this.#store.dispatch({ type: 'rtt', rtt });
    ping.resolve(rtt);
  }

  #pingOverHttp(id: number): void {
    // Without a fetch implementation the call throws, and the ping fails with that error.
    Promise.resolve(this.#options.fetch)
      .then((fetchImpl) => (fetchImpl as FetchLike)(`${this.url}/healthz`))
      .then(
        () => this.#settlePing(id),
        (error: unknown) =>
          this.#settlePing(id, new LivedashError('transport_failed', `ping failed: ${String(error)}`)),
      );
  }
}

/** Channel names outside the grammar and a `maxRate` outside `MaxRate` are programmer misuse: thrown. */
function assertArguments(channel: string, rate: number | undefined): void {
  if (!isValidChannel(channel)) throw new TypeError(`invalid channel name ${JSON.stringify(channel)}`);
  if (rate !== undefined && !isValidMaxRate(rate)) throw new RangeError(`maxRate must be ${MAX_RATE_RULE}`);
}

/** The store `key` names in `stores`, made on first use. */
function shared<S>(stores: Map<string, S>, key: string, make: () => S): S {
  let store = stores.get(key);
  if (!store) {
    store = make();
    stores.set(key, store);
  }
  return store;
}
