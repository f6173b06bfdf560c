import { parseCommand, parsePosition } from '@livedash/protocol';
import { describe, expect, test } from 'vitest';

const ok = (text: string) => {
  const result = parseCommand(text);
  if (!result.ok) throw new Error(`expected ok, got ${result.error.code}: ${result.error.message}`);
  return result.value;
};
const error = (text: string, options = {}) => {
  const result = parseCommand(text, options);
  if (result.ok) throw new Error(`expected an error for ${text}`);
  return result.error;
};

describe('parseCommand', () => {
  test("the plain-WebSocket guide's subscribe frame parses unchanged", () => {
    expect(ok('{"action":"subscribe","channels":["metrics","alerts"]}')).toEqual({
      action: 'subscribe',
      channels: ['metrics', 'alerts'],
    });
  });

  test('subscribe with since and id; duplicate channels are merged', () => {
    const command = ok(
      '{"action":"subscribe","channels":["a","a","b"],"since":{"a":{"epoch":"E1","seq":4}},"id":"r-1"}',
    );
    expect(command).toEqual({
      action: 'subscribe',
      channels: ['a', 'b'],
      since: new Map([['a', { epoch: 'E1', seq: 4 }]]),
      id: 'r-1',
    });
  });

  test('subscribe with a maxRate (a rate per second, fractions allowed)', () => {
    expect(ok('{"action":"subscribe","channels":["cpu"],"maxRate":5}')).toEqual({
      action: 'subscribe',
      channels: ['cpu'],
      maxRate: 5,
    });
    expect(
      ok('{"action":"subscribe","channels":["cpu"],"since":{"cpu":{"epoch":"E","seq":2}},"maxRate":0.5}'),
    ).toEqual({
      action: 'subscribe',
      channels: ['cpu'],
      since: new Map([['cpu', { epoch: 'E', seq: 2 }]]),
      maxRate: 0.5,
    });
    expect(ok('{"action":"subscribe","channels":["cpu"],"maxRate":100}')).toMatchObject({ maxRate: 100 });
    expect(ok('{"action":"subscribe","channels":["cpu"],"maxRate":0.1}')).toMatchObject({ maxRate: 0.1 });
  });

  test.each([
    ['zero', '0'],
    ['negative', '-5'],
    ['below the minimum', '0.05'],
    ['above the maximum', '101'],
    ['a string', '"5"'],
    ['null', 'null'],
    ['an object', '{"rate":5}'],
  ])('a maxRate that is %s is refused with bad_command, naming the range', (_why, value) => {
    const refused = error(`{"action":"subscribe","channels":["cpu"],"maxRate":${value},"id":7}`);
    expect(refused.code).toBe('bad_command');
    expect(refused.message).toBe('"maxRate" must be a number of messages per second from 0.1 to 100');
    expect(refused.id).toBe(7);
  });

  test('maxRate belongs to subscribe only', () => {
    expect(error('{"action":"unsubscribe","channels":["cpu"],"maxRate":5}').code).toBe('unknown_key');
  });

  test('unsubscribe, publish, ping and auth', () => {
    expect(ok('{"action":"unsubscribe","channels":["a"],"id":3}')).toEqual({
      action: 'unsubscribe',
      channels: ['a'],
      id: 3,
    });
    expect(ok('{"action":"publish","channel":"a","data":{"x":[1,null]}}')).toEqual({
      action: 'publish',
      channel: 'a',
      data: { x: [1, null] },
    });
    expect(ok('{"action":"publish","channel":"a","data":null}')).toEqual({
      action: 'publish',
      channel: 'a',
      data: null,
    });
    expect(ok('{"action":"ping"}')).toEqual({ action: 'ping' });
    expect(ok('{"action":"auth","token":"t0k"}')).toEqual({ action: 'auth', token: 't0k' });
  });

  test.each([
    ['not JSON', 'nope', 'bad_json'],
    ['empty', '', 'bad_json'],
    ['a string', '"subscribe"', 'bad_command'],
    ['null', 'null', 'bad_command'],
    ['an array', '[]', 'bad_command'],
    ['no action', '{"channels":["a"]}', 'bad_command'],
    ['a non-string action', '{"action":1}', 'bad_command'],
    ['an unknown action', '{"action":"drop"}', 'unknown_action'],
    ['a prototype action', '{"action":"constructor"}', 'unknown_action'],
    ['__proto__ as action', '{"action":"__proto__"}', 'unknown_action'],
    ['an unknown key', '{"action":"ping","x":1}', 'unknown_key'],
    ['channels not an array', '{"action":"subscribe","channels":"a"}', 'bad_command'],
    ['channels empty', '{"action":"subscribe","channels":[]}', 'bad_command'],
    ['a non-string channel', '{"action":"subscribe","channels":[1]}', 'invalid_channel'],
    ['an invalid channel', '{"action":"subscribe","channels":["a b"]}', 'invalid_channel'],
    ['since not an object', '{"action":"subscribe","channels":["a"],"since":[]}', 'bad_command'],
    [
      'since with a bad channel',
      '{"action":"subscribe","channels":["a"],"since":{"a b":{"epoch":"e","seq":1}}}',
      'invalid_channel',
    ],
    [
      'a negative seq',
      '{"action":"subscribe","channels":["a"],"since":{"a":{"epoch":"e","seq":-1}}}',
      'bad_command',
    ],
    [
      'a fractional seq',
      '{"action":"subscribe","channels":["a"],"since":{"a":{"epoch":"e","seq":1.5}}}',
      'bad_command',
    ],
    [
      'a bad epoch',
      '{"action":"subscribe","channels":["a"],"since":{"a":{"epoch":"e~1","seq":1}}}',
      'bad_command',
    ],
    [
      'an extra position key',
      '{"action":"subscribe","channels":["a"],"since":{"a":{"epoch":"e","seq":1,"x":0}}}',
      'bad_command',
    ],
    ['publish without data', '{"action":"publish","channel":"a"}', 'bad_command'],
    ['publish to a bad channel', '{"action":"publish","channel":"$x","data":1}', 'invalid_channel'],
    ['auth with an empty token', '{"action":"auth","token":""}', 'bad_command'],
    ['a bad id', '{"action":"ping","id":{"a":1}}', 'bad_command'],
    ['a fractional id', '{"action":"ping","id":1.5}', 'bad_command'],
    ['too deep', `{"action":"publish","channel":"a","data":${'['.repeat(40)}${']'.repeat(40)}}`, 'too_deep'],
  ])('%s → %s', (_why, text, code) => {
    expect(error(text).code).toBe(code);
  });

  test('errors echo the id when one could be read', () => {
    expect(error('{"action":"drop","id":9}').id).toBe(9);
    expect(error('{"action":"subscribe","channels":["a b"],"id":"x"}').id).toBe('x');
    expect(error('nope').id).toBeUndefined();
  });

  test('limits are options: depth and channels per command', () => {
    expect(error('{"action":"publish","channel":"a","data":[[[1]]]}', { maxJsonDepth: 3 }).code).toBe(
      'too_deep',
    );
    expect(parseCommand('{"action":"publish","channel":"a","data":[[1]]}', { maxJsonDepth: 3 }).ok).toBe(
      true,
    );
    expect(error('{"action":"subscribe","channels":["a","b","c"]}', { maxChannels: 2 }).code).toBe(
      'too_many_subscriptions',
    );
  });

  test('brackets inside strings do not count as depth', () => {
    expect(
      ok(`{"action":"publish","channel":"a","data":"${'['.repeat(100)}\\"${'{'.repeat(100)}"}`),
    ).toMatchObject({ action: 'publish' });
  });

  test('parsePosition reads exactly {epoch, seq}', () => {
    expect(parsePosition({ epoch: 'abc', seq: 0 })).toEqual({ epoch: 'abc', seq: 0 });
    expect(parsePosition({ epoch: 'abc' })).toBeUndefined();
    expect(parsePosition({ epoch: '', seq: 1 })).toBeUndefined();
    expect(parsePosition(null)).toBeUndefined();
  });
});
