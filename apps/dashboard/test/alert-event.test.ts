import { describe, expect, it } from 'vitest';
import { firingCount, toAlertEvent } from '../src/model/alert-event.js';

describe('alert events', () => {
  it('reads an alert engine event', () => {
    const event = toAlertEvent(
      {
        id: 'n:cpu-high:1',
        rule: 'cpu-high',
        state: 'firing',
        severity: 'warning',
        message: 'cpu is 93',
        value: 93,
        threshold: 90,
        ts: 5,
        node: 'n',
      },
      9,
    );
    expect(event).toEqual({
      id: 'n:cpu-high:1',
      rule: 'cpu-high',
      state: 'firing',
      severity: 'warning',
      message: 'cpu is 93',
      value: 93,
      threshold: 90,
      ts: 5,
      node: 'n',
    });
  });

  it('turns anything else into a readable firing alert', () => {
    expect(toAlertEvent('disk almost full', 7)).toEqual({
      id: 'alert:7',
      rule: 'alert',
      state: 'firing',
      severity: 'warning',
      message: 'disk almost full',
      ts: 7,
    });
    expect(toAlertEvent({ rule: 3, state: 'odd' }, 8)).toMatchObject({
      rule: 'alert',
      state: 'firing',
      ts: 8,
    });
  });

  it('counts alerts whose latest event is firing', () => {
    const events = [
      toAlertEvent({ id: 'a', state: 'firing' }, 1),
      toAlertEvent({ id: 'b', state: 'firing' }, 2),
      toAlertEvent({ id: 'a', state: 'resolved' }, 3),
    ];
    expect(firingCount(events)).toBe(1);
  });
});
