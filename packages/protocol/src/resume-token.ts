import { isValidChannel } from './channel.js';
import { ErrorCodes } from './codes.js';
import { LivedashError } from './errors.js';
import type { Position, Result } from './frames.js';
import { EPOCH_PATTERN } from './limits.js';

/**
 * SSE resume tokens (the `id:` of each event, sent back as `Last-Event-ID`) hold the stream's position
 * in every channel: `channel~epoch~seq` entries joined by `,`. Neither `~` nor `,` can occur in a
 * channel name or an epoch, and the token never contains a newline, as SSE ids must not.
 */
export function encodeResumeToken(positions: Iterable<readonly [string, Position]>): string {
  const parts: string[] = [];
  for (const [channel, { epoch, seq }] of positions) parts.push(`${channel}~${epoch}~${seq}`);
  return parts.join(',');
}

/** Most entries a token may hold (a token is never longer than this many channels allow). */
export const MAX_RESUME_ENTRIES = 1024;

export function parseResumeToken(token: string): Result<Map<string, Position>, LivedashError> {
  const invalid = (why: string) => ({
    ok: false as const,
    error: new LivedashError(ErrorCodes.BAD_COMMAND, `invalid resume token: ${why}`),
  });
  const positions = new Map<string, Position>();
  if (token === '') return { ok: true, value: positions };
  const entries = token.split(',', MAX_RESUME_ENTRIES + 1);
  if (entries.length > MAX_RESUME_ENTRIES) return invalid(`more than ${MAX_RESUME_ENTRIES} channels`);
  for (const entry of entries) {
    const fields = entry.split('~');
    if (fields.length !== 3) return invalid('each entry must be channel~epoch~seq');
    const [channel, epoch, seqText] = fields as [string, string, string];
    if (!isValidChannel(channel)) return invalid('bad channel name');
    if (!EPOCH_PATTERN.test(epoch)) return invalid('bad epoch');
    if (!/^(0|[1-9][0-9]{0,15})$/.test(seqText)) return invalid('bad seq');
    const seq = Number(seqText);
    if (!Number.isSafeInteger(seq)) return invalid('seq out of range');
    positions.set(channel, { epoch, seq });
  }
  return { ok: true, value: positions };
}
