import {
  backoffDelay,
  closeCodePolicy,
  LivedashError,
  type RetryPolicy,
  type ServerFrame,
  type WelcomeFrame,
} from '@livedash/protocol';
import type { ResolvedOptions } from './options.js';
import type { ConnectionStore } from './stores/connection-store.js';
import { TokenSource } from './token-source.js';
import { createTransport } from './transports/create-transport.js';
import type { Transport, TransportContext } from './transports/transport.js';
import type { ConnectionError, TransportName } from './types.js';

/** What the connection tells the client. */
export interface ConnectionEvents {
  /** A transport is open (first connect, reconnect, or a switch to a better transport): resubscribe everything. */
  opened(transport: Transport): void;
  frame(frame: ServerFrame): void;
  /** The transport in use went away; channels wait for the next `opened`. */
  dropped(): void;
}

type OpenedInfo = Parameters<TransportContext['events']['opened']>[0];

/** Timers the connection keeps; all are cleared on close. */
type TimerName = 'retry' | 'connectTimeout' | 'liveness' | 'stable' | 'upgrade' | 'probeTimeout' | 'clock';

/**
 * While frames flow, the clock is read (and `lastMessageAt` moved) once per this many ms, not per frame:
 * the clock reads were the largest part of the client's own per-message cost, and state listeners
 * should not fire per message. Silence is therefore detected up to this much late.
 */
const CLOCK_MS = 1000;

const toConnectionError = (error: LivedashError): ConnectionError =>
  error.closeCode === undefined
    ? { code: error.code, message: error.message }
    : { code: error.code, message: error.message, closeCode: error.closeCode };

/**
 * Keeps one transport open: attempts, fallback down the transport order, reconnect with backoff and
 * jitter, dead-connection detection, background upgrades to a better transport, and the page's
 * online/visibility signals. Every state change goes through the `ConnectionStore`'s state machine.
 */
export class Connection {
  #options: ResolvedOptions;
  #store: ConnectionStore;
  #events: ConnectionEvents;
  #positions: TransportContext['positions'];
  #maxRate: TransportContext['maxRate'];
  #transport: Transport | undefined;
  #probe: Transport | undefined;
  /** Index in the transport order of the transport in use or being tried. */
  #index = 0;
  #timers = new Map<TimerName, ReturnType<typeof setTimeout>>();
  /** When a frame last arrived: the clock at that frame, or at the `clock` timer after frames arrived. */
  #lastFrameAt = 0;
  /** A frame arrived since `#lastFrameAt` was recorded (set per frame instead of reading the clock). */
  #heard = false;
  #silenceLimitMs = 0;
  /**
   * When the server last said it was restarting (close 1012/1001), until a connection is stable again:
   * meanwhile retries wait at most `backoff.restartMaxDelayMs` (for `restartWindowMs`), so clients
   * whose first attempts were refused by a slow restart do not climb to the 15–30 s steps.
   */
  #restartNoticeAt: number | undefined;
  /** Set when the open transport cannot see heartbeats; the first `$heartbeat` frame starts the watch. */
  #pendingHeartbeatMs: number | undefined;
  #unlisten: () => void;
  readonly #tokens: TokenSource;

