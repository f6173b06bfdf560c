import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CHANNEL_PATTERN,
  EPOCH_PATTERN,
  encodeResumeToken,
  isValidChannel,
  MAX_RESUME_ENTRIES,
  type Position,
  parseResumeToken,
} from '../src/index.js';

const channel = fc.stringMatching(CHANNEL_PATTERN);
/** `isValidChannel` as a plain predicate (its type guard would narrow a `string` to `never` when negated). */
const validChannel: (name: string) => boolean = isValidChannel;
const position: fc.Arbitrary<Position> = fc.record({
  epoch: fc.stringMatching(EPOCH_PATTERN),
  seq: fc.maxSafeNat(),
});
const positions = fc.uniqueArray(fc.tuple(channel, position), { selector: ([name]) => name, maxLength: 20 });

describe('parseResumeToken properties', () => {
  it('never throws on arbitrary text, and everything it accepts is within the grammar', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
        const result = parseResumeToken(text);
        if (!result.ok) {
          expect(result.error.message).toMatch(/^invalid resume token/);
          return;
        }
        for (const [name, { epoch, seq }] of result.value) {
          expect(isValidChannel(name)).toBe(true);
          expect(EPOCH_PATTERN.test(epoch)).toBe(true);
          expect(Number.isSafeInteger(seq) && seq >= 0).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('round-trips every set of positions', () => {
    fc.assert(
      fc.property(positions, (entries) => {
        const result = parseResumeToken(encodeResumeToken(entries));
        expect(result).toEqual({ ok: true, value: new Map(entries) });
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on mutations of valid tokens, and re-encoding what it accepts is stable', () => {
    const edit = fc.tuple(fc.nat(), fc.nat(), fc.constantFrom('~', ',', '0', '-', 'a', ' ', '\n', '$', '9'));
    fc.assert(
      fc.property(positions, fc.array(edit, { minLength: 1, maxLength: 5 }), (entries, edits) => {
        let token = encodeResumeToken(entries);
        for (const [kind, at, char] of edits) {
          const i = token.length === 0 ? 0 : at % token.length;
          token =
            kind % 2 === 0
              ? token.slice(0, i) + char + token.slice(i)
              : token.slice(0, i) + token.slice(i + 1);
        }
        const result = parseResumeToken(token);
        if (result.ok) expect(parseResumeToken(encodeResumeToken(result.value))).toEqual(result);
      }),
      { numRuns: 3000 },
    );
  });

  it('rejects entries whose channel, epoch or seq is outside the grammar', () => {
    const badSeq = fc.oneof(
      fc.constantFrom('', '-1', '01', '1.5', '1e3', '9007199254740992', '99999999999999999', ' 1', '0x10'),
      fc
        .string({ maxLength: 10 })
        .filter((s) => !/^(0|[1-9][0-9]{0,15})$/.test(s) || !Number.isSafeInteger(Number(s))),
    );
    const badEpoch = fc
      .string({ maxLength: 70 })
      .filter((s) => !EPOCH_PATTERN.test(s) && !s.includes('~') && !s.includes(','));
    const badChannel = fc
      .string({ maxLength: 140 })
      .filter((s) => !validChannel(s) && !s.includes('~') && !s.includes(','));
    fc.assert(
      fc.property(
        channel,
        position,
        badSeq,
        badEpoch,
        badChannel,
        fc.nat(2),
        (name, pos, seq, epoch, bad, which) => {
          const entry =
            which === 0
              ? `${name}~${pos.epoch}~${seq}`
              : which === 1
                ? `${name}~${epoch}~${pos.seq}`
                : `${bad}~${pos.epoch}~${pos.seq}`;
          expect(parseResumeToken(entry).ok).toBe(false);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('refuses more entries than the limit without reading them all', () => {
    const token = Array.from({ length: MAX_RESUME_ENTRIES + 1 }, (_, i) => `c${i}~e~1`).join(',');
    expect(parseResumeToken(token).ok).toBe(false);
    expect(parseResumeToken(token.split(',').slice(0, MAX_RESUME_ENTRIES).join(',')).ok).toBe(true);
  });
});
