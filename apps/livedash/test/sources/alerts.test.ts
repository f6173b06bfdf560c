import { Hub, MemoryBroker } from '@livedash/server';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertRule } from '../../src/app-options.js';
import { AlertEngine, type AlertEvent } from '../../src/sources/alerts.js';
import { until } from '../helpers/wait.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function newHub(): Hub {
  const broker = new MemoryBroker();
  cleanups.push(() => broker.close());
  return new Hub(broker, { maxQueueBytes: 1 << 20, maxSubscriptions: 256 });
}

function alertsOf(hub: Hub): AlertEvent[] {
  const seen: AlertEvent[] = [];
  cleanups.push(hub.watch('alerts', (data) => seen.push(data as AlertEvent)));
  return seen;
}

function startEngine(hub: Hub, rules: AlertRule[], log?: (line: string) => void): AlertEngine {
  const engine = new AlertEngine(hub, rules, log ? { node: 'n1', log } : { node: 'n1' });
  engine.start();
  cleanups.push(() => engine.stop());
  return engine;
}

/**
 * `hub.watch` takes effect once the hub's broker subscription is made, which is asynchronous; with
 * the memory broker that is done before the next turn of the event loop.
 */
const watchesReady = () => new Promise((resolve) => setImmediate(resolve));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const tempHigh: AlertRule = {
  name: 'temp-high',
  channel: 'sensors.room1',
  field: 'reading.celsius',
  op: '>',
  threshold: 30,
  forMs: 300,
  hysteresis: 2,
  severity: 'critical',
};

