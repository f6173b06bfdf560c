import type { ExternalStore } from '@livedash/client';

/**
 * A view of an external store that notifies at most once per `intervalMs` (the last change always
 * arrives, at most `intervalMs` late). Numbers in gauges, stats, tables and feeds do not need 60
 * updates a second — nobody reads them that fast — and re-rendering a dozen panels on every frame of
 * a firehose is what makes a dashboard stutter. Charts do not use this: they draw on every frame.
 *
 * The snapshot only changes when listeners are told, so React never sees a value it was not notified of.
 *
 * @example
 * const calm = throttled(client.channel('metrics'), 100);
 * useSyncExternalStore(calm.subscribe, calm.getSnapshot);
 */
export class ThrottledStore<S> implements ExternalStore<S> {
  readonly #source: ExternalStore<S>;
  readonly #listeners = new Set<() => void>();
  readonly #tick: Tick;
  #snapshot: S;
  #unsubscribe: (() => void) | undefined;

  constructor(source: ExternalStore<S>, intervalMs: number, tick: Tick = new Tick(intervalMs)) {
    this.#source = source;
    this.#tick = tick;
    this.#snapshot = source.getSnapshot();
  }

  getSnapshot = (): S => (this.#unsubscribe ? this.#snapshot : this.#source.getSnapshot());

  subscribe = (onChange: () => void): (() => void) => {
    const listener = () => onChange();
    this.#listeners.add(listener);
    if (this.#listeners.size === 1) {
      this.#snapshot = this.#source.getSnapshot();
      this.#unsubscribe = this.#source.subscribe(() => this.#changed());
    }
    return () => {
      if (!this.#listeners.delete(listener) || this.#listeners.size > 0) return;
      this.#unsubscribe?.();
      this.#unsubscribe = undefined;
      this.#tick.cancel(this.#notify);
    };
  };

  #changed(): void {
    this.#tick.request(this.#notify);
  }

  #notify = (): void => {
    const next = this.#source.getSnapshot();
    if (Object.is(next, this.#snapshot)) return;
    this.#snapshot = next;
    for (const listener of [...this.#listeners]) listener();
  };
}

/**
 * The shared beat of throttled stores: every store that changed is told in the same task, so React
 * renders all of their panels in one commit instead of one commit per store. In a browser that task is
 * an animation frame (so panels update at most once per frame, and not at all in a hidden tab, whose
 * frames the browser stops: everything shows on the first frame back).
 */
export class Tick {
  readonly #intervalMs: number;
  readonly #due = new Set<() => void>();
  #lastAt = Number.NEGATIVE_INFINITY;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #frame: number | undefined;

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  request(notify: () => void): void {
    this.#due.add(notify);
    if (this.#timer !== undefined || this.#frame !== undefined) return;
    const wait = Math.max(0, this.#lastAt + this.#intervalMs - performance.now());
    this.#timer = setTimeout(this.#onTimer, wait);
  }

  cancel(notify: () => void): void {
    this.#due.delete(notify);
    if (this.#due.size > 0) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#frame !== undefined) cancelAnimationFrame(this.#frame);
    this.#timer = undefined;
    this.#frame = undefined;
  }

  #onTimer = (): void => {
    this.#timer = undefined;
    if (typeof requestAnimationFrame === 'function') this.#frame = requestAnimationFrame(this.#run);
    else this.#run();
  };

  #run = (): void => {
    this.#frame = undefined;
    this.#lastAt = performance.now();
    const due = [...this.#due];
    this.#due.clear();
    for (const notify of due) notify();
  };
}

const ticks = new Map<number, Tick>();

const views = new WeakMap<object, ThrottledStore<unknown>>();

/** The shared throttled view of `store` (one per store, so every panel on a channel shares it). */
export function throttled<S>(store: ExternalStore<S>, intervalMs: number): ThrottledStore<S> {
  let view = views.get(store) as ThrottledStore<S> | undefined;
  if (!view) {
    let tick = ticks.get(intervalMs);
    if (!tick) {
      tick = new Tick(intervalMs);
      ticks.set(intervalMs, tick);
    }
    view = new ThrottledStore(store, intervalMs, tick);
    views.set(store, view as ThrottledStore<unknown>);
  }
  return view;
}
