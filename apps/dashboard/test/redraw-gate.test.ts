import { describe, expect, it } from 'vitest';
import { type ChartChange, type ChartView, msPerPixel, mustRedraw } from '../src/charts/redraw-gate.js';

// A 15-minute window 600 px wide: one pixel is 1.5 s; the y-scale 0…100 over 200 px: one pixel is 0.5.
const drawn: ChartView = {
  now: 1_000_000,
  windowMs: 15 * 60_000,
  width: 600,
  height: 200,
  yMin: 0,
  yMax: 100,
  dataMin: 10,
  dataMax: 90,
  newestTs: 999_000,
  newestValues: [50, 20],
};
const same: ChartChange = {
  now: drawn.now,
  windowMs: drawn.windowMs,
  width: drawn.width,
  height: drawn.height,
  newestTs: drawn.newestTs,
  newestValues: drawn.newestValues,
  addedMin: Number.NaN,
  addedMax: Number.NaN,
};

describe('mustRedraw', () => {
  it('draws the first frame, and nothing when nothing moved', () => {
    expect(mustRedraw(undefined, same)).toBe(true);
    expect(mustRedraw(drawn, same)).toBe(false);
  });

  it('draws when the time axis slid a pixel (1.5 s on a 15-minute, 600 px chart), not before', () => {
    expect(mustRedraw(drawn, { ...same, now: drawn.now + 1_400 })).toBe(false);
    expect(mustRedraw(drawn, { ...same, now: drawn.now + 1_500 })).toBe(true);
    expect(msPerPixel(15 * 60_000, 600)).toBe(1_500);
  });

  it('draws when the newest point moved a pixel in time or in value, not for less', () => {
    expect(
      mustRedraw(drawn, {
        ...same,
        newestTs: 999_500,
        newestValues: [50.3, 20.2],
        addedMin: 20.2,
        addedMax: 50.3,
      }),
    ).toBe(false);
    expect(
      mustRedraw(drawn, {
        ...same,
        newestTs: 999_500,
        newestValues: [50.5, 20],
        addedMin: 20,
        addedMax: 50.5,
      }),
    ).toBe(true);
    expect(mustRedraw(drawn, { ...same, newestTs: 1_000_600, addedMin: 20, addedMax: 50 })).toBe(true);
    expect(mustRedraw(drawn, { ...same, newestValues: [50, null] })).toBe(true);
  });

  it('draws when a point arrived outside the drawn extent (the y-range changes), even in the same pixel', () => {
    expect(mustRedraw(drawn, { ...same, addedMin: 9.9, addedMax: 50 })).toBe(true);
    expect(mustRedraw(drawn, { ...same, addedMin: 20, addedMax: 90.1 })).toBe(true);
    expect(mustRedraw(drawn, { ...same, addedMin: 10, addedMax: 90 })).toBe(false);
    expect(
      mustRedraw(
        { ...drawn, dataMin: Number.NaN, dataMax: Number.NaN },
        { ...same, addedMin: 1, addedMax: 1 },
      ),
    ).toBe(true);
  });

  it('draws when the size or the window changed', () => {
    expect(mustRedraw(drawn, { ...same, width: 601 })).toBe(true);
    expect(mustRedraw(drawn, { ...same, height: 150 })).toBe(true);
    expect(mustRedraw(drawn, { ...same, windowMs: 60_000 })).toBe(true);
  });
});