describe('AlertEngine', () => {
  it('fires after forMs of breaching values and resolves past the hysteresis, one alert id throughout', async () => {
    const hub = newHub();
    const alerts = alertsOf(hub);
    const engine = startEngine(hub, [tempHigh]);
    await watchesReady();
    const publish = (celsius: number) => hub.publish('sensors.room1', { reading: { celsius } });

    const before = Date.now();
    await publish(31);
    await publish(35);
    expect(engine.states.get('temp-high')?.kind).toBe('pending');
    expect(alerts).toEqual([]);
    // Keep it breaching: the alert fires once forMs has passed since the first breach.
    await until(() => alerts.length === 1, 'the firing event');
    const firing = alerts[0]!;
    expect(firing).toMatchObject({
      rule: 'temp-high',
      state: 'firing',
      value: 35,
      threshold: 30,
      severity: 'critical',
      node: 'n1',
      channel: 'sensors.room1',
      field: 'reading.celsius',
    });
    expect(firing.since).toBeGreaterThanOrEqual(before);
    expect(firing.ts - firing.since).toBeGreaterThanOrEqual(300);
    expect(firing.id).toBe(`n1:temp-high:${firing.since}`);
    expect(firing.message).toMatch(/^temp-high: reading\.celsius is 35 \(> 30\) for (\d+ ms|[\d.]+ s)$/);

    // Below the threshold but inside the hysteresis band: still firing.
    await publish(29);
    await publish(28.5);
    await sleep(50);
    expect(alerts).toHaveLength(1);
    await publish(28);
    await until(() => alerts.length === 2, 'the resolved event');
    expect(alerts[1]).toMatchObject({ id: firing.id, state: 'resolved', value: 28, since: firing.since });
    expect(alerts[1]!.message).toMatch(/^temp-high resolved: reading\.celsius is 28 after /);
    expect(engine.states.get('temp-high')).toEqual({ kind: 'ok' });
  });

  it('does not fire when the condition breaks before forMs', async () => {
    const hub = newHub();
    const alerts = alertsOf(hub);
    const engine = startEngine(hub, [{ ...tempHigh, forMs: 200 }]);
    await watchesReady();
    await hub.publish('sensors.room1', { reading: { celsius: 40 } });
    await hub.publish('sensors.room1', { reading: { celsius: 20 } });
    expect(engine.states.get('temp-high')).toEqual({ kind: 'ok' });
    await sleep(400);
    expect(alerts).toEqual([]);
  });

  it('ignores messages without the field, or with a non-number there', async () => {
    const hub = newHub();
    const alerts = alertsOf(hub);
    const engine = startEngine(hub, [{ ...tempHigh, forMs: 0 }]);
    await watchesReady();
    await hub.publish('sensors.room1', { reading: { celsius: 'hot' } });
    await hub.publish('sensors.room1', { other: 1 });
    await hub.publish('sensors.room1', [1, 2, 3]);
    await hub.publish('sensors.room1', null);
    expect(engine.states.get('temp-high')).toEqual({ kind: 'ok' });
    await hub.publish('sensors.room1', { reading: { celsius: 99 } });
    await until(() => alerts.length === 1, 'the firing event');
  });

  it('reads the field by the one field-path rule: a numeric string is its number, as on the dashboard', async () => {
    const hub = newHub();
    const alerts = alertsOf(hub);
    startEngine(hub, [{ ...tempHigh, forMs: 0 }]);
    await watchesReady();
    await hub.publish('sensors.room1', { reading: { celsius: '99' } });
    await until(() => alerts.length === 1, 'the firing event');
    expect(alerts[0]).toMatchObject({ state: 'firing', value: 99 });
  });

  it('runs rules independently and publishes nothing once stopped', async () => {
    const hub = newHub();
    const alerts = alertsOf(hub);
    const low: AlertRule = {
      ...tempHigh,
      name: 'temp-low',
      op: '<',
      threshold: 5,
      forMs: 0,
      severity: 'info',
    };
    const engine = startEngine(hub, [tempHigh, low]);
    await watchesReady();
    await hub.publish('sensors.room1', { reading: { celsius: 2 } });
    await until(() => alerts.length === 1, 'temp-low firing');
    expect(alerts[0]).toMatchObject({ rule: 'temp-low', state: 'firing', severity: 'info' });

    await hub.publish('sensors.room1', { reading: { celsius: 50 } });
    expect(engine.states.get('temp-high')?.kind).toBe('pending');
    expect(engine.states.get('temp-low')).toEqual({ kind: 'ok' });
    // Stopped at once, well inside temp-high's forMs: waiting for temp-low's event first could take
    // longer than 300 ms on a busy machine, and temp-high would rightly fire before the stop.
    await engine.stop();
    await until(() => alerts.length === 2, 'temp-low resolved');
    // temp-high was pending with its timer set; stopping cancels it.
    await sleep(500);
    expect(alerts.map((a) => `${a.rule}:${a.state}`)).toEqual(['temp-low:firing', 'temp-low:resolved']);
  });

  it('logs a refused alert publish once and keeps evaluating', async () => {
    const hub = newHub();
    const log: string[] = [];
    const refusing = {
      publish: () => Promise.reject(new Error('broker unavailable')),
      watch: hub.watch.bind(hub),
    };
    const engine = new AlertEngine(refusing, [{ ...tempHigh, forMs: 0, hysteresis: 0 }], {
      node: 'n1',
      log: (line) => log.push(line),
    });
    engine.start();
    cleanups.push(() => engine.stop());
    await watchesReady();
    for (const celsius of [40, 10, 40, 10]) await hub.publish('sensors.room1', { reading: { celsius } });
    await until(() => log.length > 0, 'the log line');
    await engine.stop();
    expect(log).toEqual(['alert publish failed: broker unavailable (logged once until it recovers)']);
    expect(engine.states.get('temp-high')).toEqual({ kind: 'ok' });
  });

  it("evaluates only this node's readings on metrics, and messages with no node", async () => {
    const hub = newHub();
    const alerts = alertsOf(hub);
    const rule: AlertRule = { ...tempHigh, name: 'cpu-high', channel: 'metrics', field: 'cpu', forMs: 0 };
    const engine = startEngine(hub, [rule]);
    await watchesReady();
    await hub.publish('metrics', { cpu: 99, node: 'n2' });
    expect(engine.states.get('cpu-high')).toEqual({ kind: 'ok' });
    await hub.publish('metrics', { cpu: 99, node: 'n1' });
    await until(() => alerts.length === 1, 'the firing alert of n1');
    // Another node's calm reading does not resolve this node's alert.
    await hub.publish('metrics', { cpu: 1, node: 'n2' });
    expect(engine.states.get('cpu-high')?.kind).toBe('firing');
    await hub.publish('metrics', { cpu: 1 });
    await until(() => alerts.length === 2, 'resolved by a reading without node');
    expect(alerts.map((a) => a.state)).toEqual(['firing', 'resolved']);
  });

  it('rejects rules no engine could run', () => {
    const hub = newHub();
    expect(() => new AlertEngine(hub, [tempHigh, tempHigh], { node: 'n1' })).toThrow(/defined twice/);
    expect(() => new AlertEngine(hub, [{ ...tempHigh, channel: '$bad' }], { node: 'n1' })).toThrow(/channel/);
    expect(() => new AlertEngine(hub, [{ ...tempHigh, field: 'a..b' }], { node: 'n1' })).toThrow(/field/);
    expect(() => new AlertEngine(hub, [{ ...tempHigh, forMs: -1 }], { node: 'n1' })).toThrow(/forMs/);
  });
});
