// Type-checks every workspace with its own tsconfig (sources and tests), one after another.
import { spawnSync } from 'node:child_process';

const projects = [
  'packages/protocol',
  'packages/dashboard-config',
  'packages/client',
  'packages/server',
  'packages/react',
  'apps/dashboard',
  'apps/livedash',
];
let failed = false;
for (const project of projects) {
  const result = spawnSync('npx', ['tsc', '-p', `${project}/tsconfig.json`, '--noEmit'], {
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    console.error(`typecheck failed in ${project}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
