import { loadavg, networkInterfaces } from 'node:os';
import * as si from 'systeminformation';

/** One disk (mounted file system) in the `metrics` message. Sizes in bytes. */
export interface DiskUsage {
  mount: string;
  size: number;
  used: number;
  /** Percent 0–100, one decimal. */
  usePercent: number;
}

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
 * Where host numbers come from. The real one reads the OS through systeminformation; tests wrap it
 * (to make a read slow or fail) rather than replace it.
 */
export interface HostReader {
  sample(): Promise<HostSample>;
  disks(): Promise<DiskUsage[]>;
}

/** Pseudo and in-memory file systems say nothing about disk space; they are left out of `disk`. */
const IGNORED_FS_TYPES = new Set([
  'tmpfs',
  'devtmpfs',
  'squashfs',
  'proc',
  'sysfs',
  'cgroup',
  'cgroup2',
  'devpts',
  'mqueue',
  'ramfs',
  'nsfs',
  'autofs',
  'fuse.lxcfs',
]);

/** A host with hundreds of mounts (containers, snaps) must not make every `metrics` message huge. */
export const MAX_DISKS = 16;

export const round1 = (value: number): number => Math.round(value * 10) / 10;
const clampPercent = (value: number): number => round1(Math.min(100, Math.max(0, value)));

/**
 * Reads this machine with systeminformation.
 *
 * @example
 * const reader = systemHostReader();
 * const { cpu, memory } = await reader.sample();
 */
export function systemHostReader(): HostReader {
  return {
    async sample() {
      const [load, mem, net] = await Promise.all([si.currentLoad(), si.mem(), si.networkStats('*')]);
      const loopback = loopbackInterfaces();
      let rxBytes = 0;
      let txBytes = 0;
      for (const iface of net) {
        if (loopback.has(iface.iface)) continue;
        rxBytes += finiteOrZero(iface.rx_bytes);
        txBytes += finiteOrZero(iface.tx_bytes);
      }
      // `available` counts reclaimable cache as free, which is what "memory in use" means to a reader.
      const usedMemory = mem.total > 0 ? ((mem.total - mem.available) / mem.total) * 100 : 0;
      const [l1 = 0, l5 = 0, l15 = 0] = loadavg();
      return {
        cpu: clampPercent(finiteOrZero(load.currentLoad)),
        memory: clampPercent(usedMemory),
        load: [round2(l1), round2(l5), round2(l15)],
        network: { rxBytes, txBytes },
      };
    },
    async disks() {
      const fileSystems = await si.fsSize();
      const seen = new Set<string>();
      const disks: DiskUsage[] = [];
      for (const fs of fileSystems) {
        if (IGNORED_FS_TYPES.has(fs.type) || !(fs.size > 0) || seen.has(fs.mount)) continue;
        seen.add(fs.mount);
        disks.push({
          mount: fs.mount,
          size: fs.size,
          used: fs.used,
          usePercent: clampPercent((fs.used / fs.size) * 100),
        });
        if (disks.length === MAX_DISKS) break;
      }
      return disks;
    },
  };
}

function loopbackInterfaces(): Set<string> {
  const names = new Set<string>();
  for (const [name, addresses] of Object.entries(networkInterfaces())) {
    if (addresses?.some((address) => address.internal)) names.add(name);
  }
  // An interface with no address at all is not listed by os.networkInterfaces(); `lo` is the usual one.
  names.add('lo');
  return names;
}

const finiteOrZero = (value: number | null | undefined): number =>
  typeof value === 'number' && Number.isFinite(value) ? value : 0;
const round2 = (value: number): number => Math.round(value * 100) / 100;
