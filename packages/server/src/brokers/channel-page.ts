import type { ChannelQuery } from './broker.js';

/**
 * The names of one `channels()` page: those `query.allowed` accepts, after `query.after`, in ascending
 * order, at most `query.limit`; `next` is set when more may follow. Filtering comes first, so the
 * caller's grants bound the sort and everything read afterwards.
 *
 * @example
 * pageOfNames(['b', 'a', 'c'], { allowed: () => true, limit: 2 }); // { names: ['a', 'b'], next: 'b' }
 */
export function pageOfNames(
  names: Iterable<string>,
  query: ChannelQuery,
): { names: string[]; next?: string } {
  const after = query.after;
  const chosen: string[] = [];
  for (const name of names) {
    if ((after === undefined || name > after) && query.allowed(name)) chosen.push(name);
  }
  chosen.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const limit = Math.max(1, query.limit);
  if (chosen.length <= limit) return { names: chosen };
  const page = chosen.slice(0, limit);
  return { names: page, next: page[page.length - 1] as string };
}
