import { describe, expect, it } from 'vitest';
import { readField, readNumber } from '../src/model/field-path.js';

describe('readField', () => {
  const metrics = {
    cpu: 12.5,
    load: [0.5, 0.4, 0.3],
    disk: [{ mount: '/', usePercent: 41 }],
    network: { rxBytesPerSec: 10 },
  };

  it('reads nested keys and array indexes', () => {
    expect(readField(metrics, 'cpu')).toBe(12.5);
    expect(readField(metrics, 'load.1')).toBe(0.4);
    expect(readField(metrics, 'disk.0.usePercent')).toBe(41);
    expect(readField(metrics, 'network.rxBytesPerSec')).toBe(10);
    expect(readField(metrics, '')).toBe(metrics);
  });

  it('never reaches a prototype or a missing field', () => {
    expect(readField(metrics, 'constructor')).toBeUndefined();
    expect(readField(metrics, '__proto__.polluted')).toBeUndefined();
    expect(readField(metrics, 'load.length')).toBeUndefined();
    expect(readField(metrics, 'cpu.value')).toBeUndefined();
    expect(readField(null, 'cpu')).toBeUndefined();
  });
});

describe('readNumber', () => {
  it('gives finite numbers (numeric strings too) or null', () => {
    expect(readNumber({ t: 21.5 }, 't')).toBe(21.5);
    expect(readNumber({ t: '21.5' }, 't')).toBe(21.5);
    expect(readNumber({ t: 'warm' }, 't')).toBeNull();
    expect(readNumber({ t: '' }, 't')).toBeNull();
    expect(readNumber({ t: null }, 't')).toBeNull();
    expect(readNumber({}, 't')).toBeNull();
  });
});
