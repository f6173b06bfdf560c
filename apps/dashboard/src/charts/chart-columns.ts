import type { HistoryEntry } from '@livedash/client';
import { readNumber, type TimeseriesPanel } from '@livedash/dashboard-config';
import type uPlot from 'uplot';

/** A break in the line: a silence longer than this many typical intervals is drawn as a gap, not bridged. */
const GAP_FACTOR = 5;
const MIN_GAP_MS = 5_000;

/**
 * uPlot's column layout (x in seconds, one array per series) for the entries inside the window.
 * A silence much longer than the usual interval gets a null point, so uPlot draws a gap instead of
 * a straight line across time the dashboard knows nothing about.
 */
export function columns(
  entries: readonly HistoryEntry[],
  panel: TimeseriesPanel,
  fromMs: number,
  values: (entry: HistoryEntry) => readonly (number | null)[] = (entry) => seriesValues(entry, panel),
): uPlot.AlignedData {
  let start = entries.length;
  while (start > 0 && (entries[start - 1]?.ts ?? 0) >= fromMs) start--;
  if (start > 0) start--; // one point before the window, so the line enters from the left edge
  const visible = entries.slice(start);
  const gapMs = Math.max(MIN_GAP_MS, medianInterval(visible) * GAP_FACTOR);
  const xs: number[] = [];
  const ys: (number | null)[][] = panel.series.map(() => []);
  let previous: number | undefined;
  for (const entry of visible) {
    if (previous !== undefined && entry.ts - previous > gapMs) {
      xs.push((previous + 1) / 1000);
      for (const y of ys) y.push(null);
    }
    xs.push(entry.ts / 1000);
    const points = values(entry);
    for (let index = 0; index < ys.length; index++) ys[index]!.push(points[index] ?? null);
    previous = entry.ts;
  }
  return [xs, ...ys];
}

/** Intervals sampled for the median: enough to know the pace, cheap enough for every frame. */
const PACE_SAMPLE = 64;

/** The usual time between messages; the median (of the latest ones), so a gap does not stretch it. */
function medianInterval(entries: readonly HistoryEntry[]): number {
  if (entries.length < 2) return 0;
  const first = Math.max(1, entries.length - PACE_SAMPLE);
  const deltas = new Float64Array(entries.length - first);
  for (let i = first; i < entries.length; i++) deltas[i - first] = entries[i]!.ts - entries[i - 1]!.ts;
  deltas.sort();
  return deltas[deltas.length >> 1]!;
}

/** The numbers one message gives each series of the panel. */
export function seriesValues(entry: HistoryEntry, panel: TimeseriesPanel): (number | null)[] {
  return panel.series.map((series) => readNumber(entry.data, series.field));
}

/**
 * `seriesValues`, remembered per message: a chart redraws the same thousand messages many times a
 * second, and only the newest few are new. Entries are immutable, so the cache never goes stale.
 */
export function cachedSeriesValues(
  panel: TimeseriesPanel,
): (entry: HistoryEntry) => readonly (number | null)[] {
  const cache = new WeakMap<HistoryEntry, (number | null)[]>();
  return (entry) => {
    let points = cache.get(entry);
    if (!points) {
      points = seriesValues(entry, panel);
      cache.set(entry, points);
    }
    return points;
  };
}
