import type { HistoryEntry } from '@livedash/client';
import type { TimeseriesPanel } from '@livedash/dashboard-config';
import type uPlot from 'uplot';
import { readNumber } from '../model/field-path.js';

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
    for (const [index, series] of panel.series.entries())
      ys[index]!.push(readNumber(entry.data, series.field));
    previous = entry.ts;
  }
  return [xs, ...ys];
}

/** The usual time between messages; the median, so the gap being measured does not stretch it. */
function medianInterval(entries: readonly HistoryEntry[]): number {
  if (entries.length < 2) return 0;
  const deltas = new Float64Array(entries.length - 1);
  for (let i = 1; i < entries.length; i++) deltas[i - 1] = entries[i]!.ts - entries[i - 1]!.ts;
  deltas.sort();
  return deltas[deltas.length >> 1]!;
}
