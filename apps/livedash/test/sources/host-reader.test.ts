import { readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { systemHostReader } from '../../src/sources/host-reader.js';

/** What the kernel counts for the interfaces with a non-loopback address, read independently. */
async function kernelTotals(): Promise<{ rx: number; tx: number }> {
  const names = Object.entries(networkInterfaces())
    .filter(([, addresses]) => addresses?.some((address) => !address.internal))
    .map(([name]) => name);
  let rx = 0;
  let tx = 0;
  for (const name of names) {
    rx += Number(await readFile(`/sys/class/net/${name}/statistics/rx_bytes`, 'utf8'));
    tx += Number(await readFile(`/sys/class/net/${name}/statistics/tx_bytes`, 'utf8'));
  }
  return { rx, tx };
}

describe('systemHostReader', () => {
  it('reads cpu, memory and load within their ranges', async () => {
    const reader = systemHostReader();
    const sample = await reader.sample();
    expect(sample.cpu).toBeGreaterThanOrEqual(0);
    expect(sample.cpu).toBeLessThanOrEqual(100);
    expect(sample.memory).toBeGreaterThan(0);
    expect(sample.memory).toBeLessThan(100);
    expect(sample.load.every((load) => load >= 0)).toBe(true);
  });

  it.runIf(process.platform === 'linux')(
    'counts the same network bytes as the kernel, loopback left out',
    async () => {
      const reader = systemHostReader();
      const before = await kernelTotals();
      const { network } = await reader.sample();
      const after = await kernelTotals();
      expect(network.rxBytes).toBeGreaterThanOrEqual(before.rx);
      expect(network.rxBytes).toBeLessThanOrEqual(after.rx);
      expect(network.txBytes).toBeGreaterThanOrEqual(before.tx);
      expect(network.txBytes).toBeLessThanOrEqual(after.tx);
    },
  );
});
