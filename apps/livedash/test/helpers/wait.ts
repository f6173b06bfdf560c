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
