// Vitest global setup for the load-balancer test: Debian's nginx must be there before a test starts.
// As root it is installed with apt-get; otherwise the run stops at once with the command to run.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const NGINX_PATH = process.env.LIVEDASH_NGINX ?? '/usr/sbin/nginx';

export default function ensureNginx(): void {
  if (existsSync(NGINX_PATH)) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || process.env.LIVEDASH_NGINX) {
    throw new Error(
      `nginx not found at ${NGINX_PATH}; the load-balancer test needs it. Install it with:\n` +
        '  sudo apt-get update && sudo apt-get install -y nginx-light\n' +
        'or set LIVEDASH_NGINX to the path of an nginx binary.',
    );
  }
  console.log("nginx not found; installing Debian's nginx-light package (apt-get install -y nginx-light)…");
  // The package would start a system nginx on port 80; the test runs its own, so nothing is started.
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', RUNLEVEL: '1' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', 'nginx-light'],
  ]) {
    const result = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (result.status !== 0) {
      throw new Error(
        `apt-get ${args.join(' ')} failed; run: apt-get update && apt-get install -y nginx-light`,
      );
    }
  }
  if (!existsSync(NGINX_PATH)) {
    throw new Error(`apt-get installed nginx-light but ${NGINX_PATH} is still missing.`);
  }
}
