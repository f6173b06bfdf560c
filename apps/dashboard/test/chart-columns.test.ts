import type { TimeseriesPanel } from '@livedash/dashboard-config';
import { describe, expect, it } from 'vitest';
import { columns } from '../src/charts/chart-columns.js';

const panel: TimeseriesPanel = {
  id: 'net',
  type: 'timeseries',
  title: 'Network',
  channel: 'metrics',
  width: 2,
  unit: 'B/s',
  decimals: 1,
  maxRate: 10,
  min: undefined,
  max: undefined,
  thresholds: [],
  series: [
    { field: 'rx', label: 'rx', color: undefined },
    { field: 'tx', label: 'tx', color: undefined },
  ],
};

const entry = (ts: number, rx: unknown, tx: unknown) => ({ ts, seq: ts, epoch: 'e', data: { rx, tx } });

describe('chart columns', () => {
  it('builds uPlot columns in seconds, one array per series, missing values as null', () => {
    const data = columns([entry(1000, 1, 2), entry(2000, 3, 'n/a')], panel, 0);
    expect(data).toEqual([
      [1, 2],
      [1, 3],
      [2, null],
    ]);
  });

  it('keeps one point before the window so the line enters from the edge, and nothing older', () => {
    const entries = [entry(1000, 1, 1), entry(2000, 2, 2), entry(3000, 3, 3), entry(4000, 4, 4)];
    expect(columns(entries, panel, 2500)[0]).toEqual([2, 3, 4]);
  });

  it('draws a silence much longer than the usual interval as a gap instead of a line across it', () => {
    const entries = [
      entry(0, 1, 1),
      entry(1000, 1, 1),
      entry(2000, 1, 1),
      entry(60_000, 5, 5),
      entry(61_000, 5, 5),
    ];
    const [xs, rx] = columns(entries, panel, 0);
    expect(xs).toEqual([0, 1, 2, 2.001, 60, 61]);
    expect(rx).toEqual([1, 1, 1, null, 5, 5]);
  });

  it('bridges nothing when messages keep their pace (replayed history fills a reconnect)', () => {
    const entries = Array.from({ length: 30 }, (_, i) => entry(i * 1000, i, i));
    expect(columns(entries, panel, 0)[1]).not.toContain(null);
  });
});
