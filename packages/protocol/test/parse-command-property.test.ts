import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CHANNEL_PATTERN,
  type ClientCommand,
  Defaults,
  EPOCH_PATTERN,
  ErrorCodes,
  encodeCommand,
  isValidChannel,
  parseCommand,
} from '../src/index.js';

const KNOWN_CODES = new Set<string>(Object.values(ErrorCodes));
const channel = fc.stringMatching(CHANNEL_PATTERN);
const epoch = fc.stringMatching(EPOCH_PATTERN);
const requestId = fc.oneof(
  fc.maxSafeInteger().map((n) => (Object.is(n, -0) ? 0 : n)),
  fc.string({ minLength: 1, maxLength: 64 }),
);
const channels = fc.uniqueArray(channel, { minLength: 1, maxLength: 8 });
const withOptionalId = <T extends object>(arb: fc.Arbitrary<T>) =>
  fc
    .tuple(arb, fc.option(requestId, { nil: undefined }))
    .map(([command, id]) => (id === undefined ? command : { ...command, id }));

/** Every command the grammar accepts, as the typed value `parseCommand` should return. */
const validCommand: fc.Arbitrary<ClientCommand> = fc.oneof(
  withOptionalId(
    fc
      .record(
        {
          action: fc.constant('subscribe' as const),
          channels,
          since: fc.uniqueArray(fc.tuple(channel, fc.record({ epoch, seq: fc.maxSafeNat() })), {
            selector: ([name]) => name,
            maxLength: 4,
          }),
        },
        { requiredKeys: ['action', 'channels'] },
      )
      .map(({ since, ...rest }) => (since === undefined ? rest : { ...rest, since: new Map(since) })),
  ),
  withOptionalId(fc.record({ action: fc.constant('unsubscribe' as const), channels })),
  withOptionalId(
    fc.record({
      action: fc.constant('publish' as const),
      channel,
      // jsonValue can produce -0, which JSON text cannot carry (it reads back as 0): normalize it.
      data: fc.jsonValue({ maxDepth: 5 }).map((value) => JSON.parse(JSON.stringify(value)) as unknown),
    }),
  ),
  withOptionalId(fc.record({ action: fc.constant('ping' as const) })),
  withOptionalId(
    fc.record({ action: fc.constant('auth' as const), token: fc.string({ minLength: 1, maxLength: 300 }) }),
  ),
);

/** Random edits (insert, delete, replace a character) applied to a text. */
function mutate(text: string, edits: Array<[number, number, string]>): string {
  let out = text;
  for (const [kind, at, char] of edits) {
    const i = out.length === 0 ? 0 : at % out.length;
    if (kind % 3 === 0) out = out.slice(0, i) + char + out.slice(i);
    else if (kind % 3 === 1) out = out.slice(0, i) + out.slice(i + 1);
    else out = out.slice(0, i) + char + out.slice(i + 1);
  }
  return out;
}
const edits = fc.array(
  fc.tuple(fc.nat(), fc.nat(), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })),
  {
    minLength: 1,
    maxLength: 6,
  },
);

function expectWellFormedOutcome(text: string): void {
  const result = parseCommand(text);
  if (result.ok) {
    const command = result.value;
    if (command.action === 'subscribe' || command.action === 'unsubscribe') {
      expect(command.channels.every(isValidChannel)).toBe(true);
      expect(new Set(command.channels).size).toBe(command.channels.length);
    }
    if (command.action === 'publish') expect(isValidChannel(command.channel)).toBe(true);
  } else {
    expect(KNOWN_CODES.has(result.error.code)).toBe(true);
    expect(result.error.message.length).toBeGreaterThan(0);
  }
}

describe('parseCommand properties', () => {
  it('never throws on arbitrary text, and its outcome is always well formed', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => expectWellFormedOutcome(text)),
      {
        numRuns: 2000,
      },
    );
  });

  it('never throws on arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => expectWellFormedOutcome(JSON.stringify(value))),
      {
        numRuns: 2000,
      },
    );
  });

  it('never throws on mutations of valid commands', () => {
    fc.assert(
      fc.property(validCommand, edits, (command, changes) =>
        expectWellFormedOutcome(mutate(encodeCommand(command), changes)),
      ),
      {
        numRuns: 3000,
      },
    );
  });

  it('round-trips every valid command through encodeCommand', () => {
    fc.assert(
      fc.property(validCommand, (command) => {
        const result = parseCommand(encodeCommand(command));
        expect(result).toEqual({ ok: true, value: command });
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects a channel name outside the grammar, wherever it appears', () => {
    const badChannel = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 140 }).filter((s) => !CHANNEL_PATTERN.test(s)),
      fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.:-]{128,160}$/),
    );
    fc.assert(
      fc.property(
        badChannel,
        channels,
        fc.constantFrom('subscribe', 'unsubscribe', 'publish', 'since'),
        (bad, good, where) => {
          const frame =
            where === 'publish'
              ? { action: 'publish', channel: bad, data: 1 }
              : where === 'since'
                ? { action: 'subscribe', channels: good, since: { [bad]: { epoch: 'e', seq: 1 } } }
                : { action: where, channels: [...good, bad] };
          const result = parseCommand(JSON.stringify(frame));
          expect(result.ok).toBe(false);
          if (!result.ok) expect(result.error.code).toBe(ErrorCodes.INVALID_CHANNEL);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('rejects unknown keys and unknown actions, echoing a readable id', () => {
    const extraKey = fc.oneof(
      fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty'),
      fc
        .string({ minLength: 1, maxLength: 20 })
        .filter((k) => !['action', 'channels', 'since', 'id', 'channel', 'data', 'token'].includes(k)),
    );
    fc.assert(
      fc.property(validCommand, extraKey, fc.jsonValue({ maxDepth: 2 }), (command, key, value) => {
        const raw = JSON.parse(encodeCommand(command)) as Record<string, unknown>;
        // defineProperty, so `__proto__` becomes an own key (plain assignment would set the prototype).
        Object.defineProperty(raw, key, { value, enumerable: true, configurable: true, writable: true });
        const result = parseCommand(JSON.stringify(raw));
        expect(result.ok).toBe(false);
        if (!result.ok) {
          expect(result.error.code).toBe(ErrorCodes.UNKNOWN_KEY);
          expect(result.error.id).toEqual(command.id);
        }
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(
        fc
          .string({ maxLength: 30 })
          .filter((a) => !['subscribe', 'unsubscribe', 'publish', 'ping', 'auth'].includes(a)),
        (action) => {
          const result = parseCommand(JSON.stringify({ action }));
          expect(result.ok).toBe(false);
          if (!result.ok) expect(result.error.code).toBe(ErrorCodes.UNKNOWN_ACTION);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('rejects nesting deeper than the limit before parsing it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Defaults.maxJsonDepth, max: 5000 }),
        fc.constantFrom('[', '{"a":'),
        (depth, open) => {
          const close = open === '[' ? ']' : '}';
          const text = `{"action":"publish","channel":"c","data":${open.repeat(depth)}1${close.repeat(depth)}}`;
          const result = parseCommand(text);
          expect(result.ok).toBe(false);
          if (!result.ok) expect(result.error.code).toBe(ErrorCodes.TOO_DEEP);
        },
      ),
      { numRuns: 200 },
    );
  });
});
