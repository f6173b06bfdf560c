import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { HEARTBEAT_SLICES, HeartbeatWheel } from '../src/transports/heartbeat-wheel.js';

describe('HeartbeatWheel', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  test('every member is visited once per period, spread over the period rather than all at once', () => {
    const visits = new Map<number, number[]>();
    const start = Date.now();
    const wheel = new HeartbeatWheel<number>(
      1000,
      (member) => {
        visits.set(member, [...(visits.get(member) ?? []), Date.now()]);
      },
      () => {},
    );
    for (let i = 0; i < 1000; i++) wheel.add(i);
    const perTick: number[] = [];
    for (let tick = 0; tick < HEARTBEAT_SLICES * 3; tick++) {
      const before = [...visits.values()].reduce((sum, times) => sum + times.length, 0);
      vi.advanceTimersByTime(1000 / HEARTBEAT_SLICES);
      perTick.push([...visits.values()].reduce((sum, times) => sum + times.length, 0) - before);
    }
    expect(Math.max(...perTick)).toBe(1000 / HEARTBEAT_SLICES);
    for (const times of visits.values()) {
      expect(times).toHaveLength(3);
      expect(times[0]! - start).toBeLessThanOrEqual(1000);
      expect(times[1]! - times[0]!).toBe(1000);
      expect(times[2]! - times[1]!).toBe(1000);
    }
    wheel.stop();
  });

  test('members removed during a visit (or before) are not visited again; size and iteration follow', () => {
    const visited: string[] = [];
    const wheel = new HeartbeatWheel<string>(
      200,
      (member) => {
        visited.push(member);
        wheel.delete(member);
      },
      () => {},
    );
    wheel.add('a');
    wheel.add('b');
    wheel.add('c');
    expect(wheel.delete('b')).toBe(true);
    expect(wheel.delete('b')).toBe(false);
    expect(wheel.size).toBe(2);
    expect([...wheel].sort()).toEqual(['a', 'c']);
    vi.advanceTimersByTime(400);
    expect(visited.sort()).toEqual(['a', 'c']);
    expect(wheel.size).toBe(0);
    wheel.stop();
  });

  test('a visit that throws is handed to the fault handler; the other members are still visited', () => {
    const visited: string[] = [];
    const faults: string[] = [];
    const wheel = new HeartbeatWheel<string>(
      HEARTBEAT_SLICES,
      (member) => {
        if (member === 'bad') throw new Error('boom');
        visited.push(member);
      },
      (member, error) => {
        faults.push(`${member}: ${(error as Error).message}`);
        throw new Error('the fault handler failing too stops nothing');
      },
    );
    // All three in one slot: each member is dealt to the next slot, so every 20th shares one.
    wheel.add('bad');
    for (let i = 1; i < HEARTBEAT_SLICES; i++) wheel.add(`filler${i}`);
    wheel.add('good');
    vi.advanceTimersByTime(HEARTBEAT_SLICES * 2);
    expect(faults).toEqual(['bad: boom', 'bad: boom']);
    expect(visited.filter((member) => member === 'good')).toHaveLength(2);
    wheel.stop();
  });
});
