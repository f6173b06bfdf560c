import { channelMatches, isValidChannel, MAX_CHANNEL_LENGTH } from '@livedash/protocol';
import { describe, expect, test } from 'vitest';

describe('channel grammar', () => {
  test.each([
    'metrics',
    'metrics.web-1',
    'a',
    '_private',
    '0',
    'team:alpha.cpu_load',
    'x'.repeat(MAX_CHANNEL_LENGTH),
    '__proto__',
  ])('accepts %s', (name) => expect(isValidChannel(name)).toBe(true));

  test.each([
    ['empty', ''],
    ['a $ control prefix', '$welcome'],
    ['a leading dot', '.metrics'],
    ['a leading dash', '-x'],
    ['a space', 'a b'],
    ['a comma (resume token separator)', 'a,b'],
    ['a tilde (resume token separator)', 'a~b'],
    ['a slash', 'a/b'],
    ['a quote', 'a"b'],
    ['a newline', 'a\nb'],
    ['non-ASCII', 'métrique'],
    ['129 characters', 'x'.repeat(MAX_CHANNEL_LENGTH + 1)],
  ])('rejects %s', (_why, name) => expect(isValidChannel(name)).toBe(false));

  test.each([null, undefined, 42, {}, ['metrics']])('rejects the non-string %j', (value) => {
    expect(isValidChannel(value)).toBe(false);
  });

  test('patterns: exact name, * for all, trailing * for a prefix', () => {
    expect(channelMatches('metrics', 'metrics')).toBe(true);
    expect(channelMatches('metrics', 'metrics.web-1')).toBe(false);
    expect(channelMatches('*', 'anything')).toBe(true);
    expect(channelMatches('metrics*', 'metrics.web-1')).toBe(true);
    expect(channelMatches('metrics.*', 'metrics')).toBe(false);
    expect(channelMatches('team.*', 'team.a')).toBe(true);
    expect(channelMatches('team.*', 'teams.a')).toBe(false);
  });
});
