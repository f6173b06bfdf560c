import { LiveClient } from './live-client.js';
import type { LiveClientOptions } from './options.js';
import type { ConnectionSnapshot } from './types.js';

/** The channels the guide's client subscribes to as soon as it connects. */
const GUIDE_CHANNELS = ['metrics', 'alerts'];

/** Options beyond the guide's: everything `LiveClient` takes except the URL, which `connect(url)` gives. */
export type DashboardWebSocketOptions = Omit<LiveClientOptions, 'url'>;

/**
 * The real-time dashboards guide's `DashboardWebSocket`, same methods, built on `LiveClient`: so it reconnects with jitter
 * forever (or `maxReconnectAttempts` times, then `failed`), resubscribes channels added at any time,
 * accepts `subscribe` before the connection is open, recovers what was published while it was away,
 * detects half-open sockets, falls back to SSE or polling, and has the `disconnect()` the guide's hook calls.
 *
 * @example
 * const ws = new DashboardWebSocket();
 * ws.connect('ws://localhost:8080/ws'); // subscribes to metrics and alerts, as the guide's client does
 * ws.on('metrics', (m) => render(m.cpu, m.memory));
 * // later
 * ws.disconnect();
 */
export class DashboardWebSocket {
  #options: DashboardWebSocketOptions;
  #client: LiveClient | undefined;
  /** Channels asked for, kept across `connect` calls so a reconnect to a new URL keeps them. */
  #channels = new Map<string, (() => void) | undefined>();
  // The guide's listener type; `unknown` where it had `any`.
  #listeners = new Map<string, Set<(data: unknown) => void>>();

  constructor(options: DashboardWebSocketOptions = {}) {
    this.#options = options;
  }

  /** The underlying client (undefined before `connect`). */
  get client(): LiveClient | undefined {
    return this.#client;
  }

  /** Connection state, or `idle` before `connect`. */
  get state(): ConnectionSnapshot['status'] {
    return this.#client?.state.status ?? 'idle';
  }

  /** Connects to `url` (`ws(s)://host/ws` as in the guide, or the http(s) base) and subscribes to metrics and alerts. */
  connect(url: string): void {
    this.disconnect();
    this.#client = new LiveClient({ ...this.#options, url });
    for (const channel of GUIDE_CHANNELS)
      if (!this.#channels.has(channel)) this.#channels.set(channel, undefined);
    for (const channel of this.#channels.keys()) this.#attach(channel);
  }

  /** Subscribes to `channels`; works before `connect` and before the connection is open. */
  subscribe(channels: string[]): void {
    for (const channel of channels) {
      if (this.#channels.get(channel)) continue;
      this.#channels.set(channel, undefined);
      this.#attach(channel);
    }
  }

  /** Stops receiving `channels` (the server subscription ends with the last listener). */
  unsubscribe(channels: string[]): void {
    for (const channel of channels) {
      this.#channels.get(channel)?.();
      this.#channels.delete(channel);
    }
  }

  /**
   * Calls `callback(data)` for every message on channel `event`. The data type is the caller's claim
   * (`on<Metrics>('metrics', …)` or an annotated parameter); unannotated it is `unknown`.
   */
  on<T = unknown>(event: string, callback: (data: T) => void): void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(callback as (data: unknown) => void);
  }

  /** Removes a callback added with `on`. */
  off<T = unknown>(event: string, callback: (data: T) => void): void {
    this.#listeners.get(event)?.delete(callback as (data: unknown) => void);
  }

  /** Closes the connection for good (the guide calls this from its hook's cleanup). */
  disconnect(): void {
    for (const channel of this.#channels.keys()) this.#channels.set(channel, undefined);
    this.#client?.close();
    this.#client = undefined;
  }

  #attach(channel: string): void {
    if (!this.#client) return;
    const off = this.#client.subscribe(channel, (data) => this.#emit(channel, data));
    this.#channels.set(channel, off);
  }

  #emit(event: string, data: unknown): void {
    for (const callback of [...(this.#listeners.get(event) ?? [])]) callback(data);
  }
}
