/**
 * The one reconnect backoff livedash uses everywhere a connection is retried: the browser/Node client,
 * the server's Redis link and the React stores. Every option has a default; docs/client.md has the formula.
 */
export interface BackoffOptions {
  /** Base delay, ms: the first retry waits between half of it and all of it. Default 1000. */
  initialDelayMs?: number;
  /** Largest delay, ms. Default 30 000. */
  maxDelayMs?: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /**
   * Largest delay while the server is restarting, ms: after a restart notice (close 1012 or 1001) and
   * until a connection is stable again or `restartWindowMs` has passed. Default 5 000.
   */
  restartMaxDelayMs?: number;
  /** How long after a restart notice `restartMaxDelayMs` applies, ms. Default 60 000. */
  restartWindowMs?: number;
}

export const defaultBackoff: Required<BackoffOptions> = {
  initialDelayMs: 1000,
  maxDelayMs: 30_000,
  factor: 2,
  restartMaxDelayMs: 5000,
  restartWindowMs: 60_000,
};

/** Throws for programmer misuse: options that could never produce a sensible delay. */
export function resolveBackoff(options: BackoffOptions = {}): Required<BackoffOptions> {
  const resolved = { ...defaultBackoff };
  for (const key of Object.keys(defaultBackoff) as (keyof BackoffOptions)[]) {
    const value = options[key];
    if (value === undefined) continue;
    if (!Number.isFinite(value) || value <= 0)
      throw new TypeError(`backoff.${key} must be a positive number`);
    resolved[key] = value;
  }
  if (resolved.factor < 1) throw new TypeError('backoff.factor must be at least 1');
  if (resolved.maxDelayMs < resolved.initialDelayMs) {
    throw new TypeError('backoff.maxDelayMs must be at least backoff.initialDelayMs');
  }
  return resolved;
}

/**
 * Delay before retry number `attempt` (1 for the first retry), "equal jitter":
 *
 *     ceiling = min(cap, initialDelayMs × factor^(attempt − 1))
 *     delay   = ceiling / 2 + random() × ceiling / 2
 *
 * where cap is `maxDelayMs`, or `min(maxDelayMs, restartMaxDelayMs)` while `restarting`.
 * Half the delay is fixed, so retries really do back off; the other half is random, so clients that
 * lost their connection at the same instant (a server restart) spread their attempts over a window
 * instead of arriving together. Defaults: 0.5–1 s, 1–2 s, 2–4 s, … up to 15–30 s; while restarting,
 * up to 2.5–5 s, so a server back from a slow restart has every client back within 5 s.
 */
export function backoffDelay(
  attempt: number,
  options: Required<BackoffOptions> = defaultBackoff,
  random: () => number = Math.random,
  restarting = false,
): number {
  const exponent = Math.max(0, attempt - 1);
  // Math.min before multiplying out further keeps huge attempt numbers from overflowing to Infinity.
  const ceiling = Math.min(
    options.maxDelayMs,
    restarting ? options.restartMaxDelayMs : Number.POSITIVE_INFINITY,
    options.initialDelayMs * options.factor ** Math.min(exponent, 64),
  );
  return ceiling / 2 + random() * (ceiling / 2);
}
