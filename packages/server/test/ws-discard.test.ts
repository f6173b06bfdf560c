import { describe, expect, test } from 'vitest';
import { WsDiscard } from '../src/transports/ws-discard.js';
import { clientFrame, closeBody, Opcode } from './helpers/raw-ws-frame.js';

// What a peer sends after its connection failed: the rest of the failing frame, more frames of every
// header shape, then its close frame. Only the close frame's last byte may end the reading.
const rest = Buffer.alloc(3000, 0x78);
const frames = [
  clientFrame({ opcode: Opcode.TEXT, payload: 'short' }),
  clientFrame({ opcode: Opcode.TEXT, payload: Buffer.alloc(300, 0x79), fin: false }),
  clientFrame({ opcode: Opcode.CONTINUATION, payload: Buffer.alloc(70_000, 0x7a), lengthBits: 64 }),
  clientFrame({ opcode: Opcode.PING, payload: Buffer.alloc(125, 0x01) }),
  clientFrame({ opcode: Opcode.BINARY, payload: Buffer.alloc(10), masked: false }),
];
const close = clientFrame({ opcode: Opcode.CLOSE, payload: closeBody(1000, 'bye') });
const stream = Buffer.concat([rest, ...frames, close]);
const closeEnds = stream.length;

/** Feeds `stream` cut at `cuts`; the offset at which the outcome first was not `reading`. */
function feed(discard: WsDiscard, cuts: number[]): { at: number; outcome: string } {
  let from = 0;
  for (const to of [...cuts, stream.length]) {
    const outcome = discard.push(stream.subarray(from, to));
    if (outcome !== 'reading') return { at: to, outcome };
    from = to;
  }
  return { at: stream.length, outcome: 'reading' };
}

describe('WsDiscard', () => {
  test("the peer's close frame is found after the failing frame and frames of every header shape, read in one piece", () => {
    expect(feed(new WsDiscard(rest.length, 1 << 20), [])).toEqual({ at: closeEnds, outcome: 'peer-closed' });
  });

  test('…and read one byte at a time (headers, lengths and masks cut anywhere)', () => {
    const cuts = Array.from({ length: stream.length - 1 }, (_, i) => i + 1);
    expect(feed(new WsDiscard(rest.length, 1 << 20), cuts)).toEqual({
      at: closeEnds,
      outcome: 'peer-closed',
    });
  });

  test('a payload that looks like a close frame is skipped, not taken for one', () => {
    const fake = clientFrame({ opcode: Opcode.TEXT, payload: close });
    const discard = new WsDiscard(0, 1 << 20);
    expect(discard.push(fake)).toBe('reading');
    expect(discard.push(close)).toBe('peer-closed');
  });

  test('once the framing is lost (a protocol error) nothing is taken for a close frame', () => {
    expect(feed(new WsDiscard(undefined, 1 << 20), [])).toEqual({ at: stream.length, outcome: 'reading' });
  });

  test('a control frame that cannot be (over 125 bytes) loses the framing: the close after it is not looked for', () => {
    const broken = Buffer.from([0x89, 0x80 | 126, 0x00, 0xc8]);
    const discard = new WsDiscard(0, 1 << 20);
    expect(discard.push(Buffer.concat([broken, close]))).toBe('reading');
  });

  test('past maxBytes read in all, the outcome is over-bound', () => {
    const discard = new WsDiscard(Number.POSITIVE_INFINITY, 100_000);
    expect(discard.push(Buffer.alloc(100_000))).toBe('reading');
    expect(discard.push(Buffer.alloc(1))).toBe('over-bound');
  });
});
