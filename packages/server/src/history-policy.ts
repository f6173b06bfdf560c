import { channelMatches, Defaults } from '@livedash/protocol';
import type { HistoryRule } from './options.js';

export interface HistoryBounds {
  maxMessages: number;
  maxAgeMs: number;
}

const fallback: HistoryBounds = { maxMessages: Defaults.historyMessages, maxAgeMs: Defaults.historyMaxAgeMs };

/** The history bounds of `channel`: the first rule whose pattern matches, else the defaults. */
export function historyBoundsFor(rules: readonly HistoryRule[], channel: string): HistoryBounds {
  for (const rule of rules) {
    if (channelMatches(rule.pattern, channel))
      return { maxMessages: rule.maxMessages, maxAgeMs: rule.maxAgeMs };
  }
  return fallback;
}
