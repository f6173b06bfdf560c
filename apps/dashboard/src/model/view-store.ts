import { useSyncExternalStore } from 'react';

/** The time windows the charts offer, in ms. */
export const WINDOWS = [
  { label: '1m', ms: 60_000, name: '1 minute' },
  { label: '5m', ms: 5 * 60_000, name: '5 minutes' },
  { label: '15m', ms: 15 * 60_000, name: '15 minutes' },
] as const;

export interface ViewState {
  /** While paused every panel keeps showing what it showed; data keeps arriving underneath. */
  readonly paused: boolean;
  readonly windowMs: number;
}

/**
 * The viewer's choices (pause, chart window), kept outside React so charts read them without re-rendering.
 * Both live in the URL hash (`#window=15m&paused`), beside the dashboard in the path (`/d/<name>`), so
 * a link or a reload shows the same view.
 */
export class ViewStore {
  #state: ViewState;
  #listeners = new Set<() => void>();

  constructor(initial: ViewState) {
    this.#state = initial;
  }

  getSnapshot = (): ViewState => this.#state;

  subscribe = (onChange: () => void): (() => void) => {
    const listener = () => onChange();
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  setPaused(paused: boolean): void {
    this.#set({ ...this.#state, paused });
    history.replaceState(null, '', viewHash(this.#state));
  }

  setWindow(windowMs: number): void {
    this.#set({ ...this.#state, windowMs });
    history.replaceState(null, '', viewHash(this.#state));
  }

  #set(state: ViewState): void {
    if (state.paused === this.#state.paused && state.windowMs === this.#state.windowMs) return;
    this.#state = state;
    for (const listener of [...this.#listeners]) listener();
  }
}

/** `#window=15m&paused`: the hash a link to this view carries. */
export function viewHash(state: ViewState): string {
  const label = WINDOWS.find((window) => window.ms === state.windowMs)?.label ?? WINDOWS[1].label;
  return `#window=${label}${state.paused ? '&paused' : ''}`;
}

/** The view a hash asks for; anything it does not say (or says wrong) is the default: 5m, live. */
export function viewFromHash(hash: string): ViewState {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const label = params.get('window');
  const windowMs = WINDOWS.find((window) => window.label === label)?.ms ?? WINDOWS[1].ms;
  const paused = params.has('paused') && params.get('paused') !== '0';
  return { paused, windowMs };
}

export const viewStore = new ViewStore(viewFromHash(location.hash));

export function useView(): ViewState {
  return useSyncExternalStore(viewStore.subscribe, viewStore.getSnapshot);
}
