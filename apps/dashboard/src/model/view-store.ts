import { useSyncExternalStore } from 'react';
import { type ViewState, viewFromHash, viewHash, WINDOWS } from './view-url.js';

export { type ViewState, viewFromHash, viewHash, WINDOWS };

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

export const viewStore = new ViewStore(viewFromHash(location.hash));

export function useView(): ViewState {
  return useSyncExternalStore(viewStore.subscribe, viewStore.getSnapshot);
}
