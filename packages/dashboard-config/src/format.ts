import type { ValueFormat } from './types.js';

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

// Number formatting runs for every legend, axis tick and gauge on every frame: one formatter per
// precision, made once (toLocaleString builds a new one per call and showed up first in profiles).
const formatters = new Map<number, Intl.NumberFormat>();
function formatter(decimals: number): Intl.NumberFormat {
  let format = formatters.get(decimals);
  if (!format) {
    format = new Intl.NumberFormat('en-US', {
      minimumFractionDigits: decimals,
      maximumFractionDigits: decimals,
    });
    formatters.set(decimals, format);
  }
  return format;
}

/** True for the units scaled to KiB, MiB, GiB: `B` and `B/s`. */
export function isByteUnit(unit: string): boolean {
  return unit === 'B' || unit === 'B/s';
}

/**
 * Which byte unit (0 = B, 1 = KiB, 2 = MiB …) shows `value`: the largest it is at least one of.
 *
 * @example
 * byteUnitIndex(1536); // 1 (KiB)
 */
export function byteUnitIndex(value: number): number {
  let magnitude = Math.abs(value);
  let index = 0;
  while (magnitude >= 1024 && index < BYTE_UNITS.length - 1) {
    magnitude /= 1024;
    index++;
  }
  return index;
}

/**
 * Splits a number into its text and unit, scaling bytes (`B`, `B/s`) to KiB, MiB, GiB. `scaleBy` picks
 * the byte unit from another value (an axis's largest tick), so every label on one axis shares a unit.
 *
 * @example
 * formatParts(1536, { unit: 'B/s', decimals: 1 }); // { text: '1.5', unit: 'KiB/s' }
 */
export function formatParts(
  value: number,
  format: ValueFormat,
  scaleBy = value,
): { text: string; unit: string } {
  const { unit, decimals } = format;
  if (isByteUnit(unit)) {
    const index = byteUnitIndex(scaleBy);
    const scaled = value / 1024 ** index;
    const suffix = unit === 'B/s' ? '/s' : '';
    return {
      text: formatter(index === 0 ? 0 : decimals).format(scaled),
      unit: `${BYTE_UNITS[index]}${suffix}`,
    };
  }
  return { text: formatter(decimals).format(value), unit };
}

/**
 * Any channel value as display text: numbers formatted with their unit, strings as they are,
 * anything else as JSON. React renders the result as a text node, never as HTML.
 *
 * @example
 * formatValue(42.25, { unit: '%', decimals: 1 }); // '42.3%'
 * formatValue(null, { unit: '', decimals: 1 }); // '—'
 */
export function formatValue(value: unknown, format: ValueFormat): string {
  if (value === undefined || value === null) return '—';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return '—';
    const parts = formatParts(value, format);
    if (parts.unit === '') return parts.text;
    return parts.unit === '%' ? `${parts.text}%` : `${parts.text} ${parts.unit}`;
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return JSON.stringify(value);
}

/**
 * How long ago something happened: "4 s", "3 min", "2 h 5 min".
 *
 * @example
 * formatAge(185_000); // '3 min'
 */
export function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/**
 * A wall-clock time for feeds and logs, 24-hour, in the local time zone.
 *
 * @example
 * formatClock(Date.now()); // '14:03:27'
 */
export function formatClock(ms: number): string {
  return new Date(ms).toLocaleTimeString('en-GB', { hour12: false });
}
