import { describe, expect, it } from 'vitest';
import {
  type LinkEvent,
  type LinkState,
  nextLinkState,
  reconnectDelayMs,
} from '../src/brokers/redis-link.js';
import { redactUrl } from '../src/brokers/redis-target.js';

const run = (events: LinkEvent[], lastError?: string): LinkState =>
  events.reduce<LinkState>((state, event) => nextLinkState(state, event, lastError), { kind: 'connecting' });

describe('Redis link state machine', () => {
  it('goes ready, lost with the last error as reason, and ready again', () => {
    expect(run([{ type: 'ready' }])).toEqual({ kind: 'ready' });
    expect(run([{ type: 'ready' }, { type: 'close' }], 'ECONNRESET')).toEqual({
      kind: 'lost',
      reason: 'ECONNRESET',
    });
    expect(run([{ type: 'ready' }, { type: 'close' }])).toEqual({
      kind: 'lost',
      reason: 'connection closed',
    });
    expect(run([{ type: 'close' }, { type: 'error', message: 'ECONNREFUSED' }])).toEqual({
      kind: 'lost',
      reason: 'ECONNREFUSED',
    });
    expect(run([{ type: 'close' }, { type: 'ready' }])).toEqual({ kind: 'ready' });
  });

  it('marks a connected link stalled while PINGs go unanswered, and ready when one is answered', () => {
    const stalled = run([{ type: 'ready' }, { type: 'probe-failed', message: 'timeout' }]);
    expect(stalled).toEqual({ kind: 'stalled', reason: 'timeout' });
    expect(nextLinkState(stalled, { type: 'probe-ok' }, undefined)).toEqual({ kind: 'ready' });
    expect(nextLinkState(stalled, { type: 'close' }, 'gone')).toEqual({ kind: 'lost', reason: 'gone' });
    // A probe result after the connection was lost changes nothing.
    expect(run([{ type: 'close' }, { type: 'probe-ok' }], 'x')).toEqual({ kind: 'lost', reason: 'x' });
    expect(run([{ type: 'probe-failed', message: 'late' }])).toEqual({ kind: 'connecting' });
  });

  it('stays closed once ended', () => {
    expect(run([{ type: 'ready' }, { type: 'end' }, { type: 'ready' }, { type: 'close' }])).toEqual({
      kind: 'closed',
    });
  });

  it('backs off from 100–200 ms to at most 2 s, with jitter', () => {
    for (let attempt = 1; attempt <= 20; attempt++) {
      const delay = reconnectDelayMs(attempt);
      const ceiling = Math.min(200 * 2 ** (attempt - 1), 2000);
      expect(delay).toBeGreaterThanOrEqual(ceiling / 2 - 1);
      expect(delay).toBeLessThanOrEqual(ceiling + 1);
    }
  });

  it('never logs a password', () => {
    expect(redactUrl('redis://user:secret@10.0.0.5:6379/2')).toBe('redis://user:***@10.0.0.5:6379/2');
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });
});
