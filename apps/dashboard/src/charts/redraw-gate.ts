/** What one drawn frame of a chart shows, reduced to what decides whether the next one looks different. */
export interface ChartView {
  /** The time axis' right edge, ms since the Unix epoch. */
  readonly now: number;
  readonly windowMs: number;
  /** The plotting area, CSS px. */
  readonly width: number;
  readonly height: number;
  /** The y-scale drawn. */
  readonly yMin: number;
  readonly yMax: number;
  /** The smallest and largest value drawn (what the y-range is made from); NaN when nothing was. */
  readonly dataMin: number;
  readonly dataMax: number;
  /** The newest point: its time (ms) and one value per series; undefined when there is none. */
  readonly newestTs: number | undefined;
  readonly newestValues: readonly (number | null)[];
}

/** What changed since a chart's last frame, as the chart knows it before building the frame. */
export interface ChartChange {
  readonly now: number;
  readonly windowMs: number;
  readonly width: number;
  readonly height: number;
  readonly newestTs: number | undefined;
  readonly newestValues: readonly (number | null)[];
  /** Smallest and largest value among the points that arrived since the last frame (NaN for none). */
  readonly addedMin: number;
  readonly addedMax: number;
}

/**
 * True when drawing again would change what is on screen by at least a pixel: the time axis slid a
 * pixel or more, the newest point moved a pixel or more (in time or in value), a point arrived outside
 * the drawn data's extent (so the y-range changes), or the size or window changed. A chart with a
 * 15-minute window 600 px wide slides one pixel every 1.5 s; under a firehose the newest point lands
 * in the same pixel column many frames running, and those frames are not drawn.
 *
 * @example
 * if (mustRedraw(lastDrawn, { now: Date.now(), windowMs, width, height, newestTs, newestValues, addedMin, addedMax })) draw();
 */
export function mustRedraw(drawn: ChartView | undefined, next: ChartChange): boolean {
  if (drawn === undefined) return true;
  if (next.width !== drawn.width || next.height !== drawn.height || next.windowMs !== drawn.windowMs)
    return true;
  const pxPerMs = next.width / next.windowMs;
  if (Math.abs(next.now - drawn.now) * pxPerMs >= 1) return true;
  if (next.newestTs !== drawn.newestTs) {
    if (next.newestTs === undefined || drawn.newestTs === undefined) return true;
    if (Math.abs(next.newestTs - drawn.newestTs) * pxPerMs >= 1) return true;
  }
  // A value beyond what was drawn changes the y-range (and with it every point's height).
  if (next.addedMin < drawn.dataMin || next.addedMax > drawn.dataMax) return true;
  if (Number.isNaN(drawn.dataMin) && !Number.isNaN(next.addedMin)) return true;
  const pxPerValue = drawn.yMax > drawn.yMin ? next.height / (drawn.yMax - drawn.yMin) : 0;
  const count = Math.max(next.newestValues.length, drawn.newestValues.length);
  for (let index = 0; index < count; index++) {
    const value = next.newestValues[index] ?? null;
    const before = drawn.newestValues[index] ?? null;
    if (value === before) continue;
    if (value === null || before === null) return true;
    if (Math.abs(value - before) * pxPerValue >= 1) return true;
  }
  return false;
}

/** How long until a chart's time axis has slid one pixel, ms (at least `floorMs`). */
export function msPerPixel(windowMs: number, width: number, floorMs = 16): number {
  return Math.max(floorMs, windowMs / Math.max(1, width));
}
