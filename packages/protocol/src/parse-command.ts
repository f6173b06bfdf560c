import { isValidChannel } from './channel.js';
import { ErrorCodes } from './codes.js';
import { LivedashError } from './errors.js';
import type { ClientCommand, Position, RequestId, Result, SubscribeCommand } from './frames.js';
import { jsonDepthExceeds } from './json-depth.js';
import { Defaults, EPOCH_PATTERN } from './limits.js';
import { isValidMaxRate, MAX_RATE_RULE } from './max-rate.js';

export interface ParseCommandOptions {
  maxJsonDepth?: number;
  /** Most channels one subscribe/unsubscribe command may name. */
  maxChannels?: number;
}

type Fields = Record<string, unknown>;

const ALLOWED_KEYS: Record<ClientCommand['action'], readonly string[]> = {
  subscribe: ['action', 'channels', 'since', 'maxRate', 'id'],
  unsubscribe: ['action', 'channels', 'id'],
  publish: ['action', 'channel', 'data', 'id'],
  ping: ['action', 'id'],
  auth: ['action', 'token', 'id'],
};

const fail = (
  code: LivedashError['code'],
  message: string,
  id?: RequestId,
): Result<never, LivedashError> => ({
  ok: false,
  error: new LivedashError(code, message, id === undefined ? {} : { id }),
});

function isRequestId(value: unknown): value is RequestId {
  return (
    (typeof value === 'number' && Number.isSafeInteger(value)) ||
    (typeof value === 'string' && value.length > 0 && value.length <= 64)
  );
}

/**
 * Parses one client frame strictly. Never throws: malformed JSON, unknown actions or keys, wrong types
 * and channel names outside the grammar all come back as a `LivedashError` with a stable code (and the
 * frame's `id` when one could be read, so the `$error` can echo it).
 */
export function parseCommand(
  text: string,
  options: ParseCommandOptions = {},
): Result<ClientCommand, LivedashError> {
  const maxDepth = options.maxJsonDepth ?? Defaults.maxJsonDepth;
  const maxChannels = options.maxChannels ?? Defaults.maxSubscriptions;
  if (jsonDepthExceeds(text, maxDepth))
    return fail(ErrorCodes.TOO_DEEP, `JSON nested deeper than ${maxDepth} levels`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return fail(ErrorCodes.BAD_JSON, 'frame is not valid JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return fail(ErrorCodes.BAD_COMMAND, 'a command must be a JSON object');
  }
  const fields = raw as Fields;
  const id = Object.hasOwn(fields, 'id') ? fields.id : undefined;
  if (id !== undefined && !isRequestId(id)) {
    return fail(ErrorCodes.BAD_COMMAND, '"id" must be an integer or a string of 1 to 64 characters');
  }
  const action = fields.action;
  if (typeof action !== 'string') return fail(ErrorCodes.BAD_COMMAND, '"action" must be a string', id);
  if (!Object.hasOwn(ALLOWED_KEYS, action)) {
    return fail(ErrorCodes.UNKNOWN_ACTION, `unknown action "${action.slice(0, 32)}"`, id);
  }
  const verb = action as ClientCommand['action'];
  const known = ALLOWED_KEYS[verb];
  for (const key of Object.keys(fields)) {
    if (!known.includes(key)) {
      return fail(ErrorCodes.UNKNOWN_KEY, `unknown key "${key.slice(0, 32)}" in ${action}`, id);
    }
  }
  const withId = <T extends object>(command: T): T => (id === undefined ? command : { ...command, id });

  switch (verb) {
    case 'subscribe':
    case 'unsubscribe': {
      const channels = parseChannelList(fields.channels, maxChannels, id);
      if (!channels.ok) return channels;
      if (verb === 'unsubscribe')
        return { ok: true, value: withId({ action: verb, channels: channels.value }) };
      const maxRate = fields.maxRate;
      if (maxRate !== undefined && !isValidMaxRate(maxRate))
        return fail(ErrorCodes.BAD_COMMAND, `"maxRate" must be ${MAX_RATE_RULE}`, id);
      const command: SubscribeCommand = { action: 'subscribe', channels: channels.value };
      if (fields.since !== undefined) {
        const since = parseSince(fields.since, id);
        if (!since.ok) return since;
        command.since = since.value;
      }
      if (maxRate !== undefined) command.maxRate = maxRate;
      return { ok: true, value: withId(command) };
    }
    case 'publish': {
      if (!isValidChannel(fields.channel))
        return fail(ErrorCodes.INVALID_CHANNEL, 'invalid channel name', id);
      if (!Object.hasOwn(fields, 'data')) return fail(ErrorCodes.BAD_COMMAND, 'publish needs "data"', id);
      return { ok: true, value: withId({ action: verb, channel: fields.channel, data: fields.data }) };
    }
    case 'ping':
      return { ok: true, value: withId({ action: verb }) };
    case 'auth': {
      if (typeof fields.token !== 'string' || fields.token.length === 0 || fields.token.length > 8192) {
        return fail(
          ErrorCodes.BAD_COMMAND,
          '"token" must be a non-empty string of at most 8192 characters',
          id,
        );
      }
      return { ok: true, value: withId({ action: verb, token: fields.token }) };
    }
  }
}

function parseChannelList(
  value: unknown,
  max: number,
  id: RequestId | undefined,
): Result<string[], LivedashError> {
  if (!Array.isArray(value) || value.length === 0) {
    return fail(ErrorCodes.BAD_COMMAND, '"channels" must be a non-empty array of channel names', id);
  }
  if (value.length > max) {
    return fail(ErrorCodes.TOO_MANY_SUBSCRIPTIONS, `at most ${max} channels per command`, id);
  }
  for (const name of value) {
    if (!isValidChannel(name)) {
      const shown = typeof name === 'string' ? `"${name.slice(0, 64)}"` : typeof name;
      return fail(ErrorCodes.INVALID_CHANNEL, `invalid channel name ${shown}`, id);
    }
  }
  return { ok: true, value: [...new Set(value as string[])] };
}

function parseSince(value: unknown, id: RequestId | undefined): Result<Map<string, Position>, LivedashError> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail(ErrorCodes.BAD_COMMAND, '"since" must be an object of {channel: {epoch, seq}}', id);
  }
  const since = new Map<string, Position>();
  for (const [channel, position] of Object.entries(value)) {
    if (!isValidChannel(channel))
      return fail(ErrorCodes.INVALID_CHANNEL, 'invalid channel name in "since"', id);
    const parsed = parsePosition(position);
    if (!parsed) {
      return fail(
        ErrorCodes.BAD_COMMAND,
        `"since.${channel}" must be {epoch: string, seq: integer >= 0}`,
        id,
      );
    }
    since.set(channel, parsed);
  }
  return { ok: true, value: since };
}

/** Reads `{epoch, seq}`; undefined when it is not exactly that. */
export function parsePosition(value: unknown): Position | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { epoch, seq } = value as Fields;
  if (Object.keys(value).length !== 2) return undefined;
  if (typeof epoch !== 'string' || !EPOCH_PATTERN.test(epoch)) return undefined;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return undefined;
  return { epoch, seq };
}
