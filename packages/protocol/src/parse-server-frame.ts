import { isValidChannel } from './channel.js';
import { LivedashError } from './errors.js';
import type { ServerFrame } from './frames.js';

type Fields = Record<string, unknown>;

const CONTROL_TYPES = new Set([
  '$welcome',
  '$subscribed',
  '$unsubscribed',
  '$ack',
  '$error',
  '$heartbeat',
  '$pong',
]);

const bad = (message: string) => ({
  ok: false as const,
  error: new LivedashError('bad_command', message),
});

/**
 * Parses one frame from the server (used by clients). Never throws. Data envelopes must carry a valid
 * channel `type`, an integer `seq` and a string `epoch`; unknown control types are rejected so a newer
 * server's additions are visible rather than misread.
 */
export function parseServerFrame(text: string): ServerFrameResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return {
      ok: false,
      error: new LivedashError('bad_json', 'frame from server is not valid JSON'),
    };
  }
  return checkServerFrame(raw);
}

type ServerFrameResult = { ok: true; value: ServerFrame } | { ok: false; error: LivedashError };

/** Checks an already parsed value as `parseServerFrame` checks a frame (a polled history's messages). */
export function checkServerFrame(raw: unknown): ServerFrameResult {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return bad('frame from server is not an object');
  const frame = raw as Fields;
  const type = frame.type;
  if (typeof type !== 'string') return bad('frame from server has no "type"');
  if (type.startsWith('$')) {
    if (!CONTROL_TYPES.has(type)) return bad(`unknown control frame "${type.slice(0, 32)}"`);
    if (
      type === '$subscribed' &&
      (typeof frame.channel !== 'string' || typeof frame.epoch !== 'string' || typeof frame.seq !== 'number')
    ) {
      return bad('"$subscribed" needs channel, epoch and seq');
    }
    if (type === '$error' && (typeof frame.code !== 'string' || typeof frame.message !== 'string')) {
      return bad('"$error" needs code and message');
    }
    return { ok: true, value: frame as unknown as ServerFrame };
  }
  if (!isValidChannel(type)) return bad('data frame with an invalid channel name');
  if (typeof frame.seq !== 'number' || !Number.isSafeInteger(frame.seq))
    return bad('data frame without an integer "seq"');
  if (typeof frame.epoch !== 'string') return bad('data frame without an "epoch"');
  if (typeof frame.ts !== 'number') return bad('data frame without a "ts"');
  return { ok: true, value: frame as unknown as ServerFrame };
}
