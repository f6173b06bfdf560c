import { byteUnitIndex, formatParts, isByteUnit } from '@livedash/dashboard-config';

/**
 * Tick steps for byte axes. Below a KiB: 1, 2, 5 … 200 B. From there on each unit's quarter and half
 * come first (0.25, 0.5, 1, 2, 5 … 200 KiB, then 0.25 MiB …), so a step is always a round number in
 * the unit its largest tick is shown in: "0.5 KiB/s", never "0.49 KiB/s" for 500 B/s.
 */
export const BYTE_INCREMENTS: number[] = [
  1,
  2,
  5,
  10,
  20,
  50,
  100,
  200,
  ...[1, 2, 3, 4].flatMap((power) =>
    [0.25, 0.5, 1, 2, 5, 10, 20, 50, 100, 200].map((step) => step * 1024 ** power),
  ),
];

/**
 * The y-axis labels for `ticks`: in the panel's unit, every label of a byte axis in one unit — the
 * largest tick's, or a smaller one where that would need more than two decimals (200 KiB steps past
 * a MiB read "1,000 KiB", not "0.98 MiB") — each with as few decimals as it needs (0.005 stays 0.005).
 *
 * @example
 * axisLabels([0, 512, 1024, 1536], 'B/s') // ["0 KiB/s", "0.5 KiB/s", "1 KiB/s", "1.5 KiB/s"]
 */
export function axisLabels(ticks: readonly number[], unit: string): string[] {
  const largest = Math.max(0, ...ticks.map(Math.abs));
  let scale = 1;
  if (isByteUnit(unit)) {
    let power = byteUnitIndex(largest);
    while (power > 0 && !ticks.every((tick) => isExact(tick / 1024 ** power, 2, largest / 1024 ** power)))
      power--;
    scale = 1024 ** power;
  }
  return ticks.map((tick) => {
    const scaled = tick / scale;
    let decimals = 0;
    while (decimals <= MAX_DECIMALS && !isExact(scaled, decimals, largest / scale)) decimals++;
    // Not a round step at all (a range split in thirds): two decimals, as values are shown.
    if (decimals > MAX_DECIMALS) decimals = 2;
    // Formatting against `scale` puts every label in the unit chosen above.
    const parts = formatParts(tick, { unit, decimals }, scale);
    if (parts.unit === '') return parts.text;
    return parts.unit === '%' ? `${parts.text}%` : `${parts.text} ${parts.unit}`;
  });
}

/** Digits a label may get: uPlot's ticks are 1, 2 or 5 times a power of ten, exact well before this. */
const MAX_DECIMALS = 10;

/**
 * Whether `value` is written exactly with `digits` decimals: off by at most a trillionth of the axis's
 * largest tick (`span`), far below any tick step and far above the error binary floating point leaves
 * in a tick (0.1 + 0.2, 3 × 0.1 × 10¹², a zero that comes out as 3e-17).
 */
function isExact(value: number, digits: number, span: number): boolean {
  const written = Math.round(value * 10 ** digits) / 10 ** digits;
  return Math.abs(value - written) <= span * 1e-12;
}
