/**
 * Reads the number at a dot-separated path in a channel message: `cpu`, `network.rxBytesPerSec`,
 * `disk.0.usePercent` (a number segment indexes an array). Only own properties are followed, so a
 * path such as `__proto__.x` or `constructor` reads nothing.
 *
 * @example
 * readNumberAt({ disk: [{ usePercent: 71.2 }] }, 'disk.0.usePercent'); // 71.2
 * readNumberAt({ cpu: '90' }, 'cpu'); // undefined: not a number
 */
export function readNumberAt(data: unknown, path: string): number | undefined {
  let current: unknown = data;
  for (const segment of path.split('.')) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return typeof current === 'number' && Number.isFinite(current) ? current : undefined;
}

/** Field paths: dot-separated segments of letters, digits, `_` and `-`. */
export const FIELD_PATH_PATTERN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

export function isValidFieldPath(path: string): boolean {
  return path.length <= 256 && FIELD_PATH_PATTERN.test(path);
}
