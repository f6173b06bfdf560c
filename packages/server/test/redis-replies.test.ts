import { encodeEnvelope } from '@livedash/protocol';
import { describe, expect, it } from 'vitest';
import { channelKeys, isValidPrefix, parseLiveMessage } from '../src/brokers/redis-keys.js';
import { parseHistoryReply, parseInfoReply } from '../src/brokers/redis-replies.js';

describe('Redis key layout and live messages', () => {
  it('puts every key of a channel in one hash slot', () => {
    expect(channelKeys('app:', 'a.b')).toEqual({
      epoch: 'app:{a.b}:epoch',
      seq: 'app:{a.b}:seq',
      stream: 'app:{a.b}:stream',
      run: 'app:{a.b}:run',
      live: 'app:{a.b}:live',
    });
    expect(isValidPrefix('livedash:')).toBe(true);
    expect(isValidPrefix('a{b')).toBe(false);
    expect(isValidPrefix('a b')).toBe(false);
  });

  it('parses `epoch|seq|ts|data`, where the data may itself contain |', () => {
    expect(parseLiveMessage('ch', 'E1|7|1700000000000|{"s":"a|b"}')).toEqual({
      channel: 'ch',
      epoch: 'E1',
      seq: 7,
      ts: 1700000000000,
      data: '{"s":"a|b"}',
    });
    for (const bad of ['', 'E1', 'E1|7', 'E1|x|1|{}', '|1|1|{}', 'E1|1|y|{}']) {
      expect(parseLiveMessage('ch', bad)).toBeUndefined();
    }
  });
});

describe('Redis script replies', () => {
  const entry = (ms: number, seq: number, data: string) => [`${ms}-0`, ['s', String(seq), 'd', data]];

  it('builds the same envelope the publishing node built, with ts from the entry ID', () => {
    const reply = ['E1', '2', '1', [entry(1700000000002, 2, '"b"'), entry(1700000000001, 1, '"a"')]];
    const result = parseHistoryReply('ch', reply, {
      since: { epoch: 'E1', seq: 0 },
      limit: undefined,
      maxMessages: 10,
    });
    expect(result.recovered).toBe(true);
    expect(result.messages.map((m) => m.frame)).toEqual([
      encodeEnvelope('ch', 1, 'E1', 1700000000001, '"a"'),
      encodeEnvelope('ch', 2, 'E1', 1700000000002, '"b"'),
    ]);
  });

  it('rejects replies it cannot read instead of producing NaN', () => {
    const options = { since: undefined, limit: undefined, maxMessages: 10 };
    expect(() => parseHistoryReply('ch', 'OK', options)).toThrow(TypeError);
    expect(() => parseHistoryReply('ch', [1, '2', '', []], options)).toThrow(/epoch/);
    expect(() => parseHistoryReply('ch', ['E', 'x', '', []], options)).toThrow(/seq/);
    expect(() => parseHistoryReply('ch', ['E', '1', '', [['1-0', ['d', '1']]]], options)).toThrow(/lacks/);
    expect(parseInfoReply('ch', null, 10)).toBeUndefined();
    expect(() => parseInfoReply('ch', ['E', '1'], 10)).toThrow(TypeError);
  });
});
