import { describe, expect, it } from 'vitest';
import { CpuMeter, type CpuTimes, osCpuTimes } from '../../src/sources/cpu-meter.js';

/** A meter over scripted counters: each read takes the next entry. */
function scripted(readings: CpuTimes[]): CpuMeter {
  let index = 0;
  return new CpuMeter(() => readings[Math.min(index++, readings.length - 1)]!);
}

describe('CpuMeter', () => {
  it('reports the busy share of the time between two reads', () => {
    const meter = scripted([
      { busy: 1_000, total: 10_000 },
      { busy: 1_250, total: 11_000 }, // 250 of 1000 ms busy
      { busy: 2_250, total: 12_000 }, // all busy
      { busy: 2_250, total: 14_000 }, // all idle
    ]);
    expect(meter.read()).toBe(25);
    expect(meter.read()).toBe(100);
    expect(meter.read()).toBe(0);
  });

  it('repeats the last value when the counters did not move, and survives counters going backwards', () => {
    const meter = scripted([
      { busy: 0, total: 1_000 },
      { busy: 500, total: 2_000 },
      { busy: 500, total: 2_000 }, // same tick
      { busy: 10, total: 100 }, // a core went away: new baseline
      { busy: 60, total: 200 },
    ]);
    expect(meter.read()).toBe(50);
    expect(meter.read()).toBe(50);
    expect(meter.read()).toBe(50);
    expect(meter.read()).toBe(50);
  });

  it('reads the real counters: busier when this process burns CPU', async () => {
    const times = osCpuTimes();
    expect(times.total).toBeGreaterThan(0);
    expect(times.busy).toBeGreaterThan(0);
    expect(times.busy).toBeLessThan(times.total);

    const meter = new CpuMeter();
    const until = Date.now() + 300;
    while (Date.now() < until) Math.sqrt(Math.random());
    const busy = meter.read();
    // One core busy out of however many there are, give or take the rest of the machine.
    expect(busy).toBeGreaterThan(0);
    expect(busy).toBeLessThanOrEqual(100);
  });
});
