import {
  CloseCodes,
  closeCodePolicy,
  encodeCommand,
  encodeControl,
  encodeEnvelope,
  encodeResumeToken,
  jsonDepthExceeds,
  MAX_RESUME_ENTRIES,
  parseCommand,
  parseResumeToken,
  parseServerFrame,
} from '@livedash/protocol';
import { describe, expect, test } from 'vitest';

describe('encodeEnvelope', () => {
  test('builds the same JSON as JSON.stringify of the envelope, with the fields type and data that plain clients read', () => {
    const frame = encodeEnvelope(
      'metrics',
      7,
      'E_1-x',
      1700000000000,
      JSON.stringify({ cpu: 12.5, note: 'a"b\n' }),
    );
    expect(JSON.parse(frame)).toEqual({
      type: 'metrics',
      seq: 7,
      epoch: 'E_1-x',
      ts: 1700000000000,
      data: { cpu: 12.5, note: 'a"b\n' },
    });
    expect(frame).not.toContain('\n');
    const parsed = parseServerFrame(frame);
    expect(parsed.ok).toBe(true);
  });
});

describe('encodeCommand', () => {
  test('round-trips through parseCommand, since Map included', () => {
    const command = {
      action: 'subscribe' as const,
      channels: ['a', 'b'],
      since: new Map([['a', { epoch: 'E', seq: 3 }]]),
      id: 4,
    };
    const parsed = parseCommand(encodeCommand(command));
    expect(parsed).toEqual({ ok: true, value: command });
    expect(parseCommand(encodeCommand({ action: 'ping', id: 'p' }))).toEqual({
      ok: true,
      value: { action: 'ping', id: 'p' },
    });
  });
});

describe('parseServerFrame', () => {
  test('accepts data envelopes and known control frames', () => {
    for (const frame of [
      { type: '$welcome', version: 1, heartbeat: 15000, node: 'n' },
      { type: '$subscribed', channel: 'a', epoch: 'E', seq: 0, recovered: false },
      { type: '$error', code: 'bad_json', message: 'm' },
      { type: '$heartbeat', ts: 1 },
      { type: '$pong', ts: 1, id: 2 },
      { type: '$ack', id: 1 },
      { type: '$unsubscribed', channel: 'a' },
    ]) {
      expect(parseServerFrame(encodeControl(frame as never)).ok).toBe(true);
    }
  });

  test.each([
    ['not JSON', '{'],
    ['not an object', '[1]'],
    ['no type', '{"data":1}'],
    ['an unknown control type', '{"type":"$new"}'],
    ['$subscribed without seq', '{"type":"$subscribed","channel":"a","epoch":"E"}'],
    ['$error without message', '{"type":"$error","code":"x"}'],
    ['data with a bad channel', '{"type":"a b","seq":1,"epoch":"E","ts":1,"data":1}'],
    ['data without seq', '{"type":"a","epoch":"E","ts":1,"data":1}'],
    ['data without epoch', '{"type":"a","seq":1,"ts":1,"data":1}'],
  ])('rejects %s without throwing', (_why, text) => {
    expect(parseServerFrame(text).ok).toBe(false);
  });
});

describe('resume tokens', () => {
  test('round-trip the position of every channel', () => {
    const positions = new Map([
      ['metrics', { epoch: 'E-1', seq: 10 }],
      ['team:a.b', { epoch: 'x_Y', seq: 0 }],
    ]);
    const token = encodeResumeToken(positions);
    expect(token).toBe('metrics~E-1~10,team:a.b~x_Y~0');
    expect(parseResumeToken(token)).toEqual({ ok: true, value: positions });
    expect(parseResumeToken('')).toEqual({ ok: true, value: new Map() });
  });

  test.each([
    ['missing a field', 'a~E'],
    ['a bad channel', 'a b~E~1'],
    ['a bad epoch', 'a~E!~1'],
    ['a negative seq', 'a~E~-1'],
    ['a leading-zero seq', 'a~E~01'],
    ['an unsafe seq', 'a~E~99999999999999999'],
    ['too many entries', Array.from({ length: MAX_RESUME_ENTRIES + 1 }, (_, i) => `c${i}~E~1`).join(',')],
  ])('rejects %s', (_why, token) => {
    const result = parseResumeToken(token);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe('bad_command');
  });
});

describe('close code policy', () => {
  test.each([
    [CloseCodes.SERVICE_RESTART, 'retry-now'],
    [CloseCodes.GOING_AWAY, 'retry-now'],
    [CloseCodes.TRY_AGAIN_LATER, 'retry-later'],
    [CloseCodes.RATE_LIMITED, 'retry-later'],
    [CloseCodes.UNAUTHORIZED, 'never'],
    [CloseCodes.FORBIDDEN, 'never'],
    [CloseCodes.POLICY_VIOLATION, 'never'],
    [CloseCodes.SLOW_CONSUMER, 'retry'],
    [CloseCodes.MESSAGE_TOO_BIG, 'retry'],
    [CloseCodes.TOKEN_EXPIRED, 'retry'],
    [1006, 'retry'],
  ])('%i → %s', (code, policy) => {
    expect(closeCodePolicy(code)).toBe(policy);
  });
});

describe('jsonDepthExceeds', () => {
  test('counts nesting of arrays and objects, ignoring strings and escapes', () => {
    expect(jsonDepthExceeds('[[[]]]', 3)).toBe(false);
    expect(jsonDepthExceeds('[[[[]]]]', 3)).toBe(true);
    expect(jsonDepthExceeds('{"a":{"b":{"c":{}}}}', 3)).toBe(true);
    expect(jsonDepthExceeds('["[[[[\\"[[["]', 1)).toBe(false);
    expect(jsonDepthExceeds('[1],[2],[3]', 1)).toBe(false);
  });
});
