import { describe, expect, it } from 'vitest';
import { dashboardPath, routeOf } from '../src/model/route.js';
import { viewFromHash, viewHash, WINDOWS } from '../src/model/view-url.js';

describe('the view in the URL hash', () => {
  it('round-trips every window, paused or live', () => {
    for (const window of WINDOWS) {
      for (const paused of [false, true]) {
        const view = { windowMs: window.ms, paused };
        expect(viewFromHash(viewHash(view))).toEqual(view);
      }
    }
    expect(viewHash({ windowMs: 15 * 60_000, paused: true })).toBe('#window=15m&paused');
    expect(viewHash({ windowMs: 60_000, paused: false })).toBe('#window=1m');
  });

  it('reads a hand-written or foreign hash as the default where it says nothing usable', () => {
    expect(viewFromHash('')).toEqual({ windowMs: 5 * 60_000, paused: false });
    expect(viewFromHash('#window=2h')).toEqual({ windowMs: 5 * 60_000, paused: false });
    expect(viewFromHash('#paused=1&window=1m')).toEqual({ windowMs: 60_000, paused: true });
    expect(viewFromHash('#paused=0')).toEqual({ windowMs: 5 * 60_000, paused: false });
  });
});

describe('routes', () => {
  it('maps / to home, /d and /d/ to the index, /d/<name> to a dashboard', () => {
    expect(routeOf('/')).toEqual({ kind: 'home' });
    expect(routeOf('/somewhere/else')).toEqual({ kind: 'home' });
    expect(routeOf('/d')).toEqual({ kind: 'index' });
    expect(routeOf('/d/')).toEqual({ kind: 'index' });
    expect(routeOf('/d/checkout')).toEqual({ kind: 'dashboard', name: 'checkout' });
    expect(routeOf('/d/checkout/')).toEqual({ kind: 'dashboard', name: 'checkout' });
    expect(routeOf('/d/a%2Fb')).toEqual({ kind: 'dashboard', name: 'a/b' });
    expect(routeOf('/d/%E0%A4%A')).toEqual({ kind: 'dashboard', name: '%E0%A4%A' });
    expect(dashboardPath('a/b')).toBe('/d/a%2Fb');
  });
});
