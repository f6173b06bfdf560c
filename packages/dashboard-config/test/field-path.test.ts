import { describe, expect, it } from 'vitest';
import { FIELD_PATH_MAX_LENGTH, isValidFieldPath, readField, readNumber } from '../src/field-path.js';

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

describe('isValidFieldPath', () => {
  it('accepts dot-separated names and indexes of letters, digits, _ $ and -', () => {
    for (const path of ['cpu', 'disk.0.usePercent', 'network.rx_bytes', 'latency-ms.p99', '$value'])
      expect(isValidFieldPath(path), path).toBe(true);
  });

  it('refuses empty segments, other characters and paths over the length limit', () => {
    for (const path of ['', '.cpu', 'cpu.', 'disk..use', 'cpu load', 'a/b', 'a[', 'a[]', 'a.[k]', 'a]'])
      expect(isValidFieldPath(path), JSON.stringify(path)).toBe(false);
    expect(isValidFieldPath('a'.repeat(FIELD_PATH_MAX_LENGTH))).toBe(true);
    expect(isValidFieldPath('a'.repeat(FIELD_PATH_MAX_LENGTH + 1))).toBe(false);
  });
});

describe('bracketed keys (Prometheus label sets)', () => {
  const scrape = {
    http_requests_total: { 'code=200,method=GET': 1027, 'code=500,method=POST': 3 },
    'http_requests_total:rate': { 'code=200,method=GET': 2.5 },
    'http_request_duration_seconds:p99': 0.42,
    weird: { 'path="a]b,c"': 7 },
  };

  it('reads a key with = and , in brackets, after a name with a colon', () => {
    expect(readNumber(scrape, 'http_requests_total[code=200,method=GET]')).toBe(1027);
    expect(readNumber(scrape, 'http_requests_total:rate[code=200,method=GET]')).toBe(2.5);
    expect(readNumber(scrape, 'http_request_duration_seconds:p99')).toBe(0.42);
  });

  it('reads a ] inside a quoted part of the key, and plain segments after a bracket', () => {
    expect(readNumber(scrape, 'weird[path="a]b,c"]')).toBe(7);
    expect(readField({ a: { 'k=v': { b: [1, 2] } } }, 'a[k=v].b.1')).toBe(2);
    expect(isValidFieldPath('[k=v]')).toBe(true);
  });

  it('never reaches a prototype through brackets either', () => {
    expect(readField({}, '[__proto__]')).toBeUndefined();
    expect(readField({ a: {} }, 'a[constructor]')).toBeUndefined();
  });
});
