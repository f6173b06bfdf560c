import { useSyncExternalStore } from 'react';

/**
 * One shared 1-second clock for every "N s ago" on the page: a single timer, running only while some
 * component shows an age, and stopped while the page is hidden (nobody reads it then).
 */
class Clock {
  #now = Date.now();
  #listeners = new Set<() => void>();
  #timer: ReturnType<typeof setInterval> | undefined;

  getSnapshot = (): number => this.#now;

  subscribe = (onChange: () => void): (() => void) => {
    const listener = () => onChange();
    this.#listeners.add(listener);
    this.#now = Date.now();
    this.#timer ??= setInterval(() => this.#tick(), 1000);
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0 && this.#timer !== undefined) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    };
  };

  #tick(): void {
    if (document.visibilityState === 'hidden') return;
    this.#now = Date.now();
    for (const listener of [...this.#listeners]) listener();
  }
}

const clock = new Clock();
const frozen = () => () => {};

/** The current time, updated every second while `active`; a constant otherwise (no timer runs). */
export function useNow(active = true): number {
  return useSyncExternalStore(active ? clock.subscribe : frozen, clock.getSnapshot);
}
