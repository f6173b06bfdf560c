import { loadavg, networkInterfaces } from 'node:os';
import * as si from 'systeminformation';
import { CpuMeter } from './cpu-meter.js';
import { type DiskUsage, readDiskUsage } from './disk-usage.js';

export type { DiskUsage } from './disk-usage.js';

/** What one read of the host gives, before rates are derived from the previous read. */
export interface HostSample {
  /** CPU busy, percent 0–100 over the time since the previous read. */
  cpu: number;
  /** Memory in use (total minus what the kernel says is available), percent 0–100. */
  memory: number;
  /** 1, 5 and 15 minute load averages. */
  load: [number, number, number];
  /** Bytes received and sent so far on every non-loopback interface (counters, not rates). */
  network: { rxBytes: number; txBytes: number };
}

/**
 * Where host numbers come from. The real one reads the OS; tests wrap it (to make a read slow or
 * fail) rather than replace it.
 */
export interface HostReader {
  sample(): Promise<HostSample>;
  disks(): Promise<DiskUsage[]>;
}

const round1 = (value: number): number => Math.round(value * 10) / 10;
const clampPercent = (value: number): number => round1(Math.min(100, Math.max(0, value)));

/**
 * Reads this machine: CPU from the kernel's counters (cpu-meter.ts), memory and network with
 * systeminformation, disks as disk-usage.ts says. Each reader measures CPU since its own previous read.
 *
 * @example
 * const reader = systemHostReader();
 * const { cpu, memory } = await reader.sample();
 */
export function systemHostReader(): HostReader {
  const cpu = new CpuMeter();
  return {
    async sample() {
      const [mem, network] = await Promise.all([si.mem(), readNetworkTotals()]);
      // `available` counts reclaimable cache as free, which is what "memory in use" means to a reader.
      const usedMemory = mem.total > 0 ? ((mem.total - mem.available) / mem.total) * 100 : 0;
      const [l1 = 0, l5 = 0, l15 = 0] = loadavg();
      return {
        cpu: clampPercent(cpu.read()),
        memory: clampPercent(usedMemory),
        load: [round2(l1), round2(l5), round2(l15)],
        network,
      };
    },
    disks: readDiskUsage,
  };
}

/**
 * Byte counters of every non-loopback interface that has an address. The interfaces are named
 * explicitly: `networkStats('*')` lists them itself, which cost ~500 ms and ~30 ms of CPU per call here.
 */
async function readNetworkTotals(): Promise<HostSample['network']> {
  const names = Object.entries(networkInterfaces())
    .filter(([, addresses]) => addresses?.some((address) => !address.internal))
    .map(([name]) => name);
  if (names.length === 0) return { rxBytes: 0, txBytes: 0 };
  let rxBytes = 0;
  let txBytes = 0;
  for (const iface of await si.networkStats(names.join(','))) {
    rxBytes += finiteOrZero(iface.rx_bytes);
    txBytes += finiteOrZero(iface.tx_bytes);
  }
  return { rxBytes, txBytes };
}

const finiteOrZero = (value: number | null | undefined): number =>
  typeof value === 'number' && Number.isFinite(value) ? value : 0;
const round2 = (value: number): number => Math.round(value * 100) / 100;
