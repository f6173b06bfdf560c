import type { PanelColor, Threshold } from '@livedash/dashboard-config';

/** A named colour becomes its theme variable, so light and dark themes both get readable colours. */
export function cssColor(color: PanelColor): string {
  return color.startsWith('#') ? color : `var(--${color})`;
}

/**
 * The colour band a value falls in: the last threshold at or below it, or `base` below all of them.
 * Without thresholds every value gets `base`.
 */
export function bandColor(value: number | null, thresholds: readonly Threshold[], base: string): string {
  if (value === null) return 'var(--neutral)';
  let color = thresholds.length === 0 ? base : 'var(--ok)';
  for (const threshold of thresholds) {
    if (value >= threshold.value) color = cssColor(threshold.color);
  }
  return color;
}

/** The band's severity, for text next to a colour (colour alone is not enough to read a state). */
export function bandName(value: number | null, thresholds: readonly Threshold[]): string | undefined {
  if (value === null) return undefined;
  let name: string | undefined;
  for (const threshold of thresholds) {
    if (value >= threshold.value) name = threshold.color.startsWith('#') ? undefined : threshold.color;
  }
  return name;
}
