import { vi } from 'vitest';

/**
 * Waits until `condition` holds, checking every 10 ms, for state observed from outside (a server's
 * metrics, a socket's end, a client's view); fails with `what` (a string, or a function giving one from the state at the time) after `timeoutMs`. The ceiling is
 * generous because tests share two cores with other work: it costs nothing when things are fast.
 */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string | (() => string) = 'condition',
  timeoutMs = 15_000,
): Promise<void> {
  await vi.waitFor(
    async () => {
      if (await condition()) return;
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`,
      );
    },
    { timeout: timeoutMs, interval: 10 },
  );
}

/**
 * Lets real I/O (a socket opening, a refusal) happen while timers and `Date` stay frozen by
 * `vi.useFakeTimers`, until `condition` holds: turns of the event loop, not time, so it never advances
 * the fake clock.
 */
export async function untilIoSettles(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 20_000 && !condition(); i++) await new Promise((resolve) => setImmediate(resolve));
  if (!condition()) throw new Error('condition never held');
}
