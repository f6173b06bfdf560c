// Vitest global setup for every browser test: Debian's Chromium must be there before a test starts.
// As root it is installed with apt-get; otherwise the run stops at once with the command to run.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const CHROMIUM_PATH = process.env.LIVEDASH_CHROMIUM ?? '/usr/bin/chromium';

export default function ensureChromium(): void {
  if (existsSync(CHROMIUM_PATH)) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || process.env.LIVEDASH_CHROMIUM) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}; the browser tests need it. Install it with:\n` +
        '  sudo apt-get update && sudo apt-get install -y chromium\n' +
        'or set LIVEDASH_CHROMIUM to the path of a Chromium binary.',
    );
  }
  console.log("Chromium not found; installing Debian's chromium package (apt-get install -y chromium)…");
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', 'chromium'],
  ]) {
    const result = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (result.status !== 0) {
      throw new Error(`apt-get ${args.join(' ')} failed; run: apt-get update && apt-get install -y chromium`);
    }
  }
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`apt-get installed chromium but ${CHROMIUM_PATH} is still missing.`);
  }
}
