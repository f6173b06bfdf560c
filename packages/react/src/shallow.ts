/** True for `{…}` literals and `Object.create(null)` objects: the values a shallow merge applies to. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * `useRealTimeData`'s default merge: a plain-object update is spread over a plain-object state
 * (partial updates accumulate); anything else replaces the state.
 *
 * @example
 * shallowMerge({ cpu: 1, memory: 2 }, { cpu: 5 }); // { cpu: 5, memory: 2 }
 * shallowMerge([1, 2], [3]);                        // [3]
 */
export function shallowMerge<T>(previous: T, update: unknown): T {
  if (isPlainObject(previous) && isPlainObject(update)) return { ...previous, ...update } as T;
  return update as T;
}

/**
 * `useChannel`'s default selection equality: `Object.is`, or the same keys with `Object.is` values for
 * plain objects and arrays — so `select: (d) => ({ cpu: d.cpu })` re-renders only when `cpu` changes.
 */
export function shallowEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => Object.is(item, b[i]));
  }
  if (!isPlainObject(a) || !isPlainObject(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.hasOwn(b, key) && Object.is(a[key], b[key]));
}
