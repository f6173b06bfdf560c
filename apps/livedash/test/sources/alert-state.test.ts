import { describe, expect, it } from 'vitest';
import type { AlertRule } from '../../src/app-options.js';
import {
  type AlertInput,
  type AlertState,
  type AlertTransition,
  breaches,
  fireDueAt,
  initialAlertState,
  recovers,
  stepAlert,
} from '../../src/sources/alert-state.js';

const cpuHigh: AlertRule = {
  name: 'cpu-high',
  channel: 'metrics',
  field: 'cpu',
  op: '>',
  threshold: 90,
  forMs: 10_000,
  hysteresis: 5,
  severity: 'warning',
};

const sample = (value: number | undefined, at: number): AlertInput => ({ type: 'sample', value, at });
const tick = (at: number): AlertInput => ({ type: 'tick', at });

/** Feeds inputs in order; returns the final state and every transition emitted on the way. */
function run(rule: AlertRule, inputs: AlertInput[], start: AlertState = initialAlertState) {
  let state = start;
  const emitted: AlertTransition[] = [];
  for (const input of inputs) {
    const step = stepAlert(rule, state, input);
    state = step.state;
    if (step.emit) emitted.push(step.emit);
  }
  return { state, emitted };
}

describe('stepAlert', () => {
  it('fires only once the condition has held for forMs', () => {
    const { state, emitted } = run(cpuHigh, [sample(95, 0), sample(96, 5_000), sample(97, 9_999)]);
    expect(state).toEqual({ kind: 'pending', since: 0, value: 97 });
    expect(emitted).toEqual([]);

    const fired = stepAlert(cpuHigh, state, sample(93, 10_000));
    expect(fired.state).toEqual({ kind: 'firing', since: 0, firedAt: 10_000, value: 93 });
    expect(fired.emit).toEqual({ state: 'firing', value: 93, since: 0, at: 10_000 });
  });

  it('fires on a timer tick when the channel goes quiet while breaching', () => {
    const { state, emitted } = run(cpuHigh, [sample(95, 1_000), tick(10_999)]);
    expect(state.kind).toBe('pending');
    expect(emitted).toEqual([]);
    expect(fireDueAt(cpuHigh, state)).toBe(11_000);
    expect(stepAlert(cpuHigh, state, tick(11_000)).emit).toEqual({
      state: 'firing',
      value: 95,
      since: 1_000,
      at: 11_000,
    });
  });

  it('starts over when the condition breaks before forMs', () => {
    const { state, emitted } = run(cpuHigh, [
      sample(95, 0),
      sample(80, 6_000),
      sample(95, 8_000),
      sample(95, 17_000),
    ]);
    expect(emitted).toEqual([]);
    expect(state).toEqual({ kind: 'pending', since: 8_000, value: 95 });
    expect(run(cpuHigh, [sample(95, 18_000)], state).emitted).toEqual([
      { state: 'firing', value: 95, since: 8_000, at: 18_000 },
    ]);
  });

  it('a missing value resets a pending rule and never fires it', () => {
    const { state, emitted } = run(cpuHigh, [sample(95, 0), sample(undefined, 5_000), tick(20_000)]);
    expect(state).toEqual({ kind: 'ok' });
    expect(emitted).toEqual([]);
  });

  it('fires at once with forMs 0', () => {
    const rule = { ...cpuHigh, forMs: 0 };
    expect(run(rule, [sample(91, 42)]).emitted).toEqual([{ state: 'firing', value: 91, since: 42, at: 42 }]);
  });

  it('resolves only past threshold minus hysteresis, not on a dip just below the threshold', () => {
    const firing: AlertState = { kind: 'firing', since: 0, firedAt: 10_000, value: 95 };
    // 89 and 85.1 no longer breach "> 90" but are within the hysteresis band: still firing.
    const inBand = run(cpuHigh, [sample(89, 11_000), sample(85.1, 12_000), sample(92, 13_000)], firing);
    expect(inBand.emitted).toEqual([]);
    expect(inBand.state).toEqual({ kind: 'firing', since: 0, firedAt: 10_000, value: 92 });

    const resolved = run(cpuHigh, [sample(85, 14_000)], inBand.state);
    expect(resolved.emitted).toEqual([{ state: 'resolved', value: 85, since: 0, at: 14_000 }]);
    expect(resolved.state).toEqual({ kind: 'ok' });
  });

  it('keeps a firing alert firing through missing values and ticks', () => {
    const firing: AlertState = { kind: 'firing', since: 0, firedAt: 10_000, value: 95 };
    expect(run(cpuHigh, [sample(undefined, 11_000), tick(50_000)], firing)).toEqual({
      state: firing,
      emitted: [],
    });
  });

  it('fires and resolves again as a new alert with a new since', () => {
    const rule = { ...cpuHigh, forMs: 1_000, hysteresis: 0 };
    const { emitted } = run(rule, [
      sample(95, 0),
      sample(95, 1_000),
      sample(90, 2_000),
      sample(99, 3_000),
      tick(4_000),
      sample(10, 5_000),
    ]);
    expect(emitted).toEqual([
      { state: 'firing', value: 95, since: 0, at: 1_000 },
      { state: 'resolved', value: 90, since: 0, at: 2_000 },
      { state: 'firing', value: 99, since: 3_000, at: 4_000 },
      { state: 'resolved', value: 10, since: 3_000, at: 5_000 },
    ]);
  });

  it('handles "below" rules with hysteresis above the threshold', () => {
    const diskFree: AlertRule = {
      ...cpuHigh,
      name: 'free-low',
      field: 'free',
      op: '<',
      threshold: 10,
      forMs: 0,
      hysteresis: 2,
    };
    const { emitted, state } = run(diskFree, [sample(9, 0), sample(11, 1), sample(12, 2)]);
    expect(emitted).toEqual([
      { state: 'firing', value: 9, since: 0, at: 0 },
      { state: 'resolved', value: 12, since: 0, at: 2 },
    ]);
    expect(state.kind).toBe('ok');
  });
});

describe('breaches / recovers', () => {
  it.each([
    ['>', 90, 90.1, 90, 85],
    ['>=', 90, 90, 89.9, 84.9],
    ['<', 10, 9.9, 10, 15],
    ['<=', 10, 10, 10.1, 15.1],
  ] as const)('op %s %d', (op, threshold, breaching, notBreaching, recovered) => {
    const rule = { op, threshold, hysteresis: 5 };
    expect(breaches(rule, breaching)).toBe(true);
    expect(breaches(rule, notBreaching)).toBe(false);
    // Not breaching is not enough to recover: the hysteresis band lies between.
    expect(recovers(rule, notBreaching)).toBe(false);
    expect(recovers(rule, recovered)).toBe(true);
  });
});
