import { readFile } from 'node:fs/promises';
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
 * Reads this machine: CPU from the kernel's counters (cpu-meter.ts), memory with systeminformation,
 * network and disks as readNetworkTotals and disk-usage.ts say. Nothing here spawns a process or makes
 * a synchronous system call on Linux: this runs inside the server that fans messages out.
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
 * Byte counters of every interface with a non-loopback address. On Linux they are read from sysfs:
 * systeminformation's `networkStats()` spawns a shell per call, and spawning blocks the event loop until
 * the child has started — long on a busy machine. Elsewhere `networkStats()` is called with the names
 * (`networkStats('*')` lists interfaces itself, which cost ~500 ms and ~30 ms of CPU per call here).
 */
async function readNetworkTotals(): Promise<HostSample['network']> {
  const names = Object.entries(networkInterfaces())
    .filter(([, addresses]) => addresses?.some((address) => !address.internal))
    .map(([name]) => name);
  if (names.length === 0) return { rxBytes: 0, txBytes: 0 };
  const counters =
    process.platform === 'linux'
      ? await Promise.all(names.map(readSysfsCounters))
      : (await si.networkStats(names.join(','))).map((iface) => ({ rx: iface.rx_bytes, tx: iface.tx_bytes }));
  let rxBytes = 0;
  let txBytes = 0;
  for (const { rx, tx } of counters) {
    rxBytes += finiteOrZero(rx);
    txBytes += finiteOrZero(tx);
  }
  return { rxBytes, txBytes };
}

/** An interface that vanished between listing and reading counts as 0 (its counters are gone too). */
async function readSysfsCounters(name: string): Promise<{ rx: number; tx: number }> {
  // Names come from the kernel (os.networkInterfaces), but never let one step outside /sys/class/net.
  if (name.includes('/') || name === '.' || name === '..') return { rx: 0, tx: 0 };
  const read = (counter: string) =>
    readFile(`/sys/class/net/${name}/statistics/${counter}`, 'utf8').then(Number, () => 0);
  const [rx, tx] = await Promise.all([read('rx_bytes'), read('tx_bytes')]);
  return { rx, tx };
}

const finiteOrZero = (value: number | null | undefined): number =>
  typeof value === 'number' && Number.isFinite(value) ? value : 0;
const round2 = (value: number): number => Math.round(value * 100) / 100;
