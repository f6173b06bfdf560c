import { readFile, statfs } from 'node:fs/promises';
import * as si from 'systeminformation';

/** One disk (mounted file system) in the `metrics` message. Sizes in bytes. */
export interface DiskUsage {
  mount: string;
  size: number;
  /** Bytes in use (size minus free blocks). */
  used: number;
  /** What `df` shows as Use%: used / (used + available to users), percent 0–100, one decimal. */
  usePercent: number;
}

/** A host with hundreds of mounts (containers, snaps) must not make every `metrics` message huge. */
export const MAX_DISKS = 16;

/**
 * Left out of `disk`: pseudo and in-memory file systems (they say nothing about disk space), and
 * network file systems (a dead server would hang the read).
 */
const IGNORED_FS_TYPES = new Set([
  'autofs',
  'binfmt_misc',
  'bpf',
  'cgroup',
  'cgroup2',
  'cifs',
  'configfs',
  'debugfs',
  'devpts',
  'devtmpfs',
  'efivarfs',
  'fuse.gvfsd-fuse',
  'fuse.lxcfs',
  'fuse.sshfs',
  'fusectl',
  'hugetlbfs',
  'mqueue',
  'nfs',
  'nfs4',
  'nsfs',
  'proc',
  'pstore',
  'ramfs',
  'rpc_pipefs',
  'securityfs',
  'selinuxfs',
  'smb3',
  'smbfs',
  'squashfs',
  'sysfs',
  'tmpfs',
  'tracefs',
]);

/**
 * Usage of the machine's mounted file systems, at most MAX_DISKS, each device once.
 *
 * On Linux it reads `/proc/mounts` and `statfs` each mount point, fully asynchronously:
 * systeminformation's `fsSize()` runs `execSync('cat /proc/mounts')`, which blocked the event loop
 * for 170–450 ms per call on a loaded machine here. Elsewhere it uses `fsSize()`.
 *
 * @example
 * const disks = await readDiskUsage(); // [{ mount: '/', size: 270553174016, used: 24709275648, usePercent: 22.7 }]
 */
export function readDiskUsage(): Promise<DiskUsage[]> {
  return process.platform === 'linux' ? readLinuxDisks() : readWithSysteminformation();
}

async function readLinuxDisks(): Promise<DiskUsage[]> {
  const mounts = await readFile('/proc/mounts', 'utf8');
  const devices = new Set<string>();
  const disks: DiskUsage[] = [];
  for (const line of mounts.split('\n')) {
    const [device, rawMount, type] = line.split(' ');
    if (!device || !rawMount || !type || IGNORED_FS_TYPES.has(type) || devices.has(device)) continue;
    // /proc/mounts escapes space, tab, newline and backslash as octal (`\040`).
    const mount = rawMount.replace(/\\([0-7]{3})/g, (_, octal: string) =>
      String.fromCharCode(Number.parseInt(octal, 8)),
    );
    let stats: Awaited<ReturnType<typeof statfs>>;
    try {
      stats = await statfs(mount);
    } catch {
      continue; // Unmounted meanwhile, or not ours to read.
    }
    const size = stats.blocks * stats.bsize;
    if (!(size > 0)) continue;
    devices.add(device);
    const used = (stats.blocks - stats.bfree) * stats.bsize;
    const available = stats.bavail * stats.bsize;
    disks.push({ mount, size, used, usePercent: percentOf(used, used + available) });
    if (disks.length === MAX_DISKS) break;
  }
  return disks;
}

async function readWithSysteminformation(): Promise<DiskUsage[]> {
  const seen = new Set<string>();
  const disks: DiskUsage[] = [];
  for (const fs of await si.fsSize()) {
    if (IGNORED_FS_TYPES.has(fs.type) || !(fs.size > 0) || seen.has(fs.fs)) continue;
    seen.add(fs.fs);
    disks.push({
      mount: fs.mount,
      size: fs.size,
      used: fs.used,
      usePercent: percentOf(fs.used, fs.used + fs.available),
    });
    if (disks.length === MAX_DISKS) break;
  }
  return disks;
}

function percentOf(part: number, whole: number): number {
  if (!(whole > 0)) return 0;
  return Math.round(Math.min(100, Math.max(0, (part / whole) * 100)) * 10) / 10;
}
