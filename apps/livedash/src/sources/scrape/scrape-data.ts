import type { MetricFamily, Sample } from './exposition.js';

/**
 * Turns one scrape into the `data` of one channel message (docs/configuration.md, "Prometheus scrape
 * sources"), given what the previous scrape saw:
 *
 * - an unlabeled sample is a number: `demo_gauge 42` → `data.demo_gauge === 42`;
 * - a labeled one is an object keyed by its label set, names sorted: `data.http_requests_total["code=200,method=GET"]`;
 * - counters (and a histogram's or summary's `_count` and `_sum`) also as per-second rates since the
 *   previous scrape, under `<sample name>:rate` (a counter that went down was reset: its rate counts from 0);
 * - histograms as their p50, p90 and p99 over the observations since the previous scrape, under
 *   `<name>:p50` …, estimated within buckets as Prometheus's `histogram_quantile` does.
 *
 * NaN and ±Inf have no JSON form and are written as null. `_created` samples and buckets are left out.
 */

export type ScrapeData = Record<string, unknown>;

/** What the next scrape needs from this one: counter values and histogram buckets, and when. */
export interface ScrapeMemory {
  at: number;
  counters: Map<string, number>;
  buckets: Map<string, Bucket[]>;
}

interface Bucket {
  le: number;
  count: number;
}

export const QUANTILES = [
  ['p50', 0.5],
  ['p90', 0.9],
  ['p99', 0.99],
] as const;

/**
 * @example
 * const first = toScrapeData(families, undefined, Date.now());
 * hub.publish('node', first.data);
 * const next = toScrapeData(laterFamilies, first.memory, Date.now()); // now with `:rate` and quantiles
 */
export function toScrapeData(
  families: readonly MetricFamily[],
  previous: ScrapeMemory | undefined,
  at: number,
): { data: ScrapeData; memory: ScrapeMemory } {
  // No prototype: metric names such as `__proto__` or `constructor` are valid and stay plain keys.
  const data: ScrapeData = Object.create(null);
  const memory: ScrapeMemory = { at, counters: new Map(), buckets: new Map() };
  const seconds = previous ? (at - previous.at) / 1000 : 0;
  for (const family of families) {
    const histogram = family.type === 'histogram';
    const countersHere = family.type === 'counter' || histogram || family.type === 'summary';
    const buckets = new Map<string, Bucket[]>();
    for (const sample of family.samples) {
      if (sample.name.endsWith('_created')) continue;
      if (histogram && sample.name === `${family.name}_bucket`) {
        collectBucket(buckets, sample);
        continue;
      }
      const key = labelKey(sample.labels);
      put(data, sample.name, key, jsonNumber(sample.value));
      const isCounter =
        countersHere &&
        (family.type === 'counter' ||
          sample.name === `${family.name}_count` ||
          sample.name === `${family.name}_sum`);
      if (!isCounter) continue;
      const id = `${sample.name}\u0000${key}`;
      memory.counters.set(id, sample.value);
      const before = previous?.counters.get(id);
      if (before === undefined || seconds <= 0) continue;
      const increase = sample.value >= before ? sample.value - before : sample.value;
      put(data, `${sample.name}:rate`, key, jsonNumber(increase / seconds));
    }
    for (const [key, list] of buckets) {
      list.sort((a, b) => a.le - b.le);
      const id = `${family.name}\u0000${key}`;
      memory.buckets.set(id, list);
      const before = previous?.buckets.get(id);
      if (!before) continue;
      const delta = subtractBuckets(list, before);
      if (!delta) continue;
      for (const [suffix, q] of QUANTILES) {
        const value = bucketQuantile(q, delta);
        if (value !== undefined) put(data, `${family.name}:${suffix}`, key, jsonNumber(value));
      }
    }
  }
  return { data, memory };
}

function collectBucket(buckets: Map<string, Bucket[]>, sample: Sample): void {
  const le = sample.labels.find(([name]) => name === 'le')?.[1];
  const bound = le === undefined ? Number.NaN : le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
  if (Number.isNaN(bound) || !Number.isFinite(sample.value)) return;
  const key = labelKey(sample.labels.filter(([name]) => name !== 'le'));
  let list = buckets.get(key);
  if (!list) {
    list = [];
    buckets.set(key, list);
  }
  list.push({ le: bound, count: sample.value });
}

/** Observations since `before`, per bucket; undefined when none came in or the buckets changed shape. */
function subtractBuckets(now: readonly Bucket[], before: readonly Bucket[]): Bucket[] | undefined {
  if (now.length !== before.length || now.some((bucket, index) => bucket.le !== before[index]?.le)) {
    return undefined;
  }
  // A histogram whose counts went down was reset: everything it holds now came in since.
  const reset = now.some((bucket, index) => bucket.count < (before[index]?.count ?? 0));
  const delta = now.map((bucket, index) => ({
    le: bucket.le,
    count: reset ? bucket.count : bucket.count - (before[index]?.count ?? 0),
  }));
  return total(delta) > 0 ? delta : undefined;
}

const total = (buckets: readonly Bucket[]): number => buckets.at(-1)?.count ?? 0;

/**
 * The q-quantile of cumulative buckets: find the bucket holding rank q·total and interpolate linearly
 * inside it (the lowest bucket starts at 0 when its bound is positive). A rank in the `+Inf` bucket
 * is answered with the highest finite bound, the best the buckets can say.
 *
 * @example
 * bucketQuantile(0.5, [{ le: 1, count: 0 }, { le: 2, count: 10 }, { le: Infinity, count: 10 }]); // 1.5
 */
export function bucketQuantile(q: number, buckets: readonly Bucket[]): number | undefined {
  const last = buckets.at(-1);
  if (!last || last.le !== Number.POSITIVE_INFINITY || last.count <= 0) return undefined;
  const rank = q * last.count;
  let lowerBound = 0;
  let lowerCount = 0;
  for (let index = 0; index < buckets.length; index++) {
    const bucket = buckets[index] as Bucket;
    if (bucket.count >= rank) {
      if (bucket.le === Number.POSITIVE_INFINITY) return buckets[index - 1]?.le;
      if (index === 0 && bucket.le <= 0) return bucket.le;
      const inBucket = bucket.count - lowerCount;
      if (inBucket <= 0) return bucket.le;
      return lowerBound + (bucket.le - lowerBound) * ((rank - lowerCount) / inBucket);
    }
    lowerBound = bucket.le;
    lowerCount = bucket.count;
  }
  return undefined;
}

/**
 * A label set as one key, names sorted: `code=200,method=GET`. A value that holds `,` `=` `"` `\`
 * `[` `]` or a line break is written quoted with escapes, so two different label sets never share a key.
 */
export function labelKey(labels: Sample['labels']): string {
  return labels
    .filter(([, value]) => value !== '')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${/[,="\\[\]\n]/.test(value) ? JSON.stringify(value) : value}`)
    .join(',');
}

function put(data: ScrapeData, name: string, key: string, value: number | null): void {
  if (key === '') {
    // An unlabeled sample of a name that also has labeled ones keeps the labeled object.
    if (typeof data[name] !== 'object' || data[name] === null) data[name] = value;
    return;
  }
  let byLabels = data[name];
  if (typeof byLabels !== 'object' || byLabels === null) {
    byLabels = Object.create(null);
    data[name] = byLabels;
  }
  (byLabels as Record<string, unknown>)[key] = value;
}

function jsonNumber(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}
