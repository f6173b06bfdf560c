// The view (chart window, pause) as the URL hash carries it: pure, so a link round-trips exactly.

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
