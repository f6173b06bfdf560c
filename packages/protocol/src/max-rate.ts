/**
 * A subscription's `maxRate`: at most this many writes of the channel per second to that subscriber.
 * Below the minimum an interval would outlast heartbeats many times over; above the maximum the
 * interval (10 ms) is finer than timers keep or a screen shows.
 */
export const MaxRate = { min: 0.1, max: 100 } as const;

/** What a valid `maxRate` is, in words (the text of every refusal). */
export const MAX_RATE_RULE = `a number of messages per second from ${MaxRate.min} to ${MaxRate.max}`;

/** True for a finite number within `MaxRate`. */
export function isValidMaxRate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= MaxRate.min && value <= MaxRate.max;
}

/** The rate as a query-string value (`5`, `0.5`, `12.25`); undefined when it is not a valid one. */
export function parseMaxRateText(text: string): number | undefined {
  if (!/^[0-9]{1,3}(\.[0-9]{1,6})?$/.test(text)) return undefined;
  const rate = Number(text);
  return isValidMaxRate(rate) ? rate : undefined;
}

/** A valid rate as query-string text `parseMaxRateText` reads (at most 6 decimals: `1/3` → `0.333333`). */
export function maxRateText(rate: number): string {
  return String(Math.round(rate * 1e6) / 1e6);
}

/** The interval between two writes at `rate`, in whole ms (subscriptions of one interval share a tick). */
export function maxRateIntervalMs(rate: number): number {
  return Math.round(1000 / rate);
}
