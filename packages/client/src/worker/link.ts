// The page's side of a LiveClient whose connection runs in a worker. Loaded only when a worker is used.
import type { Position } from '@livedash/protocol';
import type { ConnectionEvents } from '../connection.js';
import type { LiveClientOptions } from '../options.js';
import type { ConnectionStore } from '../stores/connection-store.js';
import type { Transport } from '../transports/transport.js';
import type { HistoryEntry } from '../types.js';
import type { ClientMode, PageMessage, WorkerMessage, WorkerOptions } from './messages.js';

/** What LiveClient needs of whatever keeps its connection: the in-page `Connection` or a worker link. */
export interface ConnectionLike {
  readonly transport: Transport | undefined;
  start(): void;
  reconnect(): void;
  close(): void;
  /** A channel's messages after `since` from a history kept beside the connection; undefined: ask the server. */
  history?(channel: string, since: number, epoch: string | undefined): Promise<HistoryEntry[]> | undefined;
}

interface PortLike {
  postMessage(message: PageMessage): void;
  onmessage: ((event: { data: WorkerMessage }) => void) | null;
  start?(): void;
}

/** The browser's worker constructors, typed here so the client also compiles without the DOM library. */
interface WorkerGlobals {
  SharedWorker?: new (url: URL, options: { type: 'module'; name: string }) => { port: PortLike };
  Worker?: new (url: URL, options: { type: 'module'; name: string }) => PortLike & { terminate(): void };
  addEventListener?(type: 'pagehide', listener: () => void): void;
  removeEventListener?(type: 'pagehide', listener: () => void): void;
}
const scope = globalThis as WorkerGlobals;

/** Options a worker cannot take (functions and classes do not cross to a worker). */
const PAGE_ONLY = ['WebSocket', 'EventSource', 'fetch', 'environment', 'random'] as const;

/** The options as a worker takes them, or undefined when some only work in the page. */
export function workerOptions(options: LiveClientOptions): WorkerOptions | undefined {
  if (PAGE_ONLY.some((name) => options[name] !== undefined) || typeof options.token === 'function')
    return undefined;
  const { worker: _mode, ...rest } = options;
  return rest as WorkerOptions;
}

/**
 * Starts the connection where `mode` asks (falling back from a SharedWorker to a dedicated Worker to
 * the page when the browser refuses one), records where in the connection state (`state.mode`), and
 * returns what LiveClient drives.
 */
export function connect(
  mode: NonNullable<LiveClientOptions['worker']>,
  options: LiveClientOptions,
  store: ConnectionStore,
  events: ConnectionEvents,
  maxRate: (channel: string) => number | undefined,
  inPage: () => ConnectionLike,
): ConnectionLike {
  const portable = workerOptions(options);
  if (portable) {
    const name = `livedash ${options.url}`;
    const { SharedWorker, Worker } = scope;
    if (mode !== 'worker' && typeof SharedWorker === 'function') {
      try {
        const worker = new SharedWorker(new URL('./live-worker.js', import.meta.url), {
          type: 'module',
          name,
        });
        return new WorkerLink('shared-worker', worker.port, portable, store, events, maxRate);
      } catch {
        // A browser or policy that refuses a SharedWorker: try a dedicated one.
      }
    }
    if (typeof Worker === 'function') {
      try {
        const worker = new Worker(new URL('./live-worker.js', import.meta.url), { type: 'module', name });
        return new WorkerLink('worker', worker, portable, store, events, maxRate, () => worker.terminate());
      } catch {
        // No worker allowed here (a content security policy without worker-src): run in the page.
      }
    }
  }
  return inPage();
}

/** Drives the worker's connection from the page; the page's store mirrors the worker's every transition. */
class WorkerLink implements ConnectionLike {
  readonly #port: PortLike;
  readonly #store: ConnectionStore;
  readonly #events: ConnectionEvents;
  readonly #terminate: (() => void) | undefined;
  #open = false;
  #onPageHide = () => this.#post({ t: 'bye' });
  /** History questions waiting for the worker's answer, by id. */
  readonly #histories = new Map<number, (entries: HistoryEntry[]) => void>();
  #nextHistory = 1;
  readonly #transport: Transport;

  constructor(
    mode: Exclude<ClientMode, 'in-page'>,
    port: PortLike,
    options: WorkerOptions,
    store: ConnectionStore,
    events: ConnectionEvents,
    maxRate: (channel: string) => number | undefined,
    terminate?: () => void,
  ) {
    this.#port = port;
    this.#store = store;
    this.#events = events;
    this.#terminate = terminate;
    store.dispatch({ type: 'mode', mode });
    const post = (message: PageMessage) => this.#post(message);
    this.#transport = {
      get name() {
        return store.state.transport ?? 'ws';
      },
      subscribe(channels: ReadonlyMap<string, Position | undefined>) {
        post({
          t: 'sub',
          channels: [...channels].map(([name, at]) => [name, at ?? null, maxRate(name) ?? null]),
        });
      },
      unsubscribe(channels: readonly string[]) {
        post({ t: 'unsub', channels: [...channels] });
      },
      ping(id: number) {
        post({ t: 'ping', id });
        return true;
      },
      close() {},
    };
    port.onmessage = (event) => this.#receive(event.data);
    port.start?.();
    this.#post({ t: 'hello', options });
    scope.addEventListener?.('pagehide', this.#onPageHide);
  }

  get transport(): Transport | undefined {
    // Open as soon as the state says so: the worker holds the socket, so anything sent now is delivered.
    return this.#store.state.status === 'open' ? this.#transport : undefined;
  }

  start(): void {
    this.#post({ t: 'start' });
  }

  reconnect(): void {
    this.#post({ t: 'reconnect' });
  }

  history(channel: string, since: number, epoch: string | undefined): Promise<HistoryEntry[]> {
    if (this.#store.state.status === 'closed') return Promise.resolve([]);
    const id = this.#nextHistory++;
    return new Promise((resolve) => {
      this.#histories.set(id, resolve);
      this.#post({ t: 'history', id, channel, since, epoch });
    });
  }

  close(): void {
    for (const resolve of this.#histories.values()) resolve([]);
    this.#histories.clear();
    scope.removeEventListener?.('pagehide', this.#onPageHide);
    this.#post({ t: 'bye' });
    this.#terminate?.();
    this.#drop();
    this.#store.dispatch({ type: 'close' });
  }

  #post(message: PageMessage): void {
    if (this.#store.state.status === 'closed') return;
    this.#port.postMessage(message);
  }

  #receive(message: WorkerMessage): void {
    if (this.#store.state.status === 'closed') return;
    switch (message.t) {
      case 'events':
        for (const event of message.events) this.#store.dispatch(event);
        return;
      case 'opened':
        this.#open = true;
        this.#events.opened(this.#transport);
        return;
      case 'dropped':
        this.#drop();
        return;
      case 'frames':
        for (const frame of message.frames) this.#events.frame(frame);
        return;
      case 'history':
        this.#histories.get(message.id)?.(message.entries);
        this.#histories.delete(message.id);
        return;
    }
  }

  #drop(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#events.dropped();
  }
}
