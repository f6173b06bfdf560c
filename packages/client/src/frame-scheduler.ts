/** Cancels a scheduled callback. */
export type CancelScheduled = () => void;

/** Runs `callback` once, later; returns a function that cancels it. */
export type Scheduler = (callback: () => void) => CancelScheduled;

/** Used when `requestAnimationFrame` is missing (Node, workers): about one 60 Hz frame. */
export const FALLBACK_FRAME_MS = 16;

/** The browser's frame callbacks, absent in Node and some workers (typed here so Node builds compile). */
interface AnimationFrames {
  requestAnimationFrame?: (callback: () => void) => number;
  cancelAnimationFrame?: (handle: number) => void;
}

/**
 * Schedules `callback` for the next animation frame in browsers, or after ~16 ms where there is no
 * `requestAnimationFrame`. Browsers pause animation frames in hidden tabs, which is what rendering wants.
 */
export const nextFrame: Scheduler = (callback) => {
  const page = globalThis as AnimationFrames;
  const raf = page.requestAnimationFrame;
  if (typeof raf === 'function') {
    const handle = raf.call(globalThis, () => callback());
    return () => page.cancelAnimationFrame?.(handle);
  }
  const timer = setTimeout(callback, FALLBACK_FRAME_MS);
  return () => clearTimeout(timer);
};

/** A scheduler that waits `ms` milliseconds. */
export function afterMs(ms: number): Scheduler {
  return (callback) => {
    const timer = setTimeout(callback, ms);
    return () => clearTimeout(timer);
  };
}

/** The scheduler for an `interval` option: `'frame'` or a number of ms. */
export function schedulerFor(interval: 'frame' | number): Scheduler {
  return interval === 'frame' ? nextFrame : afterMs(interval);
}
