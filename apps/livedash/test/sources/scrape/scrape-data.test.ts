import { describe, expect, it } from 'vitest';
import { parseExposition } from '../../../src/sources/scrape/exposition.js';
import { bucketQuantile, labelKey, toScrapeData } from '../../../src/sources/scrape/scrape-data.js';

function families(body: string) {
  const parsed = parseExposition(body);
  if (!parsed.ok) throw new Error(`line ${parsed.error.line}: ${parsed.error.reason}`);
  return parsed.value;
}

const histogram = (fast: number, slow: number, total: number) =>
  [
    '# TYPE rpc_seconds histogram',
    `rpc_seconds_bucket{route="/a",le="0.1"} ${fast}`,
    `rpc_seconds_bucket{route="/a",le="1"} ${slow}`,
    `rpc_seconds_bucket{route="/a",le="+Inf"} ${total}`,
    `rpc_seconds_sum{route="/a"} ${total * 0.3}`,
    `rpc_seconds_count{route="/a"} ${total}`,
  ].join('\n');

describe('toScrapeData', () => {
  it('makes an unlabeled sample a number and a labeled one an object keyed by its label set', () => {
    const { data } = toScrapeData(
      families('demo_gauge 42\nreqs{method="GET",code="200"} 7\nreqs{code="500",method="GET"} 1\n'),
      undefined,
      1000,
    );
    expect(data.demo_gauge).toBe(42);
    expect(data.reqs).toEqual({ 'code=200,method=GET': 7, 'code=500,method=GET': 1 });
  });

  it('adds counters as per-second rates from the second scrape on, resets counting from zero', () => {
    const body = (value: number) => `# TYPE jobs_total counter\njobs_total{queue="a"} ${value}\n`;
    const first = toScrapeData(families(body(100)), undefined, 10_000);
    expect(first.data['jobs_total:rate']).toBeUndefined();
    const second = toScrapeData(families(body(130)), first.memory, 12_000);
    expect(second.data['jobs_total:rate']).toEqual({ 'queue=a': 15 });
    const reset = toScrapeData(families(body(4)), second.memory, 14_000);
    expect(reset.data['jobs_total:rate']).toEqual({ 'queue=a': 2 });
  });

  it('gives histogram quantiles over the observations between two scrapes, and _count rates', () => {
    const first = toScrapeData(families(histogram(0, 0, 0)), undefined, 0);
    expect(first.data['rpc_seconds:p50']).toBeUndefined();
    // 100 observations since: 50 under 0.1 s, 50 between 0.1 s and 1 s.
    const second = toScrapeData(families(histogram(50, 100, 100)), first.memory, 1000);
    expect(second.data['rpc_seconds:p50']).toEqual({ 'route=/a': 0.1 });
    expect((second.data['rpc_seconds:p90'] as Record<string, number>)['route=/a']).toBeCloseTo(0.82);
    expect(second.data['rpc_seconds_count:rate']).toEqual({ 'route=/a': 100 });
    expect(second.data.rpc_seconds_bucket).toBeUndefined();
    // No observation since: no quantile, rather than a stale one.
    const quiet = toScrapeData(families(histogram(50, 100, 100)), second.memory, 2000);
    expect(quiet.data['rpc_seconds:p50']).toBeUndefined();
  });

  it('writes NaN and infinities as null, and keeps __proto__ a plain key', () => {
    const { data } = toScrapeData(families('a NaN\nb +Inf\n__proto__ 3\n'), undefined, 0);
    expect(JSON.stringify(data)).toBe('{"a":null,"b":null,"__proto__":3}');
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });
});

describe('bucketQuantile', () => {
  it('interpolates inside the bucket, answering the highest finite bound for the +Inf bucket', () => {
    const buckets = [
      { le: 1, count: 0 },
      { le: 2, count: 10 },
      { le: Number.POSITIVE_INFINITY, count: 20 },
    ];
    expect(bucketQuantile(0.25, buckets)).toBe(1.5);
    expect(bucketQuantile(0.99, buckets)).toBe(2);
    expect(bucketQuantile(0.5, [{ le: Number.POSITIVE_INFINITY, count: 0 }])).toBeUndefined();
  });
});

describe('labelKey', () => {
  it('sorts names, drops empty values and quotes values that would make two label sets collide', () => {
    expect(
      labelKey([
        ['b', '2'],
        ['a', '1'],
        ['c', ''],
      ]),
    ).toBe('a=1,b=2');
    expect(labelKey([['a', 'x,b=y']])).toBe('a="x,b=y"');
    expect(labelKey([['a', 'x,b=y']])).not.toBe(
      labelKey([
        ['a', 'x'],
        ['b', 'y'],
      ]),
    );
  });
});
