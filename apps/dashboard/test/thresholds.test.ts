import { describe, expect, it } from 'vitest';
import { bandColor, bandName, cssColor } from '../src/model/thresholds.js';

const thresholds = [
  { value: 70, color: 'warning' as const },
  { value: 90, color: 'critical' as const },
];

describe('threshold bands', () => {
  it('colours a value by the highest threshold at or below it', () => {
    expect(bandColor(10, thresholds, 'var(--accent)')).toBe('var(--ok)');
    expect(bandColor(70, thresholds, 'var(--accent)')).toBe('var(--warning)');
    expect(bandColor(95, thresholds, 'var(--accent)')).toBe('var(--critical)');
    expect(bandColor(null, thresholds, 'var(--accent)')).toBe('var(--neutral)');
  });

  it('uses the base colour without thresholds and hex colours as given', () => {
    expect(bandColor(50, [], 'var(--accent)')).toBe('var(--accent)');
    expect(bandColor(5, [{ value: 1, color: '#ff8800' }], 'x')).toBe('#ff8800');
    expect(cssColor('info')).toBe('var(--info)');
  });

  it('names the band in words for text next to the colour', () => {
    expect(bandName(95, thresholds)).toBe('critical');
    expect(bandName(75, thresholds)).toBe('warning');
    expect(bandName(5, thresholds)).toBeUndefined();
    expect(bandName(null, thresholds)).toBeUndefined();
  });
});
