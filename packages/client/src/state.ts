import type { ClientMode, ConnectionError, ConnectionSnapshot, TransportName } from './types.js';

/** Everything that can happen to a connection. `transition` is the only place that turns one into a new state. */
export type ConnectionEvent =
  /** An attempt starts on `transport` (counted in `attempt`). */
  | { type: 'connect'; transport: TransportName }
  /** The attempt's transport could not open; the same attempt goes on with the next transport. */
  | { type: 'fallback'; transport: TransportName }
  /** Records an error that changes nothing else (a transport that could not open before a fallback). */
  | { type: 'note-error'; error: ConnectionError }
  /** The attempt's transport opened (for WebSocket: `$welcome` arrived). */
  | { type: 'opened'; transport: TransportName }
  /** A background probe found a better transport and the client moved to it. */
  | { type: 'switched'; transport: TransportName }
  /** The connection stayed up long enough: the attempt count starts over. */
  | { type: 'stable' }
  /** The connection or attempt failed; the next attempt is at `retryAt`. */
  | { type: 'lost'; error: ConnectionError; retryAt: number }
  /** No more attempts: `maxReconnectAttempts` reached or the server said never to retry. */
  | { type: 'give-up'; error: ConnectionError }
  /** The browser reports it has no network. */
  | { type: 'offline' }
  /** `client.reconnect()` was called: attempts start over. */
  | { type: 'reset-attempts' }
  | { type: 'close' }
  | { type: 'rtt'; rtt: number }
  /** Where the connection runs (set once, when a worker took it). */
  | { type: 'mode'; mode: ClientMode }
  | { type: 'message'; at: number };

export const initialConnectionState: ConnectionSnapshot = Object.freeze({
  status: 'idle',
  transport: null,
  attempt: 0,
  nextRetryAt: null,
});

function next(state: ConnectionSnapshot, changes: Partial<ConnectionSnapshot>): ConnectionSnapshot {
  return Object.freeze({ ...state, ...changes });
}

/**
 * The connection state machine. Pure: returns the next state, or the same object when the event does
 * not apply in the current state (so callers can compare identities to know whether anything changed).
 * `closed` is final.
 *
 * | from \ event    | connect    | opened | lost         | give-up | offline | close  |
 * |-----------------|------------|--------|--------------|---------|---------|--------|
 * | idle            | connecting |        |              |         | offline | closed |
 * | connecting      | connecting | open   | reconnecting | failed  | offline | closed |
 * | open            | connecting |        | reconnecting | failed  | offline | closed |
 * | reconnecting    | connecting |        |              | failed  | offline | closed |
 * | offline         | connecting |        |              |         |         | closed |
 * | failed          | connecting |        |              |         |         | closed |
 */
export function transition(state: ConnectionSnapshot, event: ConnectionEvent): ConnectionSnapshot {
  if (state.status === 'closed') return state;
  switch (event.type) {
    case 'connect':
      return next(state, {
        status: 'connecting',
        transport: event.transport,
        attempt: state.attempt + 1,
        nextRetryAt: null,
      });
    case 'fallback':
      if (state.status !== 'connecting') return state;
      return next(state, { transport: event.transport });
    case 'note-error':
      return next(state, { lastError: event.error });
    case 'opened':
      if (state.status !== 'connecting') return state;
      return next(state, { status: 'open', transport: event.transport, nextRetryAt: null });
    case 'switched':
      if (state.status !== 'open' || state.transport === event.transport) return state;
      return next(state, { transport: event.transport });
    case 'stable':
      if (state.status !== 'open' || state.attempt === 0) return state;
      return next(state, { attempt: 0 });
    case 'lost':
      if (state.status !== 'connecting' && state.status !== 'open') return state;
      return next(state, { status: 'reconnecting', nextRetryAt: event.retryAt, lastError: event.error });
    case 'give-up':
      if (state.status === 'idle' || state.status === 'offline' || state.status === 'failed') return state;
      return next(state, { status: 'failed', nextRetryAt: null, lastError: event.error });
    case 'offline':
      if (state.status === 'offline' || state.status === 'failed') return state;
      return next(state, { status: 'offline', nextRetryAt: null });
    case 'reset-attempts':
      return state.attempt === 0 ? state : next(state, { attempt: 0 });
    case 'close':
      return next(state, { status: 'closed', nextRetryAt: null });
    case 'mode':
      return next(state, { mode: event.mode });
    case 'rtt':
      return state.rtt === event.rtt ? state : next(state, { rtt: event.rtt });
    case 'message':
      return state.lastMessageAt === event.at ? state : next(state, { lastMessageAt: event.at });
  }
}
