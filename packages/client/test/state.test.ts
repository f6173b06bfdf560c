import { describe, expect, test } from 'vitest';
import {
  type ConnectionEvent,
  type ConnectionSnapshot,
  initialConnectionState,
  transition,
} from '../src/index.js';

const error = { code: 'transport_failed', message: 'gone' };
const run = (...events: ConnectionEvent[]) => events.reduce(transition, initialConnectionState);

describe('connection state machine', () => {
  test('a connection lifecycle: idle → connecting → open → reconnecting → connecting → open', () => {
    const statuses: string[] = [];
    let state: ConnectionSnapshot = initialConnectionState;
    const events: ConnectionEvent[] = [
      { type: 'connect', transport: 'ws' },
      { type: 'opened', transport: 'ws' },
      { type: 'stable' },
      { type: 'lost', error, retryAt: 1000 },
      { type: 'connect', transport: 'ws' },
      { type: 'opened', transport: 'ws' },
    ];
    for (const event of events) {
      state = transition(state, event);
      statuses.push(`${state.status}:${state.attempt}`);
    }
    expect(statuses).toEqual([
      'connecting:1',
      'open:1',
      'open:0',
      'reconnecting:0',
      'connecting:1',
      'open:1',
    ]);
  });

  test('lost records the error and the retry time; connect clears the retry time', () => {
    const lost = run({ type: 'connect', transport: 'ws' }, { type: 'lost', error, retryAt: 1234 });
    expect(lost).toMatchObject({ status: 'reconnecting', nextRetryAt: 1234, lastError: error });
    expect(transition(lost, { type: 'connect', transport: 'sse' })).toMatchObject({
      status: 'connecting',
      nextRetryAt: null,
      transport: 'sse',
      attempt: 2,
    });
  });

  test('fallback changes the transport within the same attempt', () => {
    const state = run({ type: 'connect', transport: 'ws' }, { type: 'fallback', transport: 'sse' });
    expect(state).toMatchObject({ status: 'connecting', transport: 'sse', attempt: 1 });
  });

  test('events that do not apply return the same object', () => {
    const idle = initialConnectionState;
    expect(transition(idle, { type: 'opened', transport: 'ws' })).toBe(idle);
    expect(transition(idle, { type: 'lost', error, retryAt: 1 })).toBe(idle);
    expect(transition(idle, { type: 'stable' })).toBe(idle);
    const open = run({ type: 'connect', transport: 'ws' }, { type: 'opened', transport: 'ws' });
    expect(transition(open, { type: 'opened', transport: 'ws' })).toBe(open);
    expect(transition(open, { type: 'switched', transport: 'ws' })).toBe(open);
    expect(transition(open, { type: 'rtt', rtt: open.rtt ?? -1 })).not.toBe(open);
  });

  test('give-up → failed; offline parks; closed is final', () => {
    const failed = run({ type: 'connect', transport: 'ws' }, { type: 'give-up', error });
    expect(failed).toMatchObject({ status: 'failed', lastError: error, nextRetryAt: null });
    expect(transition(failed, { type: 'connect', transport: 'ws' }).status).toBe('connecting');
    const offline = run(
      { type: 'connect', transport: 'ws' },
      { type: 'lost', error, retryAt: 5 },
      { type: 'offline' },
    );
    expect(offline).toMatchObject({ status: 'offline', nextRetryAt: null });
    const closed = transition(offline, { type: 'close' });
    expect(closed.status).toBe('closed');
    for (const event of [
      { type: 'connect', transport: 'ws' },
      { type: 'opened', transport: 'ws' },
      { type: 'offline' },
    ] as ConnectionEvent[]) {
      expect(transition(closed, event)).toBe(closed);
    }
  });

  test('states are frozen', () => {
    expect(Object.isFrozen(run({ type: 'connect', transport: 'poll' }))).toBe(true);
    expect(Object.isFrozen(initialConnectionState)).toBe(true);
  });
});
