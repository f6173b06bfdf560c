import { describe, expect, it } from 'vitest';
import { formatAge, formatParts, formatValue } from '../src/format.js';

describe('formatValue', () => {
  it('formats numbers with their unit and decimals', () => {
    expect(formatValue(42.345, { unit: '%', decimals: 1 })).toBe('42.3%');
    expect(formatValue(1234.5, { unit: 'req/s', decimals: 0 })).toBe('1,235 req/s');
    expect(formatValue(0.5, { unit: '', decimals: 2 })).toBe('0.50');
  });

  it('scales bytes and byte rates', () => {
    expect(formatValue(512, { unit: 'B', decimals: 1 })).toBe('512 B');
    expect(formatValue(5 * 1024 * 1024, { unit: 'B/s', decimals: 1 })).toBe('5.0 MiB/s');
    expect(formatParts(3.5 * 1024 ** 3, { unit: 'B', decimals: 2 })).toEqual({ text: '3.50', unit: 'GiB' });
  });

  it('shows anything else as text: strings as they are, objects as JSON, missing as a dash', () => {
    expect(formatValue('<img src=x onerror=alert(1)>', { unit: '', decimals: 1 })).toBe(
      '<img src=x onerror=alert(1)>',
    );
    expect(formatValue({ a: 1 }, { unit: '', decimals: 1 })).toBe('{"a":1}');
    expect(formatValue(undefined, { unit: '%', decimals: 1 })).toBe('—');
    expect(formatValue(Number.NaN, { unit: '%', decimals: 1 })).toBe('—');
    expect(formatValue(true, { unit: '', decimals: 1 })).toBe('true');
  });
});

describe('formatAge', () => {
  it('says seconds, then minutes, then hours', () => {
    expect(formatAge(4_400)).toBe('4 s');
    expect(formatAge(-50)).toBe('0 s');
    expect(formatAge(185_000)).toBe('3 min');
    expect(formatAge(2 * 3_600_000 + 5 * 60_000)).toBe('2 h 5 min');
  });
});

describe('byte axes', () => {
  it('scale every label by the largest tick, so one axis shares one unit', () => {
    expect(formatParts(1024, { unit: 'B/s', decimals: 0 }, 3072)).toEqual({ text: '1', unit: 'KiB/s' });
    expect(formatParts(512, { unit: 'B/s', decimals: 1 }, 3072)).toEqual({ text: '0.5', unit: 'KiB/s' });
    expect(formatParts(0, { unit: 'B', decimals: 0 }, 2 * 1024 ** 3)).toEqual({ text: '0', unit: 'GiB' });
  });
});
