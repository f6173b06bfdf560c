import { formatParts, isByteUnit } from '@livedash/dashboard-config';

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
 * a MiB read "1,000 KiB", not "0.98 MiB") — each with as few decimals as it needs.
 *
 * @example
 * axisLabels([0, 512, 1024, 1536], 'B/s') // ["0 KiB/s", "0.5 KiB/s", "1 KiB/s", "1.5 KiB/s"]
 */
export function axisLabels(ticks: readonly number[], unit: string): string[] {
  let scale = 1;
  if (isByteUnit(unit)) {
    let power = byteIndex(Math.max(0, ...ticks.map(Math.abs)));
    while (power > 0 && !ticks.every((tick) => isExact(tick / 1024 ** power, 2))) power--;
    scale = 1024 ** power;
  }
  return ticks.map((tick) => {
    const scaled = tick / scale;
    const decimals = [0, 1, 2].find((digits) => isExact(scaled, digits)) ?? (Math.abs(scaled) < 1 ? 2 : 1);
    // Formatting against `scale` puts every label in the unit chosen above.
    const parts = formatParts(tick, { unit, decimals }, scale);
    if (parts.unit === '') return parts.text;
    return parts.unit === '%' ? `${parts.text}%` : `${parts.text} ${parts.unit}`;
  });
}

function isExact(value: number, digits: number): boolean {
  const shifted = value * 10 ** digits;
  return Math.abs(shifted - Math.round(shifted)) < 1e-9 * Math.max(1, Math.abs(shifted));
}

function byteIndex(value: number): number {
  let index = 0;
  for (let magnitude = Math.abs(value); magnitude >= 1024 && index < 5; magnitude /= 1024) index++;
  return index;
}
