// Paths come from the config (a few dozen) and are read for every point of every chart: split once.
const split = new Map<string, readonly string[]>();
function segmentsOf(path: string): readonly string[] {
  let segments = split.get(path);
  if (!segments) {
    segments = path.split('.');
    if (split.size < 1000) split.set(path, segments);
  }
  return segments;
}

/**
 * Reads a dot-separated field path (`cpu`, `network.rxBytesPerSec`, `disk.0.usePercent`) from a message.
 * Only own properties are read, so no path can reach a prototype; an empty path is the whole message.
 *
 * @example
 * readField({ load: [0.5, 0.4] }, 'load.1'); // 0.4
 */
export function readField(data: unknown, path: string): unknown {
  if (path === '') return data;
  let value: unknown = data;
  for (const segment of segmentsOf(path)) {
    if (Array.isArray(value)) {
      value = /^\d+$/.test(segment) ? value[Number(segment)] : undefined;
    } else if (typeof value === 'object' && value !== null && Object.hasOwn(value, segment)) {
      value = (value as Record<string, unknown>)[segment];
    } else {
      return undefined;
    }
  }
  return value;
}

/** The field as a finite number, or null (a gap in a chart, "no data" in a gauge). Numeric strings count. */
export function readNumber(data: unknown, path: string): number | null {
  const value = readField(data, path);
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) ? number : null;
}
