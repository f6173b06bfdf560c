import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { MAX_DISKS, readDiskUsage } from '../../src/sources/disk-usage.js';

const run = promisify(execFile);

describe('readDiskUsage', () => {
  it('reports the root file system as df does', async () => {
    const disks = await readDiskUsage();
    expect(disks.length).toBeGreaterThan(0);
    expect(disks.length).toBeLessThanOrEqual(MAX_DISKS);
    expect(new Set(disks.map((disk) => disk.mount)).size).toBe(disks.length);

    const { stdout } = await run('df', ['-kP', '/']);
    // Filesystem 1024-blocks Used Available Capacity Mounted-on
    const [, sizeKiB, usedKiB, , capacity, mount] = stdout.trim().split('\n').at(-1)!.trim().split(/\s+/);
    const root = disks.find((disk) => disk.mount === mount);
    expect(root, `df reports ${mount}; got ${disks.map((d) => d.mount).join(', ')}`).toBeDefined();
    // The disk may change between the two reads; a few MiB or a point of Use% either way is the same disk.
    expect(Math.abs(root!.used / 1024 - Number(usedKiB))).toBeLessThan(64 * 1024);
    expect(root!.size / 1024).toBe(Number(sizeKiB));
    expect(Math.abs(root!.usePercent - Number.parseInt(capacity!, 10))).toBeLessThanOrEqual(1);
  });

  it('leaves out pseudo and in-memory file systems', async () => {
    const disks = await readDiskUsage();
    for (const pseudo of ['/proc', '/sys', '/dev', '/dev/shm', '/sys/fs/cgroup']) {
      expect(disks.map((disk) => disk.mount)).not.toContain(pseudo);
    }
  });
});