  constructor(
    options: ResolvedOptions,
    store: ConnectionStore,
    events: ConnectionEvents,
    positions: TransportContext['positions'],
    maxRate: TransportContext['maxRate'],
    tokens: TokenSource = new TokenSource(undefined),
  ) {
    this.#maxRate = maxRate;
    this.#tokens = tokens;
    this.#options = options;
    this.#store = store;
    this.#events = events;
    this.#positions = positions;
    this.#unlisten = options.environment.listen({
      online: () => this.#wake(),
      visible: () => this.#wake(),
      offline: () => {
        // An open socket may well survive a network blip; only waiting attempts are parked.
        if (this.#store.state.status === 'reconnecting') this.#goOffline();
      },
      hidden: () => {},
    });
  }

  /** The open transport, if any. */
  get transport(): Transport | undefined {
    return this.#store.state.status === 'open' ? this.#transport : undefined;
  }

  /** Starts connecting (from `idle`, `reconnecting`, `offline` or `failed`). */
  start(): void {
    const { status } = this.#store.state;
    if (status === 'open' || status === 'connecting' || status === 'closed') return;
    this.#index = 0;
    this.#attempt();
  }

  /** Drops whatever is in progress and connects again at once, with a fresh attempt count. */
  reconnect(): void {
    if (this.#store.state.status === 'closed') return;
    this.#teardown();
    this.#store.dispatch({ type: 'reset-attempts' });
    this.#index = 0;
    this.#attempt();
  }

  close(): void {
    this.#teardown();
    this.#unlisten();
    this.#store.dispatch({ type: 'close' });
  }

  /** Closes the transport and probe and clears every timer, without reporting anything. */
  #teardown(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#heard = false;
    const hadTransport = this.#transport !== undefined;
    this.#transport?.close();
    this.#probe?.close();
    this.#transport = undefined;
    this.#probe = undefined;
    if (hadTransport) this.#events.dropped();
  }

  #setTimer(name: TimerName, ms: number, run: () => void): void {
    this.#clearTimer(name);
    this.#timers.set(
      name,
      setTimeout(() => {
        this.#timers.delete(name);
        run();
      }, ms),
    );
  }

  #clearTimer(name: TimerName): void {
    const timer = this.#timers.get(name);
    if (timer !== undefined) clearTimeout(timer);
    this.#timers.delete(name);
  }

  #attempt(): void {
    if (!this.#options.environment.isOnline()) {
      this.#goOffline();
      return;
    }
    if (this.#tokens.needsFetch) {
      // A token function is asked first (before the first connect, or after the token expired); the
      // attempt goes on when it answers or after connectTimeoutMs, with or without a token.
      this.#setTimer('connectTimeout', this.#options.connectTimeoutMs, () => this.#connectNow());
      void this.#tokens.ensureFresh().then(() => this.#connectNow());
      return;
    }
    this.#connectNow();
  }

  #connectNow(): void {
    // Closed, or another attempt started, while a token was being fetched.
    if (this.#store.state.status === 'closed' || this.#transport !== undefined) return;
    const name = this.#options.transports[this.#index] as TransportName;
    const fallback = this.#store.state.status === 'connecting';
    this.#store.dispatch(
      fallback ? { type: 'fallback', transport: name } : { type: 'connect', transport: name },
    );
    const transport = this.#open(name, {
      opened: (info) => this.#onOpened(transport, info),
      closed: (error, wasOpen) => this.#onClosed(error, wasOpen),
    });
    this.#transport = transport;
    this.#setTimer('connectTimeout', this.#options.connectTimeoutMs, () => {
      transport.close();
      this.#onClosed(
        new LivedashError(
          'connect_timeout',
          `${name} did not open within ${this.#options.connectTimeoutMs} ms`,
        ),
        false,
      );
    });
  }

  /** Creates a transport whose reports count only while it is the current (or probing) one. */
  #open(
    name: TransportName,
    handlers: { opened(info: OpenedInfo): void; closed(error: LivedashError, wasOpen: boolean): void },
  ): Transport {
    const isLive = () => this.#transport === transport || this.#probe === transport;
    const transport: Transport = createTransport(name, this.#options, {
      baseUrl: this.#options.baseUrl,
      positions: this.#positions,
      maxRate: this.#maxRate,
      token: () => this.#tokens.current,
      events: {
        opened: (info) => {
          if (isLive()) handlers.opened(info);
        },
        frame: (frame) => {
          if (this.#transport === transport) this.#onFrame(frame);
        },
        closed: (error, wasOpen) => {
          if (isLive()) handlers.closed(error, wasOpen);
        },
      },
    });
    return transport;
  }

  #onOpened(transport: Transport, info: OpenedInfo): void {
    this.#clearTimer('connectTimeout');
    this.#store.dispatch({ type: 'opened', transport: transport.name });
    this.#startLiveness(info);
    this.#setTimer('stable', this.#options.stableAfterMs, () => {
      this.#restartNoticeAt = undefined;
      this.#store.dispatch({ type: 'stable' });
    });
    if (this.#index > 0) this.#scheduleUpgrade();
    this.#events.opened(transport);
  }

  #onFrame(frame: ServerFrame): void {
    // Per message this is all the time-keeping: while the `clock` timer runs, it reads the clock.
    if (!this.#heard) {
      if (this.#timers.has('clock')) this.#heard = true;
      else this.#readClock();
    }
    if (this.#pendingHeartbeatMs !== undefined) {
      if (frame.type === '$welcome') this.#pendingHeartbeatMs = (frame as WelcomeFrame).heartbeat;
      else if (frame.type === '$heartbeat') this.#startLiveness({ heartbeatMs: this.#pendingHeartbeatMs });
    }
    this.#events.frame(frame);
  }

  /**
   * Records now as the last frame's time and `lastMessageAt`. Then, for `CLOCK_MS`, frames only set
   * `#heard`, and the timer records the time again if any came.
   */
  #readClock(): void {
    this.#heard = false;
    this.#lastFrameAt = Date.now();
    this.#store.dispatch({ type: 'message', at: this.#lastFrameAt });
    this.#setTimer('clock', CLOCK_MS, () => {
      if (this.#heard) this.#readClock();
    });
  }

  #startLiveness(info: OpenedInfo): void {
    const heartbeatMs = info.heartbeatMs ?? this.#options.heartbeatMs;
    this.#clearTimer('liveness');
    if (info.watchSilence === false) {
      this.#pendingHeartbeatMs = heartbeatMs;
      return;
    }
    this.#pendingHeartbeatMs = undefined;
    this.#silenceLimitMs = heartbeatMs * this.#options.heartbeatTolerance;
    this.#lastFrameAt = Date.now();
    // One timer checked against the last frame's time, instead of a timer reset on every frame.
    const check = () => {
      // Frames came since the clock was read: alive (the `clock` timer records when, within CLOCK_MS).
      const silentFor = this.#heard ? 0 : Date.now() - this.#lastFrameAt;
      if (silentFor < this.#silenceLimitMs) {
        this.#setTimer('liveness', this.#silenceLimitMs - silentFor, check);
        return;
      }
      const message = `no frame for ${silentFor} ms (limit ${Math.round(this.#silenceLimitMs)} ms)`;
      this.#transport?.close();
      this.#onClosed(new LivedashError('heartbeat_timeout', message), true);
    };
    this.#setTimer('liveness', this.#silenceLimitMs, check);
  }

  #onClosed(error: LivedashError, wasOpen: boolean): void {
    const failedTransport = this.#transport;
    this.#teardown();
    if (failedTransport === undefined) return;
    const policy: RetryPolicy = error.closeCode === undefined ? 'retry' : closeCodePolicy(error.closeCode);
    const connectionError = toConnectionError(error);
    if (policy === 'retry-now') this.#restartNoticeAt = Date.now();
    if (policy === 'never') {
      this.#store.dispatch({ type: 'give-up', error: connectionError });
      return;
    }
    if (!wasOpen && policy === 'retry' && this.#index + 1 < this.#options.transports.length) {
      // This transport cannot open here (blocked upgrade, disabled on the server): try the next one now.
      this.#store.dispatch({ type: 'note-error', error: connectionError });
      this.#index++;
      this.#attempt();
      return;
    }
    const failures = Math.max(1, this.#store.state.attempt);
    if (failures >= this.#options.maxReconnectAttempts) {
      this.#store.dispatch({ type: 'give-up', error: connectionError });
      return;
    }
    this.#index = 0;
    // Whole milliseconds, so `nextRetryAt` is exactly when the timer fires.
    const delay = Math.round(this.#retryDelay(policy, failures));
    this.#store.dispatch({ type: 'lost', error: connectionError, retryAt: Date.now() + delay });
    this.#setTimer('retry', delay, () => this.#attempt());
  }

  #retryDelay(policy: RetryPolicy, failures: number): number {
    const { backoff, random, retryLaterMs } = this.#options;
    // A restarting server (1012, 1001): come back soon, but spread over a window so not all at once.
    if (policy === 'retry-now') return random() * backoff.initialDelayMs;
    const since = this.#restartNoticeAt;
    const delay = backoffDelay(
      failures,
      backoff,
      random,
      since !== undefined && Date.now() - since < backoff.restartWindowMs,
    );
    return policy === 'retry-later' ? Math.max(delay, retryLaterMs * (1 + random())) : delay;
  }

  #goOffline(): void {
    this.#clearTimer('retry');
    this.#store.dispatch({ type: 'offline' });
  }

  /** The network is back or the page became visible: a waiting reconnect happens now. */
  #wake(): void {
    const { status } = this.#store.state;
    if (status !== 'reconnecting' && status !== 'offline') return;
    this.#clearTimer('retry');
    this.#index = 0;
    this.#attempt();
  }

  #scheduleUpgrade(): void {
    this.#setTimer('upgrade', this.#options.upgradeIntervalMs, () => this.#probeBetter(0));
  }

  /**
   * Opens a better transport (index `probeIndex`, best first) beside the current fallback; when it
   * opens, every channel moves to it. When it cannot open, the next better one is tried, and after
   * the last the probing waits another `upgradeIntervalMs`.
   */
  #probeBetter(probeIndex: number): void {
    if (this.#store.state.status !== 'open' || probeIndex >= this.#index) {
      if (this.#store.state.status === 'open') this.#scheduleUpgrade();
      return;
    }
    const name = this.#options.transports[probeIndex] as TransportName;
    const giveUp = () => {
      probe.close();
      this.#probe = undefined;
      this.#clearTimer('probeTimeout');
      this.#probeBetter(probeIndex + 1);
    };
    const probe = this.#open(name, {
      opened: (info) => this.#switchTo(probe, probeIndex, info),
      closed: giveUp,
    });
    this.#probe = probe;
    this.#setTimer('probeTimeout', this.#options.connectTimeoutMs, giveUp);
  }

  #switchTo(probe: Transport, index: number, info: OpenedInfo): void {
    this.#clearTimer('probeTimeout');
    const old = this.#transport;
    this.#probe = undefined;
    this.#transport = probe;
    this.#index = index;
    if (index > 0) this.#scheduleUpgrade();
    // The old transport is closed before the new one resubscribes; the resubscription resumes from
    // the last delivered position, so whatever the old one had in flight is replayed, once.
    old?.close();
    this.#events.dropped();
    this.#store.dispatch({ type: 'switched', transport: probe.name });
    this.#startLiveness(info);
    this.#events.opened(probe);
  }
}
