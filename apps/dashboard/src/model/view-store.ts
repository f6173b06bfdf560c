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
 * The window is remembered in the URL hash (`#window=15m`), so a wall screen can be bookmarked.
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
  }

  setWindow(windowMs: number): void {
    this.#set({ ...this.#state, windowMs });
    const label = WINDOWS.find((window) => window.ms === windowMs)?.label;
    if (label) history.replaceState(null, '', `#window=${label}`);
  }

  #set(state: ViewState): void {
    if (state.paused === this.#state.paused && state.windowMs === this.#state.windowMs) return;
    this.#state = state;
    for (const listener of [...this.#listeners]) listener();
  }
}

function windowFromHash(): number {
  const label = /window=(\w+)/.exec(location.hash)?.[1];
  return WINDOWS.find((window) => window.label === label)?.ms ?? WINDOWS[1].ms;
}

export const viewStore = new ViewStore({ paused: false, windowMs: windowFromHash() });

export function useView(): ViewState {
  return useSyncExternalStore(viewStore.subscribe, viewStore.getSnapshot);
}
