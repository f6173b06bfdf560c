import { Counter, type Registry } from 'prom-client';

/**
 * Where an unexpected exception was caught while handling one peer:
 * - `upgrade`: the HTTP server's `upgrade` listener (and the handshake finishing after authentication);
 * - `request`: the `request` listener, before or around Fastify;
 * - `data`: a WebSocket's socket `data` / `end` / `close` listeners (frame reading, commands);
 * - `timer`: a per-peer timer (heartbeats, outgoing-queue flushes and drains, token expiry);
 * - `sse`: an SSE stream's own listeners.
 */
export type FaultSite = 'upgrade' | 'request' | 'data' | 'timer' | 'sse';

/** At most this many faults are logged per minute (each is counted); a flood must not flood the log. */
const LOGGED_PER_MINUTE = 10;

/**
 * Exceptions that escaped the code handling one peer. Each is a bug: the peer is closed (never the
 * process), the fault is counted in `livedash_peer_faults_total{where}` and logged with its stack.
 *
 * @example
 * try { handle(socket) } catch (error) { faults.record('upgrade', error); socket.destroy(); }
 */
export class PeerFaults {
  readonly #counter: Counter<'where'>;
  readonly #log: (line: string, error: unknown) => void;
  #windowStart = 0;
  #loggedInWindow = 0;
  #suppressed = 0;

  constructor(registry: Registry, log: (line: string, error: unknown) => void = defaultLog) {
    this.#counter = new Counter({
      name: 'livedash_peer_faults_total',
      help: 'Unexpected exceptions while handling one peer; the peer was closed, the server kept running.',
      labelNames: ['where'],
      registers: [registry],
    });
    for (const where of ['upgrade', 'request', 'data', 'timer', 'sse'] as const)
      this.#counter.inc({ where }, 0);
    this.#log = log;
  }

  record(where: FaultSite, error: unknown): void {
    this.#counter.inc({ where });
    const now = Date.now();
    if (now - this.#windowStart >= 60_000) {
      if (this.#suppressed > 0) {
        this.#log(
          `livedash: ${this.#suppressed} more peer faults in the last minute (not logged)`,
          undefined,
        );
      }
      this.#windowStart = now;
      this.#loggedInWindow = 0;
      this.#suppressed = 0;
    }
    if (this.#loggedInWindow >= LOGGED_PER_MINUTE) {
      this.#suppressed++;
      return;
    }
    this.#loggedInWindow++;
    this.#log(`livedash: closed one peer after an unexpected error (${where})`, error);
  }

  /** Runs `handler`; an exception is recorded and passed to `close` (which must not throw). */
  guard(where: FaultSite, handler: () => void, close: (error: unknown) => void): void {
    try {
      handler();
    } catch (error) {
      this.record(where, error);
      try {
        close(error);
      } catch {
        // Closing is best effort: the fault is already counted and logged.
      }
    }
  }
}

function defaultLog(line: string, error: unknown): void {
  if (error === undefined) console.error(line);
  else console.error(line, error);
}
