import { describe, expect, test } from 'vitest';
import { axisLabels, BYTE_INCREMENTS } from '../src/charts/axis-ticks.js';

/** The ticks uPlot puts on an axis from 0 stepping by `step`, `count` of them. */
const ticksOf = (step: number, count: number) => Array.from({ length: count }, (_, i) => i * step);

describe('byte axis labels', () => {
  test('an axis up to 1.5 KiB/s in 512 B steps reads 0, 0.5, 1, 1.5 KiB/s (not 0.49, 0.98)', () => {
    expect(axisLabels(ticksOf(512, 4), 'B/s')).toEqual(['0 KiB/s', '0.5 KiB/s', '1 KiB/s', '1.5 KiB/s']);
  });

  test('every step uPlot may choose, at every tick count, gives round labels in one unit', () => {
    expect([...BYTE_INCREMENTS].sort((a, b) => a - b)).toEqual(BYTE_INCREMENTS);
    for (const step of BYTE_INCREMENTS) {
      for (const count of [2, 3, 4, 6, 11]) {
        const labels = axisLabels(ticksOf(step, count), 'B');
        const units = new Set(labels.map((label) => label.split(' ')[1]));
        expect(units.size, labels.join(' | ')).toBe(1);
        for (const label of labels)
          expect(label, labels.join(' | ')).toMatch(/^[\d,]+(\.\d{1,2})? [KMGT]?i?B$/);
        // Equal steps read as equal steps: the labels, parsed back, are evenly spaced.
        const values = labels.map((label) => Number(label.split(' ')[0]?.replaceAll(',', '')));
        const gaps = values.slice(1).map((value, i) => value - (values[i] as number));
        for (const gap of gaps) expect(gap, labels.join(' | ')).toBeCloseTo(gaps[0] as number, 9);
      }
    }
  });

  test('200 KiB steps past a MiB stay in KiB rather than show 0.2 MiB for 200 KiB', () => {
    expect(axisLabels(ticksOf(200 * 1024, 7), 'B/s').at(-1)).toBe('1,200 KiB/s');
    expect(axisLabels(ticksOf(256 * 1024, 5), 'B/s')).toEqual([
      '0 MiB/s',
      '0.25 MiB/s',
      '0.5 MiB/s',
      '0.75 MiB/s',
      '1 MiB/s',
    ]);
  });

  test('small byte axes stay in bytes', () => {
    expect(axisLabels([0, 200, 400, 600], 'B/s')).toEqual(['0 B/s', '200 B/s', '400 B/s', '600 B/s']);
  });
});

describe('other units', () => {
  test('whole numbers whole, fractions with the digits they need', () => {
    expect(axisLabels([0, 25, 50, 75, 100], '%')).toEqual(['0%', '25%', '50%', '75%', '100%']);
    expect(axisLabels([0, 0.1, 0.2], '')).toEqual(['0', '0.1', '0.2']);
    expect(axisLabels([0, 0.25, 0.5], 'ms')).toEqual(['0 ms', '0.25 ms', '0.5 ms']);
    expect(axisLabels([-2.5, 0, 2.5], '°C')).toEqual(['-2.5 °C', '0 °C', '2.5 °C']);
    expect(axisLabels([0, 1_000_000, 2_000_000], '')).toEqual(['0', '1,000,000', '2,000,000']);
    expect(axisLabels([0, 1 / 3, 2 / 3], '')).toEqual(['0', '0.33', '0.67']);
  });

  test('steps below a hundredth keep the digits that tell them apart', () => {
    expect(axisLabels([0, 0.005, 0.01, 0.015], '')).toEqual(['0', '0.005', '0.01', '0.015']);
    expect(axisLabels([0, 0.001, 0.002, 0.003], '%')).toEqual(['0%', '0.001%', '0.002%', '0.003%']);
    expect(axisLabels([1e-7, 2e-7, 3e-7], 's')).toEqual(['0.0000001 s', '0.0000002 s', '0.0000003 s']);
    // What floating point leaves in ticks it adds up reads as the round number it is.
    expect(axisLabels([0, 0.1, 0.1 + 0.2], '')).toEqual(['0', '0.1', '0.3']);
    expect(axisLabels([0, 1.5e11, 3 * 0.1 * 1e12], '')).toEqual(['0', '150,000,000,000', '300,000,000,000']);
    expect(axisLabels([-0.2, -0.1, 2.7755575615628914e-17, 0.1, 0.2], '')).toEqual([
      '-0.2',
      '-0.1',
      '0',
      '0.1',
      '0.2',
    ]);
  });
});
