import { type ConnectionEvent, initialConnectionState, transition } from '../state.js';
import type { ConnectionSnapshot, ExternalStore, StateChange } from '../types.js';

/**
 * Holds the connection state and is the one place it changes: `dispatch` runs the state machine's
 * `transition` and, when the state really changed, tells every listener `{oldState, newState}`.
 * As an external store (`client.connection`) its snapshot keeps its identity until something changes.
 */
export class ConnectionStore implements ExternalStore<ConnectionSnapshot> {
  #state: ConnectionSnapshot = initialConnectionState;
  #listeners = new Set<(change: StateChange) => void>();

  get state(): ConnectionSnapshot {
    return this.#state;
  }

  getSnapshot = (): ConnectionSnapshot => this.#state;

  subscribe = (onChange: () => void): (() => void) => this.onChange(() => onChange());

  /** Listens to every transition. */
  onChange(listener: (change: StateChange) => void): () => void {
    // Wrapped so the same function registered twice counts twice.
    const wrapped = (change: StateChange) => listener(change);
    this.#listeners.add(wrapped);
    return () => {
      this.#listeners.delete(wrapped);
    };
  }

  /** Applies `event`; returns true when the state changed. */
  dispatch(event: ConnectionEvent): boolean {
    const oldState = this.#state;
    const newState = transition(oldState, event);
    if (newState === oldState) return false;
    this.#state = newState;
    const change: StateChange = { oldState, newState };
    for (const listener of [...this.#listeners]) {
      try {
        listener(change);
      } catch (error) {
        // One listener's bug must not stop the others or break the connection's bookkeeping.
        reportListenerError(error);
      }
    }
    return true;
  }
}

/** Rethrows asynchronously, so a throwing listener shows up in the console without breaking the caller. */
export function reportListenerError(error: unknown): void {
  setTimeout(() => {
    throw error;
  }, 0);
}
