// The browser tests drive Debian's Chromium through playwright-core. Make sure it is there:
// install it when running as root, otherwise stop with the exact command to run.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const path = process.env.LIVEDASH_CHROMIUM ?? '/usr/bin/chromium';
if (existsSync(path)) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot || process.env.LIVEDASH_CHROMIUM) {
  console.error(
    `Chromium not found at ${path}. Install it with:\n  sudo apt-get update && sudo apt-get install -y chromium\n` +
      'or set LIVEDASH_CHROMIUM to the path of a Chromium binary.',
  );
  process.exit(1);
}
console.log("Chromium not found; installing Debian's chromium package (apt-get install -y chromium)…");
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
for (const args of [
  ['update', '-qq'],
  ['install', '-y', '-qq', 'chromium'],
]) {
  const result = spawnSync('apt-get', args, { stdio: 'inherit', env });
  if (result.status !== 0) {
    console.error(`apt-get ${args.join(' ')} failed; run: apt-get update && apt-get install -y chromium`);
    process.exit(1);
  }
}
if (!existsSync(path)) {
  console.error(`apt-get installed chromium but ${path} is still missing.`);
  process.exit(1);
}
